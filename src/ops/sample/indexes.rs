//! Secondary indexes built after a bulk sample load instead of row by row
//! during it. Maintaining the non-unique indexes (B-trees and GIN full-text
//! and JSONB indexes) entry by entry was most of a large load's insert time;
//! one sorted build per index after the inserts costs a fraction of that, can
//! use parallel workers for B-trees, and fills GIN indexes in bulk instead of
//! through their pending lists.
//!
//! Only tables holding at most [`SMALL_TABLE`] rows when the load starts are
//! touched (a fresh tenant: its users table already holds the
//! administrator), so a rebuild never re-sorts much existing data, and a
//! rerun or a larger sample on a seeded tenant takes the ordinary path. Only
//! indexes that `pg_get_indexdef` fully describes are dropped (no
//! constraint, not unique, no comment …: `sample_deferrable_indexes.sql`),
//! and they are rebuilt under their names in the same transaction, so the
//! catalog after the load reads as if they had never left.
//!
//! The price: `DROP INDEX` holds an ACCESS EXCLUSIVE lock on each such table
//! until the load commits, so the application cannot read those (nearly
//! empty) tables of the tenant while it is being seeded.

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use tokio_postgres::Transaction;

/// Largest row count at which a table's secondary indexes are deferred.
pub const SMALL_TABLE: i64 = 100;

/// What rebuilds the indexes [`defer`] dropped, in their creation order.
#[derive(Default)]
pub struct Deferred {
    statements: Vec<String>,
    pub indexes: usize,
}

/// Drops the deferrable secondary indexes of the schema's small tables.
pub async fn defer(tx: &Transaction<'_>, schema: &str) -> Result<Deferred> {
    let path = catalog_search_path(tx).await?;
    let candidates = tx.query(include_str!("../sql/sample_deferrable_indexes.sql"), &[&schema]).await?;
    let mut small: HashMap<String, bool> = HashMap::new();
    let mut deferred = Deferred::default();
    let mut drops = Vec::new();
    for row in candidates {
        let (table, index, statements): (String, String, Vec<String>) = (row.get(0), row.get(1), row.get(2));
        if !small.contains_key(&table) {
            small.insert(table.clone(), is_small(tx, &table).await?);
        }
        if small[&table] {
            drops.push(format!("DROP INDEX {index}"));
            deferred.statements.extend(statements);
            deferred.indexes += 1;
        }
    }
    if !drops.is_empty() {
        tx.batch_execute(&drops.join(";\n")).await.context("cannot drop the indexes to rebuild after the load")?;
    }
    set_search_path(tx, &path).await?;
    Ok(deferred)
}

/// Builds again what [`defer`] dropped.
pub async fn rebuild(tx: &Transaction<'_>, deferred: &Deferred) -> Result<()> {
    if deferred.statements.is_empty() {
        return Ok(());
    }
    let path = catalog_search_path(tx).await?;
    tx.batch_execute(include_str!("../sql/sample_index_build.sql")).await?;
    for statement in &deferred.statements {
        tx.batch_execute(statement)
            .await
            .with_context(|| format!("cannot rebuild an index after the load: {statement}"))?;
    }
    set_search_path(tx, &path).await
}

/// Whether `table` (regclass text) holds at most [`SMALL_TABLE`] rows.
async fn is_small(tx: &Transaction<'_>, table: &str) -> Result<bool> {
    let sql = format!("SELECT count(*) FROM (SELECT FROM {table} LIMIT {}) t", SMALL_TABLE + 1);
    Ok(tx.query_one(&sql, &[]).await?.get::<_, i64>(0) <= SMALL_TABLE)
}

/// Sets search_path to pg_catalog alone for this transaction, so that the
/// definitions read and run name every object with its schema; returns the
/// path it replaced.
async fn catalog_search_path(tx: &Transaction<'_>) -> Result<String> {
    let path: String = tx.query_one("SELECT current_setting('search_path')", &[]).await?.get(0);
    set_search_path(tx, "pg_catalog").await?;
    Ok(path)
}

async fn set_search_path(tx: &Transaction<'_>, path: &str) -> Result<()> {
    tx.execute("SELECT set_config('search_path', $1, true)", &[&path]).await?;
    Ok(())
}
