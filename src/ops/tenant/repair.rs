//! `tenant repair --accept-checksums`: after a human decided that an applied
//! template's edit is fine, record the current templates' checksums for the
//! tenant's applied versions (under the tenant's lock).

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::model::blueprint::{Blueprint, Identity};
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::history_table;
use crate::ops::Env;
use crate::store::lock::{self, Mode, Resource};
use crate::store::migrate::Plan;

/// The applied versions whose checksums were accepted (none: nothing to repair).
#[derive(Debug, Clone, Serialize)]
pub struct Repaired {
    pub tenant: String,
    pub accepted: Vec<String>,
}

/// One tenant, and its applied versions whose templates changed since they ran.
#[derive(Debug, Clone)]
pub struct Edited {
    pub tenant: TenantCode,
    pub edited: Vec<String>,
}

/// Reads only: for each registered tenant (or those of `only`), the applied
/// versions whose checksum differs from the template's today. What
/// `tenant repair` without `--accept-checksums` lists, and `--all` repairs.
pub async fn edited(client: &Client, templates_dir: &Path, only: &[TenantCode]) -> Result<Vec<Edited>> {
    let mut found = Vec::new();
    for tenant in crate::store::registry::snapshot(client, None).await? {
        if !only.is_empty() && !only.contains(&tenant.code) {
            continue;
        }
        let blueprint = Blueprint::load(templates_dir, &tenant.blueprint)?;
        let migrations = blueprint.render(&Identity { code: tenant.code.clone(), tenant_id: tenant.id })?;
        let plan = Plan::new(&migrations, &tenant.applied);
        found.push(Edited { tenant: tenant.code, edited: plan.edited.into_iter().map(|(name, _)| name).collect() });
    }
    if let Some(code) = only.iter().find(|code| !found.iter().any(|e| &e.tenant == *code)) {
        return Err(crate::store::registry::not_registered(code));
    }
    Ok(found)
}

pub async fn accept_checksums(
    env: &Env<'_>,
    client: &mut Client,
    templates_dir: &Path,
    code: &TenantCode,
) -> Result<Repaired> {
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, env.lock_timeout).await?;
    lock::acquire(&tx, Resource::Tenant(code), Mode::Exclusive, env.reporter).await?;
    let tenant = super::registered(&tx, code).await?;
    let blueprint = Blueprint::load(templates_dir, &tenant.blueprint)?;
    let migrations = blueprint.render(&Identity { code: code.clone(), tenant_id: tenant.id })?;
    let plan = Plan::new(&migrations, &tenant.applied);
    let table = history_table(code);
    for (_, version) in &plan.edited {
        let migration = migrations.iter().find(|m| m.version() == *version).expect("edited versions exist");
        tx.execute(
            &format!("UPDATE {table} SET checksum = $1, name = $2 WHERE version = $3"),
            &[&migration.checksum().to_string(), &migration.name(), version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Repaired { tenant: code.to_string(), accepted: plan.edited.into_iter().map(|(name, _)| name).collect() })
}
