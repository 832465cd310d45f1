//! Partition rollover for the whole database: plan everything with one
//! catalog query, then work through each tenant's plan in short
//! transactions, one per partition created or released.
//!
//! Built for cron beside live traffic: every transaction locks the parent
//! table first, as queries do, so rollover never deadlocks a reader; DDL
//! waits at most `ddl_timeout` for its locks, and a table whose lock does not
//! come is retried with backoff while the tenant's other tables go on;
//! overlapping runs never collide (the tenant's advisory lock is tried, and a
//! held one means "skip", or "wait" with `--wait`); one tenant's failure
//! never stops the others. Every statement runs under a statement_timeout,
//! and the server drops the work of a client that has gone away.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::model::blueprint::PartitionSpec;
use crate::model::tenant::TenantCode;

mod plan;
mod session;
mod transaction;
use plan::schema_of;
pub use plan::{plan, Action, ActionKind, DefaultRows};
pub use session::{bound_session, check_now};
use transaction::run_transactions;

/// One partitioned table of one tenant, as the plan query takes it.
#[derive(Debug, Clone)]
pub struct Input {
    pub code: TenantCode,
    pub spec: PartitionSpec,
    /// tenants.toml's `archive`; `None`: the table's
    /// `shared.data_retention_policies.archive_before_delete` decides.
    pub archive: Option<bool>,
}

/// How a tenant's rollover ended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantResult {
    pub tenant: String,
    pub status: &'static str,
    pub created: Vec<String>,
    pub detached: Vec<String>,
    pub dropped: Vec<String>,
    pub archived: Vec<String>,
    pub rows_moved: u64,
    /// Rows of the DEFAULT partitions older than the retention, deleted or
    /// archived (their periods never had a partition to release).
    pub rows_released: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure was a lock wait that timed out (exit 3, not 1).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lock_timeout: bool,
}

/// Knobs of one run.
#[derive(Debug, Clone)]
pub struct Options {
    pub now: Option<String>,
    pub ddl_timeout: Duration,
    pub retries: u32,
    /// `Some(patience)`: wait for a held tenant lock; `None`: skip the tenant.
    pub wait: Option<Duration>,
    /// Every statement's statement_timeout.
    pub statement_timeout: Duration,
}

/// Runs the planned work of every tenant over `clients` (one worker each).
pub async fn execute(
    mut clients: Vec<Client>,
    work: BTreeMap<String, Vec<Action>>,
    inputs: &[Input],
    options: &Options,
    on_done: &dyn Fn(&TenantResult),
) -> Vec<TenantResult> {
    let mut results =
        crate::ops::fleet::for_each(&mut clients, work.into_iter().collect(), async |_, client, (code, actions)| {
            let mine: Vec<Input> = inputs.iter().filter(|i| i.code.as_str() == code).cloned().collect();
            let result = run_tenant(client, &code, actions, &mine, options).await;
            on_done(&result);
            result
        })
        .await;
    results.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    results
}

/// One tenant: take its lock (for the whole run of transactions), work,
/// release the lock whatever happened.
async fn run_tenant(
    client: &mut Client,
    code: &str,
    actions: Vec<Action>,
    inputs: &[Input],
    options: &Options,
) -> TenantResult {
    let mut result = TenantResult { tenant: code.to_owned(), status: "ok", ..TenantResult::default() };
    let outcome = match session::lock_tenant(client, code, options).await {
        Ok(session::Locked::Busy) => {
            result.status = "skipped";
            return result;
        }
        // After a wait another run may have done part of the work: plan anew.
        Ok(session::Locked::AfterWait) => run_locked(client, None, inputs, options, &mut result).await,
        // So must a migration that changed what new partitions copy.
        Ok(session::Locked::AtOnce) => match session::security_unchanged(client, &actions).await {
            Ok(true) => run_locked(client, Some(actions), inputs, options, &mut result).await,
            Ok(false) => run_locked(client, None, inputs, options, &mut result).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    session::unlock_tenant(client).await;
    crate::failpoint::hit("rollover.after_tenant");
    if let Err(e) = outcome {
        result.status = "failed";
        result.lock_timeout = is_lock_timeout(&e);
        result.error = Some(crate::pg::connection::redact(&format!("{e:#}")));
    }
    result
}

/// Runs the plan; a table whose lock did not come within `ddl_timeout` is
/// retried (re-planned) with backoff, `retries` times.
async fn run_locked(
    client: &mut Client,
    mut planned: Option<Vec<Action>>,
    inputs: &[Input],
    options: &Options,
    result: &mut TenantResult,
) -> Result<()> {
    let schemas: Vec<String> = inputs.iter().map(schema_of).collect();
    for attempt in 0..=options.retries {
        let actions = match planned.take() {
            Some(actions) => actions,
            None => plan(&*client, inputs, options.now.as_deref(), DefaultRows::Place)
                .await?
                .remove(&result.tenant)
                .unwrap_or_default(),
        };
        let blocked = run_transactions(client, &actions, &schemas, options, result).await?;
        let Some(first) = blocked.first() else { return Ok(()) };
        if attempt == options.retries {
            let tables: Vec<&str> = blocked.iter().map(|b| b.parent.as_str()).collect();
            return Err(match blocked.iter().any(|b| b.by_lock) {
                true => session::lock_timeout(&result.tenant, &tables, &first.work, options),
                false => crate::error::failed(format!(
                    "tenant {}: other sessions kept changing the partitions of {} (first: {})",
                    result.tenant,
                    tables.join(", "),
                    first.work
                )),
            });
        }
        tokio::time::sleep(Duration::from_millis(250u64 << attempt.min(6))).await;
    }
    Ok(())
}

fn sql_state(error: &anyhow::Error) -> Option<SqlState> {
    error.chain().find_map(|cause| cause.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.code()).cloned())
}

/// A lock wait ran out (lock_timeout), or our own classified lock error.
pub fn is_lock_timeout(error: &anyhow::Error) -> bool {
    sql_state(error) == Some(SqlState::LOCK_NOT_AVAILABLE)
        || crate::error::exit_code_of(error) == crate::error::ExitCode::Unavailable
}

/// Another session changed the table between plan and work: created or
/// removed a partition, or wrote a row into a DEFAULT partition the plan saw
/// empty (so it planned no row move, and the ATTACH found the row).
pub(super) fn raced(error: &anyhow::Error) -> bool {
    matches!(sql_state(error), Some(code) if code == SqlState::DUPLICATE_TABLE
        || code == SqlState::UNDEFINED_TABLE
        || code == SqlState::CHECK_VIOLATION)
}
