//! Blueprints: the versioned tera templates a tenant schema is stamped from.
//!
//! A blueprint is a directory `templates/<name>/` holding `blueprint.toml` and
//! `V{n}__{name}.sql.tera` files. Rendering depends only on the tenant's
//! stable identity (code, schema, UUID), because refinery checksums the
//! rendered SQL: a template that read mutable configuration would make every
//! applied version look edited the day that configuration changed.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use refinery_core::Migration;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::bad_input;
use crate::model::config::PartitionOverrides;
use crate::model::tenant::TenantCode;
use crate::pg::quote::quote_ident;

const MANIFEST: &str = "blueprint.toml";
const TEMPLATE_SUFFIX: &str = ".sql.tera";

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
}

/// `[audit]`: every ordinary or partitioned table of the tenant schema gets
/// the generic audit trigger, except the refinery history and `exclude`.
/// The tenant's audit log is partitioned like `[[partitioned]]` tables.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    #[serde(default)]
    pub exclude: Vec<String>,
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

/// One versioned template, unrendered.
#[derive(Debug, Clone)]
pub struct Step {
    pub version: i32,
    /// refinery's migration name: `V{version}__{label}`.
    pub migration_name: String,
    pub file: PathBuf,
    source: String,
}

/// The identity a template may depend on, and nothing else.
#[derive(Debug, Clone)]
pub struct Identity {
    pub code: TenantCode,
    pub tenant_id: Uuid,
}

/// A loaded blueprint: manifest plus its steps in version order.
#[derive(Debug, Clone)]
pub struct Blueprint {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub steps: Vec<Step>,
    /// `shared/V{n}__*.sql`: once per database, own history (TEMPORARY loader until the lead's).
    pub shared: Vec<Migration>,
    /// Source of the admin template, when the manifest names one.
    admin: Option<String>,
    /// Every template parsed once at load: a fleet renders them per tenant.
    engine: tera::Tera,
}

impl Blueprint {
    /// Loads `templates_dir/<name>`; a missing blueprint is bad input.
    pub fn load(templates_dir: &Path, name: &str) -> Result<Blueprint> {
        let dir = templates_dir.join(name);
        if !dir.is_dir() {
            return Err(bad_input(format!(
                "blueprint {name:?} not found: no directory {}; available: {}",
                dir.display(),
                available(templates_dir)
            )));
        }
        let manifest_path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| bad_input(format!("cannot read {}: {e}", manifest_path.display())))?;
        let manifest: Manifest =
            toml::from_str(&text).map_err(|e| bad_input(format!("{}: {}", manifest_path.display(), e.message())))?;
        check_manifest(&manifest).map_err(|m| bad_input(format!("{}: {m}", manifest_path.display())))?;
        let steps = load_steps(&dir, manifest.admin_template.as_deref())?;
        let admin = match &manifest.admin_template {
            Some(file) => Some(std::fs::read_to_string(dir.join(file)).map_err(|e| {
                bad_input(format!("{}: admin_template {file:?} cannot be read: {e}", manifest_path.display()))
            })?),
            None => None,
        };
        let engine = parse_all(&steps, admin.as_deref())?;
        let shared = load_shared_tmp(&dir.join("shared"))?;
        let blueprint = Blueprint { name: name.to_owned(), dir, manifest, steps, shared, admin, engine };
        // A template naming a variable that does not exist fails for every
        // tenant alike: say so now, before any tenant is touched.
        let trial = Identity { code: TenantCode::parse("trial").expect("a valid code"), tenant_id: Uuid::nil() };
        blueprint.render(&trial)?;
        blueprint.render_admin(&trial)?;
        Ok(blueprint)
    }

    /// Every partitioned table of one tenant: the declared ones in its schema
    /// plus its audit log in `audit`, with `overrides` (tenants.toml) applied.
    pub fn partitions_of(&self, code: &TenantCode, overrides: &PartitionOverrides) -> Vec<PartitionSpec> {
        let mut specs = self.manifest.partitioned.clone();
        if let Some(audit) = &self.manifest.audit {
            specs.push(PartitionSpec {
                schema: Some("audit".to_owned()),
                table: code.audit_log_name(),
                column: "timestamp".to_owned(),
                interval: audit.interval,
                premake: audit.premake,
                retention: None,
            });
        }
        for spec in &mut specs {
            spec.premake = overrides.premake.unwrap_or(spec.premake);
            spec.retention = overrides.retention.clone().or(spec.retention.take());
        }
        specs
    }

    /// The version a fully upgraded tenant of this blueprint is at.
    pub fn latest_version(&self) -> i32 {
        self.steps.last().map_or(0, |s| s.version)
    }

    /// Renders the admin template for one tenant, if the blueprint has one.
    pub fn render_admin(&self, identity: &Identity) -> Result<Option<String>> {
        if self.admin.is_none() {
            return Ok(None);
        }
        let file = self.dir.join(self.manifest.admin_template.as_deref().unwrap_or_default());
        let sql = self.engine.render(ADMIN_TEMPLATE, &tera_context(identity)).map_err(|e| render_error(&file, &e))?;
        Ok(Some(sql))
    }

    /// Renders every step for one tenant, as refinery migrations.
    pub fn render(&self, identity: &Identity) -> Result<Vec<Migration>> {
        let context = tera_context(identity);
        self.steps
            .iter()
            .map(|step| {
                let sql =
                    self.engine.render(&step.migration_name, &context).map_err(|e| render_error(&step.file, &e))?;
                Migration::unapplied(&step.migration_name, &sql)
                    .with_context(|| format!("{} is not a valid refinery migration", step.file.display()))
            })
            .collect()
    }
}

/// The admin template's name inside the engine.
const ADMIN_TEMPLATE: &str = "admin";

/// Parses every template once. Tera without autoescaping: SQL is not HTML,
/// and `"lic_schema"` must stay as is.
fn parse_all(steps: &[Step], admin: Option<&str>) -> Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    for step in steps {
        tera.add_raw_template(&step.migration_name, &step.source)
            .map_err(|e| bad_input(format!("{}: {}", step.file.display(), tera_cause(&e))))?;
    }
    if let Some(admin) = admin {
        tera.add_raw_template(ADMIN_TEMPLATE, admin)
            .map_err(|e| bad_input(format!("admin template: {}", tera_cause(&e))))?;
    }
    Ok(tera)
}

/// The only variables a template sees: the tenant's stable identity and the
/// names derived from it.
fn tera_context(identity: &Identity) -> tera::Context {
    let code = &identity.code;
    let mut context = tera::Context::new();
    context.insert("schema", &code.schema_ident());
    context.insert("schema_name", &code.schema_name());
    context.insert("code", code.as_str());
    context.insert("tenant_id", &identity.tenant_id.to_string());
    context.insert("owner_role", &quote_ident(&code.owner_role()));
    context.insert("app_role", &quote_ident(&code.app_role()));
    context.insert("ro_role", &quote_ident(&code.ro_role()));
    context.insert("audit_log", &format!("audit.{}", quote_ident(&code.audit_log_name())));
    context.insert("audit_log_name", &code.audit_log_name());
    context
}

/// Partitioned table and column names are spliced into DDL (quoted), so they
/// must be plain identifiers; premake is bounded so a typo cannot create
/// thousands of tables.
fn check_manifest(manifest: &Manifest) -> Result<(), String> {
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
    Ok(())
}

/// Every `V{n}__{label}.sql.tera` of the blueprint; any other `.sql.tera`
/// (except the declared admin template) is an error, so a misnamed version
/// is never silently skipped.
fn load_steps(dir: &Path, admin_template: Option<&str>) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let file = entry?.path();
        let Some(file_name) = file.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = file_name.strip_suffix(TEMPLATE_SUFFIX) else {
            continue;
        };
        if Some(file_name) == admin_template {
            continue;
        }
        let version = parse_version(stem).ok_or_else(|| {
            bad_input(format!("{}: template names must look like V<n>__<name>{TEMPLATE_SUFFIX}", file.display()))
        })?;
        if let Some(twin) = steps.iter().find(|s: &&Step| s.version == version) {
            return Err(bad_input(format!(
                "{} and {} both claim version {version}; give each template its own version",
                twin.file.display(),
                file.display()
            )));
        }
        let source = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        steps.push(Step { version, migration_name: stem.to_owned(), file, source });
    }
    steps.sort_by_key(|s| s.version);
    if steps.is_empty() {
        return Err(bad_input(format!("blueprint {} has no V<n>__<name>{TEMPLATE_SUFFIX} templates", dir.display())));
    }
    Ok(steps)
}

/// `V12__add_claims` → 12. The label must be a plain word: refinery splices
/// the name into its history INSERT unquoted.
fn parse_version(stem: &str) -> Option<i32> {
    let (version, label) = stem.strip_prefix('V')?.split_once("__")?;
    let label_ok = !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let version: i32 = version.parse().ok()?;
    (label_ok && version > 0).then_some(version)
}

fn available(templates_dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(templates_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(MANIFEST).is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    if names.is_empty() {
        format!("none in {}", templates_dir.display())
    } else {
        names.join(", ")
    }
}

/// A template that does not render is a defect of the input (exit 2), the
/// same for every tenant; the message names the file and Tera's reason (for
/// an undefined variable: its name, and the variables there are).
fn render_error(file: &Path, error: &tera::Error) -> anyhow::Error {
    let cause = tera_cause(error);
    let hint = match cause.contains("not found in context") {
        true => format!("; a template may use only {}", VARIABLES.join(", ")),
        false => String::new(),
    };
    bad_input(format!("cannot render {}: {cause}{hint}", file.display()))
}

/// Every variable [`tera_context`] sets.
const VARIABLES: &[&str] =
    &["schema", "schema_name", "code", "tenant_id", "owner_role", "app_role", "ro_role", "audit_log", "audit_log_name"];

/// Tera hides the useful part of a render error in its source chain.
fn tera_cause(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("V1__identity"), Some(1));
        assert_eq!(parse_version("V12__add_claims_2"), Some(12));
        for bad in ["1__x", "V__x", "V1_x", "V1__", "V0__x", "V1__it's"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn renders_identity_only_and_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let bp = dir.path().join("demo");
        std::fs::create_dir(&bp).unwrap();
        std::fs::write(bp.join(MANIFEST), "name = \"demo\"\n").unwrap();
        std::fs::write(bp.join("V2__b.sql.tera"), "CREATE TABLE {{ schema }}.b ();").unwrap();
        std::fs::write(bp.join("V1__a.sql.tera"), "SELECT '{{ tenant_id }}'::uuid, '{{ code }}';").unwrap();
        let blueprint = Blueprint::load(dir.path(), "demo").unwrap();
        assert_eq!(blueprint.latest_version(), 2);
        let identity = Identity { code: TenantCode::parse("lic").unwrap(), tenant_id: Uuid::nil() };
        let first = blueprint.render(&identity).unwrap();
        let again = blueprint.render(&identity).unwrap();
        assert_eq!(first[1].sql(), Some("CREATE TABLE \"lic_schema\".b ();"));
        assert_eq!(first[0].checksum(), again[0].checksum());
        assert!(Blueprint::load(dir.path(), "nope").unwrap_err().to_string().contains("available: demo"));
    }
}

/// TEMPORARY: the lead's loader replaces this.
fn load_shared_tmp(dir: &Path) -> Result<Vec<Migration>> {
    let mut migrations = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(migrations) };
    for entry in entries {
        let path = entry?.path();
        let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".sql")) else { continue };
        let sql = std::fs::read_to_string(&path)?;
        migrations.push(Migration::unapplied(stem, &sql).map_err(|e| bad_input(format!("{}: {e}", path.display())))?);
    }
    migrations.sort();
    Ok(migrations)
}
