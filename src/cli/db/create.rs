//! `provision db create <name> [--sample N]`: a fully provisioned database
//! for CI, cloned from a template built first when needed (the work is
//! [`crate::ops::db_create`]).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::DbCreateArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::ops::db_create::{self, Wanted};
use crate::ops::template_db;

pub async fn run(ctx: &Context, args: &DbCreateArgs) -> Result<()> {
    let started = Instant::now();
    template_db::check_name(&args.name)?;
    let config = ctx.config()?;
    db_create::check_sample(&config, args.sample)?;
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    let config_file = config_file(ctx);
    let wanted = Wanted { config: &config, config_file: &config_file, name: &args.name, sample: args.sample };
    let made = db_create::create(&ctx.printer, ctx.lock_timeout(), (&admin, &target), &wanted).await?;
    let (created, seeded) = (made.created, made.seeded);
    let seconds = started.elapsed().as_secs_f64();

    let url = target.with_dbname(&created.database).redacted_url();
    ctx.printer.json(&json!({
        "database": created.database, "template": created.template, "url": url,
        "built_template": created.build_seconds.is_some(), "build_seconds": created.build_seconds,
        "clone_seconds": created.clone_seconds, "seconds": seconds, "sample": args.sample,
        "admin_password": "unusable", "dropped_templates": created.dropped_templates,
        "seeded": seeded.as_ref().map(|s| &s.tenants),
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
    if let Some(seeded) = &seeded {
        ctx.printer.note(format!(
            "the sample of {} holds secrets (a sample key, passwords), so it is loaded into each database, \
             not the template:",
            seeded.tenants.iter().map(|t| t.tenant.as_str()).collect::<Vec<_>>().join(", ")
        ));
        for tenant in &seeded.tenants {
            crate::cli::seed::print_report(&ctx.printer, tenant);
        }
    }
    for dropped in &created.dropped_templates {
        ctx.printer.note(format!("dropped the older template {dropped}"));
    }
    Ok(())
}

/// tenants.toml as `Context::config` reads it (its path keys the template's lineage).
fn config_file(ctx: &Context) -> PathBuf {
    ctx.global.config.clone().unwrap_or_else(|| PathBuf::from("tenants.toml"))
}
