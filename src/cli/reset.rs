//! `provision reset`: drop the target database and provision it again from
//! scratch (development), keeping every audit row (see [`crate::ops::reset`]).
//! Refused outside the embedded sandbox unless `--yes --confirm <database>`
//! names the database. A sandbox that holds tenants is reset after a "yes"
//! on a terminal, or with `--yes`; otherwise (a script) it is refused.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;

use crate::cli::args::{AdminArgs, ResetArgs, UpArgs};
use crate::cli::context::Context;
use crate::cli::printer::count;
use crate::error::bad_input;
use crate::ops::{reset, template_db};

pub async fn run(ctx: &Context, args: &ResetArgs) -> Result<()> {
    // Decided before anything starts or connects: a refusal touches nothing.
    let target = match ctx.explicit_target()? {
        Some(target) => target,
        None => ctx.sandbox()?.target(),
    };
    reset::check_allowed(&target, args.confirm.as_deref(), args.yes)?;
    let config = ctx.config()?;
    let target = ctx.server_target().await?;
    let name = target.dbname().to_owned();
    if target.is_sandbox() && !args.yes {
        confirm_sandbox_reset(&name, &reset::registered_tenants(&target).await?)?;
    }
    let kept = reset::prepare(&ctx.env(), &target, &config).await?;
    let admin = ctx.connect_maintenance(&target).await?;
    template_db::recreate(&admin, &name).await?;
    drop(admin);
    ctx.printer.line(format!("reset: dropped and created database {name} again"));
    let up = UpArgs {
        dry_run: crate::cli::options::DryRunOpts { enabled: false },
        check: false,
        no_verify: false,
        jobs: crate::cli::options::JobOpts { count: 1 },
        strict: false,
        admin: AdminArgs { admin_password: args.admin.admin_password.clone() },
    };
    let provisioned = super::up::run(ctx, &up).await;
    // The audit rows go back whatever `up` said: they are not its to lose.
    if let Some(restored) = kept.restore(&target).await? {
        let (rows, tenants) = (count(restored.rows, "audit row"), count(restored.tenants, "tenant"));
        ctx.printer.line(format!("reset: kept {rows} of {tenants}"));
    }
    provisioned
}

/// The sandbox's database holds `tenants`: ask on a terminal, refuse
/// elsewhere (exit 2) unless `--yes` was given. An empty one needs nothing.
fn confirm_sandbox_reset(name: &str, tenants: &[String]) -> Result<()> {
    if tenants.is_empty() {
        return Ok(());
    }
    let held = format!("{} ({})", count(tenants.len(), "tenant"), tenants.join(", "));
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(bad_input(format!(
            "refusing to reset the sandbox database {name}: it holds {held}; pass --yes to drop them; nothing was changed"
        )));
    }
    eprint!("reset drops the sandbox database {name}, which holds {held}. Type yes to go on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim() {
        "yes" | "y" => Ok(()),
        _ => Err(bad_input(format!("reset of {name} not confirmed; nothing was changed"))),
    }
}
