//! Flags several commands share, defined once and flattened into each
//! (as sqlx-cli's `ConnectOpts`), so `--tenant`, `--jobs` and `--dry-run`
//! mean, validate and read the same everywhere.

use clap::Args;

/// `--tenant CODE`, repeatable: the tenants a fleet command works on.
#[derive(Debug, Clone, Args)]
pub struct TenantOpts {
    /// Tenant to work on (repeatable; default: every active tenant).
    #[arg(long = "tenant", value_name = "CODE")]
    pub codes: Vec<String>,
}

/// `--jobs N`: tenants worked on in parallel.
#[derive(Debug, Clone, Copy, Args)]
pub struct JobOpts {
    /// Tenants worked on in parallel, each on its own connection.
    #[arg(long = "jobs", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub count: u16,
}

impl JobOpts {
    pub fn get(self) -> usize {
        usize::from(self.count)
    }
}

/// `--dry-run`: say what would be done and change nothing.
#[derive(Debug, Clone, Copy, Args)]
pub struct DryRunOpts {
    /// Print what would be done; change nothing.
    #[arg(long = "dry-run")]
    pub enabled: bool,
}
