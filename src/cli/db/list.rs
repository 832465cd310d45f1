//! `provision db list`: the databases `db create` made and their templates.

use anyhow::Result;
use serde_json::json;

use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::ops::template_db::{self, Kind};

pub async fn run(ctx: &Context) -> Result<()> {
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let listed = template_db::list(&admin).await?;
    let clones_of = |template: &str| {
        listed.iter().filter(|l| matches!(&l.kind, Kind::Clone { template: t } if t == template)).count()
    };
    let mut databases = Vec::new();
    let mut templates = Vec::new();
    for entry in &listed {
        match &entry.kind {
            Kind::Clone { template } => databases.push(json!({
                "name": entry.name, "template": template, "bytes": entry.bytes, "size": entry.size,
            })),
            Kind::Template { sample, config, .. } => templates.push(json!({
                "name": entry.name, "bytes": entry.bytes, "size": entry.size,
                "sample": sample.parse::<u32>().ok(), "config": config,
                "building": !entry.is_template, "clones": clones_of(&entry.name),
            })),
        }
    }
    ctx.printer.json(&json!({ "databases": databases, "templates": templates }));
    if listed.is_empty() {
        ctx.printer.line("no databases made by `provision db create`");
        return Ok(());
    }
    for entry in &listed {
        match &entry.kind {
            Kind::Clone { template } => {
                ctx.printer.line(format!("{:<30} {:>10}  from {template}", strong(&entry.name), entry.size))
            }
            Kind::Template { sample, config, .. } => {
                let state = if entry.is_template { "template" } else { "template being built (or left by a crash)" };
                let sample = if sample == "none" { String::new() } else { format!(", sample {sample}") };
                ctx.printer.line(format!(
                    "{:<30} {:>10}  {state}{sample}, {} clones, for {config}",
                    entry.name,
                    entry.size,
                    clones_of(&entry.name)
                ));
            }
        }
    }
    Ok(())
}
