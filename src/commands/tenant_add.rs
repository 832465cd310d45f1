//! `provision tenant add <code>`: create one tenant, all-or-nothing.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::blueprint::Blueprint;
use crate::cli::TenantAddArgs;
use crate::commands::{tenant_spec, verify};
use crate::context::Context;
use crate::error::failed;
use crate::output::{good, strong};
use crate::provisioner::{self, Outcome};
use crate::{registry, shared};

pub async fn run(ctx: &Context, args: &TenantAddArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    let spec = tenant_spec::resolve(&args.spec, &config)?;
    let blueprint = Blueprint::load(&config.templates_dir, &spec.blueprint)?;
    let (mut client, target) = ctx.connect().await?;
    if args.dry_run {
        return dry_run(ctx, &client, &spec, &blueprint).await;
    }
    let shared_applied = shared::apply(&mut client, ctx.lock_timeout(), &ctx.printer).await?;
    crate::failpoint::hit("tenant_add.after_shared");
    let outcome =
        provisioner::create(&mut client, &spec, &blueprint, &ctx.settings(&args.admin, &target, &config), &ctx.printer)
            .await?;
    let Outcome::Created { version, ref applied, objects, ref admin, .. } = outcome else {
        return Err(failed(format!(
            "tenant {} already exists (schema {}); nothing was changed — `provision up` upgrades it",
            spec.code,
            spec.code.schema_name()
        )));
    };
    crate::failpoint::hit("tenant_add.before_verify");
    let verified = match args.no_verify {
        true => None,
        false => Some(verify::after_changes(ctx, &mut client, &target, &config, Some(&spec.code)).await?),
    };
    let seconds = started.elapsed().as_secs_f64();
    ctx.printer.json(&json!({
        "tenant": spec.code.as_str(), "schema": spec.code.schema_name(), "tenant_id": spec.id,
        "blueprint": blueprint.name, "shared_applied": shared_applied, "result": outcome, "seconds": seconds,
        "verify": verified,
    }));
    ctx.printer.line(format!(
        "{} tenant {} (schema {}, blueprint {}, version {version}): {} versions, {objects} objects in {seconds:.2} s",
        good("created"),
        strong(&spec.code),
        spec.code.schema_name(),
        blueprint.name,
        applied.len(),
    ));
    if let Some(admin) = admin {
        ctx.report_admin(admin);
    }
    match verified {
        Some(outcome) => {
            ctx.printer.line(crate::verify::report::summary(&outcome));
            match outcome.is_clean() {
                true => Ok(()),
                false => Err(failed(crate::verify::report::summary(&outcome))),
            }
        }
        None => Ok(()),
    }
}

/// Reads only: what `tenant add` would do.
async fn dry_run(
    ctx: &Context,
    client: &tokio_postgres::Client,
    spec: &crate::config::TenantSpec,
    blueprint: &Blueprint,
) -> Result<()> {
    let shared_plan = shared::plan(client).await?;
    let exists = !registry::snapshot(client, Some(&spec.code)).await?.is_empty();
    let versions: Vec<String> = blueprint.steps.iter().map(|s| s.migration_name.clone()).collect();
    let shared_pending: Vec<String> = shared_plan.pending.iter().map(ToString::to_string).collect();
    ctx.printer.json(&json!({
        "dry_run": true, "tenant": spec.code.as_str(), "schema": spec.code.schema_name(), "exists": exists,
        "blueprint": blueprint.name, "versions": if exists { Vec::new() } else { versions.clone() },
        "shared_pending": shared_pending,
    }));
    if !shared_pending.is_empty() {
        ctx.printer.line(format!("would apply shared migrations: {}", shared_pending.join(", ")));
    }
    if exists {
        ctx.printer.line(format!("tenant {} already exists; nothing would be created", spec.code));
    } else {
        ctx.printer.line(format!(
            "would create tenant {} (schema {}, blueprint {}) applying {}",
            spec.code,
            spec.code.schema_name(),
            blueprint.name,
            versions.join(", ")
        ));
    }
    Ok(())
}
