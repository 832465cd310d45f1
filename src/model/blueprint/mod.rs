//! Blueprints: the packs a tenant is stamped from.
//!
//! A blueprint is one pack `templates/<name>/`: `blueprint.toml`, the
//! once-per-database `shared/V{n}__{label}.sql`, the per-tenant
//! `tenant/V{n}__{label}.sql.tera`, the admin template and `sample/`
//! (`pack.rs` says where the files come from; a pack without `tenant/`
//! keeps its templates at the top, as packs written before it did). Rendering depends only on the tenant's
//! stable identity (code, schema, UUID), because refinery checksums the
//! rendered SQL: a template that read mutable configuration would make every
//! applied version look edited the day that configuration changed.

mod manifest;
mod pack;
mod row;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context as _, Result};
use refinery_core::Migration;
use uuid::Uuid;

pub use manifest::{
    EncryptedSpec, Interval, Manifest, PartitionSpec, RetentionAction, RetentionRule, SampleSpec, Scrub,
};
pub use pack::{available, is_shipped, Origin, PackFile};
pub use row::RowSpec;

use crate::error::bad_input;
use crate::model::config::PartitionOverrides;
use crate::model::tenant::TenantCode;
use crate::pg::quote::quote_ident;

use pack::{Pack, MANIFEST};
const TEMPLATE_SUFFIX: &str = ".sql.tera";

/// One versioned template, unrendered.
#[derive(Debug, Clone)]
pub struct Step {
    pub version: i32,
    /// refinery's migration name: `V{version}__{label}`.
    pub migration_name: String,
    pub file: PathBuf,
    source: String,
}

impl Step {
    /// The template's text, as the pack holds it today.
    pub fn source(&self) -> &str {
        &self.source
    }
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
    /// Where messages say the pack is (a directory, or `(shipped)/<name>`).
    pub dir: PathBuf,
    pub origin: Origin,
    pub manifest: Manifest,
    pub steps: Vec<Step>,
    /// The once-per-database migrations of `shared/`, in version order.
    pub shared: Vec<Migration>,
    /// Every file of the pack, sorted by path (what a content hash covers).
    pub files: Vec<PackFile>,
    /// Source of the admin template, when the manifest names one.
    admin: Option<String>,
    /// Every template parsed once at load: a fleet renders them per tenant.
    engine: tera::Tera,
}

impl Blueprint {
    /// Loads blueprint `name`: `templates_dir/<name>` when it exists, else
    /// the shipped pack; a missing blueprint is bad input. Each pack is read
    /// and checked once per process: this is the one loader and its cache.
    pub fn load(templates_dir: &Path, name: &str) -> Result<Blueprint> {
        static LOADED: OnceLock<Mutex<HashMap<(PathBuf, String), Blueprint>>> = OnceLock::new();
        let key = (templates_dir.to_path_buf(), name.to_owned());
        let cache = LOADED.get_or_init(Default::default);
        if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(hit);
        }
        let blueprint = Blueprint::read(templates_dir, name)?;
        if let Ok(mut cache) = cache.lock() {
            cache.insert(key, blueprint.clone());
        }
        Ok(blueprint)
    }

    fn read(templates_dir: &Path, name: &str) -> Result<Blueprint> {
        // The one name rule (config's), so no other name reaches a path or a lookup.
        let pack = match crate::model::config::check_blueprint_name(name) {
            Ok(()) => pack::find(templates_dir, name)?,
            Err(_) => None,
        };
        let Some(pack) = pack else {
            let names: Vec<String> = available(templates_dir).into_iter().map(|(n, _)| n).collect();
            return Err(bad_input(format!(
                "blueprint {name:?} not found: no {} and no shipped pack of that name; available: {}",
                templates_dir.join(name).display(),
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            )));
        };
        let manifest_path = pack.location.join(MANIFEST);
        let text = pack.file(MANIFEST).expect("a pack has a manifest").text(name)?;
        let manifest: Manifest =
            toml::from_str(&text).map_err(|e| bad_input(format!("{}: {}", manifest_path.display(), e.message())))?;
        manifest::check_manifest(&manifest).map_err(|m| bad_input(format!("{}: {m}", manifest_path.display())))?;
        let steps = load_steps(&pack, manifest.admin_template.as_deref())?;
        match (manifest.row.is_some(), steps.is_empty()) {
            (true, false) => {
                return Err(bad_input(format!(
                    "{}: a row-tenancy pack has no per-tenant templates; its tables belong in shared/",
                    manifest_path.display()
                )))
            }
            (false, true) => {
                return Err(bad_input(format!(
                    "blueprint {} has no tenant/V<n>__<name>{TEMPLATE_SUFFIX} templates",
                    pack.location.display()
                )))
            }
            _ => {}
        }
        let shared = load_shared(&pack)?;
        let admin = match &manifest.admin_template {
            Some(file) => Some(pack.file(file).map(|f| f.text(name)).transpose()?.ok_or_else(|| {
                bad_input(format!("{}: admin_template {file:?} is not in the pack", manifest_path.display()))
            })?),
            None => None,
        };
        let engine = parse_all(&steps, admin.as_deref())?;
        let Pack { origin, location, files } = pack;
        let blueprint =
            Blueprint { name: name.to_owned(), dir: location, origin, manifest, steps, shared, files, admin, engine };
        // A template naming a variable that does not exist fails for every
        // tenant alike: say so now, before any tenant is touched.
        let trial = Identity { code: TenantCode::parse("trial").expect("a valid code"), tenant_id: Uuid::nil() };
        blueprint.render(&trial)?;
        blueprint.render_admin(&trial)?;
        Ok(blueprint)
    }

    /// The pack's sample files (`sample/*`), in the order they run.
    pub fn sample_files(&self) -> impl Iterator<Item = &PackFile> {
        self.files.iter().filter(|f| f.path.starts_with("sample/"))
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

/// Renders `source`, another text of the version named `name` (one a tenant
/// applied earlier), for `identity` exactly as [`Blueprint::render`] would.
pub fn render_source(name: &str, source: &str, identity: &Identity) -> Result<Migration> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.add_raw_template(name, source).map_err(|e| bad_input(format!("{name}: {}", tera_cause(&e))))?;
    let sql =
        tera.render(name, &tera_context(identity)).map_err(|e| bad_input(format!("{name}: {}", tera_cause(&e))))?;
    Migration::unapplied(name, &sql).with_context(|| format!("{name} is not a valid refinery migration"))
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
pub(crate) fn tera_context(identity: &Identity) -> tera::Context {
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

/// Every `V{n}__{label}.sql.tera` of `tenant/` (or, in a pack without
/// `tenant/`, of the top); any other `.sql.tera` there (except the declared
/// admin template) is an error, so a misnamed version is never skipped.
fn load_steps(pack: &Pack, admin_template: Option<&str>) -> Result<Vec<Step>> {
    let folder = match pack.files_in("tenant").next() {
        Some(_) => "tenant/",
        None => "",
    };
    let stray =
        pack.files_in("").find(|f| f.path.ends_with(TEMPLATE_SUFFIX) && Some(f.path.as_str()) != admin_template);
    if let (false, Some(stray)) = (folder.is_empty(), stray) {
        return Err(bad_input(format!(
            "{}: per-tenant versions belong in tenant/; move it there",
            pack.location.join(&stray.path).display()
        )));
    }
    let mut steps = Vec::new();
    for file in pack.files.iter().filter(|f| f.path.strip_prefix(folder).is_some_and(|r| !r.contains('/'))) {
        let path = pack.location.join(&file.path);
        let Some(stem) = file.path[folder.len()..].strip_suffix(TEMPLATE_SUFFIX) else {
            continue;
        };
        if Some(file.path.as_str()) == admin_template {
            continue;
        }
        let version = parse_version(stem).ok_or_else(|| {
            bad_input(format!("{}: template names must look like V<n>__<name>{TEMPLATE_SUFFIX}", path.display()))
        })?;
        if let Some(twin) = steps.iter().find(|s: &&Step| s.version == version) {
            return Err(bad_input(format!(
                "{} and {} both claim version {version}; give each template its own version",
                twin.file.display(),
                path.display()
            )));
        }
        let source = file.text(&pack.location.display().to_string())?;
        steps.push(Step { version, migration_name: stem.to_owned(), file: path, source });
    }
    steps.sort_by_key(|s| s.version);
    Ok(steps)
}

/// `shared/V{n}__{label}.sql`, as refinery migrations in version order.
fn load_shared(pack: &Pack) -> Result<Vec<Migration>> {
    let mut shared: Vec<Migration> = Vec::new();
    for file in pack.files_in("shared") {
        let path = pack.location.join(&file.path);
        let stem = file.path["shared/".len()..].strip_suffix(".sql");
        let Some(version) = stem.and_then(parse_version) else {
            return Err(bad_input(format!("{}: shared migrations must look like V<n>__<name>.sql", path.display())));
        };
        if shared.iter().any(|m| m.version() == version) {
            return Err(bad_input(format!("{}: another shared migration claims version {version}", path.display())));
        }
        let sql = file.text(&pack.location.display().to_string())?;
        let migration = Migration::unapplied(stem.unwrap_or_default(), &sql)
            .with_context(|| format!("{} is not a valid refinery migration", path.display()))?;
        shared.push(migration);
    }
    shared.sort();
    Ok(shared)
}

/// `V12__add_claims` → 12. The label must be a plain word: refinery splices
/// the name into its history INSERT unquoted.
fn parse_version(stem: &str) -> Option<i32> {
    let (version, label) = stem.strip_prefix('V')?.split_once("__")?;
    let label_ok = !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let version: i32 = version.parse().ok()?;
    (label_ok && version > 0).then_some(version)
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
pub(crate) fn tera_cause(error: &tera::Error) -> String {
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
        let missing = Blueprint::load(dir.path(), "nope").unwrap_err().to_string();
        assert!(missing.contains("available: ") && missing.contains("demo"), "{missing}");
    }

    #[test]
    fn shipped_packs_load_from_the_binary_and_a_directory_overrides_them() {
        let empty = tempfile::tempdir().unwrap();
        let shipped = available(empty.path());
        assert!(!shipped.is_empty() && shipped.iter().all(|(_, origin)| *origin == Origin::Shipped));
        let (name, _) = &shipped[0];
        let blueprint = Blueprint::load(empty.path(), name).unwrap();
        assert_eq!(blueprint.origin, Origin::Shipped);
        assert!(blueprint.files.iter().any(|f| f.path.starts_with("tenant/")), "templates live in tenant/");

        let overriding = tempfile::tempdir().unwrap();
        let bp = overriding.path().join(name);
        std::fs::create_dir_all(bp.join("tenant")).unwrap();
        std::fs::create_dir_all(bp.join("shared")).unwrap();
        std::fs::write(bp.join(MANIFEST), format!("name = \"{name}\"\n")).unwrap();
        std::fs::write(bp.join("tenant/V1__a.sql.tera"), "CREATE TABLE {{ schema }}.a ();").unwrap();
        std::fs::write(bp.join("shared/V1__s.sql"), "CREATE TABLE shared.s ();").unwrap();
        let local = Blueprint::load(overriding.path(), name).unwrap();
        assert_eq!((local.origin, local.steps.len(), local.shared.len()), (Origin::Directory(bp.clone()), 1, 1));
        assert_eq!(local.shared[0].to_string(), "V1__s");

        std::fs::write(bp.join("V2__b.sql.tera"), "SELECT 1;").unwrap();
        let stray = Blueprint::read(overriding.path(), name).unwrap_err().to_string();
        assert!(stray.contains("V2__b.sql.tera") && stray.contains("tenant/"), "{stray}");
    }
}
