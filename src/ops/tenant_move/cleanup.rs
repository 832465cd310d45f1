//! After the switch: the source copy is dropped after a backup (unless
//! `--keep-source`), exactly as `tenant remove` takes its final backup (in
//! the dropping transaction, tables locked, under the tenant's lock), but
//! the registry entry stays, `moved`, so the registry still says where the
//! tenant went. The audit log goes too: the target holds it now, and the
//! backup holds the source's copy. Also here: the tenant's logins, granted
//! on the target where they exist.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio_postgres::Client;

use super::state;
use super::MoveReporter;
use crate::model::tenant::TenantCode;
use crate::ops::backup::{self, PgDump, Written};
use crate::pg::connection::Target;
use crate::store::registry;

/// What dropping the source copy did.
pub struct Dropped {
    pub backup: Option<Written>,
}

/// Backs up and drops the source copy of `code`, then marks the move done,
/// all in one transaction: a kill before its commit drops nothing.
pub async fn drop_source(
    reporter: &dyn MoveReporter,
    lock_timeout: Duration,
    (client, target): (&mut Client, &Target),
    code: &TenantCode,
    (pg_dump, out): (&PgDump, &Path),
) -> Result<Dropped> {
    let tenant = registry::snapshot(&*client, Some(code)).await?.into_iter().next();
    let history = target.connect().await?;
    let tx = crate::ops::provisioner::begin_locked(client, code, lock_timeout, reporter).await?;
    let mut written = None;
    if let Some(tenant) = tenant.filter(|t| t.schema_exists) {
        backup::freeze(&tx, code).await?;
        let started = Instant::now();
        let result = backup::write(&tx, target, pg_dump, &tenant, out, lock_timeout).await;
        if let Err(e) = backup::record(&history, &tenant, out, started.elapsed(), result.as_ref()).await {
            reporter.warn(&format!("the backup of tenant {code} was not recorded in shared.backup_history: {e:#}"));
        }
        let done = result.map_err(|e| {
            e.context(format!("backup of tenant {code} on the source failed; the source copy was kept"))
        })?;
        for warning in &done.warnings {
            reporter.warn(warning);
        }
        written = Some(done);
    }
    for row in tx.query(include_str!("sql/copy_drop.sql"), &[&code.schema_name(), &code.audit_log_name()]).await? {
        tx.batch_execute(row.get::<_, &str>(0)).await?;
    }
    // Another database of that cluster may still use them: then they stay.
    crate::store::roles::drop(&tx, code).await?;
    state::finish(&tx, code).await?;
    tx.commit().await?;
    Ok(Dropped { backup: written })
}

/// Grants on the target what the source grants the tenant's logins, for
/// each login that exists there too: roles belong to a cluster, so a move
/// cannot create them, but the applications' logins usually exist on every
/// server. Returns the logins the target lacks. Idempotent (a re-run grants again).
pub async fn carry_logins(source: &Client, target: &Client, code: &TenantCode) -> Result<Vec<String>> {
    let (app, ro) = (code.app_role(), code.ro_role());
    let grants = source.query(include_str!("sql/logins.sql"), &[&app, &ro]).await?;
    let mut missing = Vec::new();
    for grant in &grants {
        let (login, granted): (String, String) = (grant.get(0), grant.get(1));
        let exists: bool = target.query_one(include_str!("sql/login_exists.sql"), &[&login]).await?.get(0);
        match exists {
            true => {
                crate::store::roles::grant(target, code, &login, granted == ro).await?;
            }
            false if !missing.contains(&login) => missing.push(login),
            false => {}
        }
    }
    Ok(missing)
}
