//! `provision up` as a use case: shared migrations, then every tenant of
//! tenants.toml that is missing, then every registered tenant that is behind
//! or incomplete (a crash between two transactions: see
//! [`crate::ops::completion`]), then `verify`. One tenant's failure does not
//! stop the others; the report says which failed. [`provision_all`] is the
//! same run without gate or verify, for `db create`'s template.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::{Config, TenantSpec};
use crate::ops::completion::Gap;
use crate::ops::provisioner::{self, Outcome, Settings};
use crate::ops::verify::VerifyReporter;
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::report::Reporter;
use crate::store::lock::{self, Resource};
use crate::store::migrate::Plan;
use crate::store::registry::{self, Registered};
use crate::store::shared;

/// Progress of `up` beyond notes and warnings.
pub trait UpReporter: VerifyReporter {
    /// `tenants` are worked on by `workers` connections.
    fn tenants_started(&self, _tenants: usize, _workers: usize) {}
    /// Worker `worker` starts on tenant `code`.
    fn tenant_started(&self, _worker: usize, _code: &str) {}
    /// Worker `worker` is done with tenant `code` (`failed`: with an error the report carries).
    fn tenant_finished(&self, _worker: usize, _code: &str, _failed: bool) {}
    fn tenants_finished(&self) {}
}

/// What the caller asks of `up`.
pub struct Options {
    pub dry_run: bool,
    /// End with `verify` (not in a dry run).
    pub verify: bool,
    /// Refuse lock hazards instead of warning (the gate).
    pub strict: bool,
    /// Connections to build tenants on.
    pub jobs: usize,
    /// Run the template safety gate (a run across servers ran it once already).
    pub gate: bool,
}

/// What `up` did (or, in a dry run, would do).
pub struct UpReport {
    /// Shared versions applied (in a dry run: pending).
    pub shared_applied: Vec<String>,
    /// One per tenant with work or a problem, by code.
    pub tenants: Vec<TenantReport>,
    pub verified: Option<crate::ops::verify::Outcome>,
}

/// One tenant's line of the report.
#[derive(Debug, Serialize)]
pub struct TenantReport {
    pub tenant: String,
    pub schema: String,
    pub blueprint: String,
    #[serde(flatten)]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_apply: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What `up` decided for one tenant before touching it.
enum Work<'a> {
    Create(&'a TenantSpec),
    Upgrade(&'a Registered, Plan),
    /// Nothing pending, but incomplete: what it lacks.
    Complete(&'a Registered, Vec<String>),
    Current(&'a Registered),
}

impl Work<'_> {
    fn code(&self) -> &str {
        match self {
            Work::Create(spec) => spec.code.as_str(),
            Work::Upgrade(tenant, _) | Work::Complete(tenant, _) | Work::Current(tenant) => tenant.code.as_str(),
        }
    }
}

/// The whole run on `client` (plus up to `jobs - 1` connections from
/// `open`; a lost one is replaced from `target`).
pub async fn up(
    reporter: &dyn UpReporter,
    (mut client, target): (Client, &Target),
    open: impl AsyncFn() -> Result<Client>,
    config: &Config,
    settings: &Settings,
    options: &Options,
) -> Result<UpReport> {
    let env = Env { reporter, lock_timeout: settings.lock_timeout };
    let in_use = crate::ops::shared_parts::in_use(&client, config).await?;
    let parts = crate::ops::shared_parts::parts(&in_use);
    let shared_applied = match options.dry_run {
        true => shared::plan(&client, &parts).await?.pending(),
        false => shared::apply(&mut client, env.lock_timeout, reporter, &parts).await?,
    };
    if !options.dry_run {
        crate::store::read_audit::configure_for(&mut client, &in_use, env.lock_timeout, reporter).await?;
    }
    crate::failpoint::hit("up.after_shared");
    let registered = registry::snapshot(&client, None).await?;
    if !options.dry_run && options.gate {
        crate::ops::gate::before_up(&mut client, &env, config, &registered, options.strict).await?;
    }
    let blueprints = Blueprints::new(config);
    let gaps = blueprints.survey(&mut client, &registered).await?;
    let mut tenants = Vec::new();
    let work = decide(config, &registered, &blueprints, &gaps, &mut tenants);
    if !options.dry_run {
        record_sources(&client, &work, &blueprints).await?;
    }
    if options.dry_run {
        tenants.extend(work.into_iter().map(|item| preview(item, &blueprints)));
    } else {
        let mut clients = vec![client];
        while clients.len() < options.jobs.min(work.len()) {
            clients.push(open().await?);
        }
        tenants.extend(build(reporter, &mut clients, target, work, settings, &blueprints).await);
        client = clients.swap_remove(0);
    }
    tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    crate::failpoint::hit("up.before_verify");
    let verified = match options.dry_run || !options.verify {
        true => None,
        false => {
            let verify =
                crate::ops::verify::after_changes(reporter, &mut client, target, config, None, env.lock_timeout);
            Some(verify.await?)
        }
    };
    Ok(UpReport { shared_applied, tenants, verified })
}

/// Records the template sources of every blueprint a tenant is created or
/// upgraded from, before any version of it runs (see `template_diff`).
async fn record_sources(client: &Client, work: &[Work<'_>], blueprints: &Blueprints<'_>) -> Result<()> {
    let mut names: Vec<&str> = work
        .iter()
        .filter_map(|w| match w {
            Work::Create(spec) => Some(spec.blueprint.as_str()),
            Work::Upgrade(tenant, _) => Some(tenant.blueprint.as_str()),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if let Ok(blueprint) = blueprints.get(name) {
            crate::store::template_sources::record(client, &blueprint).await?;
        }
    }
    Ok(())
}

/// Performs `work` on `clients`. Each worker has its own connection; tenants
/// are built in parallel safely because each one is built under its own
/// advisory lock.
async fn build(
    reporter: &dyn UpReporter,
    clients: &mut [Client],
    target: &Target,
    work: Vec<Work<'_>>,
    settings: &Settings,
    blueprints: &Blueprints<'_>,
) -> Vec<TenantReport> {
    reporter.tenants_started(work.len(), clients.len());
    let connect = async || target.connect().await;
    let done = crate::ops::fleet::for_each_fresh(clients, work, connect, async |worker, client, item| {
        reporter.tenant_started(worker, item.code());
        let code = item.code().to_owned();
        let report = perform(reporter, settings, client, item, blueprints).await;
        reporter.tenant_finished(worker, &code, report.error.is_some());
        crate::failpoint::hit("up.after_tenant");
        report
    })
    .await;
    reporter.tenants_finished();
    done
}

/// Sorts tenants into create / upgrade / current; unusable ones become reports.
fn decide<'a>(
    config: &'a Config,
    registered: &'a [Registered],
    blueprints: &Blueprints<'_>,
    gaps: &HashMap<String, Gap>,
    reports: &mut Vec<TenantReport>,
) -> Vec<Work<'a>> {
    let mut work: Vec<Work> = config
        .tenants
        .iter()
        .filter(|spec| !registered.iter().any(|t| t.code == spec.code))
        .map(Work::Create)
        .collect();
    for tenant in registered.iter().filter(|t| t.is_active()) {
        match plan(tenant, blueprints) {
            Err(error) => reports.push(report(tenant.code.as_str(), &tenant.blueprint, None, Some(error))),
            Ok(plan) if !plan.edited.is_empty() => {
                let versions: Vec<String> = plan.edited.iter().map(|(name, _)| name.clone()).collect();
                let error = format!(
                    "applied versions were edited since they ran: {}; restore the templates",
                    versions.join(", ")
                );
                reports.push(report(tenant.code.as_str(), &tenant.blueprint, None, Some(error)));
            }
            Ok(plan) if plan.pending.is_empty() => match gaps.get(tenant.code.as_str()) {
                Some(gap) => work.push(Work::Complete(tenant, gap.missing.clone())),
                None => work.push(Work::Current(tenant)),
            },
            Ok(plan) => work.push(Work::Upgrade(tenant, plan)),
        }
    }
    work
}

/// `tenant`'s pending and edited versions, or why they cannot be known.
fn plan(tenant: &Registered, blueprints: &Blueprints<'_>) -> Result<Plan, String> {
    let bp = blueprints.get(&tenant.blueprint)?;
    if tenant.row {
        // Its pack's tables are the shared part's, applied above; verify checks its row.
        return Ok(Plan::new(&[], &[]));
    }
    if !tenant.schema_exists {
        return Err(format!(
            "schema {} is missing; `tenant remove {}` then `tenant add` it again",
            tenant.schema_name, tenant.code
        ));
    }
    let migrations =
        bp.render(&Identity { code: tenant.code.clone(), tenant_id: tenant.id }).map_err(|e| format!("{e:#}"))?;
    Ok(Plan::new(&migrations, &tenant.applied))
}

async fn perform(
    reporter: &dyn Reporter,
    settings: &Settings,
    client: &mut Client,
    item: Work<'_>,
    blueprints: &Blueprints<'_>,
) -> TenantReport {
    let (code, blueprint_name) = match &item {
        Work::Create(spec) => (spec.code.as_str(), spec.blueprint.as_str()),
        Work::Upgrade(t, _) | Work::Complete(t, _) | Work::Current(t) => (t.code.as_str(), t.blueprint.as_str()),
    };
    let blueprint = match blueprints.get(blueprint_name) {
        Ok(bp) => bp,
        Err(error) => return report(code, blueprint_name, None, Some(error)),
    };
    let timeout = settings.lock_timeout;
    let result = match item {
        // Each held across the tenant's transactions, so no verify of
        // another process sees it half done.
        Work::Create(spec) => {
            let create = async |c: &mut Client| provisioner::create(c, spec, &blueprint, settings, reporter).await;
            lock::while_held(client, Resource::Tenant(&spec.code), timeout, reporter, create).await
        }
        Work::Upgrade(tenant, _) => {
            let upgrade =
                async |c: &mut Client| crate::ops::upgrade::upgrade(c, tenant, &blueprint, settings, reporter).await;
            lock::while_held(client, Resource::Tenant(&tenant.code), timeout, reporter, upgrade).await
        }
        Work::Complete(tenant, _) => {
            let complete = async |c: &mut Client| {
                crate::ops::completion::complete(c, tenant, &blueprint, settings, reporter).await
            };
            lock::while_held(client, Resource::Tenant(&tenant.code), timeout, reporter, complete).await
        }
        Work::Current(tenant) => Ok(Outcome::Current { version: tenant.version() }),
    };
    match result {
        Ok(outcome) => report(code, blueprint_name, Some(outcome), None),
        Err(error) => report(code, blueprint_name, None, Some(format!("{error:#}"))),
    }
}

fn preview(item: Work<'_>, blueprints: &Blueprints<'_>) -> TenantReport {
    match item {
        Work::Create(spec) => {
            let mut r = report(spec.code.as_str(), &spec.blueprint, None, None);
            r.would_apply = Some(match blueprints.get(&spec.blueprint) {
                Ok(bp) => bp.steps.iter().map(|s| s.migration_name.clone()).collect(),
                Err(error) => return report(spec.code.as_str(), &spec.blueprint, None, Some(error)),
            });
            r
        }
        Work::Upgrade(tenant, plan) => {
            let mut r = report(tenant.code.as_str(), &tenant.blueprint, None, None);
            r.would_apply = Some(plan.pending.iter().map(ToString::to_string).collect());
            r
        }
        Work::Complete(tenant, missing) => {
            let mut r = report(tenant.code.as_str(), &tenant.blueprint, None, None);
            r.would_apply = Some(missing.iter().map(|m| format!("complete: {m}")).collect());
            r
        }
        Work::Current(tenant) => {
            report(tenant.code.as_str(), &tenant.blueprint, Some(Outcome::Current { version: tenant.version() }), None)
        }
    }
}

fn report(code: &str, blueprint: &str, outcome: Option<Outcome>, error: Option<String>) -> TenantReport {
    TenantReport {
        tenant: code.to_owned(),
        schema: format!("{code}_schema"),
        blueprint: blueprint.to_owned(),
        outcome,
        would_apply: None,
        error,
    }
}

/// The blueprints of a run, by name; a load error is reported per tenant.
/// `Blueprint::load` reads and checks each pack once per process.
struct Blueprints<'c> {
    config: &'c Config,
}

impl<'c> Blueprints<'c> {
    fn new(config: &'c Config) -> Self {
        Blueprints { config }
    }

    /// The incomplete tenants among the active `registered` ones whose
    /// blueprint loads (the others are reported by `decide`), in one query.
    async fn survey(&self, client: &mut Client, registered: &[Registered]) -> Result<HashMap<String, Gap>> {
        let loaded: Vec<(&Registered, Blueprint)> = registered
            .iter()
            .filter(|t| t.is_active() && t.schema_exists)
            .filter_map(|t| self.get(&t.blueprint).ok().map(|bp| (t, bp)))
            .collect();
        let pairs: Vec<(&Registered, &Blueprint)> = loaded.iter().map(|(t, bp)| (*t, bp)).collect();
        crate::ops::completion::survey(client, &pairs).await
    }

    fn get(&self, name: &str) -> Result<Blueprint, String> {
        Blueprint::load(&self.config.templates_dir, name).map_err(|e| format!("{e:#}"))
    }
}

/// A full provisioning run without gate, summary or verify, for `db
/// create`'s template: shared migrations, then every tenant `up` would
/// create or upgrade, exactly as `up` does them, one after another. Returns
/// the failed tenants as `code: error` (empty when all succeeded).
pub async fn provision_all(
    reporter: &dyn Reporter,
    client: &mut Client,
    config: &Config,
    settings: &Settings,
) -> Result<Vec<String>> {
    let in_use = crate::ops::shared_parts::in_use(&*client, config).await?;
    shared::apply(client, settings.lock_timeout, reporter, &crate::ops::shared_parts::parts(&in_use)).await?;
    let registered = registry::snapshot(&*client, None).await?;
    let blueprints = Blueprints::new(config);
    let gaps = blueprints.survey(client, &registered).await?;
    let mut reports = Vec::new();
    let work = decide(config, &registered, &blueprints, &gaps, &mut reports);
    record_sources(&*client, &work, &blueprints).await?;
    for item in work {
        let report = perform(reporter, settings, client, item, &blueprints).await;
        reports.push(report);
    }
    Ok(reports.into_iter().filter_map(|r| r.error.map(|error| format!("{}: {error}", r.tenant))).collect())
}
