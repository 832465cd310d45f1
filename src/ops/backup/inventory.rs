//! What a backup needs to know about the tenant in the catalog besides
//! pg_dump's output: the server version, whether the role reads past
//! row-level security, the archive schema and the audit log's partitions.

use anyhow::Result;
use tokio_postgres::GenericClient;

use crate::model::tenant::TenantCode;

/// What a backup needs from the catalog besides pg_dump's output.
pub(super) struct Inventory {
    pub(super) server_major: u32,
    /// The connected role reads past row-level security.
    pub(super) bypass_rls: bool,
    pub(super) archive: Option<String>,
    pub(super) audit_log: bool,
    /// (name, bound) of each partition of the audit log.
    pub(super) partitions: Vec<(String, String)>,
}

impl Inventory {
    pub(super) async fn read(client: &impl GenericClient, code: &TenantCode) -> Result<Inventory> {
        let rows = client.query(include_str!("../sql/backup_inventory.sql"), &[&code.as_str()]).await?;
        let mut inventory =
            Inventory { server_major: 0, bypass_rls: false, archive: None, audit_log: false, partitions: Vec::new() };
        for row in rows {
            let kind: &str = row.get(0);
            let name: String = row.get(1);
            match kind {
                "server" => inventory.server_major = name.parse().unwrap_or(0),
                "bypass" => inventory.bypass_rls = name == "true",
                "archive" => inventory.archive = Some(name),
                "log" => inventory.audit_log = true,
                _ => inventory.partitions.push((name, row.get::<_, Option<String>>(2).unwrap_or_default())),
            }
        }
        inventory.partitions.sort();
        Ok(inventory)
    }
}
