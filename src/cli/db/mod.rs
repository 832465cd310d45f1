//! `provision db create|drop|list`: fully provisioned databases for CI,
//! cloned from a template (see [`crate::ops::template_db`]).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde_json::json;
use tokio_postgres::Client;

use crate::cli::args::{AdminArgs, DbCreateArgs, DbNameArgs};
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::error::{bad_input, failed};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::ops::admin::AdminPassword;
use crate::ops::sample::{self, Request};
use crate::ops::template_db::{self, Kind};
use crate::pg::connection::Target;
use crate::store::registry;

/// `provision seed`'s default seed: a `--sample` template holds the same rows as `seed --sample N`.
const SAMPLE_RNG_SEED: u64 = 1;

pub async fn create(ctx: &Context, args: &DbCreateArgs) -> Result<()> {
    let started = Instant::now();
    template_db::check_name(&args.name)?;
    let config = ctx.config()?;
    check_sample(&config, args.sample)?;
    let target = ctx.server_target().await?;
    let admin = ctx.connect_maintenance(&target).await?;
    template_db::ensure_absent(&admin, &args.name).await?;
    let key = template_db::key(&admin, &config, &config_file(ctx), args.sample).await?;
    let fill = async |building: &Target| fill(ctx, building, &config, args.sample).await;
    let created = template_db::create(&ctx.env(), &admin, &target, &key, &args.name, fill).await?;
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

/// `--sample` as `provision seed` accepts it: every tenant's blueprint
/// declares a sample, and the size is within its bounds.
fn check_sample(config: &Config, sample: Option<u32>) -> Result<()> {
    let Some(size) = sample else { return Ok(()) };
    for tenant in &config.tenants {
        let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
        let Some(spec) = blueprint.manifest.sample.as_ref() else {
            return Err(bad_input(format!(
                "tenant {} uses blueprint {:?}, which declares no sample data ([sample] in its blueprint.toml); \
                 drop --sample",
                tenant.code, tenant.blueprint
            )));
        };
        sample::check_size(spec, u64::from(size))?;
    }
    Ok(())
}

/// Provisions the template being built, as `up` would (shared migrations,
/// every tenant of tenants.toml, reference data, then `verify`), plus the
/// sample. Tenants'
/// administrators get no usable password: the template is shared.
async fn fill(ctx: &Context, building: &Target, config: &Config, sample: Option<u32>) -> Result<()> {
    let mut client = building.connect().await?;
    let mut settings = ctx.settings(&AdminArgs { admin_password: None }, building, config);
    settings.admin_password = AdminPassword::Unusable;
    let failures = super::up::provision_all(ctx, &mut client, config, &settings).await?;
    if !failures.is_empty() {
        return Err(failed(format!("tenants failed: {}", failures.join("; "))));
    }
    if let Some(size) = sample {
        load_sample(ctx, &mut client, config, size).await?;
    }
    // As `up` ends: every clone inherits whatever the template holds.
    let verified = super::verify::after_changes(ctx, &mut client, building, config, None).await?;
    match verified.is_clean() {
        true => Ok(()),
        false => Err(failed(crate::ops::verify::report::summary(&verified))),
    }
}

/// `provision seed --sample N` for every tenant, one transaction each. No
/// advisory locks: nobody else can reach a template being built.
async fn load_sample(ctx: &Context, client: &mut Client, config: &Config, size: u32) -> Result<()> {
    let tenants = registry::snapshot(&*client, None).await?;
    for tenant in tenants.iter().filter(|t| t.is_active()) {
        let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
        let request = Request {
            blueprint: &blueprint,
            code: &tenant.code,
            tenant_id: tenant.id,
            size: u64::from(size),
            rng_seed: SAMPLE_RNG_SEED,
        };
        let tx = client.transaction().await?;
        sample::load(&tx, &request, &ctx.printer)
            .await
            .with_context(|| format!("loading the sample into tenant {} failed", tenant.code))?;
        tx.commit().await?;
    }
    Ok(())
}
