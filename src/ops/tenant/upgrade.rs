//! `tenant upgrade`: apply pending blueprint versions to tenants in parallel
//! over a bounded pool of connections, each tenant in its own transactions
//! under its own lock. A failing tenant is reported and the others continue;
//! a re-run resumes. Every run also completes each registered tenant an
//! interrupted run left incomplete (named or not; see [`crate::ops::completion`]).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::tenants_failed;
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::{Outcome, Settings};
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::report::Reporter;
use crate::store::lock::{self, Resource};
use crate::store::migrate::Plan;
use crate::store::registry::{self, Registered};
use crate::{ops::completion, ops::fleet, ops::upgrade, store::shared};

/// Progress of an upgrade run beyond notes and warnings.
pub trait UpgradeReporter: Reporter {
    /// `tenants` are upgraded or completed on `workers` connections.
    fn upgrade_started(&self, _tenants: usize, _workers: usize) {}
    /// Worker `worker` starts on tenant `code`.
    fn tenant_started(&self, _worker: usize, _code: &TenantCode) {}
    fn tenant_finished(&self, _worker: usize, _code: &TenantCode, _result: &Result<Outcome>) {}
    fn upgrade_finished(&self) {}
}

/// A tenant this run works on.
pub struct Work {
    pub tenant: Registered,
    /// Not named: only completed at its version (its creation was not
    /// interrupted, so its pending versions are not this run's to apply).
    pub complete_only: bool,
    /// What an interrupted run left missing (empty: nothing).
    pub missing: Vec<String>,
}

/// The tenants with work, and how many the run is about.
pub struct Survey {
    pub work: Vec<Work>,
    /// The tenants named (every active one when none is) and the others
    /// completed: the summary's count.
    pub total: usize,
    blueprints: HashMap<String, Blueprint>,
    started: Instant,
}

/// Chooses the work: the active tenants named in `wanted` (all when empty)
/// with pending or edited versions or gaps, plus any other active tenant
/// with gaps. Unless `dry_run`, the shared migrations are applied first.
pub async fn survey(
    env: &Env<'_>,
    client: &mut Client,
    config: &Config,
    wanted: &[TenantCode],
    dry_run: bool,
) -> Result<Survey> {
    let started = Instant::now();
    if !dry_run {
        let in_use = crate::ops::shared_parts::in_use(client, config).await?;
        let parts = crate::ops::shared_parts::parts(&in_use);
        shared::apply(client, env.lock_timeout, env.reporter, &parts).await?;
        crate::failpoint::hit("tenant_upgrade.after_shared");
    }
    let all = registry::snapshot(&*client, None).await?;
    if let Some(missing) = wanted.iter().find(|c| !all.iter().any(|t| &t.code == *c)) {
        return Err(registry::not_registered(missing));
    }
    let (named, others): (Vec<Registered>, Vec<Registered>) =
        all.into_iter().filter(|t| t.is_active()).partition(|t| wanted.is_empty() || wanted.contains(&t.code));
    let mut blueprints: HashMap<String, Blueprint> = HashMap::new();
    for t in &named {
        if !blueprints.contains_key(&t.blueprint) {
            blueprints.insert(t.blueprint.clone(), Blueprint::load(&config.templates_dir, &t.blueprint)?);
        }
    }
    for t in &others {
        // Another tenant's broken blueprint is `up`'s to report, not this run's.
        if let (false, Ok(bp)) =
            (blueprints.contains_key(&t.blueprint), Blueprint::load(&config.templates_dir, &t.blueprint))
        {
            blueprints.insert(t.blueprint.clone(), bp);
        }
    }
    let pairs: Vec<(&Registered, &Blueprint)> = named
        .iter()
        .chain(&others)
        .filter(|t| t.schema_exists)
        .filter_map(|t| blueprints.get(&t.blueprint).map(|bp| (t, bp)))
        .collect();
    let mut gaps = completion::survey(client, &pairs).await?;
    let total = named.len() + others.iter().filter(|t| gaps.contains_key(t.code.as_str())).count();
    let mut work = Vec::new();
    for (tenant, is_named) in named.into_iter().map(|t| (t, true)).chain(others.into_iter().map(|t| (t, false))) {
        let gap = gaps.remove(tenant.code.as_str());
        if gap.is_none() && !(is_named && needs_work(&tenant, &blueprints[&tenant.blueprint])) {
            continue;
        }
        let complete_only = gap.as_ref().is_some_and(|gap| !is_named && !gap.creating);
        work.push(Work { tenant, complete_only, missing: gap.map(|g| g.missing).unwrap_or_default() });
    }
    Ok(Survey { work, total, blueprints, started })
}

/// Pending versions, or edited ones (which the upgrade refuses, by name).
fn needs_work(tenant: &Registered, blueprint: &Blueprint) -> bool {
    let identity = Identity { code: tenant.code.clone(), tenant_id: tenant.id };
    match blueprint.render(&identity) {
        Ok(migrations) => {
            let plan = Plan::new(&migrations, &tenant.applied);
            !plan.pending.is_empty() || !plan.edited.is_empty()
        }
        Err(_) => true, // the upgrade reports the render error for this tenant
    }
}

/// What the run would do to one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct WouldChange {
    pub tenant: String,
    pub version: i32,
    /// The pending versions' names, and (not in JSON) their rendered SQL.
    pub pending: Vec<String>,
    #[serde(skip)]
    pub pending_sql: Vec<String>,
    /// Applied versions edited since they ran: the upgrade refuses them.
    pub edited: Vec<String>,
    /// What changed in each of them (see `template_diff`).
    pub diffs: Vec<crate::ops::template_diff::VersionDiff>,
    pub incomplete: Vec<String>,
}

impl Survey {
    /// The dry run, tenant by tenant in order; a tenant whose templates do
    /// not render gives its error in its place. Reads only.
    pub async fn dry_run(&self, client: &Client) -> Vec<Result<WouldChange>> {
        let mut changes = Vec::with_capacity(self.work.len());
        for work in &self.work {
            changes.push(self.would_change(client, work).await);
        }
        changes
    }

    async fn would_change(&self, client: &Client, work: &Work) -> Result<WouldChange> {
        let tenant = &work.tenant;
        let identity = Identity { code: tenant.code.clone(), tenant_id: tenant.id };
        let blueprint = &self.blueprints[&tenant.blueprint];
        let plan = Plan::new(&blueprint.render(&identity)?, &tenant.applied);
        let diffs = match plan.edited.is_empty() {
            true => Vec::new(),
            false => crate::ops::template_diff::edited(client, tenant, blueprint, &plan.edited).await?,
        };
        Ok(WouldChange {
            tenant: tenant.code.to_string(),
            version: tenant.version(),
            pending: plan.pending.iter().map(ToString::to_string).collect(),
            pending_sql: plan.pending.iter().map(|m| m.sql().unwrap_or_default().trim_end().to_owned()).collect(),
            edited: plan.edited.iter().map(|(name, _)| name.clone()).collect(),
            diffs,
            incomplete: work.missing.clone(),
        })
    }
}

/// Runs the survey's work: the gate first (refusing hazards, or all of
/// them with `Some(strict = true)`; `None` when a run across servers
/// already passed it), then each tenant under its lock on `client` plus up
/// to `jobs - 1` connections from `open` (a lost one is replaced from `target`).
pub async fn execute(
    reporter: &dyn UpgradeReporter,
    (mut client, target): (Client, &Target),
    open: impl AsyncFn() -> Result<Client>,
    survey: Survey,
    settings: &Settings,
    (gate, jobs): (Option<bool>, usize),
) -> Result<Upgraded> {
    let env = Env { reporter, lock_timeout: settings.lock_timeout };
    let Survey { work, total, blueprints, started } = survey;
    let tenants: Vec<&Registered> = work.iter().map(|w| &w.tenant).collect();
    if let Some(strict) = gate {
        crate::ops::gate::before_upgrade(&mut client, &env, &tenants, &blueprints, strict).await?;
    }
    for blueprint in blueprints.values() {
        crate::store::template_sources::record(&client, blueprint).await?;
    }
    let mut clients = vec![client];
    while clients.len() < jobs.min(work.len()) {
        clients.push(open().await?);
    }
    reporter.upgrade_started(work.len(), clients.len());
    let connect = async || target.connect().await;
    let results =
        fleet::for_each_fresh(&mut clients, work.iter().collect(), connect, async |worker, client, w: &Work| {
            let tenant = &w.tenant;
            reporter.tenant_started(worker, &tenant.code);
            let blueprint = &blueprints[&tenant.blueprint];
            // Held across the tenant's transactions, so no verify sees it half done.
            let work = async |c: &mut Client| match w.complete_only {
                true => completion::complete(c, tenant, blueprint, settings, reporter).await,
                false => upgrade::upgrade(c, tenant, blueprint, settings, reporter).await,
            };
            let result =
                lock::while_held(client, Resource::Tenant(&tenant.code), settings.lock_timeout, reporter, work).await;
            reporter.tenant_finished(worker, &tenant.code, &result);
            crate::failpoint::hit("tenant_upgrade.after_tenant");
            (tenant.code.as_str().to_owned(), result)
        })
        .await;
    reporter.upgrade_finished();
    Ok(Upgraded::new(total, results, started.elapsed().as_secs_f64()))
}

/// A finished run: each tenant worked on, by code, and its result.
pub struct Upgraded {
    pub total: usize,
    pub results: Vec<(String, Result<Outcome>)>,
    pub seconds: f64,
}

impl Upgraded {
    fn new(total: usize, mut results: Vec<(String, Result<Outcome>)>, seconds: f64) -> Upgraded {
        results.sort_by(|a, b| a.0.cmp(&b.0));
        Upgraded { total, results, seconds }
    }

    pub fn upgraded(&self) -> usize {
        self.results.iter().filter(|(_, r)| matches!(r, Ok(Outcome::Upgraded { .. }))).count()
    }

    /// Completed at their version (an interrupted run left them incomplete).
    pub fn completed(&self) -> usize {
        self.results.iter().filter(|(_, r)| matches!(r, Ok(Outcome::Completed { .. }))).count()
    }

    pub fn failed(&self) -> Vec<&str> {
        self.results.iter().filter(|(_, r)| r.is_err()).map(|(c, _)| c.as_str()).collect()
    }

    pub fn up_to_date(&self) -> usize {
        self.total.saturating_sub(self.upgraded() + self.completed() + self.failed().len())
    }

    /// Ok when no tenant failed; else exit 3 when every failure was a lock
    /// or connection problem, 1 otherwise.
    pub fn verdict(&self) -> Result<()> {
        let failed = self.failed();
        match failed.is_empty() {
            true => Ok(()),
            false => Err(tenants_failed(
                format!("upgrade failed for tenants: {}", failed.join(", ")),
                self.results.iter().filter_map(|(_, r)| r.as_ref().err()),
            )),
        }
    }
}
