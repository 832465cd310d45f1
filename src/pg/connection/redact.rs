//! Masking passwords in free text (error messages that may echo a connection string).

const MASK: &str = "***";

/// Masks `password=...` values (also `PGPASSWORD=`, `sslpassword=`, quoted
/// values, URL query parameters) and the password in `scheme://user:pass@host`.
/// Over-masks rather than risk leaking.
pub fn redact(text: &str) -> String {
    mask_userinfo(&mask_password_params(text))
}

fn mask_password_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find("password") {
        let key_end = search + found + "password".len();
        search = key_end;
        let bytes = text.as_bytes();
        let mut i = key_end;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            continue;
        }
        i += 1;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        let value_start = i;
        let value_end = if i < bytes.len() && (bytes[i] == b'\'' || bytes[i] == b'"') {
            let quote = bytes[i];
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != quote {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(bytes.len())
        } else {
            let mut j = i;
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'&' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            j.min(bytes.len())
        };
        if value_end == value_start {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(MASK);
        copied = value_end;
        search = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let segment_end =
            rest.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`')).unwrap_or(rest.len());
        let segment = &rest[..segment_end];
        match (segment.find(':'), segment.rfind('@')) {
            (Some(colon), Some(at)) if colon < at => {
                out.push_str(&segment[..=colon]);
                out.push_str(MASK);
                out.push_str(&segment[at..]);
            }
            _ => out.push_str(segment),
        }
        rest = &rest[segment_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_key_value_passwords() {
        assert_eq!(redact("host=db password=hunter2 user=bob"), "host=db password=*** user=bob");
        assert_eq!(redact("password = 'a b\\' c' dbname=x"), "password = *** dbname=x");
        assert_eq!(redact("PGPASSWORD=hunter2"), "PGPASSWORD=***");
        assert_eq!(redact("a?user=x&password=hunter2&sslmode=require"), "a?user=x&password=***&sslmode=require");
        assert_eq!(redact("no secrets, password missing"), "no secrets, password missing");
        assert_eq!(redact("password="), "password=");
    }

    #[test]
    fn masks_url_userinfo() {
        assert_eq!(
            redact("cannot parse postgres://bob:hunter2@db:5432/app now"),
            "cannot parse postgres://bob:***@db:5432/app now"
        );
        assert_eq!(redact("postgresql://bob@db/app"), "postgresql://bob@db/app");
        assert_eq!(redact("\"postgres://u:p@ss@h/d\""), "\"postgres://u:***@h/d\"");
        assert_eq!(redact("x postgres://a:b@h y postgres://c:d@h"), "x postgres://a:***@h y postgres://c:***@h");
        let masked = redact("postgres://u:hunter2@h/d?password=hunter2");
        assert!(!masked.contains("hunter2"), "{masked}");
        assert_eq!(redact("héllo wörld ://"), "héllo wörld ://");
    }
}
