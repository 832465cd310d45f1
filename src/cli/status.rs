//! `provision status [--check]`: the shared version, and per tenant its
//! schema, blueprint, applied version and pending versions (the work is
//! [`crate::ops::status`]). Reads only. With `--check` it exits 1 when
//! anything is pending or drifted, its error line saying why (for CI gates).

use anyhow::Result;
use serde_json::json;

use crate::cli::args::StatusArgs;
use crate::cli::blueprint::describe_origin;
use crate::cli::context::Context;
use crate::error::failed;
use crate::ops::status::{self, Status, TenantStatus, Verified};

fn names(migrations: &[refinery_core::Migration]) -> Vec<String> {
    migrations.iter().map(ToString::to_string).collect()
}

pub async fn run(ctx: &Context, args: &StatusArgs) -> Result<()> {
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let status = status::status(&mut client, &target, &config).await?;
    let rows: Vec<serde_json::Value> = status.tenants.iter().map(tenant_row).collect();
    let verified = verify_summary(&status.verified);
    let shared_plan = &status.shared;
    let blueprint_parts: Vec<serde_json::Value> = shared_plan
        .blueprints
        .iter()
        .map(|(bp, plan)| json!({ "blueprint": bp, "version": plan.current, "pending": names(&plan.pending) }))
        .collect();
    ctx.printer.json(&json!({
        "database": crate::cli::json::database(&target), "verify": verified,
        "shared": { "version": shared_plan.core.current, "latest": status.latest,
                    "pending": names(&shared_plan.core.pending), "blueprints": blueprint_parts },
        "tenants": rows, "declared_not_created": status.declared_not_created,
    }));
    ctx.printer.line(target.describe());
    print_human(ctx, &status, &rows);
    ctx.printer.line(verified["summary"].as_str().unwrap_or_default());
    match args.check {
        true => check(&status),
        false => Ok(()),
    }
}

/// `--check`: exit 1 naming everything pending or drifted.
fn check(status: &Status) -> Result<()> {
    let why = status.check_failures();
    match why.is_empty() {
        true => Ok(()),
        false => Err(failed(format!("status --check: {}", why.join("; ")))),
    }
}

fn print_human(ctx: &Context, status: &Status, rows: &[serde_json::Value]) {
    let shared_plan = &status.shared;
    ctx.printer.line(format!(
        "shared: version {} of {}, {} pending",
        shared_plan.core.current,
        status.latest,
        shared_plan.core.pending.len()
    ));
    if shared_plan.rerecorded > 0 {
        ctx.printer.line(format!(
            "shared: {} recorded before blueprint packs; the next `up` re-records them",
            crate::report::count(shared_plan.rerecorded, "version")
        ));
    }
    for (bp, plan) in &shared_plan.blueprints {
        ctx.printer.line(format!("shared part of {bp}: version {}, {} pending", plan.current, plan.pending.len()));
    }
    for row in rows {
        let pending = row["pending"].as_array().map_or(0, Vec::len);
        let problem = row["problem"].as_str().map(|p| format!("  ({p})")).unwrap_or_default();
        let from = row["blueprint_from"].as_str().unwrap_or("missing");
        ctx.printer.line(format!(
            "{:<16} {:<24} {:<14} version {:>3}, {pending} pending  {}{problem}  (blueprint from {from})",
            row["tenant"].as_str().unwrap_or(""),
            row["schema"].as_str().unwrap_or("(rows)"),
            row["blueprint"].as_str().unwrap_or(""),
            row["version"],
            row["status"].as_str().unwrap_or(""),
        ));
        for diff in row["diffs"].as_array().into_iter().flatten() {
            match diff["diff"].as_str() {
                Some(text) => ctx.printer.line(text.trim_end()),
                None => ctx.printer.line(format!(
                    "  {}: what it ran was not recorded (applied before provision kept template sources)",
                    diff["name"].as_str().unwrap_or("")
                )),
            }
        }
    }
    if !status.declared_not_created.is_empty() {
        ctx.printer
            .line(format!("declared in tenants.toml but not created: {}", status.declared_not_created.join(", ")));
    }
}

/// `provision verify`'s verdict in one line (status reports, it does not fail).
fn verify_summary(verified: &Verified) -> serde_json::Value {
    match verified {
        Verified::NothingYet => json!({ "summary": "verify: nothing to verify yet (run `provision up`)" }),
        Verified::Ran(outcome) => json!({
            "clean": outcome.is_clean(), "problems": outcome.findings.len(),
            "summary": crate::ops::verify::report::summary(outcome),
        }),
        Verified::CouldNotRun(error) => json!({ "summary": format!("verify: could not run ({error})") }),
    }
}

fn tenant_row(row: &TenantStatus) -> serde_json::Value {
    let tenant = &row.tenant;
    json!({
        "tenant": tenant.code.as_str(), "schema": (!tenant.row).then_some(&tenant.schema_name),
        "tenancy": if tenant.row { "row" } else { "schema" }, "blueprint": tenant.blueprint,
        "blueprint_from": row.origin.as_ref().map(describe_origin), "status": tenant.status,
        "version": tenant.version(), "pending": row.pending, "problem": row.problem, "diffs": row.diffs,
    })
}
