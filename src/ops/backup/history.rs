//! The backup history: every backup attempt is a row in
//! `shared.backup_history`, kept when its tenant is removed.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::Written;
use crate::pg::connection::redact;
use crate::store::registry::Registered;

/// Records a backup attempt in `shared.backup_history` (seed 001 §5.2):
/// type 'full', status 'completed' with the size, or 'failed' with the
/// error and the file it was meant for; verification 'pending'. Where the
/// table has `tenant_code` / `storage_location` columns they are filled too.
pub async fn record(
    client: &impl GenericClient,
    tenant: &Registered,
    path: &Path,
    elapsed: Duration,
    outcome: std::result::Result<&Written, &anyhow::Error>,
) -> Result<Uuid> {
    let optional: Vec<String> = client
        .query(
            "SELECT attname::text FROM pg_catalog.pg_attribute \
             WHERE attrelid = 'shared.backup_history'::regclass AND attnum > 0 AND NOT attisdropped \
               AND attname IN ('tenant_code', 'storage_location')",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let has = |column: &str| optional.iter().any(|c| c == column);
    let location = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
    let (size, status, error): (Option<i64>, &str, Option<String>) = match outcome {
        Ok(written) => (Some(i64::try_from(written.size_bytes).unwrap_or(i64::MAX)), "completed", None),
        Err(e) => {
            let mut message = redact(&format!("{e:#}"));
            if !has("storage_location") {
                message.push_str(&format!(" (file {location})"));
            }
            (None, "failed", Some(message))
        }
    };
    let seconds = elapsed.as_secs_f64();
    let code = tenant.code.as_str().to_owned();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&tenant.id, &seconds, &size, &status, &error];
    let (mut columns, mut values) = (String::new(), String::new());
    if has("tenant_code") {
        params.push(&code);
        columns.push_str(", tenant_code");
        values.push_str(&format!(", ${}", params.len()));
    }
    if has("storage_location") {
        params.push(&location);
        columns.push_str(", storage_location");
        values.push_str(&format!(", ${}", params.len()));
    }
    let sql = crate::pg::script::render(
        include_str!("../sql/backup_history_insert.sql"),
        &[("extra_columns", &columns), ("extra_values", &values)],
    )?;
    let row = client.query_one(&sql, &params).await.context("cannot record the backup in shared.backup_history")?;
    Ok(row.get(0))
}

/// Before a tenant's registry row is deleted: keeps its backup history (see
/// `sql/backup_history_detach.sql`). Returns the rows detached.
pub async fn keep_history(client: &impl GenericClient, tenant_id: Uuid) -> Result<u64> {
    client
        .execute(include_str!("../sql/backup_history_detach.sql"), &[&tenant_id])
        .await
        .context("cannot keep the backup history of the tenant")
}
