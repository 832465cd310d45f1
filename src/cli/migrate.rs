//! `provision migrate [--dry-run]`: the shared (cluster-wide) migrations only.

use anyhow::Result;
use serde_json::json;

use crate::cli::context::Context;
use crate::ops::shared_parts;
use crate::store::shared;

pub async fn run(ctx: &Context, dry_run: bool) -> Result<()> {
    let config = ctx.config()?;
    let (mut client, _) = ctx.connect().await?;
    let in_use = shared_parts::in_use(&client, &config).await?;
    let parts = shared_parts::parts(&in_use);
    let plan = shared::plan(&client, &parts).await?;
    let latest = crate::store::migrate::shared_migrations().last().map_or(0, |m| m.version());
    if dry_run {
        let pending = plan.pending();
        let rerecord = plan.rerecorded;
        ctx.printer.json(&json!({ "dry_run": true, "current": plan.core.current, "latest": latest, "pending": pending,
                                  "rerecord": rerecord }));
        if rerecord > 0 {
            let versions = crate::report::count(rerecord, "version");
            ctx.printer.line(format!("would re-record {versions} of a history made before blueprint packs"));
        }
        match pending.is_empty() {
            true => ctx.printer.line(format!("shared schema is up to date at version {}", plan.core.current)),
            false => ctx.printer.line(format!("would apply: {}", pending.join(", "))),
        }
        return Ok(());
    }
    let applied = shared::apply(&mut client, ctx.lock_timeout(), &ctx.printer, &parts).await?;
    ctx.printer.json(&json!({ "applied": applied, "version": latest }));
    match applied.is_empty() {
        true => ctx.printer.line(format!("shared schema is up to date at version {latest}")),
        false => ctx.printer.line(format!("applied {} (shared schema now at version {latest})", applied.join(", "))),
    }
    Ok(())
}
