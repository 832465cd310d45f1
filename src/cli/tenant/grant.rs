//! `provision tenant grant <code> <login-role> [--read-only]`: attach an
//! existing login role to the tenant's `<code>_app` (or `<code>_ro`) role
//! (see [`crate::ops::tenant::grant`]).

use anyhow::Result;

use crate::cli::args::TenantGrantArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::model::tenant::TenantCode;

pub async fn run(ctx: &Context, args: &TenantGrantArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let (client, _) = ctx.connect().await?;
    let granted = crate::ops::tenant::grant::grant(&client, &code, &args.login_role, args.read_only).await?;
    ctx.printer.json_report(&granted);
    ctx.printer.line(format!("granted {} to {}", strong(&granted.granted), granted.login_role));
    Ok(())
}
