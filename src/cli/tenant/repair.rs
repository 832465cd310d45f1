//! `provision tenant repair <code> --accept-checksums`: record the current
//! templates' checksums for the tenant's applied versions (see
//! [`crate::ops::tenant::repair`]).

use anyhow::Result;

use crate::cli::args::TenantRepairArgs;
use crate::cli::context::Context;
use crate::model::tenant::TenantCode;

pub async fn run(ctx: &Context, args: &TenantRepairArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let config = ctx.config()?;
    let (mut client, _) = ctx.connect().await?;
    let repaired =
        crate::ops::tenant::repair::accept_checksums(&ctx.env(), &mut client, &config.templates_dir, &code).await?;
    ctx.printer.json_report(&repaired);
    ctx.printer.line(match repaired.accepted.is_empty() {
        true => format!("tenant {code}: every applied version matches its template; nothing to repair"),
        false => format!("tenant {code}: accepted the current checksums of {}", repaired.accepted.join(", ")),
    });
    Ok(())
}
