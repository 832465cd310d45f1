//! Deparsed definitions that a dump and restore writes differently without
//! changing their meaning.
//!
//! pg_dump prints a CHECK such as `status IN ('a', 'b')` on a varchar column
//! as `ANY ((ARRAY['a'::character varying, …])::text[])`. Parsing that again
//! pushes the array cast down to each element, so the restored constraint
//! reads `ANY (ARRAY[('a'::character varying)::text, …])`: the same values
//! and the same meaning, another text. Verify compares deparsed definitions,
//! so it rewrites the first form into the second before comparing; a
//! definition with other values, columns or types still differs.

use std::borrow::Cow;
use std::fmt::Write as _;

const ARRAY_CAST_START: &str = "(ARRAY[";

/// Whether two deparsed definitions mean the same, once the array casts a
/// restore re-parses are written the way the restore writes them.
pub fn same_definition(expected: &str, found: &str) -> bool {
    expected == found || restorable(expected) == restorable(found)
}

/// `(ARRAY[e1, e2])::T[]` becomes `ARRAY[(e1)::T, (e2)::T]` wherever it
/// occurs (also inside elements); anything else is kept as it is.
pub fn restorable(text: &str) -> Cow<'_, str> {
    if !text.contains(ARRAY_CAST_START) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(ARRAY_CAST_START) {
        out.push_str(&rest[..at]);
        // `f(ARRAY[…])::t[]` casts a function's result: not an array constructor's cast.
        let called = out.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"');
        match array_cast(&rest[at..]).filter(|_| !called) {
            Some(cast) => {
                changed = true;
                out.push_str("ARRAY[");
                for (i, element) in cast.elements.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "({})::{}", restorable(element), cast.element_type);
                }
                out.push(']');
                rest = &rest[at + cast.length..];
            }
            None => {
                out.push_str(ARRAY_CAST_START);
                rest = &rest[at + ARRAY_CAST_START.len()..];
            }
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// An array constructor cast to an array type, at the start of a text.
struct ArrayCast<'a> {
    elements: Vec<&'a str>,
    element_type: &'a str,
    /// Bytes from `(ARRAY[` through the type's `[]`.
    length: usize,
}

fn array_cast(text: &str) -> Option<ArrayCast<'_>> {
    let open = ARRAY_CAST_START.len();
    let (elements, close) = elements(&text[open..])?;
    let after_bracket = open + close + 1;
    let type_start = after_bracket + text[after_bracket..].strip_prefix(")::").map(|_| 3)?;
    let type_length = text[type_start..].find("[]")?;
    let element_type = &text[type_start..type_start + type_length];
    let length = type_start + type_length + 2;
    // One dimension, and a plain type name (`character varying(20)`, `"MyType"`, `s.t`).
    if elements.is_empty() || text[length..].starts_with('[') || !is_type_name(element_type) {
        return None;
    }
    Some(ArrayCast { elements, element_type, length })
}

fn is_type_name(name: &str) -> bool {
    let mut depth = 0i32;
    for c in name.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '\'' | ':' | '[' | ']' => return false,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0 && !name.trim().is_empty()
}

/// The elements of an array constructor's contents up to its closing `]`,
/// split at top-level commas (quoted literals and identifiers are skipped
/// whole), and the position of that `]`.
fn elements(text: &str) -> Option<(Vec<&str>, usize)> {
    let bytes = text.as_bytes();
    let (mut depth, mut start, mut at) = (0i32, 0usize, 0usize);
    let mut elements = Vec::new();
    while at < bytes.len() {
        match bytes[at] {
            // '' inside a literal ends it and starts another: the same to us.
            quote @ (b'\'' | b'"') => {
                at += 1 + text[at + 1..].find(quote as char)?;
            }
            b'(' | b'[' => depth += 1,
            b')' => depth -= 1,
            b']' if depth == 0 => {
                let last = text[start..at].trim();
                if !last.is_empty() {
                    elements.push(last);
                }
                return Some((elements, at));
            }
            b']' => depth -= 1,
            b',' if depth == 0 => {
                elements.push(text[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const AS_CREATED: &str = "CHECK (((operation)::text = ANY ((ARRAY['INSERT'::character varying, \
                              'UPDATE'::character varying, 'DELETE'::character varying])::text[])))";
    const AS_RESTORED: &str = "CHECK (((operation)::text = ANY (ARRAY[('INSERT'::character varying)::text, \
                               ('UPDATE'::character varying)::text, ('DELETE'::character varying)::text])))";

    #[test]
    fn the_restored_form_of_an_in_list_is_the_same_definition() {
        assert_eq!(restorable(AS_CREATED), AS_RESTORED);
        assert!(matches!(restorable(AS_RESTORED), Cow::Borrowed(_)), "the restored form is kept");
        assert!(same_definition(AS_CREATED, AS_RESTORED));
    }

    #[test]
    fn other_values_or_types_still_differ() {
        let fewer = AS_RESTORED.replace(", ('DELETE'::character varying)::text", "");
        assert!(!same_definition(AS_CREATED, &fewer));
        let other = AS_CREATED.replace("'DELETE'", "'TRUNCATE'");
        assert!(!same_definition(&other, AS_RESTORED));
        let other_type = AS_CREATED.replace("])::text[]", "])::name[]");
        assert!(!same_definition(&other_type, AS_RESTORED));
    }

    #[test]
    fn quoted_commas_brackets_and_nested_arrays_are_elements() {
        assert_eq!(
            restorable("x = ANY ((ARRAY['a, ]b'::character varying(20), f(1, 2)])::text[]) AND y"),
            "x = ANY (ARRAY[('a, ]b'::character varying(20))::text, (f(1, 2))::text]) AND y"
        );
        assert_eq!(
            restorable("(ARRAY[(ARRAY['a'::character varying])::text[]])::\"T\"[]"),
            "ARRAY[(ARRAY[('a'::character varying)::text])::\"T\"]"
        );
    }

    #[test]
    fn what_is_not_an_array_cast_is_kept() {
        for text in [
            "(ARRAY[1, 2])",
            "(ARRAY[])::text[]",
            "(ARRAY['a'])::text[][]",
            "(ARRAY['unclosed",
            "f(ARRAY['a'::character varying])::text[]",
        ] {
            assert_eq!(restorable(text), text);
        }
    }
}
