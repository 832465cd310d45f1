//! `partitions list`: per tenant and partitioned table, the range covered,
//! gaps, rows in the default partition and when the next rollover is due.
//! One catalog query for the whole database.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::model::config::Config;

/// One partitioned table of one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct Covered {
    pub tenant: String,
    pub table: String,
    /// The first and last moment the partitions cover (none: no partitions).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Periods missing between `from` and `to`.
    pub gaps: Vec<String>,
    pub default_rows: Option<i64>,
    pub next_rollover: Option<String>,
}

/// Every partitioned table of the active tenants (or the `named` ones).
pub async fn list(client: &Client, config: &Config, named: &[String]) -> Result<Vec<Covered>> {
    // Counting DEFAULT rows reads tables: bounded, and dropped with the client.
    crate::ops::rollover::bound_session(client, Duration::from_secs(300)).await?;
    let inputs = super::inputs(client, config, named).await?;
    let codes: Vec<&str> = inputs.iter().map(|i| i.code.as_str()).collect();
    let schemas: Vec<String> =
        inputs.iter().map(|i| i.spec.schema.clone().unwrap_or_else(|| i.code.schema_name())).collect();
    let tables: Vec<&str> = inputs.iter().map(|i| i.spec.table.as_str()).collect();
    let units: Vec<&str> = inputs.iter().map(|i| i.spec.interval.unit()).collect();
    let premake: Vec<i32> = inputs.iter().map(|i| i.spec.premake as i32).collect();
    let rows = client
        .query(include_str!("../sql/partitions_list.sql"), &[&codes, &schemas, &tables, &units, &premake])
        .await?;
    Ok(rows
        .iter()
        .map(|r| Covered {
            tenant: r.get("code"),
            table: r.get("table"),
            from: r.get("covered_from"),
            to: r.get("covered_to"),
            gaps: r.get("gaps"),
            default_rows: r.get("default_rows"),
            next_rollover: r.get("next_rollover"),
        })
        .collect())
}
