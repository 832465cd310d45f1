//! `provision tenant repair [CODE | --all] [--accept-checksums]`: list the
//! tenants whose applied versions' templates changed since they ran, and
//! with `--accept-checksums` record the current templates' checksums for
//! them (see [`crate::ops::tenant::repair`]). Without it nothing changes,
//! so the bulk form is safe to look at before it is run.

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantRepairArgs;
use crate::cli::context::Context;
use crate::cli::printer::count;
use crate::error::bad_input;
use crate::model::tenant::TenantCode;
use crate::ops::tenant::repair;

pub async fn run(ctx: &Context, args: &TenantRepairArgs) -> Result<()> {
    let only: Vec<TenantCode> = args.code.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    if args.accept_checksums && only.is_empty() && !args.all {
        return Err(bad_input(
            "tenant repair --accept-checksums: name a tenant or pass --all (run `provision tenant repair` alone to \
             list what would be re-stamped)",
        ));
    }
    let config = ctx.config()?;
    let (mut client, _) = ctx.connect().await?;
    let found = repair::edited(&client, &config.templates_dir, &only).await?;
    let mut tenants = Vec::new();
    for tenant in &found {
        let outcome = match (tenant.edited.is_empty(), args.accept_checksums) {
            (true, _) => "unchanged",
            (false, false) => "would_repair",
            (false, true) => {
                let repaired =
                    repair::accept_checksums(&ctx.env(), &mut client, &config.templates_dir, &tenant.tenant).await?;
                say_repaired(ctx, &repaired);
                "repaired"
            }
        };
        if outcome == "would_repair" {
            ctx.printer.line(format!("{:<16} would re-stamp {}", tenant.tenant.as_str(), tenant.edited.join(", ")));
        }
        tenants.push(json!({ "tenant": tenant.tenant.as_str(), "outcome": outcome, "edited": tenant.edited }));
    }
    ctx.printer.json(&json!({ "accept_checksums": args.accept_checksums, "tenants": tenants }));
    summarize(ctx, &found, args.accept_checksums);
    Ok(())
}

fn say_repaired(ctx: &Context, repaired: &repair::Repaired) {
    let code = &repaired.tenant;
    ctx.printer.line(match repaired.accepted.is_empty() {
        true => format!("tenant {code}: every applied version matches its template; nothing to repair"),
        false => format!("tenant {code}: accepted the current checksums of {}", repaired.accepted.join(", ")),
    });
}

fn summarize(ctx: &Context, found: &[repair::Edited], accepted: bool) {
    let edited = found.iter().filter(|t| !t.edited.is_empty()).count();
    let looked = count(found.len(), "tenant");
    ctx.printer.line(match (edited, accepted) {
        (0, _) => format!("repair: {looked}, every applied version matches its template; nothing to repair"),
        (n, true) => format!("repair: {looked}, re-stamped {}", count(n, "tenant")),
        (n, false) => format!(
            "repair: {looked}, {} would be re-stamped; nothing was changed (pass --accept-checksums)",
            count(n, "tenant")
        ),
    });
}
