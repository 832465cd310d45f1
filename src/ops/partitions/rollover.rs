//! `partitions rollover`: plan the whole database in one query, then run each
//! tenant's work on a pool of connections (the engine is
//! [`crate::ops::rollover`]). The report sums the tenants up and says how the
//! run ends: every tenant done, only lock timeouts (exit 3), or failures (exit 1).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::{bad_input, failed, unavailable};
use crate::model::config::Config;
use crate::ops::rollover::{self, Action, ActionKind, Input, Options, TenantResult};
use crate::report::Reporter;

/// Progress of a rollover beyond notes and warnings.
pub trait RolloverReporter: Reporter {
    /// One tenant's work ended (done, skipped or failed).
    fn tenant_rolled(&self, _result: &TenantResult) {}
}

/// What a run would do, per tenant (tenants with nothing to do are absent).
pub struct Planned {
    pub inputs: Vec<Input>,
    pub plan: BTreeMap<String, Vec<Action>>,
    started: Instant,
}

/// Plans the rollover of the active tenants (or the `named` ones) as of
/// `now` (the server's clock when `None`) on a session bounded by
/// `statement_timeout`.
pub async fn plan(
    client: &Client,
    config: &Config,
    named: &[String],
    now: Option<&str>,
    statement_timeout: Duration,
    default_rows: rollover::DefaultRows,
) -> Result<Planned> {
    let started = Instant::now();
    rollover::bound_session(client, statement_timeout).await?;
    if let Some(now) = now {
        rollover::check_now(client, now).await.map_err(|e| bad_now(e, Some(now)))?;
    }
    let inputs = super::inputs(client, config, named).await?;
    let plan = rollover::plan(client, &inputs, now, default_rows).await.map_err(|e| bad_now(e, now))?;
    Ok(Planned { inputs, plan, started })
}

/// `--now` is parsed by the database; a value it rejects is bad input.
fn bad_now(error: anyhow::Error, now: Option<&str>) -> anyhow::Error {
    let invalid = error.chain().any(|c| {
        c.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.code()).is_some_and(|code| {
            code.code().starts_with("22") // data exception: invalid datetime, out of range, …
        })
    });
    match (invalid, now) {
        (true, Some(now)) => {
            bad_input(format!("--now {now:?} is not a timestamp; write e.g. 2027-01-31 or '2027-01-31 12:00'"))
        }
        _ => error,
    }
}

/// A change the dry run announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    Detach,
    Drop,
    Archive,
    /// The DEFAULT's rows of a period older than the retention, deleted.
    ReleaseRows,
    /// The same rows, moved to the archive schema.
    ArchiveRows,
}

impl Planned {
    /// The changes worth announcing, per tenant in plan order: a new period
    /// shows as its attach; a created DEFAULT partition shows as itself.
    pub fn changes(&self) -> Vec<(&str, Change, &str)> {
        let mut changes = Vec::new();
        for (tenant, actions) in &self.plan {
            for action in actions {
                let change = match action.kind {
                    ActionKind::Attach => Change::Create,
                    ActionKind::Create if action.target.ends_with("_default") => Change::Create,
                    ActionKind::Detach => Change::Detach,
                    ActionKind::Drop => Change::Drop,
                    ActionKind::Archive => Change::Archive,
                    ActionKind::Release => Change::ReleaseRows,
                    ActionKind::ArchiveRows => Change::ArchiveRows,
                    _ => continue,
                };
                changes.push((tenant.as_str(), change, action.target.as_str()));
            }
        }
        changes
    }

    /// Partitions the run would create (attached periods).
    pub fn partitions_to_create(&self) -> usize {
        self.plan.values().map(|a| a.iter().filter(|x| x.kind == ActionKind::Attach).count()).sum()
    }

    /// How many connections the work can use, at most `jobs`.
    pub fn workers(&self, jobs: usize) -> usize {
        jobs.min(self.plan.len())
    }
}

/// Runs `planned` on `client` plus up to `jobs - 1` more from `connect`,
/// each bounded like the first.
pub async fn execute(
    reporter: &dyn RolloverReporter,
    client: Client,
    connect: impl AsyncFn() -> Result<Client>,
    planned: Planned,
    options: &Options,
    jobs: usize,
) -> Result<Rolled> {
    let mut clients = vec![client];
    while clients.len() < planned.workers(jobs) {
        let client = connect().await?;
        rollover::bound_session(&client, options.statement_timeout).await?;
        clients.push(client);
    }
    let Planned { inputs, plan, started } = planned;
    let on_done = |result: &TenantResult| reporter.tenant_rolled(result);
    let results = rollover::execute(clients, plan, &inputs, options, &on_done).await;
    let tenants = inputs.iter().map(|i| &i.code).collect::<std::collections::BTreeSet<_>>().len();
    Ok(Rolled::new(tenants, results, started.elapsed().as_secs_f64()))
}

/// A finished run: each tenant's result and their sum.
#[derive(Debug, Clone, Serialize)]
pub struct Rolled {
    pub dry_run: bool,
    pub tenants: Vec<TenantResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Tenants with partitioned tables (whether or not they had work).
    pub tenants: usize,
    pub created: usize,
    pub detached: usize,
    pub dropped: usize,
    pub rows_moved: u64,
    pub rows_released: u64,
    pub skipped: usize,
    pub failures: usize,
    pub seconds: f64,
}

impl Rolled {
    fn new(tenants: usize, results: Vec<TenantResult>, seconds: f64) -> Rolled {
        let sum = |f: fn(&TenantResult) -> usize| results.iter().map(f).sum::<usize>();
        let summary = Summary {
            tenants,
            created: sum(|r| r.created.len()),
            detached: sum(|r| r.detached.len()),
            dropped: sum(|r| r.dropped.len()),
            rows_moved: results.iter().map(|r| r.rows_moved).sum(),
            rows_released: results.iter().map(|r| r.rows_released).sum(),
            skipped: results.iter().filter(|r| is_skipped(r)).count(),
            failures: results.iter().filter(|r| is_failed(r)).count(),
            seconds,
        };
        Rolled { dry_run: false, tenants: results, summary }
    }

    /// The tenants that failed, in order.
    pub fn failed(&self) -> Vec<&str> {
        self.tenants.iter().filter(|r| is_failed(r)).map(|r| r.tenant.as_str()).collect()
    }

    /// Ok when no tenant failed; lock timeouts only: exit 3 with their
    /// one-line reasons; any other failure: exit 1.
    pub fn verdict(&self) -> Result<()> {
        let failures: Vec<&TenantResult> = self.tenants.iter().filter(|r| is_failed(r)).collect();
        if failures.is_empty() {
            return Ok(());
        }
        if failures.iter().all(|r| r.lock_timeout) {
            let reasons: Vec<&str> = failures.iter().filter_map(|r| r.error.as_deref()).collect();
            return Err(unavailable(format!("rollover incomplete, lock timeout: {}", reasons.join("; "))));
        }
        Err(failed(format!("rollover failed for tenants: {}", self.failed().join(", "))))
    }
}

pub fn is_failed(result: &TenantResult) -> bool {
    result.status == "failed"
}

pub fn is_skipped(result: &TenantResult) -> bool {
    result.status == "skipped"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{exit_code_of, ExitCode};

    fn action(kind: &str, target: &str) -> Action {
        Action {
            tx: String::new(),
            owner: String::new(),
            kind: kind.parse().expect("a plan kind"),
            target: target.to_owned(),
            parent: "t.items".to_owned(),
            ddl: String::new(),
            security: String::new(),
        }
    }

    #[test]
    fn the_dry_run_announces_attached_periods_and_default_partitions_only() {
        let actions = vec![
            action("create", "t.items_2027_01"),
            action("attach", "t.items_2027_01"),
            action("create", "t.items_default"),
            action("detach", "t.items_2024_01"),
            action("archive", "t.items_2024_01"),
            action("drop", "t.items_2024_01"),
            action("move", "t.items_default"),
        ];
        let planned =
            Planned { inputs: Vec::new(), plan: BTreeMap::from([("a".to_owned(), actions)]), started: Instant::now() };
        let changes: Vec<(Change, &str)> = planned.changes().into_iter().map(|(_, c, t)| (c, t)).collect();
        assert_eq!(
            changes,
            [
                (Change::Create, "t.items_2027_01"),
                (Change::Create, "t.items_default"),
                (Change::Detach, "t.items_2024_01"),
                (Change::Archive, "t.items_2024_01"),
                (Change::Drop, "t.items_2024_01"),
            ]
        );
        assert_eq!(planned.partitions_to_create(), 1);
        assert_eq!(planned.workers(4), 1);
    }

    fn result(tenant: &str, status: &'static str, lock_timeout: bool) -> TenantResult {
        let error = (status == "failed").then(|| format!("{tenant}: boom"));
        TenantResult { tenant: tenant.to_owned(), status, lock_timeout, error, ..TenantResult::default() }
    }

    #[test]
    fn the_verdict_is_exit_3_for_lock_timeouts_only_and_exit_1_for_any_other_failure() {
        let ok = Rolled::new(2, vec![result("a", "ok", false), result("b", "skipped", false)], 0.1);
        assert!(ok.verdict().is_ok());
        assert_eq!((ok.summary.skipped, ok.summary.failures), (1, 0));
        let locked = Rolled::new(2, vec![result("a", "failed", true), result("b", "ok", false)], 0.1);
        let error = locked.verdict().unwrap_err();
        assert_eq!(exit_code_of(&error), ExitCode::Unavailable);
        assert!(error.to_string().contains("a: boom"), "{error}");
        let broken = Rolled::new(2, vec![result("a", "failed", true), result("b", "failed", false)], 0.1);
        assert_eq!(exit_code_of(&broken.verdict().unwrap_err()), ExitCode::Failed);
        assert_eq!(broken.failed(), ["a", "b"]);
    }
}
