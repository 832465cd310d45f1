//! The tenant's copy on the target: provisioned by `tenant add`'s own code
//! (same id, name, type, attributes and blueprint as the source's registry
//! entry), then emptied, given every partition the source has, and
//! registered `moving` so that nothing serves it or upgrades it until the
//! switch. Removing that copy again is an abort's job.

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use super::relations::Relations;
use super::state;
use super::MoveReporter;
use crate::error::failed;
use crate::model::blueprint::Blueprint;
use crate::model::config::{Config, TenantSpec};
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::Settings;
use crate::pg::connection::Target;
use crate::pg::quote::quote_ident;
use crate::store::registry::Registered;

/// The spec that rebuilds `tenant` elsewhere: its registry identity, the
/// attributes recorded with it, and tenants.toml's partition overrides.
pub async fn spec_of(source: &Client, tenant: &Registered, config: &Config) -> Result<TenantSpec> {
    let rows = source
        .query(include_str!("sql/attributes.sql"), &[&tenant.id])
        .await
        .context("cannot read the tenant's attributes")?;
    let attributes = rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1).unwrap_or_default()));
    Ok(TenantSpec {
        code: tenant.code.clone(),
        name: tenant.name.clone(),
        tenant_type: tenant.tenant_type.clone(),
        attributes: attributes.collect(),
        blueprint: tenant.blueprint.clone(),
        id: tenant.id,
        partitions: config.tenant(&tenant.code).map(|t| t.partitions.clone()).unwrap_or_default(),
    })
}

/// Refuses a target that already has something of the tenant a move did
/// not make. The `moved` entry an earlier move away from it left is fine
/// once that copy is gone: moving the tenant back replaces it.
pub async fn check_free(target: &Client, code: &TenantCode, server: &str) -> Result<()> {
    match state::status(target, code).await? {
        None => {}
        Some(status) if status == "moved" => {}
        Some(status) => {
            return Err(failed(format!(
                "server {server} already registers tenant {code} (status {status}); nothing was changed"
            )))
        }
    }
    let found: bool = target
        .query_one(include_str!("sql/leftovers.sql"), &[&code.audit_log_name(), &code.schema_name()])
        .await?
        .get(0);
    match found {
        true => Err(failed(format!(
            "server {server} still has schema {} or audit.{} (a source copy kept by an earlier move, or a log kept \
             for retention); nothing was changed",
            code.schema_name(),
            code.audit_log_name()
        ))),
        false => Ok(()),
    }
}

/// Provisions the tenant on the target and prepares it for the copy.
pub async fn provision(
    reporter: &dyn MoveReporter,
    (client, target): (&mut Client, &Target),
    config: &Config,
    (spec, blueprint): (&TenantSpec, &Blueprint),
    settings: &Settings,
    source: &Relations,
) -> Result<()> {
    forget_moved_entry(client, &spec.code).await?;
    crate::ops::tenant::add::add(reporter, (client, target), config, (spec, blueprint), settings, false)
        .await
        .with_context(|| format!("cannot provision tenant {} on the target", spec.code))?;
    prepare(reporter, client, &spec.code, source).await
}

/// Deletes the `moved` entry an earlier move away from this server left
/// (its backup history is kept, detached, as `tenant remove` keeps it).
async fn forget_moved_entry(client: &mut Client, code: &TenantCode) -> Result<()> {
    let tx = client.transaction().await?;
    let old = crate::store::registry::snapshot(&tx, Some(code)).await?.into_iter().next();
    if let Some(old) = old.filter(|t| t.status == "moved") {
        crate::ops::backup::keep_history(&tx, old.id).await?;
        crate::store::registry::remove(&tx, code).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Empties the new copy (its administrator and any rows its versions
/// inserted come from the source instead), adds the source's partitions it
/// lacks and registers it `moving`, in one transaction.
async fn prepare(
    reporter: &dyn MoveReporter,
    client: &mut Client,
    code: &TenantCode,
    source: &Relations,
) -> Result<()> {
    let tx = client.transaction().await?;
    let names: Vec<&str> = source.partitions.iter().map(|p| p.name.as_str()).collect();
    let parents: Vec<&str> = source.partitions.iter().map(|p| p.parent.as_str()).collect();
    let bounds: Vec<&str> = source.partitions.iter().map(|p| p.bound.as_str()).collect();
    let owners: Vec<&str> = source.partitions.iter().map(|p| p.owner.as_str()).collect();
    let missing = tx.query(include_str!("sql/partition_ddl.sql"), &[&names, &parents, &bounds, &owners]).await?;
    for row in &missing {
        let (owner, ddl, name): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        tx.batch_execute("SAVEPOINT partition").await?;
        let made = tx.batch_execute(&format!("SET LOCAL ROLE {}; {ddl}; RESET ROLE", quote_ident(&owner))).await;
        match made {
            Ok(()) => tx.batch_execute("RELEASE SAVEPOINT partition").await?,
            // A range an existing partition covers already: its rows land there.
            Err(e) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT partition; RELEASE SAVEPOINT partition").await?;
                reporter.warn(&format!("partition {name} was not created on the target: {e}"));
            }
        }
    }
    tx.execute(include_str!("sql/audit_guards.sql"), &[&code.as_str(), &code.audit_log_name()]).await?;
    let tables = Relations::read(&tx, code).await?.tables;
    if !tables.is_empty() {
        // replica: the audit log's append-only guards do not fire for this copy's own emptying.
        tx.batch_execute(&format!("SET LOCAL session_replication_role = replica; TRUNCATE {}", tables.join(", ")))
            .await
            .context("cannot empty the target copy")?;
    }
    state::set_status(&tx, code, "active", "moving").await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the target copy: schema, audit log, registry entry and the
/// roles, unless another database of that cluster still uses them.
pub async fn drop_copy(client: &mut Client, code: &TenantCode) -> Result<()> {
    let tx = client.transaction().await?;
    for row in tx.query(include_str!("sql/copy_drop.sql"), &[&code.schema_name(), &code.audit_log_name()]).await? {
        tx.batch_execute(row.get::<_, &str>(0)).await?;
    }
    if crate::store::registry::exists(&tx).await? {
        crate::store::registry::remove(&tx, code).await?;
    }
    crate::store::roles::drop(&tx, code).await?;
    tx.commit().await?;
    Ok(())
}
