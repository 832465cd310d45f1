//! `provision reset`: drop the target database and provision it again from
//! scratch (development). Refused outside the embedded sandbox unless
//! `--yes --confirm <database>` names the database.

use anyhow::Result;

use crate::cli::{AdminArgs, ResetArgs, UpArgs};
use crate::connection::Target;
use crate::context::Context;
use crate::error::bad_input;
use crate::template_db::{self, TEMPLATE_PREFIX};

pub async fn run(ctx: &Context, args: &ResetArgs) -> Result<()> {
    // Decided before anything starts or connects: a refusal touches nothing.
    let target = match ctx.explicit_target()? {
        Some(target) => target,
        None => ctx.sandbox()?.target(),
    };
    check_allowed(&target, args)?;
    let target = template_db::server_target(ctx).await?;
    let name = target.dbname().to_owned();
    let admin = template_db::connect_maintenance(ctx, &target).await?;
    template_db::recreate(&admin, &name).await?;
    drop(admin);
    ctx.printer.line(format!("reset: dropped and created database {name} again"));
    let up = UpArgs {
        dry_run: false,
        no_verify: false,
        jobs: 1,
        strict: false,
        admin: AdminArgs { admin_password: args.admin.admin_password.clone() },
    };
    super::up::run(ctx, &up).await
}

/// The sandbox may be reset freely; anything else only with `--yes` and
/// `--confirm` spelling out its database. System databases and templates never.
fn check_allowed(target: &Target, args: &ResetArgs) -> Result<()> {
    let name = target.dbname();
    if matches!(name, "postgres" | "template0" | "template1") || name.starts_with(TEMPLATE_PREFIX) {
        return Err(bad_input(format!("refusing to reset {name}: it is a system database or a provision template")));
    }
    match &args.confirm {
        Some(confirm) if confirm != name => Err(bad_input(format!(
            "--confirm {confirm:?} does not name the target database {name:?}; nothing was changed"
        ))),
        _ if target.is_sandbox() => Ok(()),
        Some(_) if args.yes => Ok(()),
        _ => Err(bad_input(format!(
            "refusing to reset {}: it is not the embedded sandbox; to drop and re-provision it pass --yes --confirm {name}",
            target.describe()
        ))),
    }
}
