//! Health checks of the server itself: the round trip, its version, whether
//! the shared lock table holds what one tenant locks, and pgaudit.

use std::time::Instant;

use anyhow::Result;
use tokio_postgres::Client;

use super::{Check, Status};
use crate::model::blueprint::Blueprint;

/// Round trips timed; the fastest is reported (the first may pay for a plan).
const PINGS: usize = 3;

/// The server settings the checks read (sql/server_settings.sql).
pub struct Settings {
    version: String,
    version_num: i32,
    max_locks_per_transaction: i64,
    max_connections: i64,
    max_prepared_transactions: i64,
    preload: String,
}

impl Settings {
    pub async fn read(client: &Client) -> Result<Settings> {
        let row = client.query_one(include_str!("sql/server_settings.sql"), &[]).await?;
        Ok(Settings {
            version: row.get("version"),
            version_num: row.get("version_num"),
            max_locks_per_transaction: row.get("max_locks"),
            max_connections: row.get("max_connections"),
            max_prepared_transactions: row.get("max_prepared"),
            preload: row.get("preload"),
        })
    }

    /// Locks the whole server can hold at once (the shared lock table).
    fn lock_capacity(&self) -> i64 {
        self.max_locks_per_transaction * (self.max_connections + self.max_prepared_transactions)
    }

    fn preloads(&self, library: &str) -> bool {
        self.preload.split(',').any(|l| l.trim().trim_matches('"') == library)
    }
}

/// The database answers; how long the fastest of a few round trips took.
pub async fn round_trip(client: &Client) -> Result<Check> {
    let mut best = f64::MAX;
    for _ in 0..PINGS {
        let started = Instant::now();
        client.simple_query("SELECT 1").await?;
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    let summary = format!("the database answers; round trip {best:.2} ms");
    if best > 50.0 {
        return Ok(Check::problem(
            "reachable",
            Status::Warn,
            summary,
            "every statement pays this latency: run provision (and the application) close to the server",
        ));
    }
    Ok(Check::ok("reachable", summary))
}

/// The server's version; provision needs PostgreSQL 14 or later (pg_locks.waitstart, FILE_COPY clones).
pub fn version(settings: &Settings) -> Check {
    let summary = format!("PostgreSQL {}", settings.version);
    match settings.version_num {
        n if n >= 140000 => Check::ok("server", summary),
        _ => Check::problem("server", Status::Fail, summary, "upgrade the server to PostgreSQL 14 or later"),
    }
}

/// Building, upgrading or backing up a tenant locks every relation of its
/// schema in one transaction; those locks come out of the shared lock table
/// of `max_locks_per_transaction × (max_connections + max_prepared_transactions)`
/// entries. Fail when one tenant needs half of it, warn at an eighth (a few
/// concurrent jobs and the application's own locks use the rest).
pub async fn lock_capacity(client: &Client, settings: &Settings, provisioned: bool) -> Result<Check> {
    let rows = match provisioned {
        true => client.query(include_str!("sql/tenant_relations.sql"), &[]).await?,
        false => Vec::new(),
    };
    let capacity = settings.lock_capacity();
    let Some(largest) = rows.first() else {
        return Ok(Check::ok("lock capacity", format!("shared lock table of {capacity} locks; no tenant yet")));
    };
    let (schema, relations): (String, i64) = (largest.get("schema"), largest.get("relations"));
    let summary = format!(
        "max_locks_per_transaction {} × (max_connections {} + max_prepared_transactions {}) = {capacity} locks; \
         the largest tenant schema, {schema}, has {relations} relations to lock",
        settings.max_locks_per_transaction, settings.max_connections, settings.max_prepared_transactions
    );
    let needed = relations * 8;
    let slots = (settings.max_connections + settings.max_prepared_transactions).max(1);
    let action = format!(
        "raise max_locks_per_transaction to at least {} (postgresql.conf, needs a restart), or run fewer --jobs",
        (needed + slots - 1) / slots
    );
    let check = match relations {
        r if r * 2 > capacity => Check::problem("lock capacity", Status::Fail, summary, action),
        r if r * 8 > capacity => Check::problem("lock capacity", Status::Warn, summary, action),
        _ => Check::ok("lock capacity", summary),
    };
    Ok(check.naming(vec![schema]))
}

/// Whether pgaudit is preloaded; a warning only where a blueprint in use
/// declares `[audit] reads` (their reads then go unaudited).
pub fn pgaudit(settings: &Settings, in_use: &[Blueprint]) -> Check {
    let wanting: Vec<String> = in_use
        .iter()
        .filter(|bp| bp.manifest.audit.as_ref().is_some_and(|a| !a.reads.is_empty()))
        .map(|bp| bp.name.clone())
        .collect();
    if settings.preloads("pgaudit") {
        return Check::ok("pgaudit", "pgaudit is in shared_preload_libraries");
    }
    if wanting.is_empty() {
        return Check::ok("pgaudit", "pgaudit is not loaded; no blueprint in use audits reads");
    }
    Check::problem(
        "pgaudit",
        Status::Warn,
        format!("pgaudit is not loaded: reads that {} audit are not logged", wanting.join(", ")),
        "install pgaudit (Debian: postgresql-15-pgaudit), add it to shared_preload_libraries and restart the server",
    )
    .naming(wanting)
}
