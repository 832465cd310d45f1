//! `provision db create|drop|list`: fully provisioned databases for CI,
//! cloned from a template (see [`crate::ops::db_create`] and
//! [`crate::ops::template_db`]).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::{DbCreateArgs, DbNameArgs};
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::ops::db_create::{self, Wanted};
use crate::ops::template_db::{self, Kind};

pub async fn create(ctx: &Context, args: &DbCreateArgs) -> Result<()> {
    let started = Instant::now();
    template_db::check_name(&args.name)?;
    let config = ctx.config()?;
    db_create::check_sample(&config, args.sample)?;
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let config_file = config_file(ctx);
    let wanted = Wanted { config: &config, config_file: &config_file, name: &args.name, sample: args.sample };
    let created = db_create::create(&ctx.printer, ctx.lock_timeout(), (&admin, &target), &wanted).await?;
    let seconds = started.elapsed().as_secs_f64();

    let url = target.with_dbname(&created.database).redacted_url();
    ctx.printer.json(&json!({
        "database": created.database, "template": created.template, "url": url,
        "built_template": created.build_seconds.is_some(), "build_seconds": created.build_seconds,
        "clone_seconds": created.clone_seconds, "seconds": seconds, "sample": args.sample,
        "admin_password": "unusable", "dropped_templates": created.dropped_templates,
    }));
    let name = strong(&created.database);
    match created.build_seconds {
        Some(build) => {
            ctx.printer.line(format!(
                "built template {} in {build:.1} s, created {name} in {:.2} s",
                created.template, created.clone_seconds
            ));
            ctx.printer.note(
                "the tenants' admin@<code>.example have no usable password: the template is shared by every \
                 database cloned from it (set users.password_hash in a clone if a test needs one)",
            );
        }
        None => ctx.printer.line(format!("created {name} from {} in {seconds:.2} s", created.template)),
    }
    for dropped in &created.dropped_templates {
        ctx.printer.note(format!("dropped the older template {dropped}"));
    }
    Ok(())
}

pub async fn drop(ctx: &Context, args: &DbNameArgs) -> Result<()> {
    template_db::check_name(&args.name)?;
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let template = template_db::drop_clone(&admin, &args.name).await?;
    ctx.printer.json(&json!({ "dropped": args.name, "template": template }));
    ctx.printer.line(format!("dropped {}", strong(&args.name)));
    Ok(())
}

pub async fn list(ctx: &Context) -> Result<()> {
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

/// tenants.toml as `Context::config` reads it (its path keys the template's lineage).
fn config_file(ctx: &Context) -> PathBuf {
    ctx.global.config.clone().unwrap_or_else(|| PathBuf::from("tenants.toml"))
}
