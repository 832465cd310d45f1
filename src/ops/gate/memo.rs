//! The gate's memory for new tenants: `tenant add` walks a whole reference
//! tenant before creating one, which doubles the cost of every `tenant add`
//! although the answer can only change when what a new tenant receives
//! changes. That is the blueprint's files, the provision binary (its
//! finishing steps and shared migrations) and the server's major version,
//! so their digest keys a row in `provision.gate_passed`
//! (migrations/V13__gate_memo.sql). A hit skips the walk; each tenant's own
//! transaction is still checked before COMMIT (`check_tenant`). Only passes
//! are remembered: a refused blueprint is walked (and refused) every time.

use anyhow::Result;
use sha2::Digest as _;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;

use crate::model::blueprint::Blueprint;
use crate::ops::template_db::{binary_identity, Fields};

/// The digest of everything a brand-new tenant of `blueprint` depends on.
pub fn key(blueprint: &Blueprint, server_major: i32) -> Result<String> {
    let mut h = Fields(sha2::Sha256::new());
    h.field("binary", binary_identity().as_bytes());
    h.field("server major", server_major.to_string().as_bytes());
    for file in &blueprint.files {
        h.field("blueprint file", file.path.as_bytes());
        h.field("bytes", &file.bytes);
    }
    Ok(h.0.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether these contents passed before.
pub async fn passed(client: &Client, blueprint: &Blueprint, key: &str) -> Result<bool> {
    let params: [(&(dyn ToSql + Sync), Type); 2] = [(&blueprint.name, Type::TEXT), (&key, Type::TEXT)];
    Ok(client.query_typed_one(include_str!("../sql/gate_memo_passed.sql"), &params).await?.get(0))
}

/// Remembers a pass.
pub async fn record(client: &Client, blueprint: &Blueprint, key: &str) -> Result<()> {
    client.execute(include_str!("../sql/gate_memo_record.sql"), &[&blueprint.name, &key]).await?;
    Ok(())
}
