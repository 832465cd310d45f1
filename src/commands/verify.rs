//! `provision verify`: exit 0 when every tenant matches its blueprint and the
//! invariants hold, 1 on any drift. Text, JSON or JUnit output.

use anyhow::Result;

use crate::cli::{VerifyArgs, VerifyFormat};
use crate::context::Context;
use crate::error::{bad_input, failed};
use crate::registry;
use crate::tenant::TenantCode;
use crate::verify::{self, report};

pub async fn run(ctx: &Context, args: &VerifyArgs) -> Result<()> {
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let wanted: Vec<TenantCode> = args.tenants.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    let all = registry::snapshot(&client, None).await?;
    if let Some(missing) = wanted.iter().find(|c| !all.iter().any(|t| &t.code == *c)) {
        return Err(bad_input(format!(
            "tenant {missing} is not registered in this database; see `provision tenant list`"
        )));
    }
    let tenants: Vec<_> =
        all.into_iter().filter(|t| t.is_active() && (wanted.is_empty() || wanted.contains(&t.code))).collect();
    let outcome = verify::run(&mut client, &target, &config, &tenants).await?;
    let format = if ctx.printer.is_json() { VerifyFormat::Json } else { args.format };
    match format {
        VerifyFormat::Json => ctx.printer.data(format!("{}\n", serde_json::to_string_pretty(&outcome)?)),
        VerifyFormat::Junit => ctx.printer.data(report::junit(&outcome)?),
        VerifyFormat::Text => ctx.printer.data(report::text(&outcome)),
    }
    match outcome.is_clean() {
        true => Ok(()),
        false => Err(failed(report::summary(&outcome))),
    }
}
