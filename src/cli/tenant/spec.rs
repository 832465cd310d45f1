//! Turning `tenant add|render <code> [--name ..]` into a [`TenantSpec`]: the
//! tenants.toml entry, with any command-line arguments taking precedence.

use anyhow::Result;

use crate::cli::args::TenantSpecArgs;
use crate::error::bad_input;
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
                "tenant {code} is not declared in tenants.toml; add it there or pass --name (and optionally --type, --blueprint)"
            )))
        }
    };
    config::check_name(&name).map_err(|m| bad_input(format!("--{m}")))?;
    let tenant_type = args
        .tenant_type
        .clone()
        .or_else(|| declared.as_ref().map(|s| s.tenant_type.clone()))
        .unwrap_or_else(|| config::TENANT_TYPES[0].to_owned());
    config::check_tenant_type(&tenant_type).map_err(|m| bad_input(format!("--{m}")))?;
    let blueprint = args
        .blueprint
        .clone()
        .or_else(|| declared.as_ref().map(|s| s.blueprint.clone()))
        .unwrap_or_else(|| config.default_blueprint.clone());
    config::check_blueprint_name(&blueprint).map_err(|m| bad_input(format!("--blueprint: {m}")))?;
    let id = declared.as_ref().map_or_else(|| config::derived_tenant_id(&code), |s| s.id);
    let partitions = declared.map(|s| s.partitions).unwrap_or_default();
    Ok(TenantSpec { code, name, tenant_type, blueprint, id, partitions })
}
