//! `provision db drop <name>`: drops a database `db create` made (never a
//! template or any other database; see [`crate::ops::template_db`]).

use anyhow::Result;
use serde_json::json;

use crate::cli::args::DbNameArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::ops::template_db;

pub async fn run(ctx: &Context, args: &DbNameArgs) -> Result<()> {
    template_db::check_name(&args.name)?;
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let template = template_db::drop_clone(&admin, &args.name).await?;
    ctx.printer.json(&json!({ "dropped": args.name, "template": template }));
    ctx.printer.line(format!("dropped {}", strong(&args.name)));
    Ok(())
}
