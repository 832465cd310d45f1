//! `provision tenant add <code>`: create one tenant, all-or-nothing.
//!
//! First, as every `up` and `tenant upgrade`, it completes each registered
//! tenant an interrupted run left incomplete ([`crate::ops::completion`]); when
//! that is the tenant being added (its creation was interrupted), finishing
//! it is this run's creation.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantAddArgs;
use crate::cli::context::Context;
use crate::cli::printer::{good, strong};
use crate::cli::tenant::spec;
use crate::cli::verify;
use crate::error::failed;
use crate::model::blueprint::Blueprint;
use crate::model::config::TenantSpec;
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::{self, Outcome, Settings};
use crate::store::layout_upgrade::SharedPart;
use crate::store::lock::{self, Resource};
use crate::store::registry::{self, Registered};
use crate::{ops::completion, ops::upgrade, store::shared};

pub async fn run(ctx: &Context, args: &TenantAddArgs) -> Result<()> {
    let started = Instant::now();
    let config = ctx.config()?;
    let spec = spec::resolve(&args.spec, &config)?;
    let blueprint = Blueprint::load(&config.templates_dir, &spec.blueprint)?;
    let (mut client, target) = ctx.connect().await?;
    if args.dry_run.enabled {
        return dry_run(ctx, &client, &spec, &blueprint).await;
    }
    // Only provision's own here: the blueprint's shared part, when this is
    // its first tenant, goes into the tenant's transaction (provisioner).
    let in_use = crate::ops::shared_parts::in_use(&client, &config).await?;
    let known = with_own_part(crate::ops::shared_parts::parts(&in_use), &blueprint);
    let shared_applied = shared::apply_core(&mut client, ctx.lock_timeout(), &ctx.printer, &known).await?;
    crate::ops::gate::before_create(&mut client, &ctx.env(), &blueprint).await?;
    crate::failpoint::hit("tenant_add.after_shared");
    let settings = ctx.settings(&args.admin, &target, &config);
    // Held across the completion's and the creation's transactions, so no
    // verify of another process sees the tenant half done.
    let build = async |c: &mut tokio_postgres::Client| {
        let resumed = complete_registered(ctx, c, &config, &spec.code, &settings).await?;
        crate::failpoint::hit("tenant_add.after_completion");
        match resumed {
            Some(outcome) => {
                ctx.printer.note(format!("tenant {}: finishing the creation an interrupted run began", spec.code));
                Ok(as_created(outcome))
            }
            None => provisioner::create(c, &spec, &blueprint, &settings, &ctx.printer).await,
        }
    };
    let outcome =
        lock::while_held(&mut client, Resource::Tenant(&spec.code), settings.lock_timeout, &ctx.printer, build).await?;
    let Outcome::Created { .. } = outcome else {
        return Err(already_exists(&client, &spec.code).await);
    };
    crate::failpoint::hit("tenant_add.before_verify");
    let verified = match args.no_verify {
        true => None,
        false => Some(verify::after_changes(ctx, &mut client, &target, &config, Some(&spec.code)).await?),
    };
    report(ctx, &spec, &blueprint, (shared_applied, &outcome), verified, started.elapsed().as_secs_f64())
}

/// Completes every incomplete registered tenant (one survey query for all);
/// returns the outcome for `code` when its own creation was interrupted.
/// Another tenant that cannot be completed is a warning: `up` reports it.
async fn complete_registered(
    ctx: &Context,
    client: &mut tokio_postgres::Client,
    config: &crate::model::config::Config,
    code: &TenantCode,
    settings: &Settings,
) -> Result<Option<Outcome>> {
    let registered = registry::snapshot(&*client, None).await?;
    let mut blueprints: HashMap<String, Blueprint> = HashMap::new();
    for tenant in registered.iter().filter(|t| t.is_active() && t.schema_exists) {
        if !blueprints.contains_key(&tenant.blueprint) {
            if let Ok(bp) = Blueprint::load(&config.templates_dir, &tenant.blueprint) {
                blueprints.insert(tenant.blueprint.clone(), bp);
            }
        }
    }
    let pairs: Vec<(&Registered, &Blueprint)> = registered
        .iter()
        .filter(|t| t.is_active() && t.schema_exists)
        .filter_map(|t| blueprints.get(&t.blueprint).map(|bp| (t, bp)))
        .collect();
    let gaps = completion::survey(client, &pairs).await?;
    let mut resumed = None;
    for (tenant, blueprint) in pairs.into_iter().filter(|(t, _)| gaps.contains_key(t.code.as_str())) {
        let result = match gaps[tenant.code.as_str()].creating {
            true => upgrade::upgrade(client, tenant, blueprint, settings, &ctx.printer).await,
            false => completion::complete(client, tenant, blueprint, settings, &ctx.printer).await,
        };
        match result {
            Ok(outcome) if &tenant.code == code => resumed = Some(outcome),
            Ok(_) => ctx.printer.line(format!(
                "{} tenant {} (an interrupted run left it incomplete)",
                good("completed"),
                tenant.code
            )),
            Err(e) if &tenant.code == code => return Err(e),
            Err(e) => {
                ctx.printer.warn(format!("tenant {} is incomplete and could not be completed: {e:#}", tenant.code))
            }
        }
    }
    Ok(resumed.filter(|_| gaps.get(code.as_str()).is_some_and(|g| g.creating)))
}

/// A finished interrupted creation, reported as the creation it completes.
fn as_created(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Upgraded { version, applied, partitions, objects, admin, .. } => {
            Outcome::Created { version, applied, partitions, objects, admin }
        }
        Outcome::Completed { version, partitions, admin, .. } => {
            Outcome::Created { version, applied: Vec::new(), partitions, objects: 0, admin }
        }
        other => other,
    }
}

/// `parts` plus `blueprint`'s own shared part, if not among them.
fn with_own_part<'a>(mut parts: Vec<SharedPart<'a>>, blueprint: &'a Blueprint) -> Vec<SharedPart<'a>> {
    if !parts.iter().any(|p| p.blueprint == blueprint.name) {
        parts.push(SharedPart { blueprint: &blueprint.name, migrations: &blueprint.shared });
    }
    parts
}

/// Reads only: what `tenant add` would do.
async fn dry_run(
    ctx: &Context,
    client: &tokio_postgres::Client,
    spec: &crate::model::config::TenantSpec,
    blueprint: &Blueprint,
) -> Result<()> {
    let shared_plan = shared::plan(client, &with_own_part(Vec::new(), blueprint)).await?;
    let exists = !registry::snapshot(client, Some(&spec.code)).await?.is_empty();
    let versions: Vec<String> = blueprint.steps.iter().map(|s| s.migration_name.clone()).collect();
    let shared_pending = shared_plan.pending();
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

/// The refusal for a tenant that is registered already; an inactive one
/// (`tenant remove --keep-data`) is brought back with `tenant activate`.
async fn already_exists(client: &tokio_postgres::Client, code: &TenantCode) -> anyhow::Error {
    let inactive = match registry::snapshot(client, Some(code)).await {
        Ok(found) => found.first().is_some_and(|t| !t.is_active()),
        Err(e) => return e,
    };
    match inactive {
        true => failed(format!(
            "tenant {code} already exists but is inactive (removed with --keep-data); nothing was changed — \
             `provision tenant activate {code}` brings it back"
        )),
        false => failed(format!(
            "tenant {code} already exists (schema {}); nothing was changed — `provision up` upgrades it",
            code.schema_name()
        )),
    }
}

/// Prints the created tenant (text or JSON), its administrator and the
/// verification; a verification that found problems fails the command.
fn report(
    ctx: &Context,
    spec: &TenantSpec,
    blueprint: &Blueprint,
    (shared_applied, outcome): (Vec<String>, &Outcome),
    verified: Option<crate::ops::verify::Outcome>,
    seconds: f64,
) -> Result<()> {
    ctx.printer.json(&json!({
        "tenant": spec.code.as_str(), "schema": spec.code.schema_name(), "tenant_id": spec.id,
        "blueprint": blueprint.name, "shared_applied": shared_applied, "result": outcome, "seconds": seconds,
        "verify": verified,
    }));
    // The caller reports only a creation; any other outcome has no line here.
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
            ctx.printer.line(crate::ops::verify::report::summary(&outcome));
            match outcome.is_clean() {
                true => Ok(()),
                false => Err(failed(crate::ops::verify::report::summary(&outcome))),
            }
        }
        None => Ok(()),
    }
}
