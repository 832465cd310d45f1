//! `provision up`: the main job (see [`crate::ops::up`]): arguments in,
//! the run's report out as text or JSON. One tenant's failure does not stop
//! the others; the exit code reports it.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::UpArgs;
use crate::cli::context::Context;
use crate::cli::printer::{self, bad, good, strong};
use crate::cli::reporters::UpProgress;
use crate::error::failed;
use crate::ops::provisioner::Outcome;
use crate::ops::up::{self, Options, TenantReport, UpReport};

pub async fn run(ctx: &Context, args: &UpArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    let (client, target) = ctx.connect().await?;
    let settings = ctx.settings(&args.admin, &target, &config);
    let options = Options {
        dry_run: args.dry_run.enabled,
        verify: !args.no_verify,
        strict: args.strict,
        jobs: args.jobs.get(),
        gate: ctx.scope.as_ref().is_none_or(|s| !s.gate_passed),
    };
    let progress = UpProgress::new(&ctx.printer);
    let open = async || Ok(ctx.connect().await?.0);
    let report = up::up(&progress, (client, &target), open, &config, &settings, &options).await?;
    let summary = Summary {
        database: crate::cli::json::database(&target),
        report,
        seconds: started.elapsed().as_secs_f64(),
        dry_run: args.dry_run.enabled,
        check: args.check,
    };
    summarize(ctx, &summary)
}

/// Everything the final report of `up` says.
struct Summary {
    /// `{"name", "host", "port", "user"}` (see [`crate::cli::json::database`]).
    database: serde_json::Value,
    report: UpReport,
    seconds: f64,
    dry_run: bool,
    /// `--dry-run --check`: fail when anything would change.
    check: bool,
}

fn summarize(ctx: &Context, summary: &Summary) -> Result<()> {
    let Summary { database, report, seconds, dry_run, check } = summary;
    let UpReport { shared_applied, tenants: reports, verified } = report;
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
    let mut tenants: Vec<serde_json::Value> = reports.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    crate::cli::json::with_outcomes(&mut tenants, |t| match (t.get("error"), t.get("would_apply")) {
        (Some(_), _) => "failed",
        (None, Some(_)) => "would_change",
        (None, None) => "already_exists",
    });
    ctx.printer.json(&json!({
        "database": database, "dry_run": dry_run, "changed": changed,
        "shared": { "applied": if dry_run { Vec::new() } else { shared_applied.to_vec() },
                    "pending": if dry_run { shared_applied.to_vec() } else { Vec::new() } },
        "tenants": tenants, "created": created, "upgraded": upgraded, "completed": completed, "objects_created": objects,
        "failed": failed_codes, "seconds": seconds, "verify": verified,
    }));
    print_human(ctx, shared_applied, reports, dry_run);
    let verdict = if !failed_codes.is_empty() {
        format!("{} failed", failed_codes.len())
    } else if dry_run {
        format!("{pending} would change")
    } else if changed && completed > 0 {
        let objects = printer::count(objects, "object");
        format!("{created} created, {upgraded} upgraded, {completed} completed, {objects} created")
    } else if changed {
        format!("{created} created, {upgraded} upgraded, {} created", printer::count(objects, "object"))
    } else {
        "nothing to do, everything is up to date".to_owned()
    };
    ctx.printer.summary(format!("{}: {verdict} ({seconds:.2} s)", printer::count(reports.len(), "tenant")));
    if let Some(outcome) = verified {
        ctx.printer.line(crate::ops::verify::report::summary(outcome));
    }
    if !failed_codes.is_empty() {
        return Err(failed(format!("tenants failed: {}", failed_codes.join(", "))));
    }
    if *check && (pending > 0 || !shared_applied.is_empty()) {
        return Err(failed(check_failure(shared_applied, reports)));
    }
    match verified {
        Some(outcome) if !outcome.is_clean() => Err(failed(crate::ops::verify::report::summary(outcome))),
        _ => Ok(()),
    }
}

/// `--dry-run --check`'s error line: what would change, by name, for CI logs.
fn check_failure(shared: &[String], reports: &[TenantReport]) -> String {
    let tenants: Vec<&str> = reports.iter().filter(|r| r.would_apply.is_some()).map(|r| r.tenant.as_str()).collect();
    let mut parts = Vec::new();
    if !shared.is_empty() {
        parts.push(format!("{} ({})", printer::count(shared.len(), "shared version"), shared.join(", ")));
    }
    if !tenants.is_empty() {
        parts.push(format!("{} ({})", printer::count(tenants.len(), "tenant"), tenants.join(", ")));
    }
    format!("up --dry-run --check: {} would change", parts.join(" and "))
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
                format!("{} at version {version} ({})", good("created"), printer::count(*objects, "object"))
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
