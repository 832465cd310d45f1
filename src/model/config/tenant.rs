//! One declared tenant (`[tenants.<code>]`): its spec, its id (given, or
//! derived from the code so it is the same in every environment), its
//! blueprint, and the checks its name and blueprint name must pass.

use std::collections::BTreeMap;
use std::path::Path;

use uuid::Uuid;

use super::partitions::{check_partitions, PartitionOverrides};
use super::raw::RawTenant;
use crate::model::attributes;
use crate::model::blueprint::available;
use crate::model::tenant::TenantCode;

/// Namespace for tenant UUIDs derived from codes (UUID v5), so a tenant has
/// the same id in every environment and `tenant render` is deterministic.
const TENANT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_2c3a_8b7e_4f5d_9a10_3c2b_1e0f_a7d4);

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

/// One tenant's entry: its spec with the attributes still unresolved
/// (their defaults come from the blueprint, loaded once for all tenants),
/// and the attributes it gives.
pub(super) fn tenant_spec(
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
    // The server is checked against [servers] by the caller, which has them.
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
pub(super) fn pick_blueprint(
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

/// `shared.tenants.tenant_name` is VARCHAR(255).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > 255 {
        Err(format!("name: must be 1 to 255 characters, got {}", name.chars().count()))
    } else {
        Ok(())
    }
}
