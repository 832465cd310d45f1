//! `provision up`: the main job. Shared migrations, then every tenant of
//! tenants.toml that is missing, then every registered tenant that is behind
//! or incomplete (a crash between two transactions: see
//! [`crate::ops::completion`]). One tenant's failure does not stop the others;
//! the exit code reports it.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use serde_json::json;
use tokio_postgres::Client;

use crate::cli::args::UpArgs;
use crate::cli::context::Context;
use crate::cli::printer::{bad, good, strong};
use crate::cli::verify;
use crate::error::failed;
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::{Config, TenantSpec};
use crate::ops::completion::Gap;
use crate::ops::provisioner::{self, Outcome, Settings};
use crate::store::lock::{self, Resource};
use crate::store::migrate::Plan;
use crate::store::registry::{self, Registered};
use crate::store::shared;

#[derive(Debug, Serialize)]
struct TenantReport {
    tenant: String,
    schema: String,
    blueprint: String,
    #[serde(flatten)]
    outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    would_apply: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
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

pub async fn run(ctx: &Context, args: &UpArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let settings = ctx.settings(&args.admin, &target, &config);
    let in_use = crate::ops::shared_parts::in_use(&client, &config).await?;
    let parts = crate::ops::shared_parts::parts(&in_use);
    let shared_applied = if args.dry_run.enabled {
        shared::plan(&client, &parts).await?.pending()
    } else {
        shared::apply(&mut client, ctx.lock_timeout(), &ctx.printer, &parts).await?
    };
    crate::failpoint::hit("up.after_shared");
    let registered = registry::snapshot(&client, None).await?;
    if !args.dry_run.enabled {
        crate::ops::gate::before_up(&mut client, &ctx.env(), &config, &registered, args.strict).await?;
    }
    let blueprints = Blueprints::new(&config);
    let gaps = blueprints.survey(&mut client, &registered).await?;
    let mut reports = Vec::new();
    let work = decide(&config, &registered, &blueprints, &gaps, &mut reports);
    if args.dry_run.enabled {
        reports.extend(work.into_iter().map(|item| preview(item, &blueprints)));
    } else {
        // Each worker has its own connection; tenants are built in parallel
        // safely because each one is built under its own advisory lock.
        let mut clients = vec![client];
        while clients.len() < args.jobs.get().min(work.len()) {
            clients.push(ctx.connect().await?.0);
        }
        let progress = ctx.printer.fleet_progress(work.len() as u64, clients.len(), "tenants");
        let connect = async || target.connect().await;
        let done = crate::ops::fleet::for_each_fresh(&mut clients, work, connect, async |worker, client, item| {
            progress.working(worker, item.code());
            let report = perform(ctx, &settings, client, item, &blueprints).await;
            progress.tick();
            crate::failpoint::hit("up.after_tenant");
            report
        })
        .await;
        progress.finish();
        reports.extend(done);
        client = clients.swap_remove(0);
    }
    reports.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    crate::failpoint::hit("up.before_verify");
    let verified = match args.dry_run.enabled || args.no_verify {
        true => None,
        false => Some(verify::after_changes(ctx, &mut client, &target, &config, None).await?),
    };
    let seconds = started.elapsed().as_secs_f64();
    let summary = Summary {
        database: target.describe(),
        shared_applied,
        reports,
        seconds,
        dry_run: args.dry_run.enabled,
        verified,
    };
    summarize(ctx, &summary)
}

/// Everything the final report of `up` says.
struct Summary {
    database: String,
    shared_applied: Vec<String>,
    reports: Vec<TenantReport>,
    seconds: f64,
    dry_run: bool,
    verified: Option<crate::ops::verify::Outcome>,
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
        let plan = blueprints.get(&tenant.blueprint).and_then(|bp| {
            if !tenant.schema_exists {
                return Err(format!(
                    "schema {} is missing; `tenant remove {}` then `tenant add` it again",
                    tenant.schema_name, tenant.code
                ));
            }
            let migrations = bp
                .render(&Identity { code: tenant.code.clone(), tenant_id: tenant.id })
                .map_err(|e| format!("{e:#}"))?;
            Ok(Plan::new(&migrations, &tenant.applied))
        });
        match plan {
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

async fn perform(
    ctx: &Context,
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
    let result = match item {
        // Each held across the tenant's transactions, so no verify of
        // another process sees it half done.
        Work::Create(spec) => {
            let create = async |c: &mut Client| provisioner::create(c, spec, &blueprint, settings, &ctx.printer).await;
            lock::while_held(client, Resource::Tenant(&spec.code), settings.lock_timeout, &ctx.printer, create).await
        }
        Work::Upgrade(tenant, _) => {
            let upgrade = async |c: &mut Client| {
                crate::ops::upgrade::upgrade(c, tenant, &blueprint, settings, &ctx.printer).await
            };
            lock::while_held(client, Resource::Tenant(&tenant.code), settings.lock_timeout, &ctx.printer, upgrade).await
        }
        Work::Complete(tenant, _) => {
            let complete = async |c: &mut Client| {
                crate::ops::completion::complete(c, tenant, &blueprint, settings, &ctx.printer).await
            };
            lock::while_held(client, Resource::Tenant(&tenant.code), settings.lock_timeout, &ctx.printer, complete)
                .await
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

fn summarize(ctx: &Context, summary: &Summary) -> Result<()> {
    let Summary { database, shared_applied, reports, seconds, dry_run, verified } = summary;
    let (seconds, dry_run) = (*seconds, *dry_run);
    let count = |f: fn(&TenantReport) -> bool| reports.iter().filter(|r| f(r)).count();
    let created = count(|r| matches!(r.outcome, Some(Outcome::Created { .. })));
    let upgraded = count(|r| matches!(r.outcome, Some(Outcome::Upgraded { .. })));
    let completed = count(|r| matches!(r.outcome, Some(Outcome::Completed { .. })));
    let pending = count(|r| r.would_apply.is_some());
    let failed_codes: Vec<&str> = reports.iter().filter(|r| r.error.is_some()).map(|r| r.tenant.as_str()).collect();
    let objects: i64 = reports
        .iter()
        .map(|r| match r.outcome {
            Some(Outcome::Created { objects, .. }) | Some(Outcome::Upgraded { objects, .. }) => objects,
            _ => 0,
        })
        .sum();
    let changed = !dry_run && (!shared_applied.is_empty() || created + upgraded + completed > 0);
    ctx.printer.json(&json!({
        "database": database, "dry_run": dry_run, "changed": changed,
        "shared": { "applied": if dry_run { Vec::new() } else { shared_applied.to_vec() },
                    "pending": if dry_run { shared_applied.to_vec() } else { Vec::new() } },
        "tenants": reports, "created": created, "upgraded": upgraded, "completed": completed, "objects_created": objects,
        "failed": failed_codes, "seconds": seconds, "verify": verified,
    }));
    print_human(ctx, shared_applied, reports, dry_run);
    let verdict = if !failed_codes.is_empty() {
        format!("{} failed", failed_codes.len())
    } else if dry_run {
        format!("{pending} would change")
    } else if changed && completed > 0 {
        format!("{created} created, {upgraded} upgraded, {completed} completed, {objects} objects created")
    } else if changed {
        format!("{created} created, {upgraded} upgraded, {objects} objects created")
    } else {
        "nothing to do, everything is up to date".to_owned()
    };
    ctx.printer.line(format!("{} tenants: {verdict} ({seconds:.2} s)", reports.len()));
    if let Some(outcome) = verified {
        ctx.printer.line(crate::ops::verify::report::summary(outcome));
    }
    if !failed_codes.is_empty() {
        return Err(failed(format!("tenants failed: {}", failed_codes.join(", "))));
    }
    match verified {
        Some(outcome) if !outcome.is_clean() => Err(failed(crate::ops::verify::report::summary(outcome))),
        _ => Ok(()),
    }
}

fn print_human(ctx: &Context, shared_applied: &[String], reports: &[TenantReport], dry_run: bool) {
    if !shared_applied.is_empty() {
        let verb = if dry_run { "would apply" } else { "applied" };
        ctx.printer.line(format!("shared: {verb} {}", shared_applied.join(", ")));
    }
    let mut unusable = Vec::new();
    for r in reports {
        let what = match (&r.outcome, &r.would_apply, &r.error) {
            (_, _, Some(error)) => format!("{} {error}", bad("failed")),
            (_, Some(steps), _) => format!("would apply {}", steps.join(", ")),
            (Some(Outcome::Created { version, objects, .. }), _, _) => {
                format!("{} at version {version} ({objects} objects)", good("created"))
            }
            (Some(Outcome::Upgraded { from, version, objects, .. }), _, _) => {
                format!("{} {from} → {version} ({objects:+} objects)", good("upgraded"))
            }
            (Some(Outcome::Completed { version, repaired, .. }), _, _) => {
                let shown: Vec<&str> = repaired.iter().take(2).map(String::as_str).collect();
                let more = repaired.len().saturating_sub(2);
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                format!("{} at version {version}: it lacked {}{more}", good("completed"), shown.join(", "))
            }
            (Some(Outcome::Current { version }), _, _) => {
                format!("up to date at version {version}")
            }
            _ => "already exists".to_owned(),
        };
        ctx.printer.line(format!("{:<16} {what}", strong(&r.tenant)));
        match &r.outcome {
            Some(Outcome::Created { admin: Some(admin), .. })
                if admin.generated_password.is_none() && !admin.usable_password =>
            {
                unusable.push(admin.email.clone())
            }
            Some(Outcome::Created { admin: Some(admin), .. })
            | Some(Outcome::Upgraded { admin: Some(admin), .. })
            | Some(Outcome::Completed { admin: Some(admin), .. }) => ctx.report_admin(admin),
            _ => {}
        }
    }
    ctx.report_unusable_admins(&unusable);
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

/// A full provisioning run without a summary, for `db create`'s template:
/// shared migrations, then every tenant `up` would create or upgrade,
/// exactly as `up` does them. Returns the failed tenants as
/// `code: error` (empty when all succeeded).
pub(crate) async fn provision_all(
    ctx: &Context,
    client: &mut Client,
    config: &Config,
    settings: &Settings,
) -> Result<Vec<String>> {
    let in_use = crate::ops::shared_parts::in_use(&*client, config).await?;
    shared::apply(client, ctx.lock_timeout(), &ctx.printer, &crate::ops::shared_parts::parts(&in_use)).await?;
    let registered = registry::snapshot(&*client, None).await?;
    let blueprints = Blueprints::new(config);
    let gaps = blueprints.survey(client, &registered).await?;
    let mut reports = Vec::new();
    let work = decide(config, &registered, &blueprints, &gaps, &mut reports);
    for item in work {
        let report = perform(ctx, settings, client, item, &blueprints).await;
        reports.push(report);
    }
    Ok(reports.into_iter().filter_map(|r| r.error.map(|error| format!("{}: {error}", r.tenant))).collect())
}
