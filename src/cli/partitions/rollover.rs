//! `provision partitions rollover`: make partitions exist through premake
//! ahead, fill gaps, apply retention — for every tenant, from cron (see
//! [`crate::ops::partitions::rollover`]). One summary line at the end; exit 0
//! only if every tenant succeeded.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::RolloverArgs;
use crate::cli::context::Context;
use crate::cli::printer::{bad, count};
use crate::cli::reporters::RolloverProgress;
use crate::error::bad_input;
use crate::ops::partitions::rollover::{self, Change, Planned, Rolled};
use crate::ops::rollover::{DefaultRows, Options};

pub async fn run(ctx: &Context, args: &RolloverArgs) -> Result<()> {
    let config = ctx.config()?;
    if !(args.ddl_timeout > 0.0 && args.ddl_timeout <= 3600.0) {
        return Err(bad_input("--ddl-timeout must be more than 0 and at most 3600 seconds"));
    }
    if !(args.statement_timeout > 0.0 && args.statement_timeout <= 86_400.0) {
        return Err(bad_input("--statement-timeout must be more than 0 and at most 86400 seconds"));
    }
    let statement_timeout = Duration::from_secs_f64(args.statement_timeout);
    let (client, _) = ctx.connect().await?;
    let planned = rollover::plan(
        &client,
        &config,
        &args.tenants.codes,
        args.now.as_deref(),
        statement_timeout,
        DefaultRows::Place,
    )
    .await?;
    if args.dry_run.enabled {
        print_plan(ctx, &planned, args);
        return Ok(());
    }
    let options = Options {
        now: args.now.clone(),
        ddl_timeout: Duration::from_secs_f64(args.ddl_timeout),
        retries: args.retries,
        wait: args.wait.then(|| ctx.lock_timeout()),
        statement_timeout,
    };
    let progress = RolloverProgress::new(&ctx.printer, planned.plan.len());
    let connect = async || Ok(ctx.connect().await?.0);
    let jobs = args.jobs.map_or_else(default_jobs, usize::from);
    let rolled = rollover::execute(&progress, client, connect, planned, &options, jobs).await?;
    progress.finish();
    summarize(ctx, &rolled);
    rolled.verdict()
}

/// `--jobs` when not given: one session per CPU of this machine, at most 4.
/// Each new partition is server-bound DDL, so a second session halves the
/// run on an idle 2-core server (BENCHMARKS.md, "`partitions rollover` vs
/// pg_partman"); beyond the server's cores, sessions only queue. cron
/// usually runs on the database host or one like it; pass --jobs otherwise.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_DEFAULT_JOBS)
}

const MAX_DEFAULT_JOBS: usize = 4;

fn summarize(ctx: &Context, rolled: &Rolled) {
    if let Ok(mut document) = serde_json::to_value(rolled) {
        crate::cli::json::status_as_outcome(&mut document);
        ctx.printer.json_report(&document);
    }
    let s = &rolled.summary;
    let failures = match rolled.failed() {
        failed if failed.is_empty() => "0 failures".to_owned(),
        failed => format!("{} ({})", bad(count(failed.len(), "failure")), failed.join(", ")),
    };
    ctx.printer.summary(format!(
        "rollover: {}, {} created, {} detached, {} dropped, {} moved, {} released, {} skipped, {failures} in {:.2} s",
        count(s.tenants, "tenant"),
        count(s.created, "partition"),
        s.detached,
        s.dropped,
        count(s.rows_moved, "row"),
        count(s.rows_released, "row"),
        s.skipped,
        s.seconds
    ));
}

fn print_plan(ctx: &Context, planned: &Planned, args: &RolloverArgs) {
    let now = args.now.as_deref().map(crate::cli::json::wall_clock);
    ctx.printer.json(&json!({ "dry_run": true, "now": now, "plan": planned.plan }));
    for (tenant, change, target) in planned.changes() {
        let verb = match change {
            Change::Create => "would create",
            Change::Detach => "would detach",
            Change::Drop => "would drop",
            Change::Archive => "would archive",
            Change::ReleaseRows => "would delete the DEFAULT's rows of the period of",
            Change::ArchiveRows => "would archive the DEFAULT's rows of their period into",
        };
        ctx.printer.line(format!("{tenant:<16} {verb} {target}"));
    }
    let partitions = count(planned.partitions_to_create(), "partition");
    ctx.printer.line(format!("rollover (dry run): {partitions} would be created; nothing was changed"));
}
