//! `provision tenant repair <code> --accept-checksums`: after a human decided
//! that an applied template's edit is fine, record the current templates'
//! checksums for the tenant's applied versions (under the tenant's lock).

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantRepairArgs;
use crate::cli::context::Context;
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::history_table;
use crate::store::lock::{self, Mode, Resource};
use crate::store::migrate::Plan;
use crate::store::registry;

pub async fn run(ctx: &Context, args: &TenantRepairArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let config = ctx.config()?;
    let (mut client, _) = ctx.connect().await?;
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, ctx.lock_timeout()).await?;
    lock::acquire(&tx, Resource::Tenant(&code), Mode::Exclusive, &ctx.printer).await?;
    let Some(tenant) = registry::snapshot(&tx, Some(&code)).await?.into_iter().next() else {
        return Err(registry::not_registered(&code));
    };
    let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
    let migrations = blueprint.render(&Identity { code: code.clone(), tenant_id: tenant.id })?;
    let plan = Plan::new(&migrations, &tenant.applied);
    let table = history_table(&code);
    for (_, version) in &plan.edited {
        let migration = migrations.iter().find(|m| m.version() == *version).expect("edited versions exist");
        tx.execute(
            &format!("UPDATE {table} SET checksum = $1, name = $2 WHERE version = $3"),
            &[&migration.checksum().to_string(), &migration.name(), version],
        )
        .await?;
    }
    tx.commit().await?;
    let repaired: Vec<&str> = plan.edited.iter().map(|(n, _)| n.as_str()).collect();
    ctx.printer.json(&json!({ "tenant": code.as_str(), "accepted": repaired }));
    ctx.printer.line(match repaired.is_empty() {
        true => format!("tenant {code}: every applied version matches its template; nothing to repair"),
        false => format!("tenant {code}: accepted the current checksums of {}", repaired.join(", ")),
    });
    Ok(())
}
