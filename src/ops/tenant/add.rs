//! `tenant add`: create one tenant, all-or-nothing, then verify it.
//!
//! First, as every `up` and `tenant upgrade`, it completes each registered
//! tenant an interrupted run left incomplete ([`crate::ops::completion`]); when
//! that is the tenant being added (its creation was interrupted), finishing
//! it is this run's creation.

use std::collections::HashMap;

use anyhow::Result;
use tokio_postgres::Client;

use crate::error::failed;
use crate::model::blueprint::Blueprint;
use crate::model::config::{Config, TenantSpec};
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::{self, Outcome, Settings};
use crate::ops::verify::VerifyReporter;
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::store::layout_upgrade::SharedPart;
use crate::store::lock::{self, Resource};
use crate::store::registry::{self, Registered};
use crate::{ops::completion, ops::upgrade, store::shared};

/// Progress of `tenant add` beyond notes and warnings.
pub trait AddReporter: VerifyReporter {
    /// Another tenant an interrupted run left incomplete was completed first.
    fn completed_other(&self, _code: &TenantCode) {}
}

/// A created tenant.
pub struct Added {
    /// Core shared versions applied first.
    pub shared_applied: Vec<String>,
    /// Always [`Outcome::Created`].
    pub outcome: Outcome,
    /// The verification of the new tenant, unless skipped.
    pub verified: Option<crate::ops::verify::Outcome>,
}

/// What `tenant add --dry-run` would do; nothing is changed.
pub struct WouldAdd {
    pub shared_pending: Vec<String>,
    /// Registered already (nothing would be created).
    pub exists: bool,
    /// The blueprint's versions the creation would apply.
    pub versions: Vec<String>,
}

/// Creates `spec`'s tenant from `blueprint` on `client` (verifying it
/// afterwards when `verify`), or refuses one that exists (exit 1).
pub async fn add(
    reporter: &dyn AddReporter,
    (client, target): (&mut Client, &Target),
    config: &Config,
    (spec, blueprint): (&TenantSpec, &Blueprint),
    settings: &Settings,
    verify: bool,
) -> Result<Added> {
    let env = Env { reporter, lock_timeout: settings.lock_timeout };
    // Only provision's own here: the blueprint's shared part, when this is
    // its first tenant, goes into the tenant's transaction (provisioner).
    let in_use = crate::ops::shared_parts::in_use(&*client, config).await?;
    let known = with_own_part(crate::ops::shared_parts::parts(&in_use), blueprint);
    let shared_applied = shared::apply_core(client, env.lock_timeout, reporter, &known).await?;
    crate::ops::gate::before_create(client, &env, blueprint).await?;
    crate::store::template_sources::record(&*client, blueprint).await?;
    crate::failpoint::hit("tenant_add.after_shared");
    // Held across the completion's and the creation's transactions, so no
    // verify of another process sees the tenant half done.
    let build = async |c: &mut Client| {
        let resumed = complete_registered(reporter, c, config, &spec.code, settings).await?;
        crate::failpoint::hit("tenant_add.after_completion");
        match resumed {
            Some(outcome) => {
                reporter.note(&format!("tenant {}: finishing the creation an interrupted run began", spec.code));
                Ok(as_created(outcome))
            }
            None => provisioner::create(c, spec, blueprint, settings, reporter).await,
        }
    };
    let outcome = lock::while_held(client, Resource::Tenant(&spec.code), env.lock_timeout, reporter, build).await?;
    let Outcome::Created { .. } = outcome else {
        return Err(already_exists(client, &spec.code).await);
    };
    crate::failpoint::hit("tenant_add.before_verify");
    let verified = match verify {
        false => None,
        true => {
            let only = Some(&spec.code);
            Some(crate::ops::verify::after_changes(reporter, client, target, config, only, env.lock_timeout).await?)
        }
    };
    Ok(Added { shared_applied, outcome, verified })
}

/// Completes every incomplete registered tenant (one survey query for all);
/// returns the outcome for `code` when its own creation was interrupted.
/// Another tenant that cannot be completed is a warning: `up` reports it.
async fn complete_registered(
    reporter: &dyn AddReporter,
    client: &mut Client,
    config: &Config,
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
            true => upgrade::upgrade(client, tenant, blueprint, settings, reporter).await,
            false => completion::complete(client, tenant, blueprint, settings, reporter).await,
        };
        match result {
            Ok(outcome) if &tenant.code == code => resumed = Some(outcome),
            Ok(_) => reporter.completed_other(&tenant.code),
            Err(e) if &tenant.code == code => return Err(e),
            Err(e) => reporter.warn(&format!("tenant {} is incomplete and could not be completed: {e:#}", tenant.code)),
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
pub async fn would_add(client: &Client, spec: &TenantSpec, blueprint: &Blueprint) -> Result<WouldAdd> {
    let shared_plan = shared::plan(client, &with_own_part(Vec::new(), blueprint)).await?;
    let exists = !registry::snapshot(client, Some(&spec.code)).await?.is_empty();
    let versions = blueprint.steps.iter().map(|s| s.migration_name.clone()).collect();
    Ok(WouldAdd { shared_pending: shared_plan.pending(), exists, versions })
}

/// The refusal for a tenant that is registered already; an inactive one
/// (`tenant remove --keep-data`) is brought back with `tenant activate`.
async fn already_exists(client: &Client, code: &TenantCode) -> anyhow::Error {
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
