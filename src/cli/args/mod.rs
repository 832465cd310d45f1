//! The command tree, and nothing else: parsing stays apart from the engine.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod cron;
mod keys;
mod packaging;
mod routing;
mod tenant;

pub use super::options::{DryRunOpts, JobOpts, TenantOpts};
pub use cron::*;
pub use keys::*;
pub use packaging::*;
pub use routing::*;
pub use tenant::*;

/// What `provision --version` says: the version, then the commit and the
/// date of the build (both from build.rs; `unknown` without git).
pub const VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (", env!("PROVISION_GIT_COMMIT"), " ", env!("PROVISION_BUILD_DATE"), ")");

/// The date of the build (`YYYY-MM-DD`, UTC; `SOURCE_DATE_EPOCH` when set).
pub const BUILD_DATE: &str = env!("PROVISION_BUILD_DATE");

/// Builds and keeps multi-tenant PostgreSQL databases: one schema per tenant, from blueprint packs.
///
/// Without a database URL or PG* variables, provision starts (and reuses) a
/// private PostgreSQL in ./.provision.
#[derive(Debug, Parser)]
#[command(name = "provision", version = VERSION, propagate_version = true)]
#[command(
    after_help = "Example:\n  provision up                       # embedded PostgreSQL, every tenant of tenants.toml\n  provision --database-url postgres://dba@db.internal/app tenant add hdfc"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The tenants file.
    #[arg(long, global = true, env = "PROVISION_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// PostgreSQL URL or key=value string; its password is never printed.
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// With `[servers.*]` in tenants.toml: work on this server only.
    #[arg(long, global = true, env = "PROVISION_SERVER", value_name = "NAME")]
    pub server: Option<String>,

    /// Print one JSON document on stdout (diagnostics stay on stderr).
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only errors and warnings.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail (SQL versions, timings) on stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,

    /// Diagnostics on stderr as text, or as one JSON object per line (`ts`,
    /// `level`, `message`, `tenant`) for cron and systemd.
    #[arg(long, global = true, env = "PROVISION_LOG", value_enum, default_value_t, value_name = "FORMAT")]
    pub log_format: crate::cli::printer::LogFormat,

    /// OS user that runs the embedded PostgreSQL when provision runs as root.
    #[arg(long, global = true, env = "PROVISION_SANDBOX_USER", value_name = "USER")]
    pub sandbox_user: Option<String>,

    /// How long to wait for another process's locks, in seconds.
    #[arg(long, global = true, env = "PROVISION_LOCK_TIMEOUT", default_value_t = 60, value_name = "SECONDS")]
    pub lock_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply shared migrations, create missing tenants, upgrade tenants that are behind.
    #[command(
        after_help = "Example:\n  provision up\n  provision --json up > summary.json\n  provision up --dry-run --check   # exit 1 when up would change anything"
    )]
    Up(UpArgs),

    /// Apply the shared (cluster-wide) migrations only.
    #[command(after_help = "Example:\n  provision migrate --dry-run")]
    Migrate(DryRunOpts),

    /// Show the shared version and, per tenant, blueprint and versions.
    #[command(
        after_help = "Example:\n  provision status\n  provision status --check   # exit 1 when pending or drifted"
    )]
    Status(StatusArgs),

    /// Load realistic, deterministic sample data into tenants (for CI and benchmarks).
    #[command(
        after_help = "Example:\n  provision seed --sample 1000\n  provision seed --tenant lic --sample 100000 --rng-seed 7"
    )]
    Seed(SeedArgs),

    /// Prove from the catalog that every tenant matches its blueprint (exit 1 on drift).
    #[command(
        after_help = "Example:\n  provision verify\n  provision verify --tenant lic --format junit > verify.xml\n\n\
        Exit codes: 0 clean; 1 drift or a violated invariant."
    )]
    Verify(VerifyArgs),

    /// Is the database fit to serve? Reachability, settings, pending versions, verify, partitions, lock waits, bloat.
    #[command(after_help = "Example:\n  provision health\n  provision --json health --lock-wait-threshold 10\n\n\
        Exit codes: 0 healthy (warnings allowed); 1 a check failed; 3 the database cannot be reached.")]
    Health(HealthArgs),

    /// Time partitions: rollover (create ahead, apply retention) and list.
    #[command(
        subcommand,
        after_help = "Example:\n  provision partitions rollover --dry-run\n  provision partitions list --tenant lic"
    )]
    Partitions(PartitionsCommand),

    /// Tenants: add, list, upgrade, repair, backup, render, grant, remove, activate, move.
    #[command(
        subcommand,
        after_help = "Example:\n  provision tenant add hdfc\n  provision tenant list\n  provision tenant upgrade --all --jobs 4"
    )]
    Tenant(TenantCommand),

    /// Fully provisioned databases for CI, cloned from a template in milliseconds.
    #[command(
        subcommand,
        after_help = "Example:\n  provision db create ci_42\n  provision db list\n  provision db drop ci_42"
    )]
    Db(DbCommand),

    /// Drop and re-provision the database (development only).
    #[command(after_help = "Example:\n  provision reset                                   # the embedded sandbox\n  \
        provision --database-url postgres://…/app_dev reset --yes --confirm app_dev")]
    Reset(ResetArgs),

    /// Manage the embedded PostgreSQL in ./.provision.
    #[command(
        subcommand,
        after_help = "Example:\n  provision sandbox start\n  psql \"$(provision sandbox url)\"\n  \
        provision sandbox stop   # it keeps running between commands; CI ends with this"
    )]
    Sandbox(SandboxCommand),

    /// Blueprint packs: list the available ones, show one, scaffold a new one.
    #[command(
        subcommand,
        after_help = "Example:\n  provision blueprint list\n  provision blueprint show shop\n  provision blueprint init shop"
    )]
    Blueprint(BlueprintCommand),

    /// Keys of encrypted columns: rotate a tenant's key.
    #[command(
        subcommand,
        after_help = "Example:\n  \
        provision keys rotate --tenant acme --from-key-file keys/acme-2026q3 --to-key-file keys/acme-2026q4"
    )]
    Keys(KeysCommand),

    /// Row retention: delete or anonymise what outlived its period (safe from cron).
    #[command(
        subcommand,
        after_help = "Example:\n  provision retention run --dry-run\n  provision retention run --tenant lic --batch 5000"
    )]
    Retention(RetentionCommand),

    /// Routing applications to their tenant's server: the PgBouncer [databases] section.
    #[command(
        subcommand,
        after_help = "Example:\n  provision routing pgbouncer --out /etc/pgbouncer/tenants.ini\n  provision --json routing pgbouncer"
    )]
    Routing(RoutingCommand),

    /// Print a shell completion script, generated from this command tree.
    #[command(after_help = "Example:\n  \
        provision completions bash > ~/.local/share/bash-completion/completions/provision\n  \
        provision completions zsh > ~/.zfunc/_provision\n  \
        provision completions fish > ~/.config/fish/completions/provision.fish\n  \
        provision completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),

    /// Write man pages, generated from this command tree (the top page to stdout without --out).
    #[command(after_help = "Example:\n  provision man --out ~/.local/share/man/man1\n  provision man | man -l -")]
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum BlueprintCommand {
    /// Every blueprint shipped in the binary or in the templates directory.
    #[command(after_help = "Example:\n  provision blueprint list\n  provision --json blueprint list")]
    List,
    /// One blueprint: tables, versions, tenancy, attributes, partitions, audit, sample.
    #[command(after_help = "Example:\n  provision blueprint show shop")]
    Show(BlueprintNameArgs),
    /// Scaffold a new blueprint whose first table is already isolated (RLS, policy, audit, grants).
    #[command(
        after_help = "Example:\n  provision blueprint init shop\n  provision tenant add acme --name Acme --blueprint shop"
    )]
    Init(BlueprintInitArgs),
}

#[derive(Debug, Args)]
pub struct BlueprintNameArgs {
    /// Blueprint name.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct BlueprintInitArgs {
    /// Name of the new blueprint: lower-case letters, digits and '_'.
    pub name: String,
    /// Directory to create it in (default: tenants.toml's templates directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Exit 1 when anything is pending (shared or tenant versions, a declared
    /// tenant not created) or verify finds drift; for CI gates.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub dry_run: DryRunOpts,
    /// With --dry-run: exit 1 when `up` would change anything (a CI gate).
    #[arg(long, requires = "enabled")]
    pub check: bool,
    /// Skip the final `provision verify` of the whole database.
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub jobs: JobOpts,
    /// Refuse pending versions with a lock hazard on tables that hold data
    /// (CREATE INDEX without CONCURRENTLY, a volatile default, …) instead of warning.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub admin: AdminArgs,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Password for admin@<code>.example of newly created tenants (stored as a bcrypt hash).
    /// Without it: a generated one on the embedded sandbox (printed once), none usable elsewhere.
    #[arg(long, env = "PROVISION_ADMIN_PASSWORD", hide_env_values = true, value_name = "PASSWORD")]
    pub admin_password: Option<String>,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub tenants: TenantOpts,
    /// Sample size per tenant, in the unit its blueprint's [sample] names (default: the blueprint's default_size).
    #[arg(long, visible_alias = "size", value_name = "N")]
    pub sample: Option<u32>,
    /// Seed of the random generator: the same seed gives the same rows.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub rng_seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create a fully provisioned database (shared + every tenant + reference data).
    #[command(after_help = "Example:\n  provision db create ci_42\n  provision db create ci_big --sample 1000\n  \
        provision db create ci_43 --pool 3   # rename a spare, keep 3 ready")]
    Create(DbCreateArgs),
    /// Drop a database made by `db create`, or every spare of the pool.
    #[command(after_help = "Example:\n  provision db drop ci_42\n  provision db drop --spares")]
    Drop(DbNameArgs),
    /// List databases made by `db create`, the templates they clone, and the spares.
    #[command(after_help = "Example:\n  provision db list")]
    List,
    /// Bring the pool of spares to N (what `db create --pool N` starts in the background).
    #[command(hide = true)]
    Refill(DbRefillArgs),
}

#[derive(Debug, Args)]
pub struct DbCreateArgs {
    /// Name of the new database.
    pub name: String,
    /// Load sample data into the template (size per tenant, in its blueprint's [sample] unit).
    #[arg(long, value_name = "N")]
    pub sample: Option<u32>,
    /// Keep N spare clones of the template ready, refilled in the background (default: tenants.toml [db] pool, else 0).
    #[arg(long, value_name = "N")]
    pub pool: Option<u32>,
}

#[derive(Debug, Args)]
pub struct DbNameArgs {
    /// Database name.
    #[arg(required_unless_present = "spares")]
    pub name: Option<String>,
    /// Drop the spare databases of the pool instead.
    #[arg(long, conflicts_with = "name")]
    pub spares: bool,
}

#[derive(Debug, Args)]
pub struct DbRefillArgs {
    /// Spares to keep.
    #[arg(long, value_name = "N")]
    pub pool: u32,
    /// The template's sample size, as `db create --sample` gave it.
    #[arg(long, value_name = "N")]
    pub sample: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Required outside the embedded sandbox, together with --confirm.
    #[arg(long)]
    pub yes: bool,
    /// The database's name, typed out (required outside the sandbox).
    #[arg(long, value_name = "DATABASE")]
    pub confirm: Option<String>,
    #[command(flatten)]
    pub admin: AdminArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub tenants: TenantOpts,
    /// Output format [default: text; --json implies json, and refuses another].
    #[arg(long, value_enum)]
    pub format: Option<VerifyFormat>,
    /// Write the report to FILE instead of stdout (not with --json).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Wait for a tenant another run is changing (up to --lock-timeout) instead of skipping it.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// A session waiting on a lock longer than this many seconds makes the database unhealthy.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub lock_wait_threshold: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
    Junit,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Start the embedded PostgreSQL (creating it on first use).
    #[command(after_help = "Example:\n  provision sandbox start")]
    Start,
    /// Stop the embedded PostgreSQL.
    #[command(after_help = "Example:\n  provision sandbox stop")]
    Stop,
    /// Say whether the embedded PostgreSQL exists and runs.
    #[command(after_help = "Example:\n  provision sandbox status")]
    Status,
    /// Print the connection URL of the embedded PostgreSQL (exit 3 when it is not running).
    #[command(after_help = "Example:\n  psql \"$(provision sandbox url)\"")]
    Url,
}
