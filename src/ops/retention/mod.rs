//! `provision retention run`: the `[[retention]]` rules of every pack,
//! applied to every active tenant, from cron.
//!
//! Every tenant's rules are planned and checked by the server first (a bad
//! rule stops the run before any tenant is touched: exit 2). A rule that
//! plans for some tenants of its blueprint but not for others is drift in
//! those (a table or column gone): they fail, the others run. Then, tenant by
//! tenant, under the tenant's advisory lock (store::lock, as rollover and
//! every tenant operation take it), each job runs in batches of `batch` rows
//! by primary key, one transaction per batch, so live traffic waits for at
//! most one batch. A batch records itself in the tenant's audit log in the
//! same statement. Done rows no longer match, so a run killed between two
//! batches is finished by the next one, and a second run changes nothing.

mod plan;
mod run;
mod statements;

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::{bad_input, failed, unavailable};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::report::Reporter;
use crate::store::registry;
pub use plan::TenantPlan;
pub use statements::action_name;

/// Knobs of one run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Act as if it were this time; `None`: the server's clock.
    pub now: Option<String>,
    pub dry_run: bool,
    /// Rows per batch (and per transaction).
    pub batch: i64,
    /// Longest wait for the tenant's lock, and for a row lock in a batch.
    pub lock_timeout: Duration,
}

/// What one job did (or, in a dry run, would do) in one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct TableCount {
    pub rule: String,
    pub table: String,
    pub action: &'static str,
    pub age: String,
    pub cutoff: String,
    pub rows: i64,
    pub batches: u64,
    /// Row triggers were off (one audit row per batch instead of per row).
    pub bulk: bool,
}

/// How a tenant's run ended.
#[derive(Debug, Clone, Serialize)]
pub struct TenantResult {
    pub tenant: String,
    pub blueprint: String,
    pub status: &'static str,
    pub tables: Vec<TableCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure was a lock wait that ran out (exit 3, not 1).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lock_timeout: bool,
}

impl TenantResult {
    fn new(code: &TenantCode, blueprint: &str) -> TenantResult {
        TenantResult {
            tenant: code.as_str().to_owned(),
            blueprint: blueprint.to_owned(),
            status: "ok",
            tables: Vec::new(),
            error: None,
            lock_timeout: false,
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The clock the cutoffs were measured from (--now, else the server's).
    pub now: Option<String>,
    pub dry_run: bool,
    pub tenants: Vec<TenantResult>,
}

impl Report {
    /// Rows changed (or counted) in all.
    pub fn rows(&self) -> i64 {
        self.tenants.iter().flat_map(|t| &t.tables).map(|c| c.rows).sum()
    }

    /// Exit 0 when every tenant is done; 3 when only lock waits ran out; else 1.
    pub fn verdict(&self) -> Result<()> {
        let failures: Vec<&TenantResult> = self.tenants.iter().filter(|t| t.status == "failed").collect();
        if failures.is_empty() {
            return Ok(());
        }
        let reasons: Vec<&str> = failures.iter().filter_map(|t| t.error.as_deref()).collect();
        if failures.iter().all(|t| t.lock_timeout) {
            return Err(unavailable(format!("retention incomplete, lock timeout: {}", reasons.join("; "))));
        }
        Err(failed(format!("retention failed: {}", reasons.join("; "))))
    }
}

/// The tenants a run works on, and those it cannot plan although other
/// tenants of their blueprint could be planned (their schema drifted).
pub struct Planned {
    pub plans: Vec<TenantPlan>,
    pub unplanned: Vec<TenantResult>,
}

/// Plans every active tenant (or the `named` ones) whose blueprint has
/// rules. A named tenant that is not registered, a bad `--now` or a rule
/// the server refuses for every tenant of its blueprint is bad input; a
/// rule refused for only some of them fails those tenants alone.
pub async fn plan(client: &Client, config: &Config, named: &[String], options: &Options) -> Result<Planned> {
    let wanted: Vec<TenantCode> = named.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    let tenants = registry::snapshot(client, None).await?;
    if let Some(missing) = wanted.iter().find(|c| !tenants.iter().any(|t| &t.code == *c)) {
        return Err(registry::not_registered(missing));
    }
    if let Some(now) = &options.now {
        // The server parses it; a data exception (class 22) is bad input.
        match client.query_one("SELECT $1::text::timestamp IS NOT NULL", &[now]).await {
            Err(e) if e.code().is_some_and(|c| c.code().starts_with("22")) => {
                return Err(bad_input(format!(
                    "--now {now:?} is not a timestamp; write e.g. 2033-01-31 or '2033-01-31 12:00'"
                )))
            }
            outcome => drop(outcome?),
        }
    }
    let mut loaded: HashMap<String, (Blueprint, HashMap<String, i32>)> = HashMap::new();
    let mut outcomes = Vec::new();
    for tenant in tenants.iter().filter(|t| t.is_active() && (wanted.is_empty() || wanted.contains(&t.code))) {
        if !loaded.contains_key(&tenant.blueprint) {
            let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
            let rows = client.query(include_str!("sql/periods.sql"), &[&tenant.blueprint]).await?;
            let periods = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            loaded.insert(tenant.blueprint.clone(), (blueprint, periods));
        }
        let (blueprint, periods) = &loaded[&tenant.blueprint];
        if blueprint.manifest.retention.is_empty() {
            continue;
        }
        let now = options.now.as_deref();
        let planned = plan::plan_tenant(client, &tenant.code, blueprint, periods, now, options.batch).await;
        outcomes.push((tenant.code.clone(), tenant.blueprint.clone(), planned));
    }
    sort_out(outcomes)
}

/// Splits the planned from the unplanned; a blueprint none of whose tenants
/// could be planned has a bad rule, which is the run's error.
fn sort_out(outcomes: Vec<(TenantCode, String, Result<TenantPlan>)>) -> Result<Planned> {
    let planned_blueprints: Vec<String> =
        outcomes.iter().filter(|(_, _, p)| p.is_ok()).map(|(_, b, _)| b.clone()).collect();
    let mut planned = Planned { plans: Vec::new(), unplanned: Vec::new() };
    for (code, blueprint, outcome) in outcomes {
        match outcome {
            Ok(plan) => planned.plans.push(plan),
            Err(e) if !planned_blueprints.contains(&blueprint) => return Err(e),
            Err(e) => {
                let text = crate::pg::connection::redact(&format!("{e:#}"));
                let mut result = TenantResult::new(&code, &blueprint);
                result.status = "failed";
                result.error = Some(format!(
                    "tenant {code}: cannot plan its retention ({text}); other tenants of blueprint {blueprint} \
                     could, so its schema has drifted: `provision verify --tenant {code}` names what"
                ));
                planned.unplanned.push(result);
            }
        }
    }
    Ok(planned)
}

/// Runs (or, dry, counts) every planned tenant on `client`, one after the
/// other; one tenant's failure never stops the others. The unplanned are
/// reported as failed.
pub async fn execute(client: &mut Client, planned: &Planned, options: &Options, reporter: &dyn Reporter) -> Report {
    let plans = &planned.plans;
    let mut tenants = planned.unplanned.clone();
    for plan in plans {
        let mut result = TenantResult::new(&plan.code, &plan.blueprint);
        let outcome = match options.dry_run {
            true => run::count(client, plan, &mut result).await,
            false => run::tenant(client, plan, options, reporter, &mut result).await,
        };
        if let Err(e) = outcome {
            result.status = "failed";
            result.lock_timeout = crate::ops::rollover::is_lock_timeout(&e);
            let text = crate::pg::connection::redact(&format!("{e:#}"));
            result.error = Some(format!("tenant {}: {text}", plan.code));
        }
        tenants.push(result);
    }
    tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    Report { now: plans.first().map(|p| p.now.clone()), dry_run: options.dry_run, tenants }
}
