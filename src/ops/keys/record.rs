//! The end of a rotation: prove, in the transaction that records it, that
//! no value of any declared column carries a key other than the new one
//! (a census of every table, decrypting nothing), then retire the old key
//! and record the new one as the tenant's current key.

use anyhow::Result;
use tokio_postgres::Client;

use super::census::{census_sql, Table};
use super::KeyIds;
use crate::error::failed;
use crate::model::tenant::TenantCode;

/// Proves and records; true when a key was retired by this call.
pub(super) async fn prove_and_record(
    client: &mut Client,
    code: &TenantCode,
    tables: &[Table],
    ids: &KeyIds,
) -> Result<bool> {
    let tx = client.transaction().await?;
    for table in tables {
        for row in tx.query(&census_sql(table), &[]).await? {
            let key_id: String = row.get("key_id");
            if key_id != ids.to {
                let column: String = row.get("column_name");
                return Err(failed(format!(
                    "tenant {code}: {} values of {}.{column} still carry key id {key_id} (written while the rotation \
                     ran?); key id {} stays current and nothing is retired: run `provision keys rotate` again",
                    row.get::<_, i64>("value_count"),
                    table.spec.table,
                    ids.from
                )));
            }
        }
    }
    let retired = tx.execute(include_str!("../sql/keys_retire.sql"), &[&code.as_str(), &ids.to]).await?;
    let inserted = tx.execute(include_str!("../sql/keys_record.sql"), &[&code.as_str(), &ids.from, &ids.to]).await?;
    tx.commit().await?;
    Ok(retired > 0 || inserted > 0)
}
