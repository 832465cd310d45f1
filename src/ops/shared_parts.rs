//! Which blueprints' shared parts a database needs: those of the tenants
//! `tenants.toml` declares and of the tenants its registry holds. `up`,
//! `migrate` and `status` apply or show exactly these; a blueprint that does
//! not load is left to the tenants that use it, which report it.

use anyhow::Result;
use tokio_postgres::GenericClient;

use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::store::blueprint_shared;
use crate::store::layout_upgrade::SharedPart;

/// The blueprints in use, by name, each loaded once.
pub async fn in_use(client: &impl GenericClient, config: &Config) -> Result<Vec<Blueprint>> {
    let mut names: Vec<String> = config.tenants.iter().map(|t| t.blueprint.clone()).collect();
    names.extend(blueprint_shared::registered_blueprints(client).await?);
    names.sort();
    names.dedup();
    Ok(names.iter().filter_map(|name| Blueprint::load(&config.templates_dir, name).ok()).collect())
}

/// The shared parts of `blueprints`, for `store::shared`.
pub fn parts(blueprints: &[Blueprint]) -> Vec<SharedPart<'_>> {
    blueprints.iter().map(|bp| SharedPart { blueprint: &bp.name, migrations: &bp.shared }).collect()
}
