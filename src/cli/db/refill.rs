//! `provision db refill --pool N` (hidden): brings the pool of spare clones
//! of the current template to N ([`crate::ops::db_create::refill`]). `db
//! create --pool N` starts it as a detached process of its own ([`spawn`]):
//! a spare is a file copy of the template, the very cost a pooled `db create`
//! exists to keep from its caller.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};
use serde_json::json;

use crate::cli::args::DbRefillArgs;
use crate::cli::context::Context;
use crate::model::config::check_pool;
use crate::ops::db_create;

pub async fn run(ctx: &Context, args: &DbRefillArgs) -> Result<()> {
    check_pool(args.pool).map_err(|m| crate::error::bad_input(format!("--{m}")))?;
    let config = ctx.config()?;
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let config_file = config_file(ctx);
    let what = (&config, config_file.as_path(), args.sample);
    let refilled = db_create::refill(&ctx.printer, ctx.lock_timeout(), &admin, what, args.pool).await?;
    ctx.printer.json(&json!({
        "created": refilled.created, "dropped": refilled.dropped, "spares": refilled.spares,
        "skipped": refilled.skipped,
    }));
    match &refilled.skipped {
        Some(why) => ctx.printer.line(format!("no spare made: {why}")),
        None => ctx.printer.line(format!(
            "{} spares ready ({} made, {} dropped)",
            refilled.spares,
            refilled.created.len(),
            refilled.dropped.len()
        )),
    }
    Ok(())
}

/// tenants.toml as `Context::config` reads it (its path keys the template's lineage).
pub(super) fn config_file(ctx: &Context) -> PathBuf {
    ctx.global.config.clone().unwrap_or_else(|| PathBuf::from("tenants.toml"))
}

/// Starts `provision db refill --pool size` on the same server, tenants.toml
/// and sample size, detached: no standard streams, its own process group
/// (a Ctrl-C for the caller's job does not stop it), never waited for. The
/// URL goes through the environment, never the command line (`ps` shows that).
pub(super) fn spawn(ctx: &Context, size: u32, sample: Option<u32>) -> Result<()> {
    use std::os::unix::process::CommandExt as _;
    let exe = std::env::current_exe().context("cannot find the provision binary to refill the pool")?;
    let mut command = Command::new(exe);
    command.arg("--quiet");
    if let Some(config) = &ctx.global.config {
        command.arg("--config").arg(config);
    }
    if let Some(url) = &ctx.global.database_url {
        command.env("DATABASE_URL", url);
    }
    if let Some(user) = &ctx.global.sandbox_user {
        command.env("PROVISION_SANDBOX_USER", user);
    }
    command.env("PROVISION_LOCK_TIMEOUT", ctx.global.lock_timeout.to_string());
    command.args(["db", "refill", "--pool", &size.to_string()]);
    if let Some(sample) = sample {
        command.args(["--sample", &sample.to_string()]);
    }
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0);
    // Deliberately not waited for: it outlives this process, whose exit
    // hands it to init.
    #[allow(clippy::zombie_processes)]
    let _child = command.spawn().context("cannot start `provision db refill` to refill the pool")?;
    Ok(())
}
