//! `provision partitions list`: per tenant and partitioned table, the range
//! covered, gaps, rows in the default partition and when the next rollover
//! is due. One catalog query for the whole database.

use anyhow::Result;
use serde_json::json;

use crate::cli::args::PartitionsListArgs;
use crate::cli::context::Context;
use crate::cli::partitions::inputs;

pub async fn run(ctx: &Context, args: &PartitionsListArgs) -> Result<()> {
    let config = ctx.config()?;
    let (client, _) = ctx.connect().await?;
    // Counting DEFAULT rows reads tables: bounded, and dropped with the client.
    crate::ops::rollover::bound_session(&client, std::time::Duration::from_secs(300)).await?;
    let inputs = inputs::collect(&client, &config, &args.tenants).await?;
    let codes: Vec<&str> = inputs.iter().map(|i| i.code.as_str()).collect();
    let schemas: Vec<String> =
        inputs.iter().map(|i| i.spec.schema.clone().unwrap_or_else(|| i.code.schema_name())).collect();
    let tables: Vec<&str> = inputs.iter().map(|i| i.spec.table.as_str()).collect();
    let units: Vec<&str> = inputs.iter().map(|i| i.spec.interval.unit()).collect();
    let premake: Vec<i32> = inputs.iter().map(|i| i.spec.premake as i32).collect();
    let rows = client
        .query(include_str!("../sql/partitions_list.sql"), &[&codes, &schemas, &tables, &units, &premake])
        .await?;
    let tables: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "tenant": r.get::<_, String>("code"), "table": r.get::<_, String>("table"),
                "from": r.get::<_, Option<String>>("covered_from"), "to": r.get::<_, Option<String>>("covered_to"),
                "gaps": r.get::<_, Vec<String>>("gaps"), "default_rows": r.get::<_, Option<i64>>("default_rows"),
                "next_rollover": r.get::<_, Option<String>>("next_rollover"),
            })
        })
        .collect();
    ctx.printer.json(&json!({ "tables": tables }));
    ctx.printer.line(format!(
        "{:<10} {:<36} {:<21} {:<21} {:>8}  {:<21} GAPS",
        "TENANT", "TABLE", "FROM", "TO", "DEFAULT", "NEXT ROLLOVER"
    ));
    for t in &tables {
        let text = |k: &str| t[k].as_str().unwrap_or("-").to_owned();
        let gaps: Vec<&str> = t["gaps"].as_array().into_iter().flatten().filter_map(|g| g.as_str()).collect();
        ctx.printer.line(format!(
            "{:<10} {:<36} {:<21} {:<21} {:>8}  {:<21} {}",
            text("tenant"),
            text("table"),
            text("from"),
            text("to"),
            t["default_rows"].as_i64().map_or("-".to_owned(), |n| n.to_string()),
            text("next_rollover"),
            if gaps.is_empty() { "none".to_owned() } else { gaps.join(", ") }
        ));
    }
    Ok(())
}
