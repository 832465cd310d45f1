//! Quoting for the few places SQL must be spliced rather than bound
//! (DDL takes no parameters): one owner, so every identifier from a user is
//! quoted the same way.

/// Quotes an identifier the way `quote_ident` does in PostgreSQL (always quoted).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal (standard_conforming_strings is on since 9.1).
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("o'neil"), "'o''neil'");
    }
}
