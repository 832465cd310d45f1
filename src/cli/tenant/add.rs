//! `provision tenant add <code>`: create one tenant, all-or-nothing (the
//! work is [`crate::ops::tenant::add`]), and print it with its
//! administrator and the verification.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantAddArgs;
use crate::cli::context::Context;
use crate::cli::printer::{good, strong};
use crate::cli::tenant::spec;
use crate::error::failed;
use crate::model::blueprint::Blueprint;
use crate::model::config::TenantSpec;
use crate::ops::provisioner::Outcome;
use crate::ops::tenant::add::{self, Added, WouldAdd};

pub async fn run(ctx: &Context, args: &TenantAddArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    let spec = spec::resolve(&args.spec, &config)?;
    // Parsing the pack's templates and connecting wait on different things
    // (CPU, the server starting a backend): done together. A pack that does
    // not load is still the error reported, as before.
    let (templates, name) = (config.templates_dir.clone(), spec.blueprint.clone());
    let loading = tokio::task::spawn_blocking(move || Blueprint::load(&templates, &name));
    let (loaded, connected) = tokio::join!(loading, ctx.connect());
    let blueprint = loaded??;
    let (mut client, target) = connected?;
    if args.dry_run.enabled {
        let would = add::would_add(&client, &spec, &blueprint).await?;
        dry_run(ctx, &spec, &blueprint, &would);
        return Ok(());
    }
    let settings = ctx.settings(&args.admin, &target, &config);
    let added =
        add::add(&ctx.printer, (&mut client, &target), &config, (&spec, &blueprint), &settings, !args.no_verify)
            .await?;
    report(ctx, &spec, &blueprint, &added, started.elapsed().as_secs_f64())
}

/// Prints what `tenant add` would do.
fn dry_run(ctx: &Context, spec: &TenantSpec, blueprint: &Blueprint, would: &WouldAdd) {
    let WouldAdd { shared_pending, exists, versions } = would;
    ctx.printer.json(&json!({
        "dry_run": true, "tenant": spec.code.as_str(), "schema": spec.code.schema_name(), "exists": exists,
        "blueprint": blueprint.name, "versions": if *exists { Vec::new() } else { versions.clone() },
        "shared_pending": shared_pending,
    }));
    if !shared_pending.is_empty() {
        ctx.printer.line(format!("would apply shared migrations: {}", shared_pending.join(", ")));
    }
    if *exists {
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
}

/// Prints the created tenant (text or JSON), its administrator and the
/// verification; a verification that found problems fails the command.
fn report(ctx: &Context, spec: &TenantSpec, blueprint: &Blueprint, added: &Added, seconds: f64) -> Result<()> {
    let Added { shared_applied, outcome, verified } = added;
    ctx.printer.json(&json!({
        "tenant": spec.code.as_str(), "schema": spec.code.schema_name(), "tenant_id": spec.id,
        "blueprint": blueprint.name, "shared_applied": shared_applied, "result": outcome, "seconds": seconds,
        "verify": verified,
    }));
    // The use case returns only a creation; any other outcome has no line here.
    if let Outcome::Created { version, applied, objects, admin, .. } = outcome {
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
    }
    match verified {
        Some(outcome) => {
            ctx.printer.line(crate::ops::verify::report::summary(outcome));
            match outcome.is_clean() {
                true => Ok(()),
                false => Err(failed(crate::ops::verify::report::summary(outcome))),
            }
        }
        None => Ok(()),
    }
}
