//! `provision partitions rollover`: make partitions exist through premake
//! ahead, fill gaps, apply retention — for every tenant, from cron. One
//! summary line at the end; exit 0 only if every tenant succeeded.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::cli::args::RolloverArgs;
use crate::cli::context::Context;
use crate::cli::partitions::inputs;
use crate::cli::printer::{bad, strong};
use crate::error::{bad_input, failed, unavailable};
use crate::ops::rollover::{self, ActionKind, Options, TenantResult};

pub async fn run(ctx: &Context, args: &RolloverArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    if !(args.ddl_timeout > 0.0 && args.ddl_timeout <= 3600.0) {
        return Err(bad_input("--ddl-timeout must be more than 0 and at most 3600 seconds"));
    }
    if !(args.statement_timeout > 0.0 && args.statement_timeout <= 86_400.0) {
        return Err(bad_input("--statement-timeout must be more than 0 and at most 86400 seconds"));
    }
    let statement_timeout = Duration::from_secs_f64(args.statement_timeout);
    let (client, _) = ctx.connect().await?;
    rollover::bound_session(&client, statement_timeout).await?;
    if let Some(now) = &args.now {
        rollover::check_now(&client, now).await.map_err(|e| bad_now(e, &args.now))?;
    }
    let inputs = inputs::collect(&client, &config, &args.tenants).await?;
    let plan = rollover::plan(&client, &inputs, args.now.as_deref()).await.map_err(|e| bad_now(e, &args.now))?;
    if args.dry_run {
        return print_plan(ctx, &plan, args);
    }
    let options = Options {
        now: args.now.clone(),
        ddl_timeout: Duration::from_secs_f64(args.ddl_timeout),
        retries: args.retries,
        wait: args.wait.then(|| ctx.lock_timeout()),
        statement_timeout,
    };
    let mut clients = vec![client];
    while clients.len() < (args.jobs as usize).min(plan.len()) {
        let (client, _) = ctx.connect().await?;
        rollover::bound_session(&client, statement_timeout).await?;
        clients.push(client);
    }
    let bar = ctx.printer.progress(plan.len() as u64, "rollover");
    let report = |r: &TenantResult| {
        bar.inc(1);
        bar.suspend(|| report_tenant(ctx, r));
    };
    let results = rollover::execute(clients, plan, &inputs, &options, &report).await;
    bar.finish_and_clear();
    let tenant_count = inputs.iter().map(|i| &i.code).collect::<std::collections::BTreeSet<_>>().len();
    summarize(ctx, tenant_count, &results, started.elapsed().as_secs_f64())
}

/// `--now` is parsed by the database; a value it rejects is bad input.
fn bad_now(error: anyhow::Error, now: &Option<String>) -> anyhow::Error {
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

fn report_tenant(ctx: &Context, r: &TenantResult) {
    match r.status {
        "skipped" => ctx
            .printer
            .line(format!("{:<16} skipped: another provision process holds its lock (use --wait to wait)", r.tenant)),
        // A lock timeout's one-line reason ends the run as its error instead.
        "failed" if r.lock_timeout => {}
        "failed" => ctx.printer.warn(format!("tenant {}: {}", r.tenant, r.error.as_deref().unwrap_or("failed"))),
        _ => ctx.printer.line(format!(
            "{:<16} {} created, {} detached, {} dropped, {} archived, {} rows moved",
            strong(&r.tenant),
            r.created.len(),
            r.detached.len(),
            r.dropped.len(),
            r.archived.len(),
            r.rows_moved
        )),
    }
}

fn summarize(ctx: &Context, tenants: usize, results: &[TenantResult], seconds: f64) -> Result<()> {
    let sum = |f: fn(&TenantResult) -> usize| results.iter().map(f).sum::<usize>();
    let created = sum(|r| r.created.len());
    let detached = sum(|r| r.detached.len());
    let dropped = sum(|r| r.dropped.len());
    let moved: u64 = results.iter().map(|r| r.rows_moved).sum();
    let failed_codes: Vec<&str> = results.iter().filter(|r| r.status == "failed").map(|r| r.tenant.as_str()).collect();
    let skipped = results.iter().filter(|r| r.status == "skipped").count();
    ctx.printer.json(&json!({
        "dry_run": false, "tenants": results,
        "summary": { "tenants": tenants, "created": created, "detached": detached, "dropped": dropped,
                     "rows_moved": moved, "skipped": skipped, "failures": failed_codes.len(), "seconds": seconds },
    }));
    let failures = match failed_codes.len() {
        0 => "0 failures".to_owned(),
        n => format!("{} ({})", bad(format!("{n} failures")), failed_codes.join(", ")),
    };
    ctx.printer.line(format!(
        "rollover: {tenants} tenants, {created} partitions created, {detached} detached, {dropped} dropped, \
         {moved} rows moved, {skipped} skipped, {failures} in {seconds:.2} s"
    ));
    let failures: Vec<&TenantResult> = results.iter().filter(|r| r.status == "failed").collect();
    if failures.is_empty() {
        return Ok(());
    }
    // Lock timeouts only: exit 3 with their one-line reasons; else exit 1.
    if failures.iter().all(|r| r.lock_timeout) {
        let reasons: Vec<&str> = failures.iter().filter_map(|r| r.error.as_deref()).collect();
        return Err(unavailable(format!("rollover incomplete, lock timeout: {}", reasons.join("; "))));
    }
    Err(failed(format!("rollover failed for tenants: {}", failed_codes.join(", "))))
}

fn print_plan(
    ctx: &Context,
    plan: &std::collections::BTreeMap<String, Vec<rollover::Action>>,
    args: &RolloverArgs,
) -> Result<()> {
    ctx.printer.json(&json!({ "dry_run": true, "now": args.now, "plan": plan }));
    for (tenant, actions) in plan {
        for action in actions {
            let verb = match action.kind {
                ActionKind::Attach | ActionKind::Create => "would create",
                ActionKind::Detach => "would detach",
                ActionKind::Drop => "would drop",
                ActionKind::Archive => "would archive",
                _ => continue,
            };
            if action.kind == ActionKind::Create && !action.target.ends_with("_default") {
                continue; // the attach line speaks for a new period
            }
            ctx.printer.line(format!("{tenant:<16} {verb} {}", action.target));
        }
    }
    let count = plan.values().map(|a| a.iter().filter(|x| x.kind == ActionKind::Attach).count()).sum::<usize>();
    ctx.printer.line(format!("rollover (dry run): {count} partitions would be created; nothing was changed"));
    Ok(())
}
