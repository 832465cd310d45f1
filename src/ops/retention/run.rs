//! Running one tenant's plan: its lock for the whole run, then each job in
//! batches, one transaction per batch; or, for a dry run, one count per job.

use anyhow::Result;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::plan::{Job, TenantPlan};
use super::{action_name, Options, TableCount, TenantResult};
use crate::error::{failed, unavailable};
use crate::report::Reporter;
use crate::store::lock;

/// Counts what each job would change now; takes no lock, changes nothing.
pub(super) async fn count(client: &Client, plan: &TenantPlan, result: &mut TenantResult) -> Result<()> {
    for job in &plan.jobs {
        let rows: i64 = client.query_one(&job.count_sql, &[&job.cutoff]).await?.get(0);
        result.tables.push(table_count(job, rows, 0));
    }
    Ok(())
}

/// Runs every job under the tenant's lock (session level: it covers all
/// the batches), released whatever happened.
pub(super) async fn tenant(
    client: &mut Client,
    plan: &TenantPlan,
    options: &Options,
    reporter: &dyn Reporter,
    result: &mut TenantResult,
) -> Result<()> {
    take_lock(client, plan, options, reporter).await?;
    let outcome = jobs(client, plan, options, result).await;
    // Best effort: a broken connection has released it already.
    let _ = lock::session_release_tenant(client, &plan.code).await;
    outcome
}

/// The shared lock (shared mode) and the tenant's (exclusive), waiting up
/// to the lock timeout for another provision process; then exit 3. A run
/// that skipped a busy tenant and exited 0 would hide from cron that rows
/// outlived their period.
async fn take_lock(client: &Client, plan: &TenantPlan, options: &Options, reporter: &dyn Reporter) -> Result<()> {
    if lock::session_try_tenant(client, &plan.code).await? {
        return Ok(());
    }
    // What was taken is still held: release it before waiting for both.
    client.batch_execute("SELECT pg_advisory_unlock_all()").await?;
    reporter.note(&format!("waiting for tenant {}: another provision process holds its lock", plan.code));
    client.batch_execute(&format!("SET lock_timeout = '{}ms'", options.lock_timeout.as_millis().max(1))).await?;
    let waited = lock::session_take_tenant(client, &plan.code).await;
    client.batch_execute("RESET lock_timeout").await?;
    if waited.is_err() {
        // The shared lock may have come before the wait ran out: release it.
        client.batch_execute("SELECT pg_advisory_unlock_all()").await?;
    }
    match waited {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(unavailable(format!(
            "another provision process held its lock for more than --lock-timeout ({} s); nothing was changed, \
             run again later",
            options.lock_timeout.as_secs()
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn jobs(client: &mut Client, plan: &TenantPlan, options: &Options, result: &mut TenantResult) -> Result<()> {
    if plan.hashes() {
        client.execute(include_str!("sql/salt.sql"), &[&plan.code.as_str()]).await?;
    }
    for job in &plan.jobs {
        let (rows, batches) = batches(client, job, options).await.map_err(|e| explain(e, job))?;
        result.tables.push(table_count(job, rows, batches));
    }
    Ok(())
}

/// Runs `job` batch after batch until one changes fewer rows than a batch
/// holds. Returns rows changed and batches committed.
async fn batches(client: &mut Client, job: &Job, options: &Options) -> Result<(i64, u64)> {
    let statement = client.prepare(&job.batch_sql).await?;
    let mut settings = format!("SET LOCAL lock_timeout = '{}ms'", options.lock_timeout.as_millis().max(1));
    if job.bulk {
        // Row triggers off for this transaction only: the batch's audit row
        // stands for the per-row ones (plan.rs says when this is allowed).
        settings.push_str("; SET LOCAL session_replication_role = replica");
    }
    let (mut rows, mut batches) = (0, 0);
    let mut after: Option<String> = None;
    loop {
        let tx = client.transaction().await?;
        tx.batch_execute(&settings).await?;
        let done = tx.query_one(&statement, &[&job.cutoff, &after]).await?;
        let changed: i64 = done.get(0);
        after = done.get(1);
        tx.commit().await?;
        if changed > 0 {
            rows += changed;
            batches += 1;
            crate::failpoint::hit("retention.after_batch");
        }
        if changed < options.batch {
            return Ok((rows, batches));
        }
    }
}

/// A delete refused by a foreign key names what to do.
fn explain(error: anyhow::Error, job: &Job) -> anyhow::Error {
    let refused = error
        .chain()
        .find_map(|c| c.downcast_ref::<tokio_postgres::Error>())
        .and_then(|e| e.as_db_error())
        .filter(|db| db.code() == &SqlState::FOREIGN_KEY_VIOLATION)
        .map(|db| db.message().to_owned());
    match refused {
        Some(message) => failed(format!(
            "rule {} on {}: {message}; give the referencing table a [[retention]] rule (children run first) or \
             make its foreign key ON DELETE CASCADE",
            job.rule, job.table
        )),
        None => error.context(format!("rule {} on {}", job.rule, job.table)),
    }
}

fn table_count(job: &Job, rows: i64, batches: u64) -> TableCount {
    TableCount {
        rule: job.rule.clone(),
        table: job.table.clone(),
        action: action_name(job.action),
        age: job.age.clone(),
        cutoff: job.cutoff.clone(),
        rows,
        batches,
        bulk: job.bulk,
    }
}
