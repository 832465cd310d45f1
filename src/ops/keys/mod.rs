//! `provision keys rotate`: re-encrypts every column a tenant's blueprint
//! declares `[[encrypted]]` from one key to another, and retires the old key
//! once it has proved that no value carries it any more.
//!
//! Built to run beside live traffic and to be killed: each table is walked
//! by its declared key column (keyset pagination over its unique index), one
//! short transaction per batch of rows, the re-encryption done on the server
//! in one UPDATE per batch (so its rate stays close to a single naive
//! UPDATE's), every lock wait bounded by `--lock-timeout`. Values that
//! already carry the new key id are skipped, so a run after a kill resumes
//! where the killed one stopped. Nothing is written before the checks pass:
//! the key files, the declared columns, a census of the key ids the values
//! carry (a wrong old key names an id no value carries), and a sample that
//! the old key really decrypts.
//!
//! The rotation changes no value, only its encryption, so batches run with
//! `session_replication_role = replica`: no audit row per re-encrypted value
//! (the audit log would otherwise keep copies under the old key), no
//! `updated_at` bump; `shared.tenant_keys` records the rotation instead.
//! Keys travel only as bind parameters on a session whose parameter logging
//! is off (`sql/keys_quiet_session.sql`).

mod batches;
mod census;
mod decide;
pub mod key_file;
mod record;

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

pub use key_file::Key;

use crate::error::{bad_input, unavailable};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::report::Reporter;
use decide::Plan;

/// Progress of a rotation, for a bar (quiet defaults).
pub trait RotateReporter: Reporter {
    /// The census is done: `values` values carry the old key.
    fn rotation_started(&self, _values: u64) {}
    /// A batch of `table` committed, re-encrypting `values` values.
    fn batch_committed(&self, _table: &str, _values: u64) {}
}

/// What to rotate, and how.
pub struct Rotation<'a> {
    pub tenant: &'a TenantCode,
    pub from: &'a Key,
    pub to: &'a Key,
    /// Rows per batch (one transaction each).
    pub batch: u32,
    /// Longest wait for the tenant's lock and, in each batch, for row locks.
    pub lock_timeout: Duration,
}

/// What a rotation did (`--json`). Key ids name keys without revealing them.
#[derive(Debug, Clone, Serialize)]
pub struct Rotated {
    pub tenant: String,
    pub from_key_id: String,
    pub to_key_id: String,
    pub tables: Vec<TableRotated>,
    /// Values re-encrypted by this run.
    pub values: u64,
    pub rows: u64,
    pub batches: u64,
    pub batch_size: u32,
    /// The old key was retired by this run.
    pub retired: bool,
    /// An earlier run had finished this rotation: nothing was written.
    pub already_done: bool,
    pub seconds: f64,
    pub values_per_second: f64,
}

/// One table's share of a rotation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableRotated {
    pub table: String,
    pub rows: u64,
    pub values: u64,
    pub batches: u64,
}

/// Rotates `rotation.tenant` from one key to the other (module doc).
pub async fn rotate(
    reporter: &dyn RotateReporter,
    client: &mut Client,
    config: &Config,
    rotation: &Rotation<'_>,
) -> Result<Rotated> {
    let started = Instant::now();
    quiet_session(client).await?;
    let code = rotation.tenant;
    let registered = crate::store::registry::snapshot(&*client, Some(code)).await?;
    let tenant = registered.into_iter().next().ok_or_else(|| crate::store::registry::not_registered(code))?;
    let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
    if blueprint.manifest.encrypted.is_empty() {
        return Err(bad_input(format!(
            "tenant {code}: its blueprint {} declares no [[encrypted]] columns; there is nothing to rotate",
            blueprint.name
        )));
    }
    take_tenant_lock(client, code, rotation.lock_timeout).await?;
    let outcome = rotate_locked(reporter, client, &tenant.schema_name, &blueprint, rotation).await;
    let _ = crate::store::lock::session_release_tenant(client, code).await;
    let mut rotated = outcome?;
    rotated.seconds = started.elapsed().as_secs_f64();
    rotated.values_per_second = rotated.values as f64 / rotated.seconds.max(1e-9);
    Ok(rotated)
}

/// The rotation proper, with the tenant's lock held.
async fn rotate_locked(
    reporter: &dyn RotateReporter,
    client: &mut Client,
    schema: &str,
    blueprint: &Blueprint,
    rotation: &Rotation<'_>,
) -> Result<Rotated> {
    let ids = key_ids(client, rotation).await?;
    let tables = census::check_columns(client, schema, &blueprint.manifest.encrypted, &blueprint.name).await?;
    let counts = census::count(client, &tables).await?;
    let recorded = census::recorded_keys(client, rotation.tenant).await?;
    let plan = decide::decide(rotation.tenant, &ids, &counts, &recorded)?;
    let mut rotated = Rotated {
        tenant: rotation.tenant.to_string(),
        from_key_id: ids.from.clone(),
        to_key_id: ids.to.clone(),
        tables: Vec::new(),
        values: 0,
        rows: 0,
        batches: 0,
        batch_size: rotation.batch,
        retired: false,
        already_done: plan == Plan::AlreadyDone,
        seconds: 0.0,
        values_per_second: 0.0,
    };
    if plan == Plan::AlreadyDone {
        return Ok(rotated);
    }
    census::sample(client, &tables, &counts, &ids, rotation).await?;
    reporter.rotation_started(counts.carrying(&ids.from));
    for table in &tables {
        let done = batches::walk(reporter, client, table, &ids, rotation).await?;
        rotated.values += done.values;
        rotated.rows += done.rows;
        rotated.batches += done.batches;
        rotated.tables.push(done);
    }
    rotated.retired = record::prove_and_record(client, rotation.tenant, &tables, &ids).await?;
    Ok(rotated)
}

/// The ids the envelopes name for the two keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyIds {
    pub from: String,
    pub to: String,
}

async fn key_ids(client: &Client, rotation: &Rotation<'_>) -> Result<KeyIds> {
    let row = client
        .query_one(include_str!("../sql/keys_ids.sql"), &[&rotation.from.expose(), &rotation.to.expose()])
        .await
        .map_err(|e| match e.code() {
            Some(code) if *code == SqlState::UNDEFINED_FUNCTION || *code == SqlState::INVALID_SCHEMA_NAME => bad_input(
                "this database has no column encryption yet (shared migrations before V14); run `provision up` first",
            ),
            _ => e.into(),
        })?;
    let ids = KeyIds { from: row.get("from_id"), to: row.get("to_id") };
    if ids.from == ids.to {
        return Err(bad_input(format!(
            "--from-key-file {} and --to-key-file {} hold the same key (id {}); pass a new key as --to-key-file",
            rotation.from.path().display(),
            rotation.to.path().display(),
            ids.from
        )));
    }
    Ok(ids)
}

/// Keeps bind values (the keys) out of the server log: each setting of
/// `keys_quiet_session.sql` on its own, a refused one (not a superuser)
/// skipped.
async fn quiet_session(client: &Client) -> Result<()> {
    let settings = include_str!("../sql/keys_quiet_session.sql");
    for statement in settings.lines().filter(|l| l.starts_with("SET ")) {
        match client.batch_execute(statement).await {
            Ok(()) => {}
            Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // A role subject to row-level security gets an error instead of a
    // silently filtered census, whose "no value carries the old key" would
    // retire a key that rows it could not see still need.
    client.batch_execute("SET row_security = off").await?;
    Ok(())
}

/// The tenant's lock for the whole run (no `tenant upgrade` or second
/// rotation of the tenant meanwhile), waiting up to `patience`.
async fn take_tenant_lock(client: &Client, code: &TenantCode, patience: Duration) -> Result<()> {
    client.batch_execute(&format!("SET lock_timeout = '{}ms'", patience.as_millis().max(1))).await?;
    let taken = crate::store::lock::session_take_tenant(client, code).await;
    client.batch_execute("RESET lock_timeout").await?;
    match taken {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
            let _ = client.batch_execute("SELECT pg_advisory_unlock_all()").await;
            Err(unavailable(format!(
                "tenant {code}: another provision process held its lock for more than --lock-timeout ({} s); \
                 nothing was re-encrypted, run again later",
                patience.as_secs_f64()
            )))
        }
        Err(e) => Err(e.into()),
    }
}
