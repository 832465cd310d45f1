//! One file per command; this module only dispatches.

mod db;
mod migrate;
mod partition_inputs;
mod partitions_list;
mod partitions_rollover;
mod reset;
mod sandbox;
mod seed;
mod status;
mod tenant_activate;
mod tenant_add;
mod tenant_backup;
mod tenant_grant;
mod tenant_list;
mod tenant_remove;
mod tenant_render;
mod tenant_repair;
mod tenant_spec;
mod tenant_upgrade;
mod up;
pub(crate) mod verify;

use anyhow::Result;

use crate::cli::{Command, DbCommand, PartitionsCommand, SandboxCommand, TenantCommand};
use crate::context::Context;

/// The only commands that may initialise the embedded sandbox in
/// `./.provision`; the others use it only when it already exists.
pub fn may_create_sandbox(command: &Command) -> bool {
    matches!(command, Command::Up(_) | Command::Db(DbCommand::Create(_)) | Command::Sandbox(SandboxCommand::Start))
}

pub async fn run(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::Up(args) => up::run(ctx, &args).await,
        Command::Migrate(args) => migrate::run(ctx, args.dry_run).await,
        Command::Status => status::run(ctx).await,
        Command::Seed(args) => seed::run(ctx, &args).await,
        Command::Verify(args) => verify::run(ctx, &args).await,
        Command::Partitions(PartitionsCommand::Rollover(args)) => partitions_rollover::run(ctx, &args).await,
        Command::Partitions(PartitionsCommand::List(args)) => partitions_list::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Add(args)) => tenant_add::run(ctx, &args).await,
        Command::Tenant(TenantCommand::List) => tenant_list::run(ctx).await,
        Command::Tenant(TenantCommand::Upgrade(args)) => tenant_upgrade::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Repair(args)) => tenant_repair::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Backup(args)) => tenant_backup::run(ctx, &args).await,
        Command::Db(DbCommand::Create(args)) => db::create(ctx, &args).await,
        Command::Db(DbCommand::Drop(args)) => db::drop(ctx, &args).await,
        Command::Db(DbCommand::List) => db::list(ctx).await,
        Command::Reset(args) => reset::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Grant(args)) => tenant_grant::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Render(args)) => tenant_render::run(ctx, &args),
        Command::Tenant(TenantCommand::Remove(args)) => tenant_remove::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Activate(args)) => tenant_activate::run(ctx, &args).await,
        Command::Sandbox(command) => sandbox::run(ctx, command).await,
    }
}
