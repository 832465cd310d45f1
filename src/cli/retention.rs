//! `provision retention run`: apply every pack's `[[retention]]` rules to
//! every active tenant, from cron (see [`crate::ops::retention`]). One line
//! per table that had rows to change, one summary line; exit 0 only when
//! every tenant is done, 3 when only lock waits ran out, 1 on a failure.

use anyhow::Result;

use crate::cli::args::RetentionRunArgs;
use crate::cli::context::Context;
use crate::cli::printer::{bad, count};
use crate::error::bad_input;
use crate::ops::retention::{self, Options, Report};

pub async fn run(ctx: &Context, args: &RetentionRunArgs) -> Result<()> {
    let config = ctx.config()?;
    if !(1..=1_000_000).contains(&args.batch) {
        return Err(bad_input("--batch must be from 1 to 1000000 rows"));
    }
    let options = Options {
        now: args.now.clone(),
        dry_run: args.dry_run.enabled,
        batch: args.batch,
        lock_timeout: ctx.lock_timeout(),
    };
    let (mut client, _) = ctx.connect().await?;
    let planned = retention::plan(&client, &config, &args.tenants.codes, &options).await?;
    let report = retention::execute(&mut client, &planned, &options, &ctx.printer).await;
    summarize(ctx, &report);
    report.verdict()
}

fn summarize(ctx: &Context, report: &Report) {
    if let Ok(mut document) = serde_json::to_value(report) {
        crate::cli::json::status_as_outcome(&mut document);
        crate::cli::json::wall_clock_keys(&mut document, &["now"]);
        let tables = document["tenants"].as_array_mut().into_iter().flatten().filter_map(|t| t.get_mut("tables"));
        for table in tables.filter_map(serde_json::Value::as_array_mut).flatten() {
            crate::cli::json::wall_clock_keys(table, &["cutoff"]);
        }
        ctx.printer.json_report(&document);
    }
    for tenant in &report.tenants {
        for table in tenant.tables.iter().filter(|t| t.rows > 0) {
            let done = match (report.dry_run, table.action) {
                (true, "delete") => "would delete",
                (true, _) => "would anonymise",
                (false, "delete") => "deleted",
                (false, _) => "anonymised",
            };
            ctx.printer.line(format!(
                "{:<16} {:<24} {done} {} older than {} ({}, rule {})",
                tenant.tenant,
                table.table,
                count(table.rows, "row"),
                table.cutoff,
                table.age,
                table.rule
            ));
        }
        if let Some(error) = &tenant.error {
            // The error names the tenant already ("tenant beta: …"): the column says it once.
            let error = error.strip_prefix(&format!("tenant {}: ", tenant.tenant)).unwrap_or(error);
            ctx.printer.line(format!("{:<16} {}", tenant.tenant, bad(error)));
        }
    }
    let failed = report.tenants.iter().filter(|t| t.status == "failed").count();
    let rows = count(report.rows(), "row");
    let what = if report.dry_run { "would change; nothing was changed (dry run)" } else { "changed" };
    ctx.printer
        .summary(format!("retention: {}, {rows} {what}, {failed} failed", count(report.tenants.len(), "tenant")));
}
