//! The migration runner: refinery, run inside a transaction we own.
//!
//! refinery's tokio-postgres driver opens and commits its own transaction per
//! call, which would make "create the registry row, the schema and every
//! template version" impossible to do all-or-nothing. Instead of forking it,
//! we implement refinery's `AsyncTransaction`/`AsyncQuery` for a borrowed
//! [`Transaction`]: refinery keeps its verification, checksums and history
//! rows, and the caller keeps commit/rollback (and its advisory locks).

use std::sync::Mutex;

use anyhow::{anyhow, Result};
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use refinery_core::{Migration, Runner};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::Transaction;

use crate::error::failed;

/// The schema holding the shared history table (not `public`).
pub const HISTORY_SCHEMA: &str = crate::model::tenant::PROVISION_SCHEMA;
/// refinery's table name, kept so its tooling recognises our history tables.
pub const HISTORY_TABLE: &str = "refinery_schema_history";

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The cluster-wide migrations compiled into this binary.
pub fn shared_migrations() -> Vec<Migration> {
    let mut migrations = embedded::migrations::runner().get_migrations().clone();
    migrations.sort();
    migrations
}

/// The shared history table, qualified.
pub fn shared_history_table() -> String {
    format!("{HISTORY_SCHEMA}.{HISTORY_TABLE}")
}

/// One applied history row: version and refinery checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub version: i32,
    pub checksum: u64,
}

/// Parses the `version:checksum,...` aggregate our catalog queries return.
pub fn parse_applied(text: Option<&str>) -> Vec<Applied> {
    text.unwrap_or_default()
        .split(',')
        .filter_map(|pair| {
            let (version, checksum) = pair.split_once(':')?;
            Some(Applied { version: version.trim().parse().ok()?, checksum: checksum.trim().parse().ok()? })
        })
        .collect()
}

/// What applying `migrations` over `applied` would do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub current: i32,
    pub pending: Vec<Migration>,
    /// Applied versions whose source changed since (name, version).
    pub edited: Vec<(String, i32)>,
}

impl Plan {
    pub fn new(migrations: &[Migration], applied: &[Applied]) -> Plan {
        let current = applied.iter().map(|a| a.version).max().unwrap_or(0);
        let mut plan = Plan { current, ..Plan::default() };
        for migration in migrations {
            match applied.iter().find(|a| a.version == migration.version()) {
                None => plan.pending.push(migration.clone()),
                Some(a) if a.checksum != migration.checksum() => {
                    plan.edited.push((migration.to_string(), migration.version()))
                }
                Some(_) => {}
            }
        }
        plan
    }
}

/// Applies what is pending of `migrations` inside `tx`, recording each in
/// `history_table` (created if missing). Returns the applied migrations.
/// Nothing is committed here: the caller decides.
pub async fn apply(tx: &Transaction<'_>, migrations: &[Migration], history_table: &str) -> Result<Vec<Migration>> {
    let mut adapter = InTransaction { tx, last_batch: Mutex::new(String::new()) };
    let mut runner = Runner::new(migrations).set_abort_divergent(true).set_abort_missing(true);
    runner.set_migration_table_name(history_table);
    match runner.run_async(&mut adapter).await {
        Ok(report) => Ok(report.applied_migrations().clone()),
        Err(error) => Err(explain(error, &adapter.last_batch.lock().unwrap())),
    }
}

/// The SQL an applied migration's history row gets, for `tenant render`:
/// the same row refinery writes, with the time taken from the server.
pub fn history_insert_sql(migration: &Migration, history_table: &str) -> String {
    format!(
        "INSERT INTO {history_table} (version, name, applied_on, checksum) VALUES ({}, '{}', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '{}');",
        migration.version(),
        migration.name(),
        migration.checksum()
    )
}

/// refinery's CREATE TABLE for a history table, for `tenant render`.
pub fn history_create_sql(history_table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {history_table}(\n    version int4 PRIMARY KEY,\n    name VARCHAR(255),\n    applied_on VARCHAR(255),\n    checksum VARCHAR(255));"
    )
}

/// Turns refinery's error into one line naming the version, the line of the
/// template and PostgreSQL's message.
fn explain(error: refinery_core::Error, last_batch: &str) -> anyhow::Error {
    use refinery_core::error::Kind;
    match error.kind() {
        Kind::DivergentVersion(applied, _) => failed(format!(
            "applied version {applied} was edited since it ran (checksum differs); restore the template or repair the checksum"
        )),
        Kind::MissingVersion(applied) => failed(format!(
            "applied version {applied} is missing from the templates; restore its file"
        )),
        _ => {
            let context = error.to_string();
            let step = context.trim_matches('`').split('`').next().unwrap_or(&context).to_owned();
            match db_error(&error) {
                Some(db) => anyhow!("{}: {}", step, describe_db_error(db, last_batch)),
                None => anyhow::Error::new(error),
            }
        }
    }
}

fn db_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e tokio_postgres::error::DbError> {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(db) = cause.downcast_ref::<tokio_postgres::error::DbError>() {
            return Some(db);
        }
        source = cause.source();
    }
    None
}

/// `ERROR: message (line N)`, with the line counted in the failing SQL.
pub fn describe_db_error(db: &tokio_postgres::error::DbError, sql: &str) -> String {
    let line = match db.position() {
        Some(tokio_postgres::error::ErrorPosition::Original(at)) => {
            let before: String = sql.chars().take(*at as usize).collect();
            format!(" at line {}", before.matches('\n').count() + 1)
        }
        _ => String::new(),
    };
    format!("{}: {}{line} [SQLSTATE {}]", db.severity(), db.message(), db.code().code())
}

struct InTransaction<'c, 't> {
    tx: &'c Transaction<'t>,
    /// The batch being executed, so an error position can become a line.
    last_batch: Mutex<String>,
}

impl AsyncTransaction for InTransaction<'_, '_> {
    type Error = tokio_postgres::Error;

    /// Sends all statements of one call as a single batch: one round trip per
    /// migration, and no COMMIT (the caller owns the transaction).
    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(&mut self, queries: T) -> Result<usize, Self::Error> {
        // A no-transaction version applied inside a transaction is building a
        // new, empty schema (upgrades of existing tenants run it outside).
        let queries: Vec<String> = queries.map(crate::pg::statements::for_new_schema).collect();
        // "\n;\n": a migration ending in a `--` comment must not swallow the separator.
        let batch = queries.join("\n;\n");
        *self.last_batch.lock().unwrap() = batch.clone();
        self.tx.batch_execute(&batch).await?;
        Ok(queries.len())
    }
}

impl AsyncQuery<Vec<Migration>> for InTransaction<'_, '_> {
    async fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let rows = self.tx.query(query, &[]).await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let applied_on: String = row.get(2);
                let checksum: String = row.get(3);
                Some(Migration::applied(
                    row.get(0),
                    row.get(1),
                    OffsetDateTime::parse(&applied_on, &Rfc3339).ok()?,
                    checksum.parse().ok()?,
                ))
            })
            .collect())
    }
}

impl AsyncMigrate for InTransaction<'_, '_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_migrations_are_embedded_in_order() {
        let versions: Vec<i32> = shared_migrations().iter().map(|m| m.version()).collect();
        assert!(!versions.is_empty());
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn plan_finds_pending_and_edited() {
        let a = Migration::unapplied("V1__a", "select 1").unwrap();
        let b = Migration::unapplied("V2__b", "select 2").unwrap();
        let applied = parse_applied(Some(&format!("1:{}", a.checksum() + 1)));
        let plan = Plan::new(&[a, b], &applied);
        assert_eq!(plan.current, 1);
        assert_eq!(plan.pending.len(), 1);
        assert_eq!(plan.edited.len(), 1);
        assert!(parse_applied(None).is_empty());
    }
}
