//! What a move needs of its two servers and of the source's tables, checked
//! before it changes anything: superuser connections, two distinct
//! databases, logical WAL on the source of a live move, and a primary key
//! or replica identity on every table it publishes. Each refusal is one line
//! saying what to change.

use anyhow::Result;
use tokio_postgres::Client;

use super::Side;
use crate::error::{bad_input, failed};
use crate::model::tenant::TenantCode;

/// What a move needs to know about one server.
pub struct ServerFacts {
    pub wal_level: String,
    pub superuser: bool,
    pub major: u32,
}

pub async fn facts(client: &Client) -> Result<ServerFacts> {
    let row = client.query_one(include_str!("sql/server_checks.sql"), &[]).await?;
    Ok(ServerFacts {
        wal_level: row.get(0),
        superuser: row.get::<_, Option<bool>>(1).unwrap_or(false),
        major: row.get::<_, i32>(2) as u32,
    })
}

/// The cluster (system identifier) and database a connection reaches.
pub async fn identity(client: &Client) -> Result<(String, String)> {
    let row = client.query_one(include_str!("sql/server_identity.sql"), &[]).await?;
    Ok((row.get(0), row.get(1)))
}

/// The one line that says what to change on a source without logical WAL.
pub fn wal_level_message(server: &str, wal_level: &str) -> String {
    format!(
        "server {server} has wal_level = {wal_level}; a move needs logical: run ALTER SYSTEM SET wal_level = logical \
         on it and restart it (or use --offline)"
    )
}

/// Refuses a live move from a source whose tables would refuse UPDATE and
/// DELETE once published (no primary key, no replica identity).
pub async fn replica_identity(source: &Client, code: &TenantCode) -> Result<()> {
    let rows = source.query(include_str!("sql/identity_missing.sql"), &[&code.schema_name()]).await?;
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    match tables.is_empty() {
        true => Ok(()),
        false => Err(failed(format!(
            "tenant {code}: {} {} no primary key or replica identity, so publishing it would make its UPDATEs and \
             DELETEs fail on the source; add one (ALTER TABLE … REPLICA IDENTITY FULL), or use --offline",
            tables.join(", "),
            if tables.len() == 1 { "has" } else { "have" }
        ))),
    }
}

/// Both servers: superusers, distinct databases, and the source with logical WAL for a live move.
pub async fn servers(src: &Client, dst: &Client, (from, to): (&Side, &Side), offline: bool) -> Result<()> {
    let (a, b) = (facts(src).await?, facts(dst).await?);
    if !a.superuser || !b.superuser {
        return Err(failed("tenant move needs a superuser connection on both servers (publications, subscriptions)"));
    }
    let (here, there) = (identity(src).await?, identity(dst).await?);
    if here == there {
        return Err(bad_input(format!(
            "servers {} and {} are the same database ({}); --to must name another server",
            from.name, to.name, here.1
        )));
    }
    if !offline && a.wal_level != "logical" {
        return Err(failed(wal_level_message(&from.name, &a.wal_level)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_without_logical_wal_is_told_exactly_what_to_change() {
        assert_eq!(
            wal_level_message("a", "replica"),
            "server a has wal_level = replica; a move needs logical: run ALTER SYSTEM SET wal_level = logical on it \
             and restart it (or use --offline)"
        );
    }
}
