//! Which commands run on every server, which on the server of one tenant,
//! and which know nothing of servers.

use crate::cli::args::{Command, KeysCommand, PartitionsCommand, RetentionCommand, TenantCommand};

/// How a command runs when tenants.toml declares `[servers.*]`.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape {
    /// On every server in parallel (narrowed by `--server`), one summary.
    /// The codes are the tenants it was asked about (none: all).
    Fleet(Vec<String>),
    /// On the server that holds (or would hold) this tenant.
    Tenant(String),
    /// On `--server`'s server when given, else as without servers.
    Single,
    /// Does not connect, or finds its servers itself (`tenant move`).
    Local,
}

pub fn shape(command: &Command) -> Shape {
    match command {
        Command::Up(_) | Command::Migrate(_) | Command::Status(_) | Command::Health(_) => Shape::Fleet(vec![]),
        Command::Seed(args) => Shape::Fleet(args.tenants.codes.clone()),
        Command::Verify(args) => Shape::Fleet(args.tenants.codes.clone()),
        Command::Retention(RetentionCommand::Run(args)) => Shape::Fleet(args.tenants.codes.clone()),
        Command::Partitions(PartitionsCommand::Rollover(args)) => Shape::Fleet(args.tenants.codes.clone()),
        Command::Partitions(PartitionsCommand::List(args)) => Shape::Fleet(args.tenants.codes.clone()),
        Command::Tenant(TenantCommand::List) => Shape::Fleet(vec![]),
        Command::Tenant(TenantCommand::Upgrade(args)) => Shape::Fleet(args.codes.clone()),
        Command::Tenant(TenantCommand::Repair(args)) => Shape::Fleet(args.code.iter().cloned().collect()),
        Command::Tenant(TenantCommand::Add(args)) => Shape::Tenant(args.spec.code.clone()),
        Command::Tenant(TenantCommand::Grant(args)) => Shape::Tenant(args.code.clone()),
        Command::Tenant(TenantCommand::Remove(args)) => Shape::Tenant(args.code.clone()),
        Command::Tenant(TenantCommand::Activate(args)) => Shape::Tenant(args.code.clone()),
        Command::Tenant(TenantCommand::Backup(args)) => Shape::Tenant(args.code.clone()),
        Command::Keys(KeysCommand::Rotate(args)) => Shape::Tenant(args.tenant.clone()),
        Command::Db(_) | Command::Reset(_) => Shape::Single,
        Command::Tenant(TenantCommand::Render(_))
        | Command::Sandbox(_)
        | Command::Blueprint(_)
        | Command::Completions(_)
        | Command::Man(_)
        | Command::Routing(_)
        | Command::Tenant(TenantCommand::Move(_)) => Shape::Local,
    }
}
