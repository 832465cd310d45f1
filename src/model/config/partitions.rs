//! Partition lifecycle settings of tenants.toml: `[defaults]` and each
//! tenant may override the blueprint's premake, retention and archiving.

use std::collections::BTreeMap;

use crate::model::tenant::TenantCode;

/// `[defaults]` and per-tenant partition settings, resolved per tenant.
#[derive(Debug, Clone, Default)]
pub struct PartitionSettings {
    pub defaults: PartitionOverrides,
    pub tenants: BTreeMap<TenantCode, PartitionOverrides>,
}

impl PartitionSettings {
    /// What applies to `code`: its own settings, then `[defaults]`.
    pub fn for_tenant(&self, code: &TenantCode) -> PartitionOverrides {
        self.tenants.get(code).cloned().unwrap_or_default().or(&self.defaults)
    }
}

/// Partition lifecycle settings that `[defaults]` or a tenant may set for all
/// of its partitioned tables, overriding the blueprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionOverrides {
    /// Periods ahead of the current one that must exist.
    pub premake: Option<u32>,
    /// How long rows are kept, as a PostgreSQL interval ("90 days", "2 years").
    pub retention: Option<String>,
    /// Move expired partitions to schema `<code>_archive` instead of dropping them.
    pub archive: Option<bool>,
}

impl PartitionOverrides {
    /// `self` where set, else `fallback`.
    pub fn or(&self, fallback: &PartitionOverrides) -> PartitionOverrides {
        PartitionOverrides {
            premake: self.premake.or(fallback.premake),
            retention: self.retention.clone().or_else(|| fallback.retention.clone()),
            archive: self.archive.or(fallback.archive),
        }
    }
}

/// Bounds a typo cannot cross: premake at most 366 periods, a retention that
/// reads as a positive PostgreSQL interval ("90 days", "7 years"). The
/// database itself parses the interval; this catches the obvious mistakes early.
pub fn check_partitions(overrides: &PartitionOverrides) -> Result<(), String> {
    if overrides.premake.is_some_and(|p| p > 366) {
        return Err("premake: at most 366 periods".to_owned());
    }
    if let Some(retention) = &overrides.retention {
        let mut words = retention.split_whitespace();
        let number_ok = words.next().and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n > 0);
        let unit_ok = words
            .next()
            .is_some_and(|u| ["day", "days", "week", "weeks", "month", "months", "year", "years"].contains(&u));
        if !number_ok || !unit_ok || words.next().is_some() {
            return Err(format!(
                "retention: {retention:?} is not a duration; write e.g. \"90 days\", \"24 months\" or \"7 years\""
            ));
        }
    }
    Ok(())
}
