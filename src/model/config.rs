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
use crate::model::tenant::TenantCode;
use crate::pg::text::one_line;

/// The blueprint a tenant gets when neither it nor `[defaults]` names one.
pub const DEFAULT_BLUEPRINT: &str = "agent_mitra";

/// The tenant types seed 001 §2.1 allows for `shared.tenants.tenant_type`.
pub const TENANT_TYPES: &[&str] = &["insurance_provider", "independent_agent", "agent_network"];

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
    #[serde(rename = "type")]
    tenant_type: Option<String>,
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
    pub tenant_type: String,
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
    pub default_blueprint: String,
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
        Config {
            templates_dir: base_dir(path).join("templates"),
            default_blueprint: DEFAULT_BLUEPRINT.to_owned(),
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
        let default_blueprint = raw.defaults.blueprint.unwrap_or_else(|| DEFAULT_BLUEPRINT.to_owned());
        check_blueprint_name(&default_blueprint).map_err(|m| at(None, &format!("[defaults] blueprint: {m}")))?;
        let mut tenants: Vec<TenantSpec> = Vec::with_capacity(raw.tenants.len());
        for (code, entry) in raw.tenants {
            let span = Some(entry.span());
            let spec = tenant_spec(&code, entry.into_inner(), &default_blueprint)
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
        }
        let templates = raw.templates.unwrap_or_else(|| "templates".to_owned());
        let default_partitions = PartitionOverrides {
            premake: raw.defaults.premake,
            retention: raw.defaults.retention,
            archive: raw.defaults.archive,
        };
        check_partitions(&default_partitions).map_err(|m| at(None, &format!("[defaults] {m}")))?;
        Ok(Config { templates_dir: base_dir(path).join(templates), default_blueprint, default_partitions, tenants })
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

fn tenant_spec(code: &str, raw: RawTenant, default_blueprint: &str) -> Result<TenantSpec, String> {
    let code = TenantCode::parse(code).map_err(|e| e.to_string())?;
    let blueprint = raw.blueprint.unwrap_or_else(|| default_blueprint.to_owned());
    check_blueprint_name(&blueprint).map_err(|m| format!("blueprint: {m}"))?;
    let tenant_type = raw.tenant_type.unwrap_or_else(|| TENANT_TYPES[0].to_owned());
    check_tenant_type(&tenant_type)?;
    let id = match raw.id {
        Some(id) => Uuid::parse_str(&id).map_err(|e| format!("id: {id:?} is not a UUID ({e})"))?,
        None => derived_tenant_id(&code),
    };
    check_name(&raw.name)?;
    let partitions = PartitionOverrides { premake: raw.premake, retention: raw.retention, archive: raw.archive };
    check_partitions(&partitions)?;
    Ok(TenantSpec { code, name: raw.name, tenant_type, blueprint, id, partitions })
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

/// Blueprint names are directory names under `templates/`.
pub fn check_blueprint_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some('a'..='z')) && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid blueprint name {name:?}: use lower-case letters, digits and '_' (a directory under templates/)"
        ))
    }
}

pub fn check_tenant_type(tenant_type: &str) -> Result<(), String> {
    if TENANT_TYPES.contains(&tenant_type) {
        Ok(())
    } else {
        Err(format!("type: {tenant_type:?} is not a tenant type; use one of {}", TENANT_TYPES.join(", ")))
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
mod tests {
    use super::*;
    use crate::error::{exit_code_of, ExitCode};

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("conf/tenants.toml"))
    }

    fn error(text: &str) -> String {
        let err = parse(text).unwrap_err();
        assert_eq!(exit_code_of(&err), ExitCode::BadInput);
        let message = err.to_string();
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn parses_tenants_with_defaults() {
        let config =
            parse("[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\ntype = \"agent_network\"\n")
                .unwrap();
        assert_eq!(config.templates_dir, Path::new("conf/templates"));
        let codes: Vec<_> = config.tenants.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes, ["hdfc", "lic"]);
        let lic = &config.tenants[1];
        assert_eq!((lic.blueprint.as_str(), lic.tenant_type.as_str()), ("agent_mitra", "insurance_provider"));
        assert_eq!(lic.id, derived_tenant_id(&lic.code));
        assert_ne!(config.tenants[0].id, lic.id);
    }

    #[test]
    fn unknown_key_names_file_line_column_and_key() {
        let message = error("[tenants.lic]\nname = \"LIC\"\nnmae = \"x\"\n");
        assert!(message.starts_with("conf/tenants.toml:"), "{message}");
        assert!(message.contains("nmae"), "{message}");
        assert!(message.contains(":3:"), "{message}");
    }

    #[test]
    fn duplicate_tenant_is_an_error_with_position() {
        let message = error("[tenants.lic]\nname = \"A\"\n\n[tenants.lic]\nname = \"B\"\n");
        assert!(message.contains("conf/tenants.toml:4:"), "{message}");
        assert!(message.contains("lic"), "{message}");
    }

    #[test]
    fn duplicate_key_and_negative_premake_name_the_key() {
        let message = error("[tenants.lic]\nname = \"A\"\nname = \"B\"\n");
        assert!(message.contains(":3:") && message.contains("name: duplicate key"), "{message}");
        let message = error("[tenants.lic]\nname = \"A\"\n\n[tenants.lic]\nname = \"B\"\n");
        assert!(message.contains("tenants.lic: duplicate key"), "{message}");
        let message = error("[tenants.lic]\nname = \"A\"\npremake = -1\n");
        assert!(message.contains(":3:") && message.contains("premake: ") && message.contains("-1"), "{message}");
        let message = error("[defaults]\npremake = -2\n");
        assert!(message.contains("premake: "), "{message}");
    }

    #[test]
    fn duplicate_tenant_id_is_an_error_naming_both_tenants() {
        let id = "6f1d2c3a-8b7e-4f5d-9a10-3c2b1e0fa7d4";
        let message = error(&format!(
            "[tenants.lic]\nname = \"A\"\nid = \"{id}\"\n[tenants.hdfc]\nname = \"B\"\nid = \"{id}\"\n"
        ));
        assert!(message.contains(id) && message.contains("hdfc") && message.contains("lic"), "{message}");
        let derived = derived_tenant_id(&TenantCode::parse("lic").unwrap());
        let message = error(&format!("[tenants.lic]\nname = \"A\"\n[tenants.zz]\nname = \"B\"\nid = \"{derived}\"\n"));
        assert!(message.contains("zz") && message.contains("lic"), "{message}");
    }

    #[test]
    fn bad_code_type_and_id_are_errors() {
        let message = error("[tenants.\"Bad-Code\"]\nname = \"x\"\n");
        assert!(message.contains("Bad-Code") && message.contains("conf/tenants.toml:"), "{message}");
        assert!(error("[tenants.lic]\nname = \"x\"\ntype = \"bank\"\n").contains("insurance_provider"));
        assert!(error("[tenants.lic]\nname = \"x\"\nid = \"nope\"\n").contains("not a UUID"));
        assert!(error("[tenants.lic]\n").contains("name"));
    }

    #[test]
    fn missing_default_file_is_empty_but_explicit_is_an_error() {
        let missing = Path::new("/nonexistent/tenants.toml");
        assert!(Config::load(missing, false).unwrap().tenants.is_empty());
        assert_eq!(exit_code_of(&Config::load(missing, true).unwrap_err()), ExitCode::BadInput);
    }
}
