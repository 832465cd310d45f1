//! Throwaway databases verify builds references in: created from
//! `template0` under a unique name, and dropped once their client is closed.

use std::time::Duration;

use anyhow::Result;
use tokio_postgres::Client;

/// Creates an empty database named after `purpose`, this process and a UUID.
pub async fn create(admin: &Client, purpose: &str) -> Result<String> {
    let name = format!("provision_verify_{purpose}{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0")).await?;
    Ok(name)
}

/// Drops the database once the sessions of closed clients have ended (for
/// up to half a second; then FORCE ends whatever is left).
pub async fn drop(admin: &Client, name: &str) -> Result<()> {
    for _ in 0..100 {
        let row = admin.query_one(include_str!("../sql/scratch_sessions.sql"), &[&name]).await?;
        if row.get::<_, i64>(0) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    Ok(())
}
