//! Building and upgrading one tenant schema, all-or-nothing.
//!
//! A tenant is created in one transaction where the blueprint allows it:
//! advisory locks, registry row, `CREATE SCHEMA`, every template version and
//! its history row, the finishing steps and the administrator. Any failure
//! rolls all of it back. A blueprint whose versions must commit part way
//! (see [`create`]) is built in several transactions; an ordinary failure
//! after the first one undoes the tenant, and a crash between two of them
//! leaves a registered tenant that the next run completes
//! ([`crate::ops::completion`]).

use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::{Client, Transaction};

use crate::error::failed;
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::{PartitionSettings, TenantSpec};
use crate::model::tenant::TenantCode;
use crate::ops::admin::{self, AdminPassword, AdminReport};
use crate::pg::quote::{quote_ident, quote_literal};
use crate::report::Reporter;
use crate::store::layout_upgrade::SharedPart;
use crate::store::lock::{self, Mode, Resource};
use crate::store::blueprint_shared;
use crate::store::migrate;
use crate::store::partitions;
use crate::store::registry;
use crate::{store::audit, store::roles};

/// What happened to one tenant.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Created {
        version: i32,
        applied: Vec<String>,
        partitions: usize,
        objects: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        admin: Option<AdminReport>,
    },
    Upgraded {
        from: i32,
        version: i32,
        applied: Vec<String>,
        partitions: usize,
        objects: i64,
        /// The administrator of a creation this upgrade finished.
        #[serde(skip_serializing_if = "Option::is_none")]
        admin: Option<AdminReport>,
    },
    /// No version was pending, but the tenant was incomplete (a crash
    /// between two transactions) and has been completed.
    Completed {
        version: i32,
        /// What was missing.
        repaired: Vec<String>,
        partitions: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        admin: Option<AdminReport>,
    },
    Current {
        version: i32,
    },
    AlreadyExists,
}

/// How tenant work runs: lock patience and the administrator's password.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long to wait for another provision process's advisory locks.
    pub lock_timeout: Duration,
    /// lock_timeout / statement_timeout for upgrade DDL beside traffic.
    pub upgrade: UpgradeTimeouts,
    pub admin_password: AdminPassword,
    /// tenants.toml's premake/retention overrides.
    pub partitions: PartitionSettings,
    /// Build only what verify compares: no partitions (their set depends on
    /// the date; verify checks real tenants' partitions through invariants)
    /// and no administrator (rows, not structure). Only verify's reference
    /// tenants are built so: it halves their cost.
    pub structure_only: bool,
}

/// Upgrades run beside live traffic: no statement may queue behind (and so
/// in front of) application queries for longer than `ddl`.
#[derive(Debug, Clone, Copy)]
pub struct UpgradeTimeouts {
    pub ddl: Duration,
    /// None: no statement_timeout.
    pub statement: Option<Duration>,
}

impl Default for UpgradeTimeouts {
    fn default() -> Self {
        UpgradeTimeouts { ddl: Duration::from_secs(5), statement: None }
    }
}

/// The history table inside a tenant's schema.
pub fn history_table(code: &TenantCode) -> String {
    format!("{}.{}", code.schema_ident(), migrate::HISTORY_TABLE)
}

/// Creates `spec`'s tenant. Returns `AlreadyExists` (changing nothing) when
/// it is registered already — including when another process registered it
/// while we waited for its lock.
pub async fn create(
    client: &mut Client,
    spec: &TenantSpec,
    blueprint: &Blueprint,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Outcome> {
    let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
    let migrations = blueprint.render(&identity)?;
    let tx = begin_with_shared_part(client, &spec.code, blueprint, settings.lock_timeout, reporter).await?;
    if !registry::snapshot(&tx, Some(&spec.code)).await?.is_empty() {
        return Ok(Outcome::AlreadyExists);
    }
    let schema = spec.code.schema_name();
    let schema_taken: bool = tx.query_one(include_str!("sql/schema_exists.sql"), &[&schema]).await?.get(0);
    if schema_taken {
        return Err(failed(format!(
            "cannot create tenant {}: schema {schema} already exists but is not registered; drop or rename it first",
            spec.code
        )));
    }
    // A version that adds an enum value must commit before a later statement
    // may use the value (PostgreSQL refuses it in the same transaction, even
    // for a type created there): build up to it in one transaction, then
    // bring the tenant the rest of the way as an upgrade. A version with a
    // foreign key to a shared table also ends the first transaction: the key
    // locks that table (SHARE ROW EXCLUSIVE) until commit, which blocks
    // writes to it and serializes tenants built in parallel.
    let cut = first_enum_addition(&migrations).min(after_shared_references(&migrations, &schema));
    let split = cut < migrations.len();
    let built = build(&tx, spec, blueprint, &identity, &migrations[..cut], settings, !split);
    let (applied, mut partitions, mut admin) =
        built.await.with_context(|| format!("tenant {} was not created (nothing was kept)", spec.code))?;
    if split && !settings.structure_only && blueprint.manifest.admin_template.is_some() {
        crate::ops::completion::administrator_pending(&tx, &identity).await?;
    }
    let mut objects = count_objects(&tx, &schema).await?;
    if !split {
        // A split build's first transaction is knowingly incomplete (no
        // isolation or audit yet); the transaction that finishes it is checked.
        crate::ops::gate::check_tenant(&tx, &spec.code, blueprint).await?;
    }
    tx.commit().await?;
    if split {
        crate::failpoint::hit("create.after_first_transaction");
    }
    let mut applied = names(&applied);
    if split {
        let rest = finish_in_steps(client, spec, blueprint, settings, reporter).await?;
        applied.extend(rest.applied);
        objects += rest.objects;
        partitions = rest.partitions;
        admin = rest.admin;
    }
    Ok(Outcome::Created { version: blueprint.latest_version(), applied, partitions, objects, admin })
}

/// Index of the first version that adds an enum value (`len` if none).
fn first_enum_addition(migrations: &[refinery_core::Migration]) -> usize {
    migrations
        .iter()
        .position(|m| !crate::pg::statements::enum_additions(m.sql().unwrap_or_default()).is_empty())
        .unwrap_or(migrations.len())
}

/// Index just after the first version with a foreign key into another
/// schema (`len` if none).
fn after_shared_references(migrations: &[refinery_core::Migration], schema: &str) -> usize {
    migrations
        .iter()
        .position(|m| crate::pg::statements::references_other_schema(m.sql().unwrap_or_default(), schema))
        .map_or(migrations.len(), |at| at + 1)
}

/// What the steps after the first transaction did.
#[derive(Default)]
struct Rest {
    applied: Vec<String>,
    objects: i64,
    partitions: usize,
    admin: Option<AdminReport>,
}

/// The versions after the first transaction, applied as an upgrade whose
/// last transaction also finishes the tenant and creates its administrator.
/// If that fails, the tenant is taken away again, so a failed creation
/// leaves no tenant behind (a crash in between leaves one that the next
/// run completes).
async fn finish_in_steps(
    client: &mut Client,
    spec: &TenantSpec,
    blueprint: &Blueprint,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Rest> {
    let tenant = registry::snapshot(&*client, Some(&spec.code)).await?.into_iter().next().expect("just registered");
    let rest = match crate::ops::upgrade::upgrade(client, &tenant, blueprint, settings, reporter).await {
        Ok(Outcome::Upgraded { applied, objects, partitions, admin, .. }) => {
            Ok(Rest { applied, objects, partitions, admin })
        }
        Ok(Outcome::Completed { partitions, admin, .. }) => Ok(Rest { partitions, admin, ..Rest::default() }),
        Ok(_) => Ok(Rest::default()),
        Err(error) => Err(error),
    };
    let error = match rest {
        Ok(done) => return Ok(done),
        Err(error) => error,
    };
    let note = match undo(client, &spec.code, settings, reporter).await {
        Ok(()) => "nothing was kept".to_owned(),
        Err(e) => format!("and undoing it failed too: {e:#}; remove it with `provision tenant remove`"),
    };
    Err(error.context(format!("tenant {} was not created ({note})", spec.code)))
}

/// Takes a tenant whose creation failed away again: schema, registry row,
/// roles. Its audit log goes only if it holds no rows: the log of a removed
/// tenant of the same code is kept for retention, and no undo may drop it.
async fn undo(client: &mut Client, code: &TenantCode, settings: &Settings, reporter: &dyn Reporter) -> Result<()> {
    let tx = begin_locked(client, code, settings.lock_timeout, reporter).await?;
    tx.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", code.schema_ident())).await?;
    audit::drop_log_if_empty(&tx, code).await?;
    registry::remove(&tx, code).await?;
    roles::drop(&tx, code).await?;
    tx.commit().await?;
    Ok(())
}

/// Everything a new tenant gets, in this order (`tenant render` prints the
/// same steps): registry row, roles, the schema owned by `<code>_owner`,
/// every version run as that owner, then partitions, audit triggers and
/// partition security, then the administrator.
pub(crate) async fn build(
    tx: &Transaction<'_>,
    spec: &TenantSpec,
    blueprint: &Blueprint,
    identity: &Identity,
    migrations: &[refinery_core::Migration],
    settings: &Settings,
    complete: bool,
) -> Result<(Vec<refinery_core::Migration>, usize, Option<AdminReport>)> {
    let code = &spec.code;
    registry::insert(tx, spec).await?;
    roles::ensure(tx, code).await?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA {} AUTHORIZATION {}",
        code.schema_ident(),
        quote_ident(&code.owner_role())
    ))
    .await?;
    let applied = apply_as_owner(tx, identity, migrations).await?;
    if !complete {
        // The upgrade that follows finishes the tenant (partitions, audit
        // triggers, administrator), as one unsplit build would have.
        return Ok((applied, 0, None));
    }
    let partitions = finish(tx, code, blueprint, settings).await?;
    if settings.structure_only {
        return Ok((applied, partitions, None));
    }
    act_as_owner(tx, identity).await?;
    let admin = admin::ensure(tx, blueprint, identity, &settings.admin_password).await?;
    stop_acting(tx).await?;
    Ok((applied, partitions, admin))
}

/// Runs the pending template versions as the tenant's owner role, so the
/// owner owns what they create and its default privileges apply. The tenant
/// setting is on because FORCE ROW LEVEL SECURITY binds the owner too: a
/// later version that moves data must see the tenant's rows.
pub(crate) async fn apply_as_owner(
    tx: &Transaction<'_>,
    identity: &Identity,
    migrations: &[refinery_core::Migration],
) -> Result<Vec<refinery_core::Migration>> {
    act_as_owner(tx, identity).await?;
    let applied = migrate::apply(tx, migrations, &history_table(&identity.code)).await?;
    stop_acting(tx).await?;
    Ok(applied)
}

/// `SET LOCAL ROLE <code>_owner` with `app.tenant_id` set to the tenant.
pub(crate) async fn act_as_owner(tx: &Transaction<'_>, identity: &Identity) -> Result<()> {
    tx.batch_execute(&format!(
        "SET LOCAL ROLE {}; SELECT set_config('app.tenant_id', {}, true)",
        quote_ident(&identity.code.owner_role()),
        quote_literal(&identity.tenant_id.to_string())
    ))
    .await?;
    Ok(())
}

pub(crate) async fn stop_acting(tx: &Transaction<'_>) -> Result<()> {
    tx.batch_execute("RESET ROLE; SELECT set_config('app.tenant_id', '', true)").await?;
    Ok(())
}

/// After any version ran: partitions for the window, audit triggers on
/// audited tables, and RLS on every partition. Returns partitions created.
pub(crate) async fn finish(
    tx: &Transaction<'_>,
    code: &TenantCode,
    blueprint: &Blueprint,
    settings: &Settings,
) -> Result<usize> {
    let specs = blueprint.partitions_of(code, &settings.partitions.for_tenant(code));
    let created = match settings.structure_only {
        false => partitions::ensure_window(tx, &code.schema_name(), &specs).await?,
        true => Vec::new(),
    };
    audit::ensure_log_guards(tx, code, blueprint).await?;
    audit::ensure_triggers(tx, code, blueprint).await?;
    // Only what was just made: the shared audit schema holds every tenant's
    // log partitions, and scanning them all would make each tenant slower
    // than the one before.
    if !created.is_empty() {
        partitions::secure_only(tx, &partitions::schemas_of(&code.schema_name(), &specs), Some(&created)).await?;
    }
    Ok(created.len())
}

/// Opens the tenant's transaction holding the shared lock (shared mode) and
/// the tenant's lock (exclusive), both bounded by `lock_timeout`.
pub(crate) async fn begin_locked<'c>(
    client: &'c mut Client,
    code: &TenantCode,
    lock_timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<Transaction<'c>> {
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, lock_timeout).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Shared, reporter).await?;
    lock::acquire(&tx, Resource::Tenant(code), Mode::Exclusive, reporter).await?;
    Ok(tx)
}

/// [`begin_locked`] for a tenant of `blueprint`, whose shared part, when
/// this is its first tenant, is applied right away in the same transaction:
/// under the exclusive shared lock instead of the shared one, so two first
/// tenants wait for each other and the tenant's failure takes it back too.
async fn begin_with_shared_part<'c>(
    client: &'c mut Client,
    code: &TenantCode,
    blueprint: &Blueprint,
    lock_timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<Transaction<'c>> {
    let part = SharedPart { blueprint: &blueprint.name, migrations: &blueprint.shared };
    if blueprint_shared::plan(&*client, part).await?.pending.is_empty() {
        return begin_locked(client, code, lock_timeout, reporter).await;
    }
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, lock_timeout).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Exclusive, reporter).await?;
    lock::acquire(&tx, Resource::Tenant(code), Mode::Exclusive, reporter).await?;
    blueprint_shared::apply(&tx, part).await?;
    Ok(tx)
}

/// [`count_objects`] without a transaction.
pub(crate) async fn count_objects_outside(client: &Client, schema: &str) -> Result<i64> {
    let row = client.query_opt(include_str!("sql/schema_objects.sql"), &[&schema]).await?;
    Ok(row.map_or(0, |r| r.get(0)))
}

pub(crate) async fn count_objects(tx: &Transaction<'_>, schema: &str) -> Result<i64> {
    let row = tx.query_opt(include_str!("sql/schema_objects.sql"), &[&schema]).await?;
    Ok(row.map_or(0, |r| r.get(0)))
}

pub(crate) fn names(applied: &[refinery_core::Migration]) -> Vec<String> {
    applied.iter().map(ToString::to_string).collect()
}
