//! `blueprint.toml`: what a blueprint declares about itself. Everything the
//! core needs to know about a pack is read from here, never guessed from
//! its SQL and never written in Rust per pack.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `blueprint.toml`: what the blueprint is. Later concerns (audit coverage,
/// retention) add keys here, never Rust per table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Time-partitioned tables whose partitions provision creates.
    #[serde(default)]
    pub partitioned: Vec<PartitionSpec>,
    /// Template (in the blueprint directory) that creates the tenant's first
    /// administrator: `$1` is the e-mail, `$2` the password or NULL.
    pub admin_template: Option<String>,
    /// Row-level audit of the blueprint's tables, when present.
    pub audit: Option<AuditSpec>,
    /// How tenants are kept apart. Declared, never guessed.
    #[serde(default)]
    pub tenancy: Tenancy,
    /// `[row]`: where a row-tenancy pack keeps its tenants (required with
    /// `tenancy = "row"`, refused otherwise).
    pub row: Option<super::row::RowSpec>,
    /// The once-per-database part (`shared/`).
    #[serde(default)]
    pub shared: SharedSpec,
    /// The attributes a tenant of this blueprint accepts (`tenants.toml`,
    /// `tenant add --set name=value`), with their allowed values.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeSpec>,
    /// Sample data (`sample/`), when the blueprint has any.
    pub sample: Option<SampleSpec>,
    /// Tables with columns that hold only ciphertext (`shared.ciphertext`,
    /// core V14), which `provision keys` re-encrypts.
    #[serde(default)]
    pub encrypted: Vec<EncryptedSpec>,
    /// Row retention of unpartitioned tables (`provision retention run`).
    #[serde(default)]
    pub retention: Vec<RetentionRule>,
}

/// `[[retention]]`: rows of `table` older than `age` (measured on `column`)
/// and matching `condition` are deleted or anonymised by `retention run`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// Unique in the pack; the table's name when absent.
    pub name: Option<String>,
    pub table: String,
    pub age: String,
    pub column: String,
    /// An SQL boolean over the table's columns; the server checks it.
    pub condition: Option<String>,
    pub action: RetentionAction,
    /// anonymise: column -> what it becomes.
    #[serde(default)]
    pub columns: BTreeMap<String, Scrub>,
}

impl RetentionRule {
    pub fn rule_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.table)
    }
}

/// What a retention rule does to an expired row.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionAction {
    Delete,
    Anonymise,
}

/// What an anonymised column becomes.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scrub {
    Null,
    /// A salted, irreversible hash (`anon:` and 32 hex digits).
    Hash,
}

/// `[[encrypted]]`: one table whose `columns` hold `enc1:` envelopes.
/// `key` is a unique, orderable column (usually the primary key) by which
/// `provision keys rotate` walks the table in batches.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EncryptedSpec {
    pub table: String,
    pub key: String,
    pub columns: Vec<String>,
}

/// How a blueprint keeps tenants apart.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tenancy {
    /// One schema per tenant, stamped from `tenant/` templates.
    #[default]
    Schema,
    /// One set of tables (made once, by `shared/`) with a tenant column;
    /// `[row]` says which.
    Row,
}

impl Tenancy {
    pub fn as_str(self) -> &'static str {
        match self {
            Tenancy::Schema => "schema",
            Tenancy::Row => "row",
        }
    }
}

/// `[shared]`: what the `shared/` migrations create that the core must know of.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SharedSpec {
    /// Schemas the shared part creates: shared by every tenant, verified as
    /// shared, never a tenant's.
    #[serde(default)]
    pub schemas: Vec<String>,
}

/// `[attributes.<name>]`: one tenant attribute. `type` is kept in the
/// registry's `tenant_type`; any other in `shared.tenant_config`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    #[serde(default)]
    pub description: String,
    /// The values allowed; empty means any non-empty text.
    #[serde(default)]
    pub values: Vec<String>,
    /// The value when a tenant gives none; without one the attribute is required.
    pub default: Option<String>,
}

/// `[sample]`: what `provision seed` does for this blueprint. The files are
/// `sample/*.sql.tera`, rendered with `size`, `seed` and `variables`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    #[serde(default)]
    pub description: String,
    /// The size when `--size` is not given.
    pub default_size: u64,
    /// What one unit of `--size` is ("policies"), for messages.
    pub unit: String,
    /// Further values the sample templates read, as declared.
    #[serde(default)]
    pub variables: BTreeMap<String, toml::Value>,
}

/// `[audit]`: every ordinary or partitioned table of the tenant schema gets
/// the generic audit trigger, except the refinery history and `exclude`.
/// The tenant's audit log is partitioned like `[[partitioned]]` tables.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Tables whose reads are audited too, where the pgaudit extension is
    /// loaded (object-level auditing through `pgaudit.role`): triggers see
    /// writes only.
    #[serde(default)]
    pub reads: Vec<String>,
    #[serde(default = "AuditSpec::default_interval")]
    pub interval: Interval,
    #[serde(default = "AuditSpec::default_premake")]
    pub premake: u32,
}

impl AuditSpec {
    fn default_interval() -> Interval {
        Interval::Month
    }

    fn default_premake() -> u32 {
        3
    }
}

/// One RANGE-partitioned table, as `[[partitioned]]` in blueprint.toml.
/// Its partitions are made outside the versioned templates because their
/// bounds depend on the date, and templates must render the same forever.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PartitionSpec {
    /// The table's schema when it is not the tenant's (the audit log).
    #[serde(skip)]
    pub schema: Option<String>,
    pub table: String,
    pub column: String,
    pub interval: Interval,
    /// Periods ahead of the current one that must exist.
    pub premake: u32,
    /// How long rows are kept (a PostgreSQL interval); when absent,
    /// `shared.data_retention_policies` decides, else rows are kept forever.
    #[serde(default)]
    pub retention: Option<String>,
}

/// The period one partition covers.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
}

impl Interval {
    /// The `date_trunc` field name, which is also a valid interval unit.
    pub fn unit(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }
}

/// Partitioned table and column names are spliced into DDL (quoted), so they
/// must be plain identifiers; premake is bounded so a typo cannot create
/// thousands of tables.
pub(super) fn check_manifest(manifest: &Manifest) -> Result<(), String> {
    let plain = |s: &str| {
        let mut chars = s.chars();
        matches!(chars.next(), Some('a'..='z' | '_'))
            && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
            && s.len() <= 40
    };
    for spec in &manifest.partitioned {
        if !plain(&spec.table) || !plain(&spec.column) {
            return Err(format!(
                "[[partitioned]] table {:?} / column {:?}: use plain lower-case identifiers of at most 40 characters",
                spec.table, spec.column
            ));
        }
        if spec.premake > 366 {
            return Err(format!("[[partitioned]] {}: premake {} is more than 366 periods", spec.table, spec.premake));
        }
    }
    super::row::check_row(manifest, &plain)?;
    for spec in &manifest.encrypted {
        let names = std::iter::once(&spec.table).chain(std::iter::once(&spec.key)).chain(&spec.columns);
        if let Some(bad) = names.into_iter().find(|n| !plain(n)) {
            return Err(format!("[[encrypted]] {}: {bad:?} is not a plain lower-case identifier", spec.table));
        }
        if spec.columns.is_empty() {
            return Err(format!("[[encrypted]] {}: name at least one column", spec.table));
        }
    }
    check_retention(manifest, &plain)?;
    if let Some(bad) = manifest.audit.iter().flat_map(|a| &a.reads).find(|n| !plain(n)) {
        return Err(format!("[audit] reads: {bad:?} is not a plain lower-case identifier"));
    }
    for name in &manifest.shared.schemas {
        if !plain(name) {
            return Err(format!("[shared] schemas: {name:?} is not a plain lower-case identifier"));
        }
    }
    for (name, attribute) in &manifest.attributes {
        if let Some(default) = &attribute.default {
            if !attribute.values.is_empty() && !attribute.values.contains(default) {
                return Err(format!("[attributes.{name}] default {default:?} is not one of its values"));
            }
        }
    }
    Ok(())
}

/// `[[retention]]` rules: plain names, a duration like `[[partitioned]]`
/// retention, columns exactly when anonymising, no partitioned table (whole
/// partitions go by `[[partitioned]] retention`), names unique. The
/// condition is checked by the server when a run plans it.
fn check_retention(manifest: &Manifest, plain: &dyn Fn(&str) -> bool) -> Result<(), String> {
    let mut names: Vec<&str> = Vec::new();
    for rule in &manifest.retention {
        let name = rule.rule_name();
        let at = format!("[[retention]] {name} (table {})", rule.table);
        let idents = [name, &rule.table, &rule.column].into_iter().chain(rule.columns.keys().map(String::as_str));
        if let Some(bad) = idents.into_iter().find(|n| !plain(n)) {
            return Err(format!("{at}: {bad:?} is not a plain lower-case identifier"));
        }
        if manifest.partitioned.iter().any(|p| p.table == rule.table) {
            return Err(format!("{at}: the table is [[partitioned]]; give it `retention` there (whole partitions)"));
        }
        // "0 days" is allowed here (act on the next run, e.g. a GDPR request); the rest as partition retention.
        let age = match rule.age.split_once(' ') {
            Some(("0", unit)) => format!("1 {unit}"),
            _ => rule.age.clone(),
        };
        let overrides = crate::model::config::PartitionOverrides { retention: Some(age), ..Default::default() };
        crate::model::config::check_partitions(&overrides)
            .map_err(|m| format!("{at}: {}", m.replacen("retention", "age", 1)))?;
        match (rule.action, rule.columns.is_empty()) {
            (RetentionAction::Anonymise, true) => {
                return Err(format!("{at}: action \"anonymise\" needs columns = {{ col = \"null\" | \"hash\" }}"))
            }
            (RetentionAction::Delete, false) => return Err(format!("{at}: action \"delete\" takes no columns")),
            _ => {}
        }
        if names.contains(&name) {
            return Err(format!("{at}: another rule has the same name; give one a `name`"));
        }
        names.push(name);
    }
    Ok(())
}
