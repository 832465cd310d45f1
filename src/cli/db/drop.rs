//! `provision db drop <name>`: drops a database `db create` made (never a
//! template or any other database; see [`crate::ops::template_db`]).
//! `provision db drop --spares`: drops the pool's spares, every template's.

use anyhow::Result;
use serde_json::json;

use crate::cli::args::DbNameArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::ops::template_db;

pub async fn run(ctx: &Context, args: &DbNameArgs) -> Result<()> {
    let Some(name) = &args.name else { return drop_spares(ctx).await };
    template_db::check_name(name)?;
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let template = template_db::drop_clone(&admin, name).await?;
    ctx.printer.json(&json!({ "dropped": name, "template": template }));
    ctx.printer.line(format!("dropped {}", strong(name)));
    Ok(())
}

async fn drop_spares(ctx: &Context) -> Result<()> {
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let dropped = template_db::drop_spares(&ctx.env(), &admin).await?;
    ctx.printer.json(&json!({ "dropped_spares": dropped }));
    match dropped.len() {
        0 => ctx.printer.line("no spare databases to drop"),
        1 => ctx.printer.line("dropped 1 spare database"),
        n => ctx.printer.line(format!("dropped {n} spare databases")),
    }
    for spare in &dropped {
        ctx.printer.detail(format!("  dropped {spare}"));
    }
    Ok(())
}
