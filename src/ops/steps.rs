//! What creating, upgrading and completing a tenant share: their outcome
//! and settings, the locked transaction, the versions run as the tenant's
//! owner and the finishing steps. It sits below `provisioner` (create),
//! `upgrade` and `completion`, so that each of them depends on it and none
//! on another in a circle.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::{Client, Transaction};

use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::{PartitionSettings, TenantSpec};
use crate::model::tenant::TenantCode;
use crate::ops::admin::{self, AdminPassword, AdminReport};
use crate::pg::owned_ddl::Lasting;
use crate::pg::quote::quote_ident;
use crate::report::Reporter;
use crate::store::lock;
use crate::store::{audit, migrate, partitions, read_audit, registry, roles};

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
    /// between two transactions, or a trigger, grant or partition lost
    /// since) and has been completed.
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
    registry::insert(tx, spec, false).await?;
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
    roles::act_as_owner(tx, identity, Lasting::Transaction).await?;
    let admin = admin::ensure(tx, blueprint, identity, &settings.admin_password).await?;
    roles::stop_acting(tx, Lasting::Transaction).await?;
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
    roles::act_as_owner(tx, identity, Lasting::Transaction).await?;
    let applied = migrate::apply(tx, migrations, &history_table(&identity.code)).await?;
    roles::stop_acting(tx, Lasting::Transaction).await?;
    Ok(applied)
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
    let created = finish_but_security(tx, code, blueprint, settings).await?;
    // Only what was just made: the shared audit schema holds every tenant's
    // log partitions, and scanning them all would make each tenant slower
    // than the one before.
    if !created.is_empty() {
        partitions::secure_only(tx, &partitions::schemas_of(&code.schema_name(), &specs), Some(&created)).await?;
    }
    Ok(created.len())
}

/// [`finish`] without the partitions' row level security, for a caller
/// that secures every partition of the tenant right after (completion):
/// securing the new ones first would be a second catalog query for nothing.
/// Returns the partitions created (qualified).
pub(crate) async fn finish_but_security(
    tx: &Transaction<'_>,
    code: &TenantCode,
    blueprint: &Blueprint,
    settings: &Settings,
) -> Result<Vec<String>> {
    let specs = blueprint.partitions_of(code, &settings.partitions.for_tenant(code));
    // The log must exist before its window is made: a pack whose templates
    // never call audit.ensure_audit_log would otherwise get a log with no
    // partition at all, where every audited write fails. (Its new
    // partitions get the TRUNCATE guard with the rest of their security:
    // partition_security.sql copies every statement-level trigger.)
    audit::ensure_log_guards(tx, code, blueprint).await?;
    let created = match settings.structure_only {
        false => partitions::ensure_window(tx, &code.schema_name(), &specs).await?,
        true => Vec::new(),
    };
    audit::ensure_triggers(tx, code, blueprint).await?;
    read_audit::ensure_grants(tx, code, blueprint).await?;
    Ok(created)
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
    lock::acquire_tenant(&tx, code, lock_timeout, reporter).await?;
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
