//! Turning `tenant add|render <code> [--name ..]` into a [`TenantSpec`]: the
//! tenants.toml entry, with any command-line arguments taking precedence.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::cli::args::TenantSpecArgs;
use crate::error::bad_input;
use crate::model::attributes;
use crate::model::blueprint::Blueprint;
use crate::model::config::{self, Config, TenantSpec};
use crate::model::tenant::TenantCode;

pub fn resolve(args: &TenantSpecArgs, config: &Config) -> Result<TenantSpec> {
    let code = TenantCode::parse(&args.code)?;
    let declared = config.tenant(&code).cloned();
    let name = match (&args.name, &declared) {
        (Some(name), _) => name.clone(),
        (None, Some(spec)) => spec.name.clone(),
        (None, None) => {
            return Err(bad_input(format!(
                "tenant {code} is not declared in tenants.toml; add it there or pass --name (and optionally --set, --blueprint)"
            )))
        }
    };
    config::check_name(&name).map_err(|m| bad_input(format!("--{m}")))?;
    let blueprint = match (&args.blueprint, &declared) {
        (Some(given), _) => config.blueprint_for(&code, Some(given)).map_err(|m| bad_input(format!("--{m}")))?,
        (None, Some(spec)) => spec.blueprint.clone(),
        (None, None) => config.blueprint_for(&code, None).map_err(bad_input)?,
    };
    let resolved = resolve_attributes(args, declared.as_ref(), &blueprint, config)
        .map_err(|m| bad_input(format!("tenant {code}: {m}")))?;
    let id = declared.as_ref().map_or_else(|| config::derived_tenant_id(&code), |s| s.id);
    let partitions = declared.map(|s| s.partitions).unwrap_or_default();
    Ok(TenantSpec {
        code,
        name,
        tenant_type: resolved.tenant_type,
        attributes: resolved.values,
        blueprint,
        id,
        partitions,
    })
}

/// The declared attributes (when the blueprint is the declared one), then
/// `--type`, then `--set`, checked against the blueprint.
fn resolve_attributes(
    args: &TenantSpecArgs,
    declared: Option<&TenantSpec>,
    blueprint: &str,
    config: &Config,
) -> Result<attributes::Resolved, String> {
    let loaded = Blueprint::load(&config.templates_dir, blueprint).map_err(|e| format!("{e:#}"))?;
    let mut given: BTreeMap<String, String> =
        declared.filter(|d| d.blueprint == blueprint).map(|d| d.attributes.clone()).unwrap_or_default();
    if let Some(tenant_type) = &args.tenant_type {
        given.insert(attributes::TYPE.to_owned(), tenant_type.clone());
    }
    for assignment in &args.set {
        let (key, value) = attributes::parse_assignment(assignment)?;
        given.insert(key, value);
    }
    attributes::resolve(&loaded.manifest, &given)
}
