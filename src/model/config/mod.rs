//! `tenants.toml`: which tenants exist and how they are built.
//!
//! The file is parsed strictly (unknown keys are errors) and every error names
//! the file, line, column and key, because a DBA editing it by hand needs to
//! find the mistake without reading Rust. Duplicate tenant codes are duplicate
//! TOML keys, which the parser itself rejects with a position.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;
use uuid::Uuid;

use crate::error::bad_input;
use crate::model::attributes;
use crate::model::blueprint::available;
use crate::model::tenant::TenantCode;
use crate::pg::text::one_line;

/// Namespace for tenant UUIDs derived from codes (UUID v5), so a tenant has
/// the same id in every environment and `tenant render` is deterministic.
const TENANT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_2c3a_8b7e_4f5d_9a10_3c2b_1e0f_a7d4);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    templates: Option<String>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    tenants: BTreeMap<String, Spanned<RawTenant>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    blueprint: Option<String>,
    premake: Option<u32>,
    retention: Option<String>,
    archive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    name: String,
    /// Shorthand for `attributes.type`.
    #[serde(rename = "type")]
    tenant_type: Option<String>,
    /// `[tenants.<code>.attributes]`: values of the blueprint's `[attributes]`.
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    blueprint: Option<String>,
    id: Option<String>,
    premake: Option<u32>,
    retention: Option<String>,
    archive: Option<bool>,
}

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

/// One tenant as declared (or as given on the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSpec {
    pub code: TenantCode,
    pub name: String,
    /// `shared.tenants.tenant_type`: the attribute `type`, or the blueprint's
    /// name when the blueprint declares no `type`.
    pub tenant_type: String,
    /// Every attribute the blueprint declares, with its defaults applied
    /// (`type` included); the others go to `shared.tenant_config`.
    pub attributes: BTreeMap<String, String>,
    pub blueprint: String,
    pub id: Uuid,
    /// This tenant's own partition settings (before `[defaults]`).
    pub partitions: PartitionOverrides,
}

/// The parsed configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where blueprints live (`templates/<blueprint>/`).
    pub templates_dir: PathBuf,
    /// The blueprint of tenants that name none: `[defaults] blueprint`, else
    /// the only available pack when there is exactly one.
    pub default_blueprint: Option<String>,
    /// `[defaults]` partition settings.
    pub default_partitions: PartitionOverrides,
    /// Tenants in code order.
    pub tenants: Vec<TenantSpec>,
}

impl Config {
    /// Loads `path`. A missing file is an error only when `explicit` (given
    /// with `--config`/`PROVISION_CONFIG`); otherwise it means "no tenants".
    pub fn load(path: &Path, explicit: bool) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Config::empty(path)),
            Err(e) => Err(bad_input(format!(
                "cannot read {}: {e}; pass --config with the path of your tenants.toml",
                path.display()
            ))),
        }
    }

    fn empty(path: &Path) -> Config {
        let templates_dir = base_dir(path).join("templates");
        Config {
            default_blueprint: only_pack(&templates_dir),
            templates_dir,
            default_partitions: PartitionOverrides::default(),
            tenants: Vec::new(),
        }
    }

    /// Parses the text of `path`; errors carry `file:line:column`.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let at = |span: Option<std::ops::Range<usize>>, message: &str| {
            let (line, column) = line_column(text, span.map_or(0, |s| s.start));
            bad_input(format!("{}:{line}:{column}: {}", path.display(), one_line(message)))
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| at(e.span(), &name_the_key(text, e.span(), e.message())))?;
        let templates_dir = base_dir(path).join(raw.templates.as_deref().unwrap_or("templates"));
        if let Some(name) = &raw.defaults.blueprint {
            check_blueprint_name(name).map_err(|m| at(None, &format!("[defaults] blueprint: {m}")))?;
        }
        let default_blueprint = raw.defaults.blueprint.clone().or_else(|| only_pack(&templates_dir));
        let mut tenants: Vec<TenantSpec> = Vec::with_capacity(raw.tenants.len());
        let mut given = Vec::with_capacity(raw.tenants.len());
        for (code, entry) in raw.tenants {
            let span = Some(entry.span());
            let (spec, attributes) =
                tenant_spec(&code, entry.into_inner(), default_blueprint.as_deref(), &templates_dir)
                    .map_err(|m| at(span.clone(), &format!("[tenants.{code}] {m}")))?;
            // The id is the tenant's primary key in shared.tenants: a twin
            // would surface from the database halfway through `up`.
            if let Some(twin) = tenants.iter().find(|t| t.id == spec.id) {
                let message = format!(
                    "[tenants.{code}] id: {} is already the id of tenant {}; give each tenant its own id",
                    spec.id, twin.code
                );
                return Err(at(span, &message));
            }
            tenants.push(spec);
            given.push((attributes, span));
        }
        let default_partitions = PartitionOverrides {
            premake: raw.defaults.premake,
            retention: raw.defaults.retention,
            archive: raw.defaults.archive,
        };
        check_partitions(&default_partitions).map_err(|m| at(None, &format!("[defaults] {m}")))?;
        let mut config = Config { templates_dir, default_blueprint, default_partitions, tenants };
        config.check_blueprints().map_err(|e| bad_input(format!("{}: {e:#}", path.display())))?;
        for (spec, (attributes, span)) in config.tenants.iter_mut().zip(given) {
            let blueprint = crate::model::blueprint::Blueprint::load(&config.templates_dir, &spec.blueprint)?;
            let resolved = attributes::resolve(&blueprint.manifest, &attributes)
                .map_err(|m| at(span, &format!("[tenants.{}] {m}", spec.code)))?;
            (spec.tenant_type, spec.attributes) = (resolved.tenant_type, resolved.values);
        }
        Ok(config)
    }

    /// The blueprint of a tenant that names `given` (or none): the error
    /// says how to name one and which exist.
    pub fn blueprint_for(&self, code: &TenantCode, given: Option<&str>) -> Result<String, String> {
        pick_blueprint(code.as_str(), given, self.default_blueprint.as_deref(), &self.templates_dir)
    }

    /// Every blueprint a declared tenant names loads: it exists, parses and
    /// renders. Checked by every command, so a typo in tenants.toml is bad
    /// input (exit 2) naming the tenants and the blueprint, before anything runs.
    pub fn check_blueprints(&self) -> Result<()> {
        let names: std::collections::BTreeSet<&str> = self.tenants.iter().map(|t| t.blueprint.as_str()).collect();
        for name in names {
            if let Err(e) = crate::model::blueprint::Blueprint::load(&self.templates_dir, name) {
                let users: Vec<&str> =
                    self.tenants.iter().filter(|t| t.blueprint == name).map(|t| t.code.as_str()).collect();
                let who = if users.len() == 1 { "tenant" } else { "tenants" };
                return Err(bad_input(format!("{who} {}: {e:#}", users.join(", "))));
            }
        }
        Ok(())
    }

    pub fn tenant(&self, code: &TenantCode) -> Option<&TenantSpec> {
        self.tenants.iter().find(|t| &t.code == code)
    }

    /// The partition settings of every declared tenant, over `[defaults]`.
    pub fn partition_settings(&self) -> PartitionSettings {
        PartitionSettings {
            defaults: self.default_partitions.clone(),
            tenants: self.tenants.iter().map(|t| (t.code.clone(), t.partitions.clone())).collect(),
        }
    }
}

/// One tenant's entry: its spec with the attributes still unresolved
/// (their defaults come from the blueprint, loaded once for all tenants),
/// and the attributes it gives.
fn tenant_spec(
    code: &str,
    raw: RawTenant,
    default_blueprint: Option<&str>,
    templates_dir: &Path,
) -> Result<(TenantSpec, BTreeMap<String, String>), String> {
    let code = TenantCode::parse(code).map_err(|e| e.to_string())?;
    let blueprint = pick_blueprint(code.as_str(), raw.blueprint.as_deref(), default_blueprint, templates_dir)?;
    let mut given = raw.attributes;
    if let Some(tenant_type) = raw.tenant_type {
        if given.get(attributes::TYPE).is_some_and(|v| *v != tenant_type) {
            return Err("type and attributes.type differ; give it once".to_owned());
        }
        given.insert(attributes::TYPE.to_owned(), tenant_type);
    }
    let id = match raw.id {
        Some(id) => Uuid::parse_str(&id).map_err(|e| format!("id: {id:?} is not a UUID ({e})"))?,
        None => derived_tenant_id(&code),
    };
    check_name(&raw.name)?;
    let partitions = PartitionOverrides { premake: raw.premake, retention: raw.retention, archive: raw.archive };
    check_partitions(&partitions)?;
    let spec = TenantSpec {
        code,
        name: raw.name,
        tenant_type: String::new(),
        attributes: BTreeMap::new(),
        blueprint,
        id,
        partitions,
    };
    Ok((spec, given))
}

/// A tenant's blueprint: its own, else the default, else an error naming
/// the packs there are.
fn pick_blueprint(
    code: &str,
    given: Option<&str>,
    default: Option<&str>,
    templates_dir: &Path,
) -> Result<String, String> {
    if let Some(name) = given.or(default) {
        check_blueprint_name(name).map_err(|m| format!("blueprint: {m}"))?;
        return Ok(name.to_owned());
    }
    let names: Vec<String> = available(templates_dir).into_iter().map(|(name, _)| name).collect();
    Err(format!(
        "tenant {code} names no blueprint; set blueprint = \"…\" for it or in [defaults] (available: {})",
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    ))
}

/// The one available pack, when there is exactly one.
fn only_pack(templates_dir: &Path) -> Option<String> {
    match available(templates_dir).as_slice() {
        [(name, _)] => Some(name.clone()),
        _ => None,
    }
}

/// toml's messages ("duplicate key", "invalid value: integer `-1`,
/// expected u32") leave out which key; the line the error points at names it.
fn name_the_key(text: &str, span: Option<std::ops::Range<usize>>, message: &str) -> String {
    let message = message.replace("expected u32", "expected a whole number from 0 up");
    let Some(span) = span else { return message };
    let start = text[..span.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or_default().trim();
    let key = match line.strip_prefix('[') {
        Some(header) => header.trim_start_matches('[').split(']').next().unwrap_or_default().trim(),
        None => line.split('=').next().unwrap_or_default().trim(),
    };
    if key.is_empty() || message.contains(&format!("`{key}`")) {
        return message;
    }
    format!("{key}: {message}")
}

/// The UUID a tenant gets when none is configured: stable per code.
pub fn derived_tenant_id(code: &TenantCode) -> Uuid {
    Uuid::new_v5(&TENANT_ID_NAMESPACE, code.as_str().as_bytes())
}

/// Blueprint names are directory names under `templates/`, at most 40
/// characters: the name is the registry's `tenant_type` of a pack without a
/// `type` attribute (VARCHAR(50)) and part of its shared history table's.
pub fn check_blueprint_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some('a'..='z')) && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'));
    if ok && name.len() <= 40 {
        Ok(())
    } else {
        Err(format!(
            "invalid blueprint name {name:?}: use at most 40 lower-case letters, digits and '_' (a directory under templates/)"
        ))
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

/// `shared.tenants.tenant_name` is VARCHAR(255).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > 255 {
        Err(format!("name: must be 1 to 255 characters, got {}", name.chars().count()))
    } else {
        Ok(())
    }
}

/// The templates directory `path` names, reading only its `templates` key
/// (for commands about blueprints, which must work while a tenant still
/// names a blueprint not written yet).
pub fn templates_dir(path: &Path, explicit: bool) -> Result<PathBuf> {
    #[derive(Deserialize)]
    struct TemplatesOnly {
        templates: Option<String>,
    }
    let templates = match std::fs::read_to_string(path) {
        Ok(text) => {
            let only: TemplatesOnly = toml::from_str(&text)
                .map_err(|e| bad_input(format!("{}: {}", path.display(), one_line(e.message()))))?;
            only.templates
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
        Err(e) => return Err(bad_input(format!("cannot read {}: {e}", path.display()))),
    };
    Ok(base_dir(path).join(templates.as_deref().unwrap_or("templates")))
}

fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
