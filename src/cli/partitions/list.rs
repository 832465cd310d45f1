//! `provision partitions list`: per tenant and partitioned table, the range
//! covered, gaps, rows in the default partition and when the next rollover
//! is due (see [`crate::ops::partitions::list`]).

use anyhow::Result;
use serde_json::json;

use crate::cli::args::PartitionsListArgs;
use crate::cli::context::Context;

pub async fn run(ctx: &Context, args: &PartitionsListArgs) -> Result<()> {
    let config = ctx.config()?;
    let (client, _) = ctx.connect().await?;
    let tables = crate::ops::partitions::list::list(&client, &config, &args.tenants.codes).await?;
    let mut documented: Vec<serde_json::Value> = tables.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    for table in &mut documented {
        crate::cli::json::wall_clock_keys(table, &["from", "to", "next_rollover"]);
    }
    ctx.printer.json(&json!({ "tables": documented }));
    ctx.printer.line(format!(
        "{:<10} {:<36} {:<21} {:<21} {:>8}  {:<21} GAPS",
        "TENANT", "TABLE", "FROM", "TO", "DEFAULT", "NEXT ROLLOVER"
    ));
    let dash = |text: &Option<String>| text.clone().unwrap_or_else(|| "-".to_owned());
    for t in &tables {
        ctx.printer.line(format!(
            "{:<10} {:<36} {:<21} {:<21} {:>8}  {:<21} {}",
            t.tenant,
            t.table,
            dash(&t.from),
            dash(&t.to),
            t.default_rows.map_or("-".to_owned(), |n| n.to_string()),
            dash(&t.next_rollover),
            if t.gaps.is_empty() { "none".to_owned() } else { t.gaps.join(", ") }
        ));
    }
    Ok(())
}
