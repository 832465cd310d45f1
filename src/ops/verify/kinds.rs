//! What a finding is about, as types rather than strings: the check that
//! found it (one JUnit testcase per tenant × check) and, for structural
//! comparisons, how the object differs. A misspelled check is a compile
//! error instead of a testcase nobody ever fails.

use std::fmt;

use serde::Serialize;

/// The checks verify runs; their names are the report's (text, JSON, JUnit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Structure,
    Checksums,
    Rls,
    Audit,
    Partitions,
    Indexes,
    Constraints,
    Roles,
    Privileges,
    Functions,
    /// Row tenancy: the registry against the rows of `[row] table`.
    Registry,
}

impl Check {
    /// Every check in report order; `Registry` last (schema tenants have all but it).
    pub const ALL: [Check; 11] = [
        Check::Structure,
        Check::Checksums,
        Check::Rls,
        Check::Audit,
        Check::Partitions,
        Check::Indexes,
        Check::Constraints,
        Check::Roles,
        Check::Privileges,
        Check::Functions,
        Check::Registry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Structure => "structure",
            Check::Checksums => "checksums",
            Check::Rls => "rls",
            Check::Audit => "audit",
            Check::Partitions => "partitions",
            Check::Indexes => "indexes",
            Check::Constraints => "constraints",
            Check::Roles => "roles",
            Check::Privileges => "privileges",
            Check::Functions => "functions",
            Check::Registry => "registry",
        }
    }

    /// The check an invariant query's row names (its second column).
    pub fn named(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|check| check.as_str() == name)
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an object of a schema differs from its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// In the reference, not in the schema.
    Missing,
    /// In the schema, not in the reference.
    Extra,
    /// In both, defined differently.
    Changed,
}

impl Difference {
    pub fn as_str(self) -> &'static str {
        match self {
            Difference::Missing => "missing",
            Difference::Extra => "extra",
            Difference::Changed => "changed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_found_by_its_name_and_serialises_as_it() {
        for check in Check::ALL {
            assert_eq!(Check::named(check.as_str()), Some(check));
            assert_eq!(serde_json::to_value(check).unwrap(), check.as_str());
        }
        assert_eq!(Check::named("nonsense"), None);
    }
}
