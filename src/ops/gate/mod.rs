//! The template safety gate: no version reaches a tenant if it would break
//! isolation (issue 11, item 5).
//!
//! Two checks of the same invariants (src/sql/gate_invariants.sql: RLS
//! ENABLEd and FORCEd, the restrictive `tenant_isolation` policy, the audit
//! trigger, grants at most the default privileges give, `<code>_owner` owns
//! everything, pinned `search_path`, nothing granted to PUBLIC):
//! - `before_up`, `before_upgrade` and `before_create` run once, before any
//!   tenant is touched. Each blueprint in use is taken along the path its
//!   tenants will take on a reference tenant inside a transaction that is
//!   rolled back (see `reference.rs`), and a version that leaves a violation
//!   is refused for every tenant: exit 1 naming the version, the template,
//!   the object and the invariant, and nothing is applied.
//! - [`check_tenant`] runs inside each tenant's transaction, just before
//!   COMMIT, on that tenant (it also sees what no template did: a hand-made
//!   grant, a table altered outside provision).
//!
//! Why the reference starts from the tenants' current version rather than
//! from scratch: the invariants are only meant to hold once a tenant is
//! finished, and what a pending version may do depends on the finished state
//! before it (a V8 that disables the audit trigger needs the trigger that
//! provisioning added after V7). So the reference is built through the
//! applied versions and finished as those tenants were, then takes the
//! pending versions and is finished again, exactly as `tenant upgrade` does.
//! The cost is one schema build per distinct (blueprint, current version)
//! with pending work (a fleet is nearly always at one version, plus new
//! tenants from version 0), not one per tenant; nothing is built when
//! nothing is pending. The reference has no rows, no partitions and no
//! administrator; a version that cannot be applied without them, or that
//! adds an enum value (usable only after a commit, and this transaction
//! never commits), is reported as unchecked ahead and is still checked on
//! each tenant before its commit.
//!
//! Lock hazards (`hazards.rs`, squawk) are warnings; `--strict` refuses them.

mod hazards;
mod invariants;
mod memo;
mod reference;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use tokio_postgres::{Client, Transaction};

use crate::error::failed;
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::Env;
use crate::store::registry::Registered;

pub use hazards::Hazard;

/// Runs the isolation invariants on one tenant inside its open transaction;
/// an error names the object and the invariant, and the caller rolls back.
/// Call it after the finishing steps (`steps::finish`), in the same
/// transaction: before them, a table a version just added has no audit
/// trigger yet and a new partition no row level security.
///
/// A tenant whose history (in this transaction) is below the blueprint's
/// latest version is between two steps of its build or upgrade (a new
/// tenant commits versions 1–2 before the rest; the blueprint only enables
/// row level security in version 7): nothing is checked then, and the
/// commit that reaches the latest version is checked in full. That end
/// state is the one the reference already passed before any tenant was
/// touched.
pub async fn check_tenant(tx: &Transaction<'_>, code: &TenantCode, blueprint: &Blueprint) -> Result<()> {
    let history = format!("SELECT max(version) FROM {}", crate::ops::steps::history_table(code));
    // Both in flight at once (one round trip): the invariants are read-only,
    // and their answer is dropped when the tenant is between two steps.
    let reached = async { Ok::<_, anyhow::Error>(tx.query_typed_one(&history, &[]).await?) };
    let (reached, violations) = tokio::try_join!(reached, invariants::of_tenant(tx, code, blueprint))?;
    let reached: Option<i32> = reached.get(0);
    if reached.unwrap_or(0) < blueprint.latest_version() {
        return Ok(());
    }
    if violations.is_empty() {
        return Ok(());
    }
    let found: Vec<String> = violations.iter().map(ToString::to_string).collect();
    Err(failed(format!(
        "tenant {code}: the isolation check before commit failed, nothing was committed: {}",
        found.join("; ")
    )))
}

/// The server's major version, part of what the gate's verdict depends on.
const SERVER_MAJOR: &str = "SELECT current_setting('server_version_num')::int / 10000";

/// What one blueprint in use is about to do.
#[derive(Default)]
struct Use {
    /// Current versions of the existing tenants that have pending versions.
    baselines: BTreeSet<i32>,
    /// Their schemas (where a lock hazard would meet data).
    schemas: Vec<String>,
    /// Whether new tenants are created from it.
    creates: bool,
}

impl Use {
    fn upgrades(&mut self, tenant: &Registered) {
        self.baselines.insert(tenant.version());
        self.schemas.push(tenant.schema_name.clone());
    }
}

/// `up`: the tenants tenants.toml adds and every active tenant behind.
/// Blueprints that do not load are left to `up`'s per-tenant report.
pub async fn before_up(
    client: &mut Client,
    env: &Env<'_>,
    config: &Config,
    registered: &[Registered],
    strict: bool,
) -> Result<()> {
    let mut loaded: HashMap<String, Blueprint> = HashMap::new();
    let mut uses: BTreeMap<String, Use> = BTreeMap::new();
    let new = config.tenants.iter().filter(|s| !registered.iter().any(|t| t.code == s.code));
    for spec in new {
        if load(&mut loaded, config, &spec.blueprint) {
            uses.entry(spec.blueprint.clone()).or_default().creates = true;
        }
    }
    for tenant in registered.iter().filter(|t| t.is_active() && t.schema_exists) {
        if load(&mut loaded, config, &tenant.blueprint) && behind(tenant, &loaded[&tenant.blueprint]) {
            uses.entry(tenant.blueprint.clone()).or_default().upgrades(tenant);
        }
    }
    check(client, env, &loaded, uses, strict).await
}

/// `tenant upgrade`: the tenants about to be upgraded.
pub async fn before_upgrade(
    client: &mut Client,
    env: &Env<'_>,
    tenants: &[&Registered],
    blueprints: &HashMap<String, Blueprint>,
    strict: bool,
) -> Result<()> {
    let mut uses: BTreeMap<String, Use> = BTreeMap::new();
    for tenant in tenants.iter().filter(|t| behind(t, &blueprints[&t.blueprint])) {
        uses.entry(tenant.blueprint.clone()).or_default().upgrades(tenant);
    }
    check(client, env, blueprints, uses, strict).await
}

/// `tenant add`: a new tenant of `blueprint` (never a lock hazard: no data).
/// Contents that passed before on this database are not walked again
/// (`memo.rs`).
pub async fn before_create(client: &mut Client, env: &Env<'_>, blueprint: &Blueprint) -> Result<()> {
    let server: i32 = client.query_typed_one(SERVER_MAJOR, &[]).await?.get(0);
    let key = memo::key(blueprint, server)?;
    if memo::passed(client, blueprint, &key).await? {
        return Ok(());
    }
    let blueprints = HashMap::from([(blueprint.name.clone(), blueprint.clone())]);
    let uses = BTreeMap::from([(blueprint.name.clone(), Use { creates: true, ..Use::default() })]);
    check(client, env, &blueprints, uses, false).await?;
    memo::record(client, blueprint, &key).await
}

fn load(loaded: &mut HashMap<String, Blueprint>, config: &Config, name: &str) -> bool {
    if !loaded.contains_key(name) {
        match Blueprint::load(&config.templates_dir, name) {
            Ok(blueprint) => loaded.insert(name.to_owned(), blueprint),
            Err(_) => return false,
        };
    }
    true
}

/// Whether the blueprint has a version the tenant has not applied.
fn behind(tenant: &Registered, blueprint: &Blueprint) -> bool {
    blueprint.steps.iter().any(|s| !tenant.applied.iter().any(|a| a.version == s.version))
}

async fn check(
    client: &mut Client,
    env: &Env<'_>,
    blueprints: &HashMap<String, Blueprint>,
    uses: BTreeMap<String, Use>,
    strict: bool,
) -> Result<()> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut refused = Vec::new();
    let server: i32 = client.query_typed_one(SERVER_MAJOR, &[]).await?.get(0);
    for (name, Use { baselines, schemas, creates }) in uses {
        let blueprint = &blueprints[&name];
        let hazards = lock_hazards(client, blueprint, &baselines, &schemas, server).await?;
        for hazard in &hazards {
            env.reporter.warn(&format!("{hazard}; --strict refuses it"));
        }
        if strict {
            refused.extend(hazards.iter().map(|h| format!("{h}, refused by --strict")));
        }
        let schema = reference::spec(&name).code.schema_name();
        for baseline in baselines.iter().copied().chain(creates.then_some(0)) {
            match reference::walk(client, blueprint, baseline, env.lock_timeout).await? {
                reference::Walk::Clean => {}
                reference::Walk::Unchecked(why) => env.reporter.warn(&format!(
                    "template safety gate: blueprint {name}: {}; the gate cannot check it ahead, each tenant is \
                     checked before its commit",
                    why.replace(&schema, "{{ schema }}")
                )),
                reference::Walk::Failed(why) => env.reporter.detail(&format!(
                    "template safety gate: blueprint {name}: {}; each tenant reports its own error",
                    why.replace(&schema, "{{ schema }}")
                )),
                // Tenants at two versions may share the guilty version.
                reference::Walk::Refused(refusals) => {
                    let new: Vec<String> = by_version(&refusals, &schema);
                    refused.extend(new.into_iter().filter(|r| !refused.contains(r)).collect::<Vec<_>>())
                }
            }
        }
    }
    match refused.is_empty() {
        true => Ok(()),
        false => Err(failed(format!(
            "template safety gate: refused for every tenant, nothing was applied: {}",
            refused.join(" | ")
        ))),
    }
}

/// One sentence per guilty version, naming each object and invariant.
fn by_version(refusals: &[reference::Refusal], schema: &str) -> Vec<String> {
    let mut versions: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for r in refusals {
        versions.entry((&r.version, &r.file)).or_default().push(r.violation.describe(schema));
    }
    versions
        .into_iter()
        .map(|((version, file), found)| format!("{version} ({file}) breaks isolation: {}", found.join("; ")))
        .collect()
}

/// The lock hazards of the versions pending on existing tenants, by the
/// version they are at (each tenant runs its pending versions together),
/// on tables that hold data in at least one of their `schemas`.
async fn lock_hazards(
    client: &Client,
    blueprint: &Blueprint,
    baselines: &BTreeSet<i32>,
    schemas: &[String],
    server: i32,
) -> Result<Vec<Hazard>> {
    let spec = reference::spec(&blueprint.name);
    let identity = crate::model::blueprint::Identity { code: spec.code.clone(), tenant_id: spec.id };
    let migrations = blueprint.render(&identity)?;
    let mut found: Vec<Hazard> = Vec::new();
    for baseline in baselines {
        let pending: Vec<_> = migrations.iter().filter(|m| m.version() > *baseline).cloned().collect();
        for hazard in hazards::lint(blueprint, &pending, &spec.code.schema_name(), server) {
            if !found.contains(&hazard) {
                found.push(hazard);
            }
        }
    }
    let named: Vec<&str> = found.iter().filter_map(|h| h.table.as_deref()).collect();
    if named.is_empty() {
        return Ok(found);
    }
    let rows = client.query(include_str!("../sql/gate_tables_with_data.sql"), &[&schemas, &named]).await?;
    let with_data: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    found.retain(|h| h.table.as_ref().is_none_or(|t| with_data.contains(t)));
    Ok(found)
}
