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

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient, SimpleQueryMessage};

use crate::model::blueprint::PartitionSpec;
use crate::model::tenant::TenantCode;

#[path = "rollover_session.rs"]
mod session;
pub use session::{bound_session, check_now, NowBounds};

/// One partitioned table of one tenant, as the plan query takes it.
#[derive(Debug, Clone)]
pub struct Input {
    pub code: TenantCode,
    pub spec: PartitionSpec,
    /// tenants.toml's `archive`; `None`: the table's
    /// `shared.data_retention_policies.archive_before_delete` decides.
    pub archive: Option<bool>,
}

/// The planning query's parallel arrays.
#[derive(Default)]
struct Arrays {
    codes: Vec<String>,
    schemas: Vec<String>,
    tables: Vec<String>,
    columns: Vec<String>,
    units: Vec<String>,
    premake: Vec<i32>,
    retention: Vec<String>,
    policy_keys: Vec<String>,
    archive: Vec<Option<bool>>,
}

impl Arrays {
    fn of<'a>(inputs: impl Iterator<Item = &'a Input>) -> Arrays {
        let mut a = Arrays::default();
        for input in inputs {
            let audit_log = input.spec.schema.as_deref() == Some("audit");
            a.codes.push(input.code.as_str().to_owned());
            a.schemas.push(schema_of(input));
            a.tables.push(input.spec.table.clone());
            a.columns.push(input.spec.column.clone());
            a.units.push(input.spec.interval.unit().to_owned());
            a.premake.push(input.spec.premake as i32);
            a.retention.push(input.spec.retention.clone().unwrap_or_default());
            // shared.data_retention_policies names the audit log generically.
            a.policy_keys.push(if audit_log { "audit_log".to_owned() } else { input.spec.table.clone() });
            a.archive.push(input.archive);
        }
        a
    }
}

fn schema_of(input: &Input) -> String {
    input.spec.schema.clone().unwrap_or_else(|| input.code.schema_name())
}

/// One statement of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// The statements sharing `tx` commit together (one partition's work).
    #[serde(skip)]
    pub tx: String,
    /// The role to run it as; empty: the connecting role.
    #[serde(skip)]
    pub owner: String,
    pub kind: String,
    pub target: String,
    /// The partitioned table the statement works on (qualified).
    pub parent: String,
    #[serde(skip)]
    pub ddl: String,
    /// The parent's owner, RLS flags and policies as planned (a fingerprint).
    #[serde(skip)]
    pub security: String,
}

/// Plans the whole database (or the tenants of `inputs`) in one query.
/// Tenants with nothing to do do not appear.
pub async fn plan(
    client: &impl GenericClient,
    inputs: &[Input],
    now: Option<&str>,
) -> Result<BTreeMap<String, Vec<Action>>> {
    let a = Arrays::of(inputs.iter());
    let rows = client
        .query(
            include_str!("sql/rollover_plan.sql"),
            &[
                &a.codes,
                &a.schemas,
                &a.tables,
                &a.columns,
                &a.units,
                &a.premake,
                &a.retention,
                &a.policy_keys,
                &a.archive,
                &now,
            ],
        )
        .await
        .context("cannot plan the rollover")?;
    let mut plan: BTreeMap<String, Vec<Action>> = BTreeMap::new();
    for row in rows {
        plan.entry(row.get("code")).or_default().push(Action {
            tx: row.get("tx"),
            owner: row.get("owner"),
            kind: row.get("kind"),
            target: row.get("target"),
            parent: row.get("parent"),
            ddl: row.get("ddl"),
            security: row.get("security"),
        });
    }
    Ok(plan)
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
            None => plan(&*client, inputs, options.now.as_deref()).await?.remove(&result.tenant).unwrap_or_default(),
        };
        let blocked = run_transactions(client, &actions, &schemas, options, result).await?;
        let Some(first) = blocked.first() else { return Ok(()) };
        if attempt == options.retries {
            let tables: Vec<&str> = blocked.iter().map(|b| b.parent.as_str()).collect();
            return Err(match blocked.iter().any(|b| b.by_lock) {
                true => session::lock_timeout(&result.tenant, &tables, &first.work, options),
                false => crate::error::failed(format!(
                    "tenant {}: other sessions kept creating or removing partitions of {} (first: {})",
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

/// A transaction that could not run: its table, what it was to do, and
/// whether a lock timeout (rather than a concurrent change) stopped it.
struct Blocked {
    parent: String,
    work: String,
    by_lock: bool,
}

/// Runs the plan's transactions in order. A lock timeout (or a partition
/// someone else made or removed meanwhile) rolls back only that transaction
/// and skips the rest of that table's work, which is returned for a retry;
/// any other error stops the tenant.
async fn run_transactions(
    client: &mut Client,
    actions: &[Action],
    schemas: &[String],
    options: &Options,
    result: &mut TenantResult,
) -> Result<Vec<Blocked>> {
    let mut blocked: Vec<Blocked> = Vec::new();
    for group in actions.chunk_by(|a, b| a.tx == b.tx) {
        let (parent, work) = (&group[0].parent, &group[0].tx);
        if blocked.iter().any(|b| &b.parent == parent) {
            continue;
        }
        match run_one(client, group, schemas, options).await {
            Ok(moved) => record(result, group, moved),
            Err(e) if is_lock_timeout(&e) || raced(&e) => {
                blocked.push(Blocked { parent: parent.clone(), work: work.clone(), by_lock: is_lock_timeout(&e) })
            }
            Err(e) => return Err(e.context(format!("while working on {work} of {parent}"))),
        }
    }
    Ok(blocked)
}

/// One transaction: the statements of one partition, BEGIN to COMMIT in one
/// round trip (the plan holds a new partition's RLS flags and policies, so
/// they commit with it). Returns the rows moved.
async fn run_one(client: &mut Client, group: &[Action], schemas: &[String], options: &Options) -> Result<u64> {
    if group.iter().any(|a| a.kind == "copy_policies") {
        return run_one_copying(client, group, schemas, options).await;
    }
    let (script, moves) = script(group, options.ddl_timeout);
    let messages = match client.simple_query(&format!("BEGIN;\n{script}\nCOMMIT;")).await {
        Ok(messages) => messages,
        Err(e) => {
            // The failed statement left the transaction aborted; best effort
            // (a broken connection rolled it back already).
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e.into());
        }
    };
    crate::failpoint::hit("rollover.after_transaction");
    // Statement 0 is the BEGIN.
    Ok(moved(&messages, moves.iter().map(|i| i + 1)))
}

/// [`run_one`] for a parent with a policy the plan could not spell without
/// locking it (one naming a column): the batch, then the policies copied
/// from the locked parent, then COMMIT.
async fn run_one_copying(client: &mut Client, group: &[Action], schemas: &[String], options: &Options) -> Result<u64> {
    let tx = client.transaction().await?;
    let (script, moves) = script(group, options.ddl_timeout);
    let messages = tx.simple_query(&script).await?;
    let made: Vec<String> = group.iter().filter(|a| creates(a)).map(|a| a.target.clone()).collect();
    crate::store::partitions::secure_only(&tx, schemas, Some(&made)).await?;
    tx.commit().await?;
    crate::failpoint::hit("rollover.after_transaction");
    Ok(moved(&messages, moves.into_iter()))
}

/// The rows moved: the counts of the statements at `moves`.
fn moved(messages: &[SimpleQueryMessage], moves: impl Iterator<Item = usize>) -> u64 {
    let counts: Vec<u64> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    moves.filter_map(|i| counts.get(i)).sum()
}

/// The transaction's batch: each statement as its owner; row moves as the
/// connecting superuser with triggers off (rows only change partition, and
/// the audit log's append-only guard must not stop that). Also returns the
/// position of each move among the statements, whose count is rows moved.
fn script(group: &[Action], ddl_timeout: Duration) -> (String, Vec<usize>) {
    let mut statements = vec![format!("SET LOCAL lock_timeout = '{}ms'", ddl_timeout.as_millis().max(1))];
    let mut moves = Vec::new();
    // The role now in effect ("": the connecting role); a switch is written
    // only where it changes (a new partition is ~10 statements by one owner).
    let mut role: Option<&str> = None;
    for action in group {
        if action.kind == "copy_policies" {
            continue; // not a statement: run_one_copying's cue
        }
        if action.kind == "move" {
            switch_role(&mut statements, &mut role, "");
            statements.push("SET LOCAL session_replication_role = replica".to_owned());
            moves.push(statements.len());
            statements.push(action.ddl.clone());
            statements.push("SET LOCAL session_replication_role = origin".to_owned());
            continue;
        }
        switch_role(&mut statements, &mut role, &action.owner);
        statements.push(action.ddl.clone());
    }
    statements.push("RESET ROLE".to_owned());
    (statements.join(";\n") + ";", moves)
}

/// Becomes `owner` ("": the connecting role) unless `role` already is it.
fn switch_role<'a>(statements: &mut Vec<String>, role: &mut Option<&'a str>, owner: &'a str) {
    if *role != Some(owner) {
        statements.push(match owner {
            "" => "RESET ROLE".to_owned(),
            owner => crate::pg::owned_ddl::set_role(owner, crate::pg::owned_ddl::Lasting::Transaction),
        });
        *role = Some(owner);
    }
}

/// A new partition: a new period's (attached) or a missing DEFAULT.
fn creates(action: &Action) -> bool {
    action.kind == "attach" || (action.kind == "create" && action.target.ends_with("_default"))
}

/// Adds a committed transaction's work to the tenant's result.
fn record(result: &mut TenantResult, group: &[Action], moved: u64) {
    result.rows_moved += moved;
    for action in group {
        let list = match action.kind.as_str() {
            _ if creates(action) => &mut result.created,
            "detach" => &mut result.detached,
            "drop" => &mut result.dropped,
            "archive" => &mut result.archived,
            _ => continue,
        };
        list.push(action.target.clone());
    }
}

fn sql_state(error: &anyhow::Error) -> Option<SqlState> {
    error.chain().find_map(|cause| cause.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.code()).cloned())
}

/// A lock wait ran out (lock_timeout), or our own classified lock error.
pub fn is_lock_timeout(error: &anyhow::Error) -> bool {
    sql_state(error) == Some(SqlState::LOCK_NOT_AVAILABLE)
        || crate::error::exit_code_of(error) == crate::error::ExitCode::Unavailable
}

/// Another session created or removed a partition between plan and work.
fn raced(error: &anyhow::Error) -> bool {
    matches!(sql_state(error), Some(code) if code == SqlState::DUPLICATE_TABLE || code == SqlState::UNDEFINED_TABLE)
}
