//! `provision tenant add <code>`: create one tenant, all-or-nothing (the
//! work is [`crate::ops::tenant::add`]), and print it with its
//! administrator and the verification.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::{TenantAddArgs, TenantSpecArgs};
use crate::cli::context::Context;
use crate::cli::printer::{self, good, strong};
use crate::cli::tenant::spec;
use crate::error::failed;
use crate::model::blueprint::Blueprint;
use crate::model::config::{Config, TenantSpec};
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::Outcome;
use crate::ops::tenant::add::{self, Added, WouldAdd};

pub async fn run(ctx: &Context, args: &TenantAddArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    // With a database given (URL or PG* variables), the pack's templates are
    // parsed on a thread of their own while the server starts its backend.
    // Errors keep their order: the tenant's (exit 2) before the connection's.
    let early = match ctx.explicit_target().ok().flatten() {
        Some(_) => Some(tokio::join!(parse_pack(&args.spec, &config), ctx.connect()).1),
        None => None,
    };
    let spec = spec::resolve(&args.spec, &config)?;
    let blueprint = Blueprint::load(&config.templates_dir, &spec.blueprint)?;
    let (mut client, target) = match early {
        Some(connected) => connected?,
        None => ctx.connect().await?,
    };
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

/// Loads the pack the tenant will use into the process's cache (so that
/// resolving the tenant finds it parsed), on a blocking thread. A pack that
/// does not load is left to that resolution, which reports it.
async fn parse_pack(args: &TenantSpecArgs, config: &Config) {
    let Ok(code) = TenantCode::parse(&args.code) else { return };
    let name = match (&args.blueprint, config.tenant(&code)) {
        (None, Some(declared)) => Some(declared.blueprint.clone()),
        (given, _) => config.blueprint_for(&code, given.as_deref()).ok(),
    };
    if let Some(name) = name {
        let templates = config.templates_dir.clone();
        let _ = tokio::task::spawn_blocking(move || Blueprint::load(&templates, &name).is_ok()).await;
    }
}

/// The tenant's schema; a row tenant has none (JSON null).
fn schema_of(spec: &TenantSpec, blueprint: &Blueprint) -> Option<String> {
    blueprint.manifest.row.is_none().then(|| spec.code.schema_name())
}

/// Prints what `tenant add` would do.
fn dry_run(ctx: &Context, spec: &TenantSpec, blueprint: &Blueprint, would: &WouldAdd) {
    let WouldAdd { shared_pending, exists, versions } = would;
    ctx.printer.json(&json!({
        "dry_run": true, "tenant": spec.code.as_str(), "schema": schema_of(spec, blueprint), "exists": exists,
        "blueprint": blueprint.name, "versions": if *exists { Vec::new() } else { versions.clone() },
        "shared_pending": shared_pending,
    }));
    if !shared_pending.is_empty() {
        ctx.printer.line(format!("would apply shared migrations: {}", shared_pending.join(", ")));
    }
    if *exists {
        ctx.printer.line(format!("tenant {} already exists; nothing would be created", spec.code));
    } else if let Some(row) = &blueprint.manifest.row {
        ctx.printer.line(format!(
            "would create tenant {} (a row of {}.{}, blueprint {})",
            spec.code, row.schema, row.table, blueprint.name
        ));
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
    // The outcome's fields sit beside the tenant's, as in `up`'s tenant entries.
    let mut document = json!({
        "tenant": spec.code.as_str(), "schema": schema_of(spec, blueprint), "tenant_id": spec.id,
        "blueprint": blueprint.name, "shared_applied": shared_applied, "seconds": seconds, "verify": verified,
    });
    if let (Some(fields), Ok(serde_json::Value::Object(outcome))) =
        (document.as_object_mut(), serde_json::to_value(outcome))
    {
        fields.extend(outcome);
    }
    ctx.printer.json(&document);
    // The use case returns only a creation; any other outcome has no line here.
    if let (Outcome::Created { .. }, Some(row)) = (outcome, &blueprint.manifest.row) {
        let (code, bp) = (strong(&spec.code), &blueprint.name);
        let at = format!("{}.{}", row.schema, row.table);
        ctx.printer
            .line(format!("{} tenant {code} (a row of {at}, blueprint {bp}) in {seconds:.2} s", good("created")));
    } else if let Outcome::Created { version, applied, objects, admin, .. } = outcome {
        ctx.printer.line(format!(
            "{} tenant {} (schema {}, blueprint {}, version {version}): {}, {} in {seconds:.2} s",
            good("created"),
            strong(&spec.code),
            spec.code.schema_name(),
            blueprint.name,
            printer::count(applied.len(), "version"),
            printer::count(*objects, "object"),
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
