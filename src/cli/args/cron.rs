//! `provision partitions …` and `provision retention run`: the arguments of
//! the commands cron runs beside live traffic (bounded lock waits, dry runs,
//! a moved clock for rehearsals).

use clap::{Args, Subcommand};

use super::{DryRunOpts, TenantOpts};

#[derive(Debug, Subcommand)]
pub enum PartitionsCommand {
    /// Create partitions through premake ahead, fill gaps, apply retention (safe from cron).
    #[command(after_help = "Example:\n  provision partitions rollover --jobs 2\n  \
        provision partitions rollover --tenant lic --dry-run --now 2027-01-01\n\n\
        Exit codes: 0 every tenant succeeded (or was skipped: another run held its lock); 1 a tenant failed; \
        3 every failure was a lock wait that ran out (--ddl-timeout, or --lock-timeout with --wait).")]
    Rollover(RolloverArgs),
    /// Per table: range covered, gaps, rows in the default partition, next rollover due.
    #[command(after_help = "Example:\n  provision partitions list --tenant lic")]
    List(PartitionsListArgs),
}

#[derive(Debug, Args)]
pub struct RolloverArgs {
    #[command(flatten)]
    pub tenants: TenantOpts,
    #[command(flatten)]
    pub dry_run: DryRunOpts,
    /// Tenants rolled over in parallel, each on its own connection [default: this machine's CPUs, at most 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Act as if it were this time (tests, catching up); default: the database clock.
    #[arg(long, value_name = "TIMESTAMP")]
    pub now: Option<String>,
    /// Wait for a tenant another run is working on (up to --lock-timeout) instead of skipping it.
    #[arg(long)]
    pub wait: bool,
    /// Longest wait for a table lock before a DDL statement gives up, in seconds.
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    pub ddl_timeout: f64,
    /// Attempts after a lock timeout (with backoff) before the tenant fails.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,
    /// statement_timeout of every rollover statement, in seconds.
    #[arg(long, default_value_t = 300.0, value_name = "SECONDS")]
    pub statement_timeout: f64,
}

#[derive(Debug, Args)]
pub struct PartitionsListArgs {
    #[command(flatten)]
    pub tenants: TenantOpts,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Apply every pack's [[retention]] rules to every active tenant, in batches.
    #[command(
        after_help = "Example:\n  provision retention run --dry-run\n  provision retention run --tenant lic --batch 5000\n\n\
        Exit codes: 0 every tenant done; 1 a tenant failed; 2 a bad rule or option (nothing changed); \
        3 a tenant's lock or a row lock was not had within --lock-timeout."
    )]
    Run(RetentionRunArgs),
}

#[derive(Debug, Args)]
pub struct RetentionRunArgs {
    #[command(flatten)]
    pub tenants: TenantOpts,
    #[command(flatten)]
    pub dry_run: DryRunOpts,
    /// Act as if it were this time (rehearsals, tests); default: the database clock.
    #[arg(long, value_name = "TIMESTAMP")]
    pub now: Option<String>,
    /// Rows per batch; each batch is one transaction.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub batch: i64,
}
