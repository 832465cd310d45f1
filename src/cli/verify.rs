//! `provision verify`: exit 0 when every tenant matches its blueprint and the
//! invariants hold, 1 on any drift. Text, JSON or JUnit output. A tenant
//! another provision process is changing is skipped (or, with `--wait`, and
//! at the end of `up`, waited for), and stderr says so.

use anyhow::Result;

use crate::cli::args::{VerifyArgs, VerifyFormat};
use crate::cli::context::Context;
use crate::error::failed;
use crate::model::tenant::TenantCode;
use crate::ops::verify::{self, report, Busy, Scope};

pub async fn run(ctx: &Context, args: &VerifyArgs) -> Result<()> {
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let wanted: Vec<TenantCode> = args.tenants.codes.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    let codes = verify::active_codes(&client, &wanted).await?;
    let busy = if args.wait { Busy::Wait(ctx.lock_timeout()) } else { Busy::Skip };
    let outcome = verify::run_codes(&mut client, &target, &config, &codes, Scope::Everything, busy).await?;
    say_who_was_busy(&outcome);
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

/// One stderr line per tenant another provision process was changing, even
/// with `--quiet` or `--json` (whose outcome lists them too): a tenant left
/// out must never pass for a verified one.
pub(crate) fn say_who_was_busy(outcome: &verify::Outcome) {
    for code in &outcome.waited {
        eprintln!("verify: waited for {code} (another provision process was changing it)");
    }
    for code in &outcome.skipped {
        eprintln!("verify: skipped {code} (being changed by another provision process)");
    }
}
