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
use tokio_postgres::{Client, Transaction};

use crate::error::failed;
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::TenantSpec;
use crate::model::tenant::TenantCode;
use crate::ops::admin::AdminReport;
use crate::report::Reporter;
use crate::store::blueprint_shared;
use crate::store::layout_upgrade::SharedPart;
use crate::store::lock::{self, Mode, Resource};
use crate::store::migrate::Applied;
use crate::store::read_audit;
use crate::store::registry::{self, Registered};
use crate::{store::audit, store::roles};

pub(crate) use crate::ops::steps::{begin_locked, build, count_objects, names};
pub use crate::ops::steps::{history_table, Outcome, Settings, UpgradeTimeouts};

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
    if blueprint.manifest.row.is_some() {
        return crate::ops::row_tenant::create(client, spec, blueprint, settings, reporter).await;
    }
    let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
    let migrations = blueprint.render(&identity)?;
    let tx = begin_with_shared_part(client, &spec.code, blueprint, settings.lock_timeout, reporter).await?;
    let schema = spec.code.schema_name();
    // Both only read: in flight together.
    let registered = registry::snapshot(&tx, Some(&spec.code));
    let taken =
        async { Ok::<_, anyhow::Error>(tx.query_one(include_str!("sql/schema_exists.sql"), &[&schema]).await?) };
    let (registered, taken) = tokio::try_join!(registered, taken)?;
    if !registered.is_empty() {
        return Ok(Outcome::AlreadyExists);
    }
    let schema_taken: bool = taken.get(0);
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
    // Both only read: in flight together, one round trip.
    let counted = count_objects(&tx, &schema);
    let checked = async {
        match split {
            // A split build's first transaction is knowingly incomplete (no
            // isolation or audit yet); the transaction that finishes it is checked.
            true => Ok(()),
            false => crate::ops::gate::check_tenant(&tx, &spec.code, blueprint).await,
        }
    };
    let (mut objects, ()) = tokio::try_join!(counted, checked)?;
    tx.commit().await?;
    if split {
        crate::failpoint::hit("create.after_first_transaction");
    }
    let registered = split.then(|| just_registered(spec, &applied));
    let mut applied = names(&applied);
    if let Some(tenant) = registered {
        let rest = finish_in_steps(client, &tenant, spec, blueprint, settings, reporter).await?;
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
    tenant: &Registered,
    spec: &TenantSpec,
    blueprint: &Blueprint,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Rest> {
    let rest = match crate::ops::upgrade::upgrade(client, tenant, blueprint, settings, reporter).await {
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

/// The registry row the first transaction just committed, as
/// `registry::snapshot` would read it back: the session still holds the
/// tenant's lock, so nobody changed it since, and reading it again would
/// cost two catalog queries per `tenant add`.
fn just_registered(spec: &TenantSpec, applied: &[refinery_core::Migration]) -> Registered {
    Registered {
        code: spec.code.clone(),
        id: spec.id,
        name: spec.name.clone(),
        tenant_type: spec.tenant_type.clone(),
        schema_name: spec.code.schema_name(),
        blueprint: spec.blueprint.clone(),
        status: "active".to_owned(),
        schema_exists: true,
        row: false,
        applied: applied.iter().map(|m| Applied { version: m.version(), checksum: m.checksum() }).collect(),
    }
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

/// [`begin_locked`] for a tenant of `blueprint`, whose shared part, when
/// this is its first tenant, is applied right away in the same transaction:
/// under the exclusive shared lock instead of the shared one, so two first
/// tenants wait for each other and the tenant's failure takes it back too.
pub(crate) async fn begin_with_shared_part<'c>(
    client: &'c mut Client,
    code: &TenantCode,
    blueprint: &Blueprint,
    lock_timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<Transaction<'c>> {
    let part = SharedPart { blueprint: &blueprint.name, migrations: &blueprint.shared };
    // Both only read: in flight together.
    let (configure_reads, plan) = tokio::try_join!(
        read_audit::needs_configuring(&*client, blueprint, reporter),
        blueprint_shared::plan(&*client, part)
    )?;
    if plan.pending.is_empty() && !configure_reads {
        return begin_locked(client, code, lock_timeout, reporter).await;
    }
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, lock_timeout).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Exclusive, reporter).await?;
    lock::acquire(&tx, Resource::Tenant(code), Mode::Exclusive, reporter).await?;
    blueprint_shared::apply(&tx, part).await?;
    // Checked again under the lock: another first tenant may have done it.
    if configure_reads && !read_audit::state(&tx).await?.configured {
        read_audit::configure_database(&tx).await?;
    }
    Ok(tx)
}
