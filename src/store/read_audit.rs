//! Read auditing through pgaudit, for the tables a blueprint names in
//! `[audit] reads` (PHI, personal data).
//!
//! Row triggers (store/audit.rs) see writes only. pgaudit's object-level
//! auditing logs every statement that reads a table on which the role in
//! `pgaudit.role` holds SELECT, so reads are audited by granting SELECT to
//! `provision_auditor` (core V15, NOLOGIN, no members) and setting
//! `pgaudit.role` for the database. Both need pgaudit in
//! `shared_preload_libraries` (the embedded sandbox preloads it when it is
//! installed); without it provision warns once per process that reads are
//! not audited, and `provision health` warns too. verify then checks the
//! grants only: it cannot ask for a `pgaudit.role` the server cannot load.

use std::sync::atomic::{AtomicBool, Ordering};

use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio_postgres::{Client, GenericClient, Transaction};

use crate::model::blueprint::Blueprint;
use crate::model::tenant::TenantCode;
use crate::pg::owned_ddl;
use crate::pg::quote::quote_ident;
use crate::report::Reporter;
use crate::store::lock::{self, Mode, Resource};

/// The role whose SELECT grants mark a table's reads as audited.
pub const AUDITOR: &str = "provision_auditor";

/// What the database offers for read auditing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// pgaudit is in `shared_preload_libraries`.
    pub loaded: bool,
    /// The database's `pgaudit.role` names [`AUDITOR`].
    pub configured: bool,
    /// [`AUDITOR`] exists, cannot log in and has no members.
    pub auditor_sound: bool,
}

pub async fn state(client: &impl GenericClient) -> Result<State> {
    let row = client.query_one(include_str!("sql/read_audit_state.sql"), &[]).await?;
    Ok(State {
        loaded: row.get("loaded"),
        configured: row.get("configured"),
        auditor_sound: row.get::<_, Option<bool>>("auditor_sound").unwrap_or(false),
    })
}

/// Whether `blueprint` asks for read auditing at all.
pub fn wanted(blueprint: &Blueprint) -> bool {
    blueprint.manifest.audit.as_ref().is_some_and(|a| !a.reads.is_empty())
}

/// Whether the database-level setting still has to be made: pgaudit is
/// loaded, the blueprint audits reads, and `pgaudit.role` is not set yet.
/// Warns once per process when the blueprint wants it and pgaudit is absent.
pub async fn needs_configuring(
    client: &impl GenericClient,
    blueprint: &Blueprint,
    reporter: &dyn Reporter,
) -> Result<bool> {
    if !wanted(blueprint) {
        return Ok(false);
    }
    let state = state(client).await?;
    if !state.loaded {
        warn_unaudited_once(&blueprint.name, reporter);
    }
    Ok(state.loaded && !state.configured)
}

fn warn_unaudited_once(blueprint: &str, reporter: &dyn Reporter) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        reporter.warn(&format!(
            "reads of blueprint {blueprint}'s [audit] reads tables are NOT audited: pgaudit is not loaded; \
             install it (Debian: postgresql-15-pgaudit), add it to shared_preload_libraries and restart, then run `provision up`"
        ));
    }
}

/// Sets `pgaudit.role` for the current database (effective for sessions
/// that start afterwards). The caller holds the exclusive shared lock, as
/// two concurrent `ALTER DATABASE … SET` would collide.
pub async fn configure_database(tx: &Transaction<'_>) -> Result<()> {
    let database: String = tx.query_one("SELECT pg_catalog.current_database()::text", &[]).await?.get(0);
    tx.batch_execute(&format!("ALTER DATABASE {} SET pgaudit.role = '{AUDITOR}'", quote_ident(&database)))
        .await
        .with_context(|| {
            format!(
                "cannot set pgaudit.role for database {database} (it needs a superuser, or GRANT SET ON PARAMETER \
                 pgaudit.role); run ALTER DATABASE {} SET pgaudit.role = '{AUDITOR}' as one",
                quote_ident(&database)
            )
        })
}

/// For `up`: sets `pgaudit.role` when a blueprint in use audits reads,
/// pgaudit is loaded and the setting is missing (say pgaudit was installed
/// after the tenants were made), in a short transaction of its own under the
/// exclusive shared lock. Returns whether it set it.
pub async fn configure_for(
    client: &mut Client,
    blueprints: &[Blueprint],
    lock_timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<bool> {
    let Some(wanting) = blueprints.iter().find(|b| wanted(b)) else { return Ok(false) };
    if !needs_configuring(&*client, wanting, reporter).await? {
        return Ok(false);
    }
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, lock_timeout).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Exclusive, reporter).await?;
    let set = !state(&tx).await?.configured;
    if set {
        configure_database(&tx).await?;
    }
    tx.commit().await?;
    Ok(set)
}

/// Grants SELECT to [`AUDITOR`] on the tenant's read-audited tables that
/// lack it, as their owner. Done whether or not pgaudit is loaded, so that
/// loading it later is all a DBA has to do (with `up`). Returns how many.
pub async fn ensure_grants(tx: &Transaction<'_>, code: &TenantCode, blueprint: &Blueprint) -> Result<usize> {
    let Some(audit) = blueprint.manifest.audit.as_ref().filter(|a| !a.reads.is_empty()) else { return Ok(0) };
    let rows = tx
        .query(include_str!("sql/read_audit_grants.sql"), &[&code.schema_name(), &audit.reads])
        .await
        .with_context(|| format!("cannot plan the read-audit grants of tenant {code}"))?;
    owned_ddl::run(tx, &rows, &format!("the read-audit grants of tenant {code}")).await
}
