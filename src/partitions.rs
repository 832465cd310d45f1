//! Partitions of a tenant's time-partitioned tables.
//!
//! Templates cannot create these: their bounds depend on today's date, while
//! a versioned template must render the same SQL forever. So the blueprint
//! declares the tables (`[[partitioned]]` in blueprint.toml) and provisioning
//! creates, in the tenant's own transaction, a DEFAULT partition plus the
//! current period through `premake` periods ahead — inserts work from the
//! first second. Later rollover and retention build on this.

use anyhow::{Context as _, Result};
use tokio_postgres::Transaction;

use crate::blueprint::PartitionSpec;
use crate::tenant::quote_literal;

/// Creates whatever is missing of the window for `specs` in `schema`, using
/// the database clock. Two round trips whatever the table count. Returns how
/// many partitions were created.
pub async fn ensure_window(tx: &Transaction<'_>, schema: &str, specs: &[PartitionSpec]) -> Result<usize> {
    if specs.is_empty() {
        return Ok(0);
    }
    let tables: Vec<&str> = specs.iter().map(|s| s.table.as_str()).collect();
    let units: Vec<&str> = specs.iter().map(|s| s.interval.unit()).collect();
    let premake: Vec<i32> = specs.iter().map(|s| s.premake as i32).collect();
    let rows = tx
        .query(include_str!("sql/partition_window.sql"), &[&schema, &tables, &units, &premake])
        .await
        .with_context(|| format!("cannot plan the partitions of {schema}"))?;
    let ddl: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    if !ddl.is_empty() {
        tx.batch_execute(&ddl.join(";\n"))
            .await
            .with_context(|| format!("cannot create the partitions of {schema}"))?;
    }
    Ok(ddl.len())
}

/// The same decision as [`ensure_window`] as a psql script for
/// `tenant render`: the planning query with its parameters inlined, run
/// through `\gexec` so the partitions follow the database clock there too.
pub fn window_script(schema: &str, specs: &[PartitionSpec]) -> Option<String> {
    if specs.is_empty() {
        return None;
    }
    let array = |items: Vec<String>, ty: &str| format!("ARRAY[{}]::{ty}", items.join(", "));
    let tables = array(specs.iter().map(|s| quote_literal(&s.table)).collect(), "text[]");
    let units = array(specs.iter().map(|s| quote_literal(s.interval.unit())).collect(), "text[]");
    let premake = array(specs.iter().map(|s| s.premake.to_string()).collect(), "int[]");
    let query = include_str!("sql/partition_window.sql")
        .replace("$1::text", &format!("{}::text", quote_literal(schema)))
        .replace("$2::text[]", &tables)
        .replace("$3::text[]", &units)
        .replace("$4::int[]", &premake);
    Some(format!("SELECT ddl FROM (\n{}\n) AS partition_window\n\\gexec\n", query.trim_end()))
}
