//! Walking one table in batches: one transaction per batch of rows, one
//! UPDATE per batch that re-encrypts on the server (`keys_batch.sql`), the
//! cursor carried as text from batch to batch (keyset pagination: each batch
//! starts in the key column's unique index where the last one ended, never
//! an OFFSET or a scan of the whole table).

use anyhow::Result;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::census::{without_comments, Table};
use super::{KeyIds, RotateReporter, Rotation, TableRotated};
use crate::error::unavailable;
use crate::pg::quote::quote_ident;

/// Re-encrypts every value of `table` that carries the old key.
pub(super) async fn walk(
    reporter: &dyn RotateReporter,
    client: &mut Client,
    table: &Table,
    ids: &KeyIds,
    rotation: &Rotation<'_>,
) -> Result<TableRotated> {
    let sql = batch_sql(table);
    let lock_timeout = format!(
        "SET LOCAL lock_timeout = '{}ms'; SET LOCAL session_replication_role = replica",
        rotation.lock_timeout.as_millis().max(1)
    );
    let limit = i64::from(rotation.batch);
    let mut done = TableRotated { table: table.spec.table.clone(), ..TableRotated::default() };
    let mut cursor: Option<String> = None;
    loop {
        let tx = client.transaction().await?;
        tx.batch_execute(&lock_timeout).await?;
        let row = tx
            .query_one(&sql, &[&cursor, &limit, &ids.from, &rotation.from.expose(), &rotation.to.expose()])
            .await
            .map_err(|e| locked(e, table, rotation))?;
        tx.commit().await?;
        crate::failpoint::hit("keys.after_batch");
        let Some(next) = row.get::<_, Option<String>>("cursor") else { break };
        let (rows, values) = (row.get::<_, i64>("row_count") as u64, row.get::<_, i64>("value_count") as u64);
        done.rows += rows;
        done.values += values;
        done.batches += 1;
        reporter.batch_committed(&table.spec.table, values);
        cursor = Some(next);
    }
    Ok(done)
}

/// A row lock that did not come within --lock-timeout: exit 3, saying
/// that what is done stays done.
fn locked(error: tokio_postgres::Error, table: &Table, rotation: &Rotation<'_>) -> anyhow::Error {
    if error.code() != Some(&SqlState::LOCK_NOT_AVAILABLE) {
        return error.into();
    }
    unavailable(format!(
        "tenant {}: rows of {} stayed locked by other sessions longer than --lock-timeout ({} s); \
         the batches before are kept, run `provision keys rotate` again to resume",
        rotation.tenant,
        table.spec.table,
        rotation.lock_timeout.as_secs_f64()
    ))
}

/// `keys_batch.sql` for one table.
fn batch_sql(table: &Table) -> String {
    let columns: Vec<String> = table.spec.columns.iter().map(|c| quote_ident(c)).collect();
    // The key id of an envelope (shared.envelope_key_id, without its regular
    // expression: a shared.ciphertext value is an envelope by its CHECK).
    let stale = |c: &String| format!("substr(t.{c}, 6, 12) = $3::text");
    let stale_count: Vec<String> = columns.iter().map(|c| format!("coalesce({}, false)::int", stale(c))).collect();
    let sets: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "{c} = CASE WHEN {} THEN shared.encrypt(shared.decrypt(t.{c}, $4::text), $5::text) ELSE t.{c} END",
                stale(c)
            )
        })
        .collect();
    without_comments(include_str!("../sql/keys_batch.sql"))
        .replace("{table}", &table.quoted)
        .replace("{key}", &quote_ident(&table.spec.key))
        .replace("{key_type}", &table.key_type)
        .replace("{stale_count}", &stale_count.join(" + "))
        .replace("{sets}", &sets.join(",\n        "))
}
