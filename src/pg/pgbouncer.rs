//! PgBouncer's admin console (the virtual database `pgbouncer`): the three
//! commands a cutover needs.
//!
//! - `PAUSE db` returns once every server connection of `db` is released,
//!   that is once the transactions in flight through it have ended; new
//!   ones wait inside PgBouncer instead of failing.
//! - `RELOAD` reads the configuration (and its `%include`d routing file)
//!   again: new server connections of a changed alias go to its new host.
//! - `RESUME db` lets the waiting transactions through.
//!
//! The console speaks only the simple query protocol, hence `simple_query`.

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use super::connection::Target;
use crate::error::bad_input;

/// A connection to PgBouncer's admin console.
pub struct Console {
    client: Client,
    described: String,
}

impl Console {
    /// Connects to `target`, which must name the database `pgbouncer` (the
    /// console); a login that is not in `admin_users` is refused by PgBouncer.
    pub async fn connect(target: &Target) -> Result<Console> {
        if target.dbname() != "pgbouncer" {
            return Err(bad_input(format!(
                "--pgbouncer: {} names database {:?}; give PgBouncer's admin console, database pgbouncer",
                target.describe(),
                target.dbname()
            )));
        }
        let client = target.connect().await?;
        Ok(Console { client, described: target.describe() })
    }

    /// `PAUSE db`: waits for `db`'s transactions in flight; new ones queue.
    pub async fn pause(&self, db: &str) -> Result<()> {
        self.run(&format!("PAUSE {}", alias(db)?)).await
    }

    /// `RESUME db`: the queued transactions go on, through the current routing.
    pub async fn resume(&self, db: &str) -> Result<()> {
        self.run(&format!("RESUME {}", alias(db)?)).await
    }

    /// `RELOAD`: the configuration and the routing file are read again.
    pub async fn reload(&self) -> Result<()> {
        self.run("RELOAD").await
    }

    async fn run(&self, command: &str) -> Result<()> {
        self.client
            .simple_query(command)
            .await
            .map(drop)
            .with_context(|| format!("PgBouncer ({}): {command}", self.described))
    }
}

/// A database name as the console takes it: a tenant code is a plain
/// identifier; anything else would have to be quoted, so it is refused.
fn alias(db: &str) -> Result<&str> {
    let plain = db.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && db.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match plain {
        true => Ok(db),
        false => Err(bad_input(format!("{db:?} is not a PgBouncer alias provision writes"))),
    }
}
