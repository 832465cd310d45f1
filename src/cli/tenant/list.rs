//! `provision tenant list`: the registry, plus tenants.toml entries not yet created.

use anyhow::Result;
use serde_json::json;

use crate::cli::blueprint::describe_origin;
use crate::cli::context::Context;
use crate::model::blueprint::Blueprint;
use crate::store::registry;

pub async fn run(ctx: &Context) -> Result<()> {
    let config = ctx.config()?;
    let (client, _) = ctx.connect().await?;
    let tenants = registry::snapshot(&client, None).await?;
    let missing: Vec<&str> = config
        .tenants
        .iter()
        .filter(|spec| !tenants.iter().any(|t| t.code == spec.code))
        .map(|spec| spec.code.as_str())
        .collect();
    // Where each tenant's blueprint comes from: shipped, or a directory.
    let from: Vec<String> = tenants
        .iter()
        .map(|t| {
            Blueprint::load(&config.templates_dir, &t.blueprint)
                .map_or("missing".to_owned(), |bp| describe_origin(&bp.origin))
        })
        .collect();
    ctx.printer.json(&json!({
        "tenants": tenants.iter().zip(&from).map(|(t, from)| json!({
            "tenant": t.code.as_str(), "tenant_id": t.id, "name": t.name, "type": t.tenant_type,
            "schema": (!t.row).then_some(&t.schema_name), "tenancy": if t.row { "row" } else { "schema" },
            "blueprint": t.blueprint, "blueprint_from": from, "status": t.status,
            "version": t.version(),
        })).collect::<Vec<_>>(),
        "declared_not_created": missing,
    }));
    if tenants.is_empty() {
        ctx.printer.line("no tenants registered");
    } else {
        ctx.printer.line(format!(
            "{:<16} {:<24} {:<14} {:>7}  {:<8} {:<24} NAME",
            "CODE", "SCHEMA", "BLUEPRINT", "VERSION", "STATUS", "FROM"
        ));
        for (t, from) in tenants.iter().zip(&from) {
            ctx.printer.line(format!(
                "{:<16} {:<24} {:<14} {:>7}  {:<8} {:<24} {}",
                t.code.as_str(),
                if t.row { "(rows)" } else { t.schema_name.as_str() },
                t.blueprint,
                t.version(),
                t.status,
                from,
                t.name
            ));
        }
    }
    if !missing.is_empty() {
        ctx.printer
            .line(format!("declared in tenants.toml but not created: {} (run `provision up`)", missing.join(", ")));
    }
    Ok(())
}
