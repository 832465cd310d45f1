//! `provision routing …`: the arguments of the commands that tell a
//! connection pooler where each tenant lives.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum RoutingCommand {
    /// Write PgBouncer's [databases] section: one alias per tenant, pointing at the server that holds it.
    #[command(after_help = "Example:\n  \
        provision routing pgbouncer --out /etc/pgbouncer/tenants.ini\n  \
        psql -h /run/postgresql -p 6432 -U pgbouncer pgbouncer -c RELOAD   # after a tenant moves\n\n\
        No user or password is written: PgBouncer authenticates with its auth_file or auth_query.\n\
        Exit codes: 0 written; 3 a server cannot be reached (nothing written); 1 a tenant is live on two servers.")]
    Pgbouncer(RoutingPgbouncerArgs),
}

#[derive(Debug, Args)]
pub struct RoutingPgbouncerArgs {
    /// Write the section to FILE (atomically: a temporary file renamed into place) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
