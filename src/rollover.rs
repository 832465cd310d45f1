//! Partition rollover for the whole database: plan everything with one
//! catalog query, then give each tenant that has work one transaction.
//!
//! Built for cron beside live traffic: DDL waits at most `ddl_timeout` for
//! its locks and is retried with backoff; overlapping runs never collide
//! (the tenant's advisory lock is tried, and a held one means "skip", or
//! "wait" with `--wait`); one tenant's failure never stops the others.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient, SimpleQueryMessage};

use crate::blueprint::PartitionSpec;
use crate::tenant::{quote_ident, quote_literal, TenantCode};

/// One partitioned table of one tenant, as the plan query takes it.
#[derive(Debug, Clone)]
pub struct Input {
    pub code: TenantCode,
    pub spec: PartitionSpec,
    pub archive: bool,
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
    archive: Vec<bool>,
}

impl Arrays {
    fn of<'a>(inputs: impl Iterator<Item = &'a Input>) -> Arrays {
        let mut a = Arrays::default();
        for input in inputs {
            let audit_log = input.spec.schema.as_deref() == Some("audit");
            a.codes.push(input.code.as_str().to_owned());
            a.schemas.push(input.spec.schema.clone().unwrap_or_else(|| input.code.schema_name()));
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

/// One statement of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// The role to run it as; empty: the connecting role.
    #[serde(skip)]
    pub owner: String,
    pub kind: String,
    pub target: String,
    #[serde(skip)]
    pub ddl: String,
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
            owner: row.get("owner"),
            kind: row.get("kind"),
            target: row.get("target"),
            ddl: row.get("ddl"),
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
}

/// Knobs of one run.
#[derive(Debug, Clone)]
pub struct Options {
    pub now: Option<String>,
    pub ddl_timeout: Duration,
    pub retries: u32,
    /// `Some(patience)`: wait for a held tenant lock; `None`: skip the tenant.
    pub wait: Option<Duration>,
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
        crate::fleet::for_each(&mut clients, work.into_iter().collect(), async |_, client, (code, actions)| {
            let mine: Vec<Input> = inputs.iter().filter(|i| i.code.as_str() == code).cloned().collect();
            let result = run_tenant(client, &code, actions, &mine, options).await;
            on_done(&result);
            result
        })
        .await;
    results.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    results
}

/// One tenant: lock, (re-)plan when the world may have moved, run, commit;
/// retried with backoff when a lock_timeout hits.
async fn run_tenant(
    client: &mut Client,
    code: &str,
    actions: Vec<Action>,
    inputs: &[Input],
    options: &Options,
) -> TenantResult {
    let mut result = TenantResult { tenant: code.to_owned(), status: "ok", ..TenantResult::default() };
    let mut actions = Some(actions);
    for attempt in 0..=options.retries {
        match attempt_once(client, code, actions.take(), inputs, options).await {
            Ok(Some(done)) => return done,
            Ok(None) => {
                result.status = "skipped";
                return result;
            }
            Err(e) if attempt < options.retries && retryable(&e) => {
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
            }
            Err(e) => {
                result.status = "failed";
                result.error = Some(crate::connection::redact(&format!("{e:#}")));
                return result;
            }
        }
    }
    result
}

fn retryable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.code()).is_some_and(|code| {
            *code == SqlState::LOCK_NOT_AVAILABLE
                || *code == SqlState::DUPLICATE_TABLE
                || *code == SqlState::UNDEFINED_TABLE
        })
    })
}

/// `Ok(None)`: the tenant's lock is held elsewhere and we do not wait.
async fn attempt_once(
    client: &mut Client,
    code: &str,
    planned: Option<Vec<Action>>,
    inputs: &[Input],
    options: &Options,
) -> Result<Option<TenantResult>> {
    let tx = client.transaction().await?;
    let ddl_ms = options.ddl_timeout.as_millis();
    let key = quote_literal(&format!("provision:tenant:{code}"));
    let try_lock = format!(
        "SET LOCAL lock_timeout = '{ddl_ms}ms'; \
         SELECT pg_try_advisory_xact_lock_shared(hashtextextended('provision:shared', 0)) \
            AND pg_try_advisory_xact_lock(hashtextextended({key}, 0))"
    );
    let mut waited = false;
    if first_value(&tx.simple_query(&try_lock).await?).is_none_or(|v| v != "t") {
        let Some(patience) = options.wait else { return Ok(None) };
        let wait = format!(
            "SET LOCAL lock_timeout = '{}ms'; SELECT pg_advisory_xact_lock_shared(hashtextextended('provision:shared', 0)), \
             pg_advisory_xact_lock(hashtextextended({key}, 0)); SET LOCAL lock_timeout = '{ddl_ms}ms'",
            patience.as_millis()
        );
        tx.simple_query(&wait).await?;
        waited = true;
    }
    let actions = match planned {
        Some(actions) if !waited => actions,
        // We waited (or retry): another run may have done part of the work.
        _ => plan(&tx, inputs, options.now.as_deref()).await?.remove(code).unwrap_or_default(),
    };
    let messages = tx.simple_query(&script(&actions)).await?;
    let mut result = summarize(code, &actions, &messages);
    let created: Vec<String> =
        actions.iter().filter(|a| a.kind == "attach" || a.kind == "create").map(|a| a.target.clone()).collect();
    if !created.is_empty() {
        // New partitions get their parent's policies (partitions inherit none);
        // read here, under lock_timeout, not in the plan, where one locked
        // table would stall every tenant.
        let schemas: Vec<String> =
            inputs.iter().map(|i| i.spec.schema.clone().unwrap_or_else(|| i.code.schema_name())).collect();
        crate::partitions::secure_only(&tx, &schemas, Some(&created)).await?;
    }
    tx.commit().await?;
    crate::failpoint::hit("rollover.after_tenant");
    result.status = "ok";
    Ok(Some(result))
}

/// The tenant's statements as one batch: each as its owner; row moves as
/// the connecting superuser with triggers off (rows only change partition,
/// and the audit log's append-only guard must not stop that).
fn script(actions: &[Action]) -> String {
    let mut script = String::new();
    for action in actions {
        if action.kind == "move" {
            script.push_str("RESET ROLE; SET LOCAL session_replication_role = replica;\n");
            script.push_str(&action.ddl);
            script.push_str(";\nSET LOCAL session_replication_role = origin;\n");
            continue;
        }
        match action.owner.as_str() {
            "" => script.push_str("RESET ROLE;\n"),
            owner => script.push_str(&format!("SET LOCAL ROLE {};\n", quote_ident(owner))),
        }
        script.push_str(&action.ddl);
        script.push_str(";\n");
    }
    script.push_str("RESET ROLE;\n");
    script
}

/// Reads the batch's command tags: each move's INSERT count is rows moved.
fn summarize(code: &str, actions: &[Action], messages: &[SimpleQueryMessage]) -> TenantResult {
    let mut result = TenantResult { tenant: code.to_owned(), ..TenantResult::default() };
    result.rows_moved = moved_rows(actions, messages);
    for action in actions {
        let list = match action.kind.as_str() {
            "attach" => &mut result.created,
            "create" if action.target.ends_with("_default") => &mut result.created,
            "detach" => &mut result.detached,
            "drop" => &mut result.dropped,
            "archive" => &mut result.archived,
            _ => continue,
        };
        list.push(action.target.clone());
    }
    result
}

/// The batch answers each statement with one CommandComplete, in order; the
/// statements around a move are known, so its count can be picked out.
fn moved_rows(actions: &[Action], messages: &[SimpleQueryMessage]) -> u64 {
    let counts: Vec<u64> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    let mut index = 0;
    let mut moved = 0;
    for action in actions {
        if action.kind == "move" {
            index += 2; // RESET ROLE; SET session_replication_role
            moved += counts.get(index).copied().unwrap_or(0);
            index += 2; // the move; SET session_replication_role
        } else {
            index += 2; // SET/RESET ROLE; the statement
        }
    }
    moved
}

fn first_value(messages: &[SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
        _ => None,
    })
}
