//! `provision tenant activate <code>`: the way back from `tenant remove
//! --keep-data` (see [`crate::ops::tenant::activate`]).

use anyhow::Result;

use crate::cli::args::TenantActivateArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::model::tenant::TenantCode;

pub async fn run(ctx: &Context, args: &TenantActivateArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let (mut client, _) = ctx.connect().await?;
    let activated = crate::ops::tenant::activate::activate(&ctx.env(), &mut client, &code).await?;
    ctx.printer.json_report(&activated);
    ctx.printer.line(match activated.was_active {
        true => format!("tenant {} was already active", strong(&code)),
        false => format!(
            "activated tenant {} ({} and {} can reach {} again; `provision up` and rollover include it)",
            strong(&code),
            code.app_role(),
            code.ro_role(),
            activated.schema
        ),
    });
    Ok(())
}
