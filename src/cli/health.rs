//! `provision health`: one line per check (status, name, what was found and,
//! when it is not ok, what to do), or the report as JSON; exit 1 when any
//! check failed.

use std::time::Duration;

use anyhow::Result;

use crate::cli::args::HealthArgs;
use crate::cli::context::Context;
use crate::cli::printer::{bad, good, strong};
use crate::error::{bad_input, failed};
use crate::ops::health::{self, Check, Status};

pub async fn run(ctx: &Context, args: &HealthArgs) -> Result<()> {
    if !(args.lock_wait_threshold.is_finite() && args.lock_wait_threshold >= 0.0) {
        return Err(bad_input(format!(
            "--lock-wait-threshold {}: give a number of seconds, 0 or more",
            args.lock_wait_threshold
        )));
    }
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let options = health::Options { lock_wait_threshold: Duration::from_secs_f64(args.lock_wait_threshold) };
    let report = health::run(&mut client, &target, &config, options).await?;
    let mut document = serde_json::to_value(&report)?;
    document["database"] = crate::cli::json::database(&target);
    ctx.printer.json_report(&document);
    ctx.printer.line(&report.database);
    for check in &report.checks {
        print_check(ctx, check);
    }
    let failed_checks = report.failed();
    if failed_checks.is_empty() {
        ctx.printer.line(format!("{}", good("healthy")));
        return Ok(());
    }
    let names: Vec<&str> = failed_checks.iter().map(|c| c.name).collect();
    Err(failed(format!("unhealthy: {} failed; each line above says what to do", names.join(", "))))
}

fn print_check(ctx: &Context, check: &Check) {
    let label = match check.status {
        Status::Ok => good("ok  ").to_string(),
        Status::Warn => strong("warn").to_string(),
        Status::Fail => bad("FAIL").to_string(),
    };
    ctx.printer.line(format!("{label}  {:<16} {}", check.name, check.summary));
    let items = if check.status == Status::Ok { &[][..] } else { &check.items[..] };
    for item in items {
        ctx.printer.line(format!("        {item}"));
    }
    if let Some(action) = &check.action {
        ctx.printer.line(format!("        -> {action}"));
    }
}
