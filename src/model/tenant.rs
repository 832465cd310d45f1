//! Tenant identity: the validated code and the names derived from it.
//!
//! A tenant code arrives from the command line or `tenants.toml` and ends up
//! spliced into DDL as a schema name. It is validated exactly once, here, into
//! [`TenantCode`]; everything downstream takes the newtype and quotes it.

use std::fmt;

use crate::error::bad_input;
use crate::pg::quote::quote_ident;

/// PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Suffix that turns a tenant code into its schema name.
const SCHEMA_SUFFIX: &str = "_schema";

/// Longest suffix any name derived from a code gets: a daily partition of the
/// tenant's audit log, `<code>_audit_log_pYYYY_MM_DD`. Schema and role names
/// (`<code>_schema`, `<code>_owner`, `<code>_app`, `<code>_ro`) are shorter.
const LONGEST_SUFFIX: usize = "_audit_log_pYYYY_MM_DD".len();

/// The schema of provision's own bookkeeping (histories, the gate memo).
pub const PROVISION_SCHEMA: &str = "provision";

/// Schemas provision owns or PostgreSQL reserves; a tenant may not be named so.
const RESERVED: &[&str] = &["public", "shared", "audit", "information_schema", PROVISION_SCHEMA];

/// A tenant code that is safe to use as an identifier stem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantCode(String);

impl TenantCode {
    /// Validates `raw` against `^[a-z][a-z0-9_]*$`, the reserved names and the
    /// identifier length limit (no silent truncation of `<code>_schema`).
    pub fn parse(raw: &str) -> anyhow::Result<TenantCode> {
        let mut chars = raw.chars();
        let well_formed =
            matches!(chars.next(), Some('a'..='z')) && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'));
        if !well_formed {
            return Err(bad_input(format!(
                "invalid tenant code {raw:?}: use lower-case letters, digits and '_', starting with a letter (e.g. hdfc)"
            )));
        }
        if raw.starts_with("pg_") || RESERVED.contains(&raw) {
            return Err(bad_input(format!("invalid tenant code {raw:?}: the name is reserved; choose another code")));
        }
        let max = MAX_IDENTIFIER_BYTES - LONGEST_SUFFIX;
        if raw.len() > max {
            return Err(bad_input(format!(
                "invalid tenant code {raw:?}: at most {max} characters, so that schema and role names fit PostgreSQL's 63-byte limit"
            )));
        }
        Ok(TenantCode(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's schema name, unquoted (e.g. `lic_schema`).
    pub fn schema_name(&self) -> String {
        format!("{}{SCHEMA_SUFFIX}", self.0)
    }

    /// The tenant's schema as a quoted identifier, ready to splice into SQL.
    pub fn schema_ident(&self) -> String {
        quote_ident(&self.schema_name())
    }

    /// The role that owns every object of the tenant schema (NOLOGIN).
    pub fn owner_role(&self) -> String {
        format!("{}_owner", self.0)
    }

    /// The role application logins are granted into (NOLOGIN, owns nothing).
    pub fn app_role(&self) -> String {
        format!("{}_app", self.0)
    }

    /// The read-only role (NOLOGIN, owns nothing).
    pub fn ro_role(&self) -> String {
        format!("{}_ro", self.0)
    }

    /// The tenant's append-only audit log, a table in schema `audit`.
    pub fn audit_log_name(&self) -> String {
        format!("{}_audit_log", self.0)
    }
}

impl fmt::Display for TenantCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{exit_code_of, ExitCode};

    #[test]
    fn accepts_ordinary_codes() {
        for code in ["lic", "hdfc", "icici", "a", "sbi_life2"] {
            assert_eq!(TenantCode::parse(code).unwrap().as_str(), code);
        }
        assert_eq!(TenantCode::parse("lic").unwrap().schema_ident(), "\"lic_schema\"");
    }

    #[test]
    fn rejects_bad_codes_as_bad_input() {
        let long = "a".repeat(42);
        for code in [
            "",
            "1abc",
            "Lic",
            "lic-x",
            "lic schema",
            "pg_x",
            "public",
            "shared",
            "audit",
            "information_schema",
            "provision",
            long.as_str(),
            "é",
        ] {
            let err = TenantCode::parse(code).unwrap_err();
            assert_eq!(exit_code_of(&err), ExitCode::BadInput, "{code:?}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn longest_code_fits_the_identifier_limit() {
        let code = TenantCode::parse(&"a".repeat(41)).unwrap();
        assert_eq!(format!("{}_p2026_11_22", code.audit_log_name()).len(), MAX_IDENTIFIER_BYTES);
        assert!(code.schema_name().len() < MAX_IDENTIFIER_BYTES);
    }
}
