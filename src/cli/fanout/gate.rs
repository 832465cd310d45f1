//! The template safety gate, once for the whole fleet, before any tenant
//! on any server is touched (see [`crate::ops::gate`]).
//!
//! Only `up` and `tenant upgrade` apply versions. Their gate needs the
//! shared machinery, so it runs on the first reachable server after that
//! server's shared migrations, with every server's registered tenants, so
//! each (blueprint, version) pair any server will take is checked. The
//! parts then skip their own gate; each tenant is still checked before its
//! commit, as always.

use anyhow::Result;

use crate::cli::args::{Command, TenantCommand};
use crate::cli::context::Context;
use crate::cli::servers::Fleet;
use crate::model::config::Config;

/// Runs the gate when this run's command has one; true when it passed.
pub async fn before_fleet(ctx: &Context, config: &Config, fleet: &Fleet) -> Result<bool> {
    let command = clap::Parser::try_parse().map(|cli: crate::cli::args::Cli| cli.command);
    let strict = match command {
        Ok(Command::Up(args)) if !args.dry_run.enabled => args.strict,
        Ok(Command::Tenant(TenantCommand::Upgrade(args))) if !args.dry_run.enabled => args.strict,
        _ => return Ok(false),
    };
    let mut reachable = fleet.reachable();
    let Some(first) = reachable.next() else { return Ok(false) };
    let mut gate = first.target.connect().await?;
    let mut others = Vec::new();
    for server in reachable {
        others.push(server.target.connect().await?);
    }
    ctx.printer.detail(format!("checking the templates once for every server (on server {})", first.spec.name));
    let others: Vec<&tokio_postgres::Client> = others.iter().collect();
    crate::ops::fleet_gate::check(&mut gate, &others, &ctx.env(), config, strict).await?;
    Ok(true)
}
