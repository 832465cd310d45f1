//! `provision db list`: the databases `db create` made, their templates,
//! and the templates' spares (the pool).

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
    let spares_of = |template: &str| {
        listed.iter().filter(|l| matches!(&l.kind, Kind::Spare { template: t, .. } if t == template)).count()
    };
    let (mut databases, mut templates, mut spares) = (Vec::new(), Vec::new(), Vec::new());
    for entry in &listed {
        match &entry.kind {
            Kind::Clone { template } => databases.push(json!({
                "name": entry.name, "template": template, "bytes": entry.bytes, "size": entry.size,
            })),
            Kind::Template { sample, config, .. } => templates.push(json!({
                "name": entry.name, "bytes": entry.bytes, "size": entry.size,
                "sample": sample.parse::<u32>().ok(), "config": config,
                "building": !entry.is_template, "clones": clones_of(&entry.name), "spares": spares_of(&entry.name),
            })),
            Kind::Spare { template, .. } => spares.push(json!({
                "name": entry.name, "template": template, "bytes": entry.bytes, "size": entry.size,
            })),
        }
    }
    ctx.printer.json(&json!({ "databases": databases, "templates": templates, "spares": spares }));
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
                let (clones, spares) = (clones_of(&entry.name), spares_of(&entry.name));
                ctx.printer.line(format!(
                    "{:<30} {:>10}  {state}{sample}, {clones} {}, {spares} {}, for {config}",
                    entry.name,
                    entry.size,
                    if clones == 1 { "clone" } else { "clones" },
                    if spares == 1 { "spare" } else { "spares" },
                ));
            }
            Kind::Spare { template, .. } => {
                ctx.printer.line(format!("{:<30} {:>10}  spare of {template}", entry.name, entry.size))
            }
        }
    }
    Ok(())
}
