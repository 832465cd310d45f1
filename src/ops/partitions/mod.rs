//! The use cases behind `provision partitions …`: `list` reads what the
//! partitions cover, `rollover` makes them exist ahead, fills gaps and applies
//! retention (the engine is [`crate::ops::rollover`]). Both work on the same
//! inputs, collected here.

pub mod list;
pub mod rollover;

use std::collections::HashMap;

use anyhow::Result;
use tokio_postgres::Client;

use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::rollover::Input;
use crate::store::registry;

/// The active registered tenants (or the `named` ones) and each one's
/// partitioned tables, with tenants.toml's premake/retention/archive applied
/// (retention and archive fall back to `shared.data_retention_policies` in
/// the plan query). A named tenant that is not registered is bad input.
pub async fn inputs(client: &Client, config: &Config, named: &[String]) -> Result<Vec<Input>> {
    let wanted: Vec<TenantCode> = named.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    let tenants = registry::snapshot(client, None).await?;
    if let Some(missing) = wanted.iter().find(|c| !tenants.iter().any(|t| &t.code == *c)) {
        return Err(registry::not_registered(missing));
    }
    let settings = config.partition_settings();
    let mut blueprints: HashMap<String, Blueprint> = HashMap::new();
    let mut inputs = Vec::new();
    for tenant in tenants.iter().filter(|t| t.is_active() && (wanted.is_empty() || wanted.contains(&t.code))) {
        if !blueprints.contains_key(&tenant.blueprint) {
            blueprints.insert(tenant.blueprint.clone(), Blueprint::load(&config.templates_dir, &tenant.blueprint)?);
        }
        let overrides = settings.for_tenant(&tenant.code);
        // None: shared.data_retention_policies.archive_before_delete decides.
        let archive = overrides.archive;
        for spec in blueprints[&tenant.blueprint].partitions_of(&tenant.code, &overrides) {
            inputs.push(Input { code: tenant.code.clone(), spec, archive });
        }
    }
    Ok(inputs)
}
