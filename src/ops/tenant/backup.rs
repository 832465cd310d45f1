//! `tenant backup`: one tenant as a plain SQL file (see [`crate::ops::backup`]),
//! recorded in `shared.backup_history`.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use tokio_postgres::{Client, IsolationLevel};
use uuid::Uuid;

use crate::model::tenant::TenantCode;
use crate::ops::backup::{self, PgDump, Written};
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::store::lock::{self, Mode, Resource};
use crate::store::registry::Registered;

/// The file written, and its `shared.backup_history` row (`None` when it
/// could not be recorded; a warning said why).
#[derive(Debug, Clone)]
pub struct BackedUp {
    pub written: Written,
    pub backup_id: Option<Uuid>,
}

/// Writes tenant `code` to `out` with pg_dump, under shared locks: backups
/// of one tenant may run side by side; upgrades, rollovers and removal
/// (exclusive) wait until pg_dump has read the tenant.
///
/// A row tenant (its blueprint read from `templates_dir`) is written by
/// [`crate::ops::row_tenant::backup`] from one REPEATABLE READ snapshot,
/// taken on a connection of its own once the locks are held.
pub async fn backup(
    env: &Env<'_>,
    client: &mut Client,
    target: &Target,
    (code, templates_dir): (&TenantCode, &Path),
    out: &Path,
) -> Result<BackedUp> {
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, env.lock_timeout).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Shared, env.reporter).await?;
    lock::acquire(&tx, Resource::Tenant(code), Mode::Shared, env.reporter).await?;
    let tenant = super::registered(&tx, code).await?;
    let started = Instant::now();
    let result = match tenant.row {
        true => row_backup(target, templates_dir, &tenant, out).await,
        false => {
            let pg_dump = PgDump::find(None)?;
            backup::write(&tx, target, &pg_dump, &tenant, out, env.lock_timeout).await
        }
    };
    // Read-only work: ending the transaction just releases the locks.
    tx.rollback().await?;
    crate::failpoint::hit("tenant_backup.before_record");
    let recorded = backup::record(&*client, &tenant, out, started.elapsed(), result.as_ref()).await;
    let written = result.map_err(|e| e.context(format!("backup of tenant {code} failed")))?;
    let backup_id = match recorded {
        Ok(id) => Some(id),
        Err(e) => {
            unrecorded(env, &e);
            None
        }
    };
    for warning in &written.warnings {
        env.reporter.warn(warning);
    }
    Ok(BackedUp { written, backup_id })
}

/// A row tenant's backup, read in one snapshot (the caller holds the locks).
async fn row_backup(target: &Target, templates_dir: &Path, tenant: &Registered, out: &Path) -> Result<Written> {
    let blueprint = crate::model::blueprint::Blueprint::load(templates_dir, &tenant.blueprint)?;
    let mut reader = target.connect().await?;
    let tx = reader.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
    // Held to the policies, a non-superuser would write an empty backup: refuse instead.
    tx.batch_execute("SET LOCAL row_security = off").await?;
    crate::ops::row_tenant::backup::write(&tx, tenant, crate::ops::row_tenant::spec(&blueprint)?, out).await
}

/// The warning for a backup file without its history row.
pub(crate) fn unrecorded(env: &Env<'_>, error: &anyhow::Error) {
    env.reporter.warn(&format!("the backup was written but not recorded in shared.backup_history: {error:#}"));
}
