//! `provision status`: the shared version, and per tenant its schema,
//! blueprint, applied version and pending versions. Reads only.

use anyhow::Result;
use serde_json::json;

use crate::cli::blueprint::describe_origin;
use crate::cli::context::Context;
use crate::model::blueprint::{Blueprint, Identity};
use crate::store::migrate::{shared_migrations, Plan};
use crate::store::registry::{self, Registered};
use crate::store::shared;

fn names(migrations: &[refinery_core::Migration]) -> Vec<String> {
    migrations.iter().map(ToString::to_string).collect()
}

pub async fn run(ctx: &Context) -> Result<()> {
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let in_use = crate::ops::shared_parts::in_use(&client, &config).await?;
    let shared_plan = shared::plan(&client, &crate::ops::shared_parts::parts(&in_use)).await?;
    let blueprint_parts: Vec<serde_json::Value> = shared_plan
        .blueprints
        .iter()
        .map(|(bp, plan)| json!({ "blueprint": bp, "version": plan.current, "pending": names(&plan.pending) }))
        .collect();
    let latest = shared_migrations().last().map_or(0, |m| m.version());
    let tenants = registry::snapshot(&client, None).await?;
    let rows: Vec<serde_json::Value> = tenants.iter().map(|t| tenant_row(t, &config.templates_dir)).collect();
    let declared: Vec<&str> =
        config.tenants.iter().filter(|s| !tenants.iter().any(|t| t.code == s.code)).map(|s| s.code.as_str()).collect();
    let verified = verify_summary(&mut client, &target, &config, &tenants).await;
    ctx.printer.json(&json!({
        "database": target.describe(), "verify": verified,
        "shared": { "version": shared_plan.core.current, "latest": latest,
                    "pending": names(&shared_plan.core.pending), "blueprints": blueprint_parts },
        "tenants": rows, "declared_not_created": declared,
    }));
    ctx.printer.line(target.describe());
    ctx.printer.line(format!(
        "shared: version {} of {latest}, {} pending",
        shared_plan.core.current,
        shared_plan.core.pending.len()
    ));
    if shared_plan.rerecorded > 0 {
        ctx.printer.line(format!(
            "shared: {} versions recorded before blueprint packs; the next `up` re-records them",
            shared_plan.rerecorded
        ));
    }
    for (bp, plan) in &shared_plan.blueprints {
        ctx.printer.line(format!("shared part of {bp}: version {}, {} pending", plan.current, plan.pending.len()));
    }
    for row in &rows {
        let pending = row["pending"].as_array().map_or(0, Vec::len);
        let problem = row["problem"].as_str().map(|p| format!("  ({p})")).unwrap_or_default();
        let from = row["blueprint_from"].as_str().unwrap_or("missing");
        ctx.printer.line(format!(
            "{:<16} {:<24} {:<14} version {:>3}, {pending} pending  {}{problem}  (blueprint from {from})",
            row["tenant"].as_str().unwrap_or(""),
            row["schema"].as_str().unwrap_or(""),
            row["blueprint"].as_str().unwrap_or(""),
            row["version"],
            row["status"].as_str().unwrap_or(""),
        ));
    }
    if !declared.is_empty() {
        ctx.printer.line(format!("declared in tenants.toml but not created: {}", declared.join(", ")));
    }
    ctx.printer.line(verified["summary"].as_str().unwrap_or_default());
    Ok(())
}

/// `provision verify`'s verdict in one line (status reports, it does not fail).
async fn verify_summary(
    client: &mut tokio_postgres::Client,
    target: &crate::pg::connection::Target,
    config: &crate::model::config::Config,
    tenants: &[Registered],
) -> serde_json::Value {
    if !registry::exists(&*client).await.unwrap_or(false) {
        return json!({ "summary": "verify: nothing to verify yet (run `provision up`)" });
    }
    let active: Vec<Registered> = tenants.iter().filter(|t| t.is_active()).cloned().collect();
    match crate::ops::verify::run(client, target, config, &active, crate::ops::verify::Scope::Everything).await {
        Ok(outcome) => json!({
            "clean": outcome.is_clean(), "problems": outcome.findings.len(),
            "summary": crate::ops::verify::report::summary(&outcome),
        }),
        Err(e) => json!({ "summary": format!("verify: could not run ({e:#})") }),
    }
}

fn tenant_row(tenant: &Registered, templates_dir: &std::path::Path) -> serde_json::Value {
    let blueprint = Blueprint::load(templates_dir, &tenant.blueprint);
    let origin = blueprint.as_ref().ok().map(|bp| describe_origin(&bp.origin));
    let plan = blueprint
        .and_then(|bp| bp.render(&Identity { code: tenant.code.clone(), tenant_id: tenant.id }))
        .map(|migrations| Plan::new(&migrations, &tenant.applied));
    let (pending, problem) = match &plan {
        Ok(plan) if !plan.edited.is_empty() => {
            let names: Vec<&str> = plan.edited.iter().map(|(n, _)| n.as_str()).collect();
            (Vec::new(), Some(format!("applied versions edited since they ran: {}", names.join(", "))))
        }
        Ok(plan) => (plan.pending.iter().map(ToString::to_string).collect(), None),
        Err(e) => (Vec::new(), Some(format!("{e:#}"))),
    };
    let problem =
        problem.or_else(|| (!tenant.schema_exists).then(|| format!("schema {} is missing", tenant.schema_name)));
    json!({
        "tenant": tenant.code.as_str(), "schema": tenant.schema_name, "blueprint": tenant.blueprint,
        "blueprint_from": origin, "status": tenant.status, "version": tenant.version(), "pending": pending, "problem": problem,
    })
}
