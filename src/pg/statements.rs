//! Splitting a template into statements, for the steps that cannot run as
//! one batch: a version marked `-- provision: no-transaction` (each
//! statement must be its own implicit transaction, e.g. CREATE INDEX
//! CONCURRENTLY) and enum values hoisted ahead of a version's transaction.
//!
//! The splitter knows what can hide a semicolon in PostgreSQL: quoted
//! strings and identifiers, dollar quotes, and both comment styles.

/// The statements of `sql`, trimmed, without empty ones (comments-only kept
/// out too).
pub fn split(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        i = match bytes[i] {
            b'\'' => skip_quoted(bytes, i, b'\''),
            b'"' => skip_quoted(bytes, i, b'"'),
            b'-' if bytes.get(i + 1) == Some(&b'-') => sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1),
            b'/' if bytes.get(i + 1) == Some(&b'*') => sql[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2),
            b'$' => skip_dollar_quoted(sql, i),
            b';' => {
                push(&mut statements, &sql[start..i]);
                start = i + 1;
                i + 1
            }
            _ => i + 1,
        };
    }
    push(&mut statements, &sql[start.min(sql.len())..]);
    statements
}

fn push(statements: &mut Vec<String>, text: &str) {
    let meaningful = strip_comments(text);
    if !meaningful.trim().is_empty() {
        statements.push(text.trim().to_owned());
    }
}

/// The text with `--` comments removed (enough to tell an empty statement).
fn strip_comments(text: &str) -> String {
    text.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn skip_quoted(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2; // doubled quote
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// `$tag$ … $tag$`; a `$` that does not open a tag (e.g. `$1`) is plain text.
fn skip_dollar_quoted(sql: &str, open: usize) -> usize {
    let rest = &sql[open + 1..];
    let Some(close) = rest.find('$') else { return open + 1 };
    let tag = &rest[..close];
    if !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || tag.starts_with(|c: char| c.is_ascii_digit()) {
        return open + 1;
    }
    let delimiter = format!("${tag}$");
    let body_start = open + delimiter.len();
    match sql[body_start..].find(&delimiter) {
        Some(n) => body_start + n + delimiter.len(),
        None => sql.len(),
    }
}

/// Whether a template asks to run outside a transaction: a line
/// `-- provision: no-transaction` among its leading comments.
pub fn wants_no_transaction(sql: &str) -> bool {
    sql.lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
        .any(|l| l.trim().trim_start_matches('-').trim() == "provision: no-transaction")
}

/// `ALTER TYPE … ADD VALUE …` statements: a value added in a transaction
/// cannot be used until it commits, so these run ahead, each committed.
pub fn enum_additions(sql: &str) -> Vec<String> {
    split(sql)
        .into_iter()
        .filter(|s| {
            let words: Vec<String> = strip_comments(s).split_whitespace().map(str::to_ascii_uppercase).collect();
            words.first().is_some_and(|w| w == "ALTER")
                && words.get(1).is_some_and(|w| w == "TYPE")
                && words.windows(2).any(|w| w[0] == "ADD" && w[1] == "VALUE")
        })
        .collect()
}

/// Whether the SQL declares a foreign key to a table outside `own_schema`
/// (`REFERENCES shared.suppliers …`). Creating one locks the
/// referenced table in SHARE ROW EXCLUSIVE mode until commit, which blocks
/// writes to it and every other tenant being built at the same time.
pub fn references_other_schema(sql: &str, own_schema: &str) -> bool {
    let cleaned = strip_comments(sql);
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    words.windows(2).any(|pair| {
        pair[0].eq_ignore_ascii_case("REFERENCES")
            && pair[1]
                .split_once('.')
                .is_some_and(|(schema, _)| !schema.trim_matches('"').eq_ignore_ascii_case(own_schema))
    })
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON …` → name.
pub fn concurrent_index_name(statement: &str) -> Option<String> {
    let cleaned = strip_comments(statement);
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let at = upper.iter().position(|w| w == "CONCURRENTLY")?;
    if upper.first()? != "CREATE" || !upper[..at].contains(&"INDEX".to_owned()) {
        return None;
    }
    let mut next = at + 1;
    if upper.get(next).is_some_and(|w| w == "IF") {
        next += 3; // IF NOT EXISTS
    }
    let name = words.get(next)?;
    (upper.get(next) != Some(&"ON".to_owned())).then(|| name.trim_matches('"').to_owned())
}

/// A `no-transaction` version as it runs inside a transaction that builds a
/// brand-new (empty) schema: CONCURRENTLY buys nothing on empty tables and
/// is not allowed there, so CREATE/DROP INDEX CONCURRENTLY lose the word.
/// The recorded checksum stays the template's own.
pub fn for_new_schema(sql: &str) -> String {
    if !wants_no_transaction(sql) {
        return sql.to_owned();
    }
    let rewritten: Vec<String> = split(sql)
        .into_iter()
        .map(|statement| {
            let is_index = {
                let words: Vec<String> =
                    strip_comments(&statement).split_whitespace().take(3).map(str::to_ascii_uppercase).collect();
                matches!(words.first().map(String::as_str), Some("CREATE" | "DROP"))
                    && words.iter().any(|w| w == "INDEX")
            };
            match is_index {
                true => remove_word(&statement, "CONCURRENTLY"),
                false => statement,
            }
        })
        .collect();
    rewritten.join(";\n") + ";\n"
}

fn remove_word(statement: &str, word: &str) -> String {
    statement.split_inclusive(char::is_whitespace).filter(|token| !token.trim().eq_ignore_ascii_case(word)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_around_quotes_dollar_quotes_and_comments() {
        let sql = "CREATE TABLE a (x text DEFAULT ';'); -- a comment; still a comment\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   /* block; comment */ SELECT \"we;ird\", $1 FROM a;\n-- only a comment\n";
        let parts = split(sql);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(parts[1].contains("$body$ SELECT 1; $body$"));
        assert!(parts[2].ends_with("FROM a"));
    }

    #[test]
    fn new_schemas_build_indexes_without_concurrently() {
        let sql = "-- provision: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\nDROP INDEX CONCURRENTLY j;";
        assert_eq!(
            for_new_schema(sql),
            "-- provision: no-transaction\nCREATE INDEX IF NOT EXISTS i ON t (a);\nDROP INDEX j;\n"
        );
        assert_eq!(for_new_schema("CREATE INDEX CONCURRENTLY x ON t (a);"), "CREATE INDEX CONCURRENTLY x ON t (a);");
    }

    #[test]
    fn finds_markers_enum_additions_and_concurrent_indexes() {
        assert!(wants_no_transaction(
            "-- Adds an index\n-- provision: no-transaction\nCREATE INDEX CONCURRENTLY x ON t (a);"
        ));
        assert!(!wants_no_transaction("CREATE TABLE t ();\n-- provision: no-transaction\n"));
        let sql = "ALTER TYPE {{ schema }}.s ADD VALUE IF NOT EXISTS 'x' AFTER 'a';\nUPDATE t SET s = 'x';";
        assert_eq!(enum_additions(sql), ["ALTER TYPE {{ schema }}.s ADD VALUE IF NOT EXISTS 'x' AFTER 'a'"]);
        assert_eq!(
            concurrent_index_name("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON t (a)"),
            Some("idx_a".into())
        );
        assert_eq!(concurrent_index_name("CREATE INDEX CONCURRENTLY \"idx_b\" ON t (b)"), Some("idx_b".into()));
        assert_eq!(concurrent_index_name("CREATE INDEX CONCURRENTLY ON t (b)"), None);
        assert_eq!(concurrent_index_name("CREATE INDEX idx_c ON t (c)"), None);
    }

    #[test]
    fn foreign_keys_to_other_schemas_are_found() {
        let sql = "CREATE TABLE lic_schema.widgets (\n  item_id UUID REFERENCES lic_schema.items(item_id),\n  \
                   supplier_id UUID REFERENCES shared.suppliers(supplier_id)\n);";
        assert!(references_other_schema(sql, "lic_schema"));
        assert!(!references_other_schema(
            "CREATE TABLE lic_schema.a (b UUID REFERENCES lic_schema.c(d));",
            "lic_schema"
        ));
        assert!(!references_other_schema("-- REFERENCES shared.x\nSELECT 1;", "lic_schema"));
        assert!(references_other_schema(
            "ALTER TABLE a ADD FOREIGN KEY (b) references \"shared\".c (d);",
            "lic_schema"
        ));
    }
}
