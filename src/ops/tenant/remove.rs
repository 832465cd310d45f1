//! `tenant remove`: drop the schema and registry row, or with `keep_data`
//! only mark the tenant inactive, which also takes access away from the
//! logins granted its app and read-only roles until `tenant activate`. The
//! audit log is never dropped: it stays until retention releases it.
//!
//! Dropping takes a backup first unless the caller chose none: in the same
//! transaction, with the tenant's tables locked against writes, so the file
//! holds exactly what is dropped. If the backup fails, nothing is dropped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio_postgres::{Client, Transaction};

use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::backup::{self, PgDump, Written};
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::report::Reporter;
use crate::store::registry::{self, Registered};
use crate::store::roles::{self, DroppedRoles};

/// Progress of a removal beyond notes and warnings.
pub trait RemoveReporter: Reporter {
    /// The final backup is written (the removal itself still follows).
    fn backed_up(&self, _code: &TenantCode, _written: &Written) {}
}

/// The backup a removal takes first: pg_dump found and the file chosen
/// before anything is asked or changed, since a backup that cannot be
/// taken stops the removal anyway.
pub struct FinalBackup {
    pub pg_dump: PgDump,
    pub out: PathBuf,
}

impl FinalBackup {
    /// `None` when nothing is dropped (`keep_data`) or no backup is wanted.
    pub fn plan(code: &TenantCode, keep_data: bool, no_backup: bool, out: Option<&Path>) -> Result<Option<Self>> {
        if keep_data || no_backup {
            return Ok(None);
        }
        let out = backup::output_path(code, out)?;
        Ok(Some(FinalBackup { pg_dump: PgDump::find(Some("or pass --no-backup"))?, out }))
    }
}

/// What happened to the tenant.
#[derive(Debug)]
pub enum Removal {
    /// `keep_data`: these `schema: role` USAGE grants were revoked.
    Deactivated {
        revoked: Vec<String>,
    },
    Removed(DroppedRoles),
    /// A row tenant: `rows` deleted from `tables` tables (kept tables untouched).
    RowsRemoved {
        rows: u64,
        tables: usize,
        roles: DroppedRoles,
    },
}

/// Removes (or with `keep_data` deactivates) tenant `code` under its lock.
/// A row tenant's blueprint is read from `templates_dir`.
pub async fn remove(
    reporter: &dyn RemoveReporter,
    lock_timeout: Duration,
    (client, target): (&mut Client, &Target),
    (code, templates_dir): (&TenantCode, &Path),
    keep_data: bool,
    final_backup: Option<&FinalBackup>,
) -> Result<(Removal, Option<Written>)> {
    let env = Env { reporter, lock_timeout };
    let tx = crate::ops::provisioner::begin_locked(client, code, lock_timeout, reporter).await?;
    let tenant = super::registered(&tx, code).await?;
    if tenant.row {
        let blueprint = crate::model::blueprint::Blueprint::load(templates_dir, &tenant.blueprint)?;
        let row = crate::ops::row_tenant::spec(&blueprint)?;
        let removed = remove_rows(reporter, &tx, &tenant, row, keep_data, final_backup);
        let removed = removed.await?;
        tx.commit().await?;
        return Ok(removed);
    }
    let written = match final_backup {
        Some(plan) => Some(take_backup(&env, &tx, target, &tenant, plan).await?),
        None => None,
    };
    if let Some(written) = &written {
        reporter.backed_up(code, written);
        crate::failpoint::hit("tenant_remove.after_backup");
    }
    let removal = if keep_data {
        registry::deactivate(&tx, code).await?;
        Removal::Deactivated { revoked: roles::suspend_access(&tx, code, tenant.id).await? }
    } else {
        tx.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", code.schema_ident())).await?;
        backup::keep_history(&tx, tenant.id).await?;
        registry::remove(&tx, code).await?;
        Removal::Removed(roles::drop(&tx, code).await?)
    };
    tx.commit().await?;
    Ok((removal, written))
}

/// [`remove`] for a row tenant: its rows are locked, backed up and deleted
/// (or with `keep_data` kept, unreadable while the tenant is inactive: the
/// pack's policies ask `shared.tenant_role_member`, which asks the registry).
async fn remove_rows(
    reporter: &dyn RemoveReporter,
    tx: &Transaction<'_>,
    tenant: &Registered,
    row: &crate::model::blueprint::RowSpec,
    keep_data: bool,
    final_backup: Option<&FinalBackup>,
) -> Result<(Removal, Option<Written>)> {
    use crate::ops::row_tenant::{self, remove as rows};
    let code = &tenant.code;
    if keep_data {
        registry::deactivate(tx, code).await?;
        return Ok((Removal::Deactivated { revoked: Vec::new() }, None));
    }
    // A non-superuser held to the policies would back up and delete nothing, silently: refuse instead.
    tx.batch_execute("SET LOCAL row_security = off").await?;
    let tables = rows::removable(tx, row).await?;
    rows::lock_rows(tx, row, &tables, code).await?;
    // A removal a foreign key would refuse is refused before a backup is written for nothing.
    if final_backup.is_some() {
        tx.batch_execute("SAVEPOINT before_backup").await?;
        rows::delete_rows(tx, row, &tables, code).await?;
        tx.batch_execute("ROLLBACK TO SAVEPOINT before_backup; RELEASE SAVEPOINT before_backup").await?;
    }
    let written = match final_backup {
        Some(plan) => {
            let written = row_tenant::backup::write(tx, tenant, row, &plan.out).await.map_err(|e| {
                e.context(format!("backup of tenant {code} failed; nothing was removed (fix it, or pass --no-backup)"))
            })?;
            reporter.backed_up(code, &written);
            crate::failpoint::hit("tenant_remove.after_backup");
            Some(written)
        }
        None => None,
    };
    let deleted = rows::delete_rows(tx, row, &tables, code).await?;
    backup::keep_history(tx, tenant.id).await?;
    registry::remove(tx, code).await?;
    let roles = roles::drop(tx, code).await?;
    Ok((Removal::RowsRemoved { rows: deleted, tables: tables.len(), roles }, written))
}

/// The backup taken before dropping: in the removal's transaction, with the
/// tenant's tables locked against writes, so the file holds exactly what is
/// dropped. If it fails, nothing is dropped.
async fn take_backup(
    env: &Env<'_>,
    tx: &Transaction<'_>,
    target: &Target,
    tenant: &Registered,
    plan: &FinalBackup,
) -> Result<Written> {
    let code = &tenant.code;
    // A removal the registry would refuse (shared rows still reference
    // the tenant) is refused before a backup is written for nothing.
    // Row locks taken in the rolled-back savepoint are released with it.
    tx.batch_execute("SAVEPOINT before_backup").await?;
    backup::keep_history(tx, tenant.id).await?;
    registry::remove(tx, code).await?;
    tx.batch_execute("ROLLBACK TO SAVEPOINT before_backup; RELEASE SAVEPOINT before_backup").await?;
    backup::freeze(tx, code).await?;
    let started = Instant::now();
    let result = backup::write(tx, target, &plan.pg_dump, tenant, &plan.out, env.lock_timeout).await;
    // Recorded on a connection of its own: the row must stay whether or
    // not this transaction commits (a failed backup rolls it back).
    let recorded = match target.connect().await {
        Ok(history) => backup::record(&history, tenant, &plan.out, started.elapsed(), result.as_ref()).await,
        Err(e) => Err(e),
    };
    let done = result.map_err(|e| {
        e.context(format!("backup of tenant {code} failed; nothing was removed (fix it, or pass --no-backup)"))
    })?;
    if let Err(e) = recorded {
        super::backup::unrecorded(env, &e);
    }
    for warning in &done.warnings {
        env.reporter.warn(warning);
    }
    Ok(done)
}

/// Whether `code` is still declared in the tenants.toml at `path` (then the
/// next `up` brings it back, or skips it while inactive). An unreadable
/// file counts as not declaring it.
pub fn still_declared(path: &Path, explicit: bool, code: &TenantCode) -> bool {
    Config::load(path, explicit).is_ok_and(|config| config.tenant(code).is_some())
}
