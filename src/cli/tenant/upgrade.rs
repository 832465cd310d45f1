//! `provision tenant upgrade <code>... | --all [--jobs N] [--dry-run]`: apply
//! pending blueprint versions to tenants in parallel over a bounded pool of
//! connections, each tenant in its own transactions under its own lock. A
//! failing tenant is reported and the others continue; a re-run resumes.
//! Every run also completes each registered tenant an interrupted run left
//! incomplete (named or not; see [`crate::ops::completion`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantUpgradeArgs;
use crate::cli::context::Context;
use crate::error::{bad_input, tenants_failed};
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::{Outcome, UpgradeTimeouts};
use crate::store::lock::{self, Resource};
use crate::store::migrate::Plan;
use crate::store::registry::{self, Registered};
use crate::{ops::completion, ops::fleet, ops::upgrade, store::shared};

pub async fn run(ctx: &Context, args: &TenantUpgradeArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    let timeouts = timeouts(args)?;
    let wanted: Vec<TenantCode> = args.codes.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    let (mut client, target) = ctx.connect().await?;
    if !args.dry_run {
        let in_use = crate::ops::shared_parts::in_use(&client, &config).await?;
        let parts = crate::ops::shared_parts::parts(&in_use);
        shared::apply(&mut client, ctx.lock_timeout(), &ctx.printer, &parts).await?;
        crate::failpoint::hit("tenant_upgrade.after_shared");
    }
    let (tenants, others) = select(&client, &wanted).await?;
    let mut blueprints: HashMap<String, Blueprint> = HashMap::new();
    for t in &tenants {
        if !blueprints.contains_key(&t.blueprint) {
            blueprints.insert(t.blueprint.clone(), Blueprint::load(&config.templates_dir, &t.blueprint)?);
        }
    }
    for t in &others {
        if !blueprints.contains_key(&t.blueprint) {
            // Another tenant's broken blueprint is `up`'s to report, not this run's.
            if let Ok(bp) = Blueprint::load(&config.templates_dir, &t.blueprint) {
                blueprints.insert(t.blueprint.clone(), bp);
            }
        }
    }
    let gaps = survey(&mut client, tenants.iter().chain(&others), &blueprints).await?;
    let mut work: Vec<&Registered> = tenants
        .iter()
        .filter(|t| needs_work(t, &blueprints[&t.blueprint]) || gaps.contains_key(t.code.as_str()))
        .collect();
    work.extend(others.iter().filter(|t| gaps.contains_key(t.code.as_str())));
    let total = tenants.len() + work.len() - work.iter().filter(|w| tenants.iter().any(|t| t.code == w.code)).count();
    if args.dry_run {
        return dry_run(ctx, &work, &blueprints, &gaps);
    }
    crate::ops::gate::before_upgrade(&mut client, &ctx.env(), &work, &blueprints, args.strict).await?;
    let mut settings = ctx.settings(&crate::cli::args::AdminArgs { admin_password: None }, &target, &config);
    settings.upgrade = timeouts;
    let mut clients = vec![client];
    while clients.len() < (args.jobs as usize).min(work.len()) {
        clients.push(ctx.connect().await?.0);
    }
    let progress = ctx.printer.fleet_progress(work.len() as u64, clients.len(), "upgrading tenants");
    let connect = async || target.connect().await;
    let results = fleet::for_each_fresh(&mut clients, work, connect, async |worker, client, tenant| {
        progress.working(worker, &format!("{}: upgrading", tenant.code));
        let blueprint = &blueprints[&tenant.blueprint];
        let complete_only = match gaps.get(tenant.code.as_str()) {
            // Not named: completed at its version, unless its creation was
            // interrupted (then its versions are part of completing it).
            Some(gap) => !tenants.iter().any(|t| t.code == tenant.code) && !gap.creating,
            None => false,
        };
        // Held across the tenant's transactions, so no verify sees it half done.
        let work = async |c: &mut tokio_postgres::Client| match complete_only {
            true => completion::complete(c, tenant, blueprint, &settings, &ctx.printer).await,
            false => upgrade::upgrade(c, tenant, blueprint, &settings, &ctx.printer).await,
        };
        let result =
            lock::while_held(client, Resource::Tenant(&tenant.code), settings.lock_timeout, &ctx.printer, work).await;
        progress.done(&ctx.printer, line(tenant, &result));
        crate::failpoint::hit("tenant_upgrade.after_tenant");
        (tenant.code.as_str().to_owned(), result)
    })
    .await;
    progress.finish();
    summarize(ctx, total, results, started.elapsed().as_secs_f64())
}

fn timeouts(args: &TenantUpgradeArgs) -> Result<UpgradeTimeouts> {
    if !(args.ddl_timeout > 0.0 && args.ddl_timeout <= 3600.0 && (0.0..=86_400.0).contains(&args.statement_timeout)) {
        return Err(bad_input("--ddl-timeout must be in (0, 3600] and --statement-timeout in [0, 86400] seconds"));
    }
    Ok(UpgradeTimeouts {
        ddl: Duration::from_secs_f64(args.ddl_timeout),
        statement: (args.statement_timeout > 0.0).then(|| Duration::from_secs_f64(args.statement_timeout)),
    })
}

/// The active tenants named (all with none named), and the other active ones.
async fn select(client: &tokio_postgres::Client, wanted: &[TenantCode]) -> Result<(Vec<Registered>, Vec<Registered>)> {
    let all = registry::snapshot(client, None).await?;
    if let Some(missing) = wanted.iter().find(|c| !all.iter().any(|t| &t.code == *c)) {
        return Err(registry::not_registered(missing));
    }
    Ok(all.into_iter().filter(|t| t.is_active()).partition(|t| wanted.is_empty() || wanted.contains(&t.code)))
}

/// The incomplete tenants among `tenants` whose blueprint loaded, in one query.
async fn survey<'a>(
    client: &mut tokio_postgres::Client,
    tenants: impl Iterator<Item = &'a Registered>,
    blueprints: &HashMap<String, Blueprint>,
) -> Result<HashMap<String, completion::Gap>> {
    let pairs: Vec<(&Registered, &Blueprint)> =
        tenants.filter(|t| t.schema_exists).filter_map(|t| blueprints.get(&t.blueprint).map(|bp| (t, bp))).collect();
    completion::survey(client, &pairs).await
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

fn line(tenant: &Registered, result: &Result<Outcome>) -> Result<String, String> {
    match result {
        Ok(Outcome::Upgraded { from, version, applied, .. }) => {
            Ok(format!("{:<16} upgraded {from} → {version} ({})", tenant.code.as_str(), applied.join(", ")))
        }
        Ok(Outcome::Completed { version, .. }) => Ok(format!(
            "{:<16} completed at version {version} (an interrupted run left it incomplete)",
            tenant.code.as_str()
        )),
        Ok(_) => Ok(format!("{:<16} up to date", tenant.code.as_str())),
        Err(e) => Err(format!("tenant {}: {}", tenant.code, crate::pg::connection::redact(&format!("{e:#}")))),
    }
}

fn dry_run(
    ctx: &Context,
    work: &[&Registered],
    blueprints: &HashMap<String, Blueprint>,
    gaps: &HashMap<String, completion::Gap>,
) -> Result<()> {
    let mut plans = Vec::new();
    for tenant in work {
        let identity = Identity { code: tenant.code.clone(), tenant_id: tenant.id };
        let plan = Plan::new(&blueprints[&tenant.blueprint].render(&identity)?, &tenant.applied);
        ctx.printer.line(format!("-- tenant {} (at version {})", tenant.code, tenant.version()));
        let missing = gaps.get(tenant.code.as_str()).map(|g| g.missing.clone()).unwrap_or_default();
        for gap in &missing {
            ctx.printer.line(format!("-- would complete: {gap}"));
        }
        for (name, _) in &plan.edited {
            ctx.printer.line(format!("-- REFUSED: applied version {name} was edited since it ran"));
        }
        for migration in &plan.pending {
            ctx.printer.line(format!("-- {migration}\n{}\n", migration.sql().unwrap_or_default().trim_end()));
        }
        plans.push(json!({
            "tenant": tenant.code.as_str(), "version": tenant.version(),
            "pending": plan.pending.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "edited": plan.edited.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "incomplete": missing,
        }));
    }
    ctx.printer.json(&json!({ "dry_run": true, "tenants": plans }));
    ctx.printer.line(format!("upgrade (dry run): {} tenants would change; nothing was changed", work.len()));
    Ok(())
}

fn summarize(ctx: &Context, total: usize, mut results: Vec<(String, Result<Outcome>)>, seconds: f64) -> Result<()> {
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let upgraded = results.iter().filter(|(_, r)| matches!(r, Ok(Outcome::Upgraded { .. }))).count();
    let completed = results.iter().filter(|(_, r)| matches!(r, Ok(Outcome::Completed { .. }))).count();
    let failed_codes: Vec<&str> = results.iter().filter(|(_, r)| r.is_err()).map(|(c, _)| c.as_str()).collect();
    ctx.printer.json(&json!({
        "tenants": results.iter().map(|(code, r)| match r {
            Ok(outcome) => json!({ "tenant": code, "result": outcome }),
            Err(e) => json!({ "tenant": code, "error": crate::pg::connection::redact(&format!("{e:#}")) }),
        }).collect::<Vec<_>>(),
        "summary": { "tenants": total, "upgraded": upgraded, "completed": completed, "failed": failed_codes,
                     "seconds": seconds },
    }));
    let completed_note = match completed {
        0 => String::new(),
        n => format!(", {n} completed"),
    };
    ctx.printer.line(format!(
        "upgrade: {total} tenants, {upgraded} upgraded{completed_note}, {} up to date, {} failed ({seconds:.2} s)",
        total.saturating_sub(upgraded + completed + failed_codes.len()),
        failed_codes.len()
    ));
    match failed_codes.is_empty() {
        true => Ok(()),
        false => Err(tenants_failed(
            format!("upgrade failed for tenants: {}", failed_codes.join(", ")),
            results.iter().filter_map(|(_, r)| r.as_ref().err()),
        )),
    }
}
