//! `provision tenant grant <code> <login-role> [--read-only]`: attach an
//! existing login role to the tenant's `<code>_app` (or `<code>_ro`) role.

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantGrantArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::model::tenant::TenantCode;
use crate::{store::registry, store::roles};

pub async fn run(ctx: &Context, args: &TenantGrantArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let (client, _) = ctx.connect().await?;
    if registry::snapshot(&client, Some(&code)).await?.is_empty() {
        return Err(registry::not_registered(&code));
    }
    let granted = roles::grant(&client, &code, &args.login_role, args.read_only).await?;
    ctx.printer.json(&json!({ "tenant": code.as_str(), "login_role": args.login_role, "granted": granted }));
    ctx.printer.line(format!("granted {} to {}", strong(&granted), args.login_role));
    Ok(())
}
