//! The arguments of `provision tenant …`, apart from the rest of the clap
//! tree because the tenant group is the largest.

use clap::{Args, Subcommand};

use super::{AdminArgs, DryRunOpts, JobOpts};

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create one tenant from its tenants.toml entry or from the arguments.
    #[command(
        after_help = "Example:\n  provision tenant add hdfc\n  provision tenant add sbi --name 'SBI Life' --set type=<a value the blueprint allows>"
    )]
    Add(TenantAddArgs),

    /// List registered tenants.
    #[command(after_help = "Example:\n  provision tenant list")]
    List,

    /// Apply pending blueprint versions to tenants in parallel (also done by `up`).
    #[command(
        after_help = "Example:\n  provision tenant upgrade --all --jobs 4\n  provision tenant upgrade lic --dry-run"
    )]
    Upgrade(TenantUpgradeArgs),

    /// Re-stamp the checksums of applied versions after a human decided the edit is fine.
    #[command(
        after_help = "Example:\n  provision tenant repair                             # list what would be re-stamped; change nothing\n  provision tenant repair lic --accept-checksums\n  provision tenant repair --all --accept-checksums"
    )]
    Repair(TenantRepairArgs),

    /// Dump one tenant (schema, audit log, roles' grants, registry rows) with pg_dump.
    #[command(
        after_help = "Example:\n  provision tenant backup lic --out lic.sql\n  psql -X -1 -v ON_ERROR_STOP=1 -f lic.sql   # restore"
    )]
    Backup(TenantBackupArgs),

    /// Print the exact SQL a new tenant would receive (pipe it into psql -1).
    #[command(after_help = "Example:\n  provision tenant render hdfc | psql -X -1 -v ON_ERROR_STOP=1 -f -")]
    Render(TenantSpecArgs),

    /// Attach an existing login role to a tenant's application (or read-only) role.
    #[command(
        after_help = "Example:\n  provision tenant grant lic lic_api\n  provision tenant grant lic reporting --read-only"
    )]
    Grant(TenantGrantArgs),

    /// Drop a tenant's schema and registry row (or only deactivate it).
    #[command(
        after_help = "Example:\n  provision tenant remove icici --yes\n  provision tenant remove icici --keep-data"
    )]
    Remove(TenantRemoveArgs),

    /// Bring back a tenant deactivated by `tenant remove --keep-data`.
    #[command(after_help = "Example:\n  provision tenant activate icici")]
    Activate(TenantActivateArgs),

    /// Move a schema tenant and its audit log to another declared server (logical replication, or pg_dump with --offline).
    #[command(
        after_help = "Example:\n  provision tenant move lic --to eu2\n  provision tenant move lic --to eu2 --offline --keep-source\n  provision tenant move lic --to eu2 --abort   # undo an unfinished move"
    )]
    Move(TenantMoveArgs),
}

#[derive(Debug, Args)]
pub struct TenantSpecArgs {
    /// Tenant code: lower-case letters, digits and '_' (schema <code>_schema).
    pub code: String,
    /// Display name (default: from tenants.toml).
    #[arg(long)]
    pub name: Option<String>,
    /// The tenant's `type` attribute (shorthand for --set type=TYPE).
    #[arg(long = "type", value_name = "TYPE")]
    pub tenant_type: Option<String>,
    /// A tenant attribute the blueprint declares (`provision blueprint show`), repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Blueprint (default: tenants.toml's, or the only one available).
    #[arg(long)]
    pub blueprint: Option<String>,
}

#[derive(Debug, Args)]
pub struct TenantAddArgs {
    #[command(flatten)]
    pub spec: TenantSpecArgs,
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(flatten)]
    pub dry_run: DryRunOpts,
    /// Skip the final `provision verify` of the new tenant.
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct TenantGrantArgs {
    /// Tenant code.
    pub code: String,
    /// An existing LOGIN role (e.g. the application's database user).
    pub login_role: String,
    /// Grant <code>_ro instead of <code>_app.
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Args)]
pub struct TenantRemoveArgs {
    /// Tenant code.
    pub code: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Keep the schema and data; mark the tenant inactive and take its app
    /// and read-only roles' access away (until `tenant activate`).
    #[arg(long)]
    pub keep_data: bool,
    /// Do not take a backup (tenant backup) before dropping.
    #[arg(long)]
    pub no_backup: bool,
    /// Where the backup goes (default: ./<code>-<timestamp>.sql).
    #[arg(long, value_name = "FILE")]
    pub backup_out: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct TenantMoveArgs {
    /// Tenant code.
    pub code: String,
    /// The server to move it to ([servers.<name>] in tenants.toml).
    #[arg(long, value_name = "SERVER")]
    pub to: String,
    /// Copy with pg_dump | psql while the tenant's writes are frozen for the whole copy (no wal_level = logical needed).
    #[arg(long)]
    pub offline: bool,
    /// Keep the source copy (read-only for the app role, registered `moved`) instead of dropping it after a backup.
    #[arg(long)]
    pub keep_source: bool,
    /// The longest the tenant's writes may be frozen at the switch; past it the move aborts and unfreezes.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub max_freeze: f64,
    /// Where the source copy's backup goes (default: ./<code>-<timestamp>.sql).
    #[arg(long, value_name = "FILE", conflicts_with = "keep_source")]
    pub backup_out: Option<std::path::PathBuf>,
    /// Undo an unfinished move (before its switch): drop the target copy, subscription, publication and slot.
    #[arg(long, conflicts_with_all = ["offline", "keep_source", "backup_out"])]
    pub abort: bool,
    /// PgBouncer's admin console (postgresql://ADMIN@HOST:6432/pgbouncer): the tenant's alias is paused around the
    /// freeze and routed to the target at the switch, so its clients wait instead of failing. Needs --routing-out.
    #[arg(long, value_name = "URL", env = "PROVISION_PGBOUNCER_URL", hide_env_values = true)]
    pub pgbouncer: Option<String>,
    /// The routing file that PgBouncer %includes (as `provision routing pgbouncer --out` writes it), rewritten at
    /// the switch.
    #[arg(long, value_name = "FILE", requires = "pgbouncer")]
    pub routing_out: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct TenantActivateArgs {
    /// Tenant code.
    pub code: String,
}

#[derive(Debug, Args)]
pub struct TenantUpgradeArgs {
    /// Tenants to upgrade.
    #[arg(value_name = "CODE", required_unless_present = "all")]
    pub codes: Vec<String>,
    /// Every active tenant.
    #[arg(long, conflicts_with = "codes")]
    pub all: bool,
    #[command(flatten)]
    pub jobs: JobOpts,
    #[command(flatten)]
    pub dry_run: DryRunOpts,
    /// lock_timeout for upgrade statements, in seconds (traffic waits at most this long).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub ddl_timeout: f64,
    /// statement_timeout for upgrade statements, in seconds (0: none).
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    pub statement_timeout: f64,
    /// Refuse pending versions with a lock hazard on tables that hold data
    /// (CREATE INDEX without CONCURRENTLY, a volatile default, …) instead of warning.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct TenantRepairArgs {
    /// Tenant code (default: every registered tenant).
    #[arg(value_name = "CODE")]
    pub code: Option<String>,
    /// Every registered tenant (required with --accept-checksums and no CODE).
    #[arg(long, conflicts_with = "code")]
    pub all: bool,
    /// Record the current templates' checksums for the applied versions;
    /// without it, only list what would be re-stamped.
    #[arg(long)]
    pub accept_checksums: bool,
}

#[derive(Debug, Args)]
pub struct TenantBackupArgs {
    /// Tenant code.
    pub code: String,
    /// Output file (default: ./<code>-<timestamp>.sql).
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}
