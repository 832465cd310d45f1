//! Stored node trees (`nodeToString` output: index expressions, defaults,
//! constraints, view queries, policies) made tenant-independent: object ids
//! become names, locations go, constants that can hold a tenant's name are
//! decoded and normalized.

use std::fmt::Write as _;

use uuid::Uuid;

use super::{Normalizer, OidNames, Owner, FIRST_USER_OID};

/// A stored node tree (`nodeToString` output), made tenant-independent.
pub fn tree(text: &str, names: &OidNames, owner: Owner, out: &mut String) {
    Tree { text, src: text.as_bytes(), at: 0, names, owner: owner.id, normalizer: owner.normalizer, consttype: 0, out }
        .run();
}

struct Tree<'a> {
    text: &'a str,
    src: &'a [u8],
    at: usize,
    names: &'a OidNames,
    owner: u32,
    normalizer: &'a Normalizer,
    /// The `:consttype` of the constant being read, to decode its value.
    consttype: u32,
    out: &'a mut String,
}

impl<'a> Tree<'a> {
    fn run(&mut self) {
        while self.at < self.src.len() {
            match self.src[self.at] {
                b'"' => self.quoted(),
                b':' => self.field(),
                b'(' if self.src.get(self.at + 1) == Some(&b'o') && self.src.get(self.at + 2) == Some(&b' ') => {
                    self.oid_list()
                }
                _ => {
                    // Copy up to the next byte that may start something to rewrite.
                    let start = self.at;
                    self.at += 1;
                    while self.at < self.src.len() && !matches!(self.src[self.at], b'"' | b':' | b'(') {
                        self.at += 1;
                    }
                    // Slices end at ASCII bytes, so always on character boundaries.
                    self.out.push_str(&self.text[start..self.at]);
                }
            }
        }
    }

    /// A quoted name (`:colnames ("a" "b")`), copied as it is.
    fn quoted(&mut self) {
        let start = self.at;
        self.at += 1;
        while self.at < self.src.len() && self.src[self.at] != b'"' {
            self.at += if self.src[self.at] == b'\\' { 2 } else { 1 };
        }
        self.at = (self.at + 1).min(self.src.len());
        self.out.push_str(self.text.get(start..self.at).unwrap_or_default());
    }

    fn field(&mut self) {
        let start = self.at + 1;
        let mut end = start;
        while end < self.src.len() && (self.src[end].is_ascii_alphanumeric() || self.src[end] == b'_') {
            end += 1;
        }
        let name = &self.text[start..end];
        self.at = end;
        match name {
            // Source positions: they shift with the length of tenant names.
            "location" | "stmt_location" | "stmt_len" => {
                self.skip_space();
                self.word();
                self.skip_space();
                return;
            }
            "constvalue" => return self.constvalue(),
            _ => {}
        }
        self.out.push(':');
        self.out.push_str(name);
        if !holds_oid(name) {
            return;
        }
        self.skip_space();
        self.out.push(' ');
        let word = self.word();
        let oid = word.parse::<u32>().ok();
        if name == "consttype" {
            self.consttype = oid.unwrap_or(0);
        }
        self.push_oid(word, oid);
    }

    /// `(o 25 17424)`: a list of object ids.
    fn oid_list(&mut self) {
        self.out.push_str("(o");
        self.at += 2;
        loop {
            self.skip_space();
            if self.at >= self.src.len() || self.src[self.at] == b')' {
                break;
            }
            self.out.push(' ');
            let word = self.word();
            self.push_oid(word, word.parse().ok());
        }
        self.out.push(')');
        self.at = (self.at + 1).min(self.src.len());
    }

    /// `:constvalue 4 [ 20 68 0 0 0 0 0 0 ]` or `:constvalue <>`.
    fn constvalue(&mut self) {
        self.out.push_str(":constvalue ");
        self.skip_space();
        let length = self.word();
        if length == "<>" {
            self.out.push_str("<>");
            return;
        }
        self.skip_space();
        let mut bytes = Vec::new();
        if self.src.get(self.at) == Some(&b'[') {
            self.at += 1;
            loop {
                self.skip_space();
                if self.at >= self.src.len() || self.src[self.at] == b']' {
                    break;
                }
                // Printed as signed chars.
                bytes.push(self.word().parse::<i16>().unwrap_or(0) as u8);
            }
            self.at = (self.at + 1).min(self.src.len());
        }
        self.decoded(length, &bytes);
    }

    fn decoded(&mut self, length: &str, bytes: &[u8]) {
        let consttype = self.consttype;
        let as_oid = || bytes.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let text = match consttype {
            // text, varchar, bpchar: a varlena.
            25 | 1042 | 1043 => varlena(bytes).map(|s| format!("'{}'", self.normalizer.apply(&s))),
            // name: NUL-padded.
            19 => Some(String::from_utf8_lossy(bytes.split(|b| *b == 0).next().unwrap_or_default()).into_owned()),
            2950 => Uuid::from_slice(bytes).ok().map(|u| self.normalizer.apply(&u.to_string())),
            // oid, regproc, regclass, regtype, regprocedure, regrole, regnamespace, and
            // user types passed by value (enum labels).
            26 | 24 | 2205 | 2206 | 2202 | 4096 | 4089 => {
                as_oid().map(|oid| self.names.get(oid, self.owner).map_or(oid.to_string(), str::to_owned))
            }
            t if t >= FIRST_USER_OID && bytes.len() == 8 => {
                as_oid().and_then(|oid| self.names.get(oid, self.owner)).map(str::to_owned)
            }
            _ => None,
        };
        match text {
            Some(text) => self.out.push_str(&text),
            None => {
                let _ = write!(self.out, "{length} {bytes:?}");
            }
        }
    }

    fn push_oid(&mut self, word: &str, oid: Option<u32>) {
        match oid.and_then(|oid| self.names.get(oid, self.owner)) {
            Some(name) => self.out.push_str(name),
            None => self.out.push_str(word),
        }
    }

    fn skip_space(&mut self) {
        while self.at < self.src.len() && self.src[self.at] == b' ' {
            self.at += 1;
        }
    }

    /// The next run of bytes up to a space or a closing bracket.
    fn word(&mut self) -> &'a str {
        let start = self.at;
        while self.at < self.src.len() && !matches!(self.src[self.at], b' ' | b'}' | b')' | b']') {
            self.at += 1;
        }
        self.text.get(start..self.at).unwrap_or_default()
    }
}

/// Whether a node field holds an object id: `funcid`, `consttype`, `relid`,
/// `opno`, `resulttype`, `checkAsUser`, `resorigtbl`, `sortop`, … (and not a
/// typmod or a length).
fn holds_oid(field: &str) -> bool {
    let ends_with =
        |suffix: &str| field.len() >= suffix.len() && field[field.len() - suffix.len()..].eq_ignore_ascii_case(suffix);
    ends_with("id")
        || ends_with("type")
        || ends_with("oid")
        || ends_with("user")
        || ["opno", "resorigtbl", "eqop", "sortop", "startInRangeFunc", "endInRangeFunc", "inRangeColl"]
            .iter()
            .chain(&["inferopclass", "tsmhandler", "constraint"])
            .any(|name| field.eq_ignore_ascii_case(name))
}

/// A varlena datum as printed by `outDatum`: 1-byte or 4-byte header
/// (little-endian), then the data.
fn varlena(bytes: &[u8]) -> Option<String> {
    let first = *bytes.first()?;
    let data = if first & 1 == 1 {
        bytes.get(1..(first >> 1) as usize)?
    } else {
        let header = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
        bytes.get(4..(header >> 2) as usize)?
    };
    Some(String::from_utf8_lossy(data).into_owned())
}
