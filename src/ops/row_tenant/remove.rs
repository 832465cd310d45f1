//! Removing a row tenant's rows (`tenant remove` of a row-tenancy pack's
//! tenant): children before parents, the tenant row last, in the removal's
//! transaction. Kept tables (`[row] keep`, the audit trail) are left alone.
//!
//! Rows are locked first, in the same order, so the final backup the
//! removal writes in between holds exactly what is deleted. A row of
//! another tenant (or of a table outside the pack) that still references
//! one of them makes PostgreSQL's foreign key refuse the delete; that is
//! reported naming the table and constraint, and nothing is removed.

use anyhow::Result;
use tokio_postgres::error::SqlState;
use tokio_postgres::Transaction;

use super::{qualified, statement, tables, RowTable};
use crate::error::failed;
use crate::model::blueprint::RowSpec;
use crate::model::tenant::TenantCode;

/// The tables that hold the tenant's rows, parents first (kept ones out).
pub async fn removable(tx: &Transaction<'_>, row: &RowSpec) -> Result<Vec<RowTable>> {
    Ok(tables(tx, row).await?.into_iter().filter(|t| !t.kept).collect())
}

/// Locks every row of the tenant in `tables` until `tx` ends; returns the
/// number of rows.
pub async fn lock_rows(tx: &Transaction<'_>, row: &RowSpec, tables: &[RowTable], code: &TenantCode) -> Result<i64> {
    let mut rows = 0;
    for table in tables.iter().rev() {
        let sql = statement(include_str!("../sql/row_tenant_lock.sql"), row, table)?;
        rows += tx.query_one(&sql, &[&code.as_str()]).await?.get::<_, i64>(0);
    }
    Ok(rows)
}

/// Deletes the tenant's rows of `tables`, children first; returns how many.
pub async fn delete_rows(tx: &Transaction<'_>, row: &RowSpec, tables: &[RowTable], code: &TenantCode) -> Result<u64> {
    let mut deleted = 0;
    for table in tables.iter().rev() {
        let sql = statement(include_str!("../sql/row_tenant_delete.sql"), row, table)?;
        deleted += tx.execute(&sql, &[&code.as_str()]).await.map_err(|e| refused(e, row, table, code))?;
    }
    Ok(deleted)
}

/// A foreign key that still needs one of the rows becomes the refusal.
fn refused(error: tokio_postgres::Error, row: &RowSpec, table: &RowTable, code: &TenantCode) -> anyhow::Error {
    let Some(db) = error.as_db_error().filter(|_| error.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION)) else {
        return error.into();
    };
    let referencing =
        db.detail().and_then(|d| d.split("table ").nth(1)).map(|t| t.trim_matches(|c| c == '"' || c == '.'));
    failed(format!(
        "tenant {code}: rows of {} are still referenced{} (constraint {}); nothing was removed",
        qualified(row, &table.name),
        referencing.map(|t| format!(" from table {t}")).unwrap_or_default(),
        db.constraint().unwrap_or("?")
    ))
}
