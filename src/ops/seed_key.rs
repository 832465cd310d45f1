//! Secrets of a sample load: the fresh encryption key a blueprint with
//! `[[encrypted]]` columns gets for its sample, and whatever secrets the
//! sample files put in `pg_temp.sample_secrets` (generated passwords …).
//!
//! The key is made here from the OS random generator, travels to the server
//! only as a bind parameter into the session setting
//! `provision.sample_key` (after the session stopped logging bind values),
//! and is recorded in `shared.tenant_keys` by its id alone. Whether anyone
//! ever sees it is the caller's decision (only on the embedded sandbox).
//!
//! Key rule: the sample key becomes the tenant's current key only if the
//! sample encrypted something with it. A rerun that inserts nothing leaves
//! `shared.tenant_keys` as it was. A load that does encrypt new rows while
//! values under the previous current key remain is refused: the tenant would
//! hold two keys in use, one of them not current.

use std::fmt;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::error::bad_input;
use crate::model::tenant::TenantCode;

/// A secret to show once. Its `Debug` never shows the value.
#[derive(Clone, Serialize)]
pub struct Secret {
    pub label: String,
    pub secret: String,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret").field("label", &self.label).field("secret", &"<hidden>").finish()
    }
}

/// One `[[encrypted]]` table of the blueprint: its name and encrypted columns.
pub type EncryptedTable<'a> = (&'a str, &'a [String]);

/// The session's sample key, between [`begin`] and [`finish`].
pub struct SampleKey {
    material: String,
    id: String,
    /// The current key this one replaced, if the tenant had one.
    previous: Option<String>,
}

/// Creates `pg_temp.sample_secrets` for the sample files.
pub async fn create_secrets_table(tx: &Transaction<'_>) -> Result<()> {
    tx.batch_execute(include_str!("sql/sample_secrets_create.sql"))
        .await
        .context("cannot create pg_temp.sample_secrets")
}

/// Makes a fresh key, sets it in the session and records it as the
/// tenant's current key (retiring the previous one until [`finish`] decides).
pub async fn begin(tx: &Transaction<'_>, code: &TenantCode) -> Result<SampleKey> {
    // 244 random bits from the OS generator, as 64 hex digits.
    let material = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    tx.batch_execute(include_str!("sql/sample_key_quiet_log.sql")).await?;
    tx.execute(include_str!("sql/sample_key_set.sql"), &[&material]).await?;
    let previous = tx.query_opt(include_str!("sql/sample_key_retire.sql"), &[&code.as_str()]).await?;
    let id: String = tx.query_one(include_str!("sql/sample_key_record.sql"), &[&code.as_str()]).await?.get(0);
    Ok(SampleKey { material, id, previous: previous.map(|row| row.get(0)) })
}

/// After the sample files ran: keeps the key as the tenant's current one if
/// it encrypted anything (and returns it as a secret), else undoes
/// [`begin`]'s bookkeeping; clears the session setting either way.
pub async fn finish(
    tx: &Transaction<'_>,
    code: &TenantCode,
    encrypted: &[EncryptedTable<'_>],
    key: SampleKey,
) -> Result<Option<Secret>> {
    let schema = code.schema_name();
    let used = carried(tx, &schema, encrypted, &key.id).await?;
    let kept = if !used {
        tx.execute(include_str!("sql/sample_key_forget.sql"), &[&code.as_str(), &key.id]).await?;
        if let Some(previous) = &key.previous {
            tx.execute(include_str!("sql/sample_key_reinstate.sql"), &[&code.as_str(), previous]).await?;
        }
        None
    } else {
        if let Some(previous) = &key.previous {
            if carried(tx, &schema, encrypted, previous).await? {
                return Err(bad_input(format!(
                    "tenant {code} holds values encrypted with its current key {previous}, and this sample would \
                     add rows under a new sample key (two keys in use); seed a fresh tenant (`tenant remove` then \
                     `tenant add`), or rerun with the sample's own --sample and --rng-seed"
                )));
            }
        }
        let label = format!("sample encryption key (key id {})", key.id);
        Some(Secret { label, secret: key.material })
    };
    tx.execute(include_str!("sql/sample_key_set.sql"), &[&""]).await?;
    Ok(kept)
}

/// The secrets the sample files left in `pg_temp.sample_secrets`.
pub async fn read_secrets(tx: &Transaction<'_>) -> Result<Vec<Secret>> {
    let rows = tx.query(include_str!("sql/sample_secrets_read.sql"), &[]).await?;
    Ok(rows.iter().map(|r| Secret { label: r.get(0), secret: r.get(1) }).collect())
}

/// Whether any encrypted value of the tenant names `key_id`.
async fn carried(tx: &Transaction<'_>, schema: &str, encrypted: &[EncryptedTable<'_>], key_id: &str) -> Result<bool> {
    for (table, columns) in encrypted {
        let check = tx.query_opt(include_str!("sql/sample_key_carried.sql"), &[&schema, table, columns]).await?;
        let Some(check) = check else { continue };
        let sql: String = check.get(0);
        if tx.query_one(&sql, &[&key_id]).await?.get::<_, bool>(0) {
            return Ok(true);
        }
    }
    Ok(false)
}
