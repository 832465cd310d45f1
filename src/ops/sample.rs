//! Sample data from a blueprint's own `sample/*.sql.tera` (`provision seed`,
//! `db create --sample`).
//!
//! A pack says what its sample is, as SQL run server-side (usually
//! `INSERT … SELECT` over `generate_series` with seeded, hashed choices), so
//! no blueprint needs Rust and the rows never cross the wire. This runner
//! knows nothing of any pack's tables: it renders the files with the
//! tenant's identity, the size and the rng seed, runs them in name order in
//! the caller's transaction with the tenant schema on the search path, and
//! reads back from PostgreSQL's own counters which tables got how many rows.
//! Determinism and idempotence are the pack's contract: the same seed must
//! give the same rows, and a rerun must skip rows that exist.
//!
//! When allowed (superuser, no INSERT trigger of the tenant's own), the files
//! run with triggers off (`session_replication_role = replica`); foreign
//! keys are then checked set-wise and each audited table gets one summary
//! audit row, as the per-row triggers would otherwise cost most of the time.
//! The secondary indexes of tables that start (nearly) empty are then built
//! after the inserts instead of during them ([`indexes`]).
//!
//! A blueprint with `[[encrypted]]` columns gets a fresh sample key in the
//! session, and every sample may leave secrets in `pg_temp.sample_secrets`
//! ([`crate::ops::seed_key`]); [`Loaded`] carries them to the caller, who
//! alone decides whether anyone sees them.

use std::time::Instant;

use anyhow::{Context as _, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::error::{bad_input, failed};
use crate::model::blueprint::{tera_cause, tera_context, Blueprint, Identity, SampleSpec};
use crate::model::tenant::TenantCode;
pub use crate::ops::seed_key::Secret;
use crate::ops::seed_key::{self, EncryptedTable};
use crate::report::Reporter;

mod indexes;

/// Largest size a sample may ask for: bounds what a typo can cost.
pub const MAX_SIZE: u64 = 10_000_000;

/// What to load into one tenant.
pub struct Request<'a> {
    pub blueprint: &'a Blueprint,
    pub code: &'a TenantCode,
    pub tenant_id: Uuid,
    pub size: u64,
    pub rng_seed: u64,
}

/// What one tenant's load did.
pub struct Loaded {
    /// Rows inserted per table of the tenant schema, parents first; only
    /// tables that got rows.
    pub inserted: Vec<(String, u64)>,
    /// The sample key (when the blueprint encrypts columns and the sample
    /// used it), then what the sample files put in `pg_temp.sample_secrets`.
    /// Never printed here; the caller decides.
    pub secrets: Vec<Secret>,
}

/// The blueprint's `[sample]`, or the one-line refusal for a blueprint without one.
pub fn spec(blueprint: &Blueprint) -> Result<&SampleSpec> {
    blueprint.manifest.sample.as_ref().ok_or_else(|| {
        bad_input(format!(
            "blueprint {:?} has no sample data (no [sample] in its blueprint.toml); seed tenants of a blueprint that has",
            blueprint.name
        ))
    })
}

/// Checks a requested size against the sample's bounds.
pub fn check_size(spec: &SampleSpec, size: u64) -> Result<()> {
    match size {
        1..=MAX_SIZE => Ok(()),
        _ => Err(bad_input(format!("--sample {size}: give between 1 and {MAX_SIZE} {} per tenant", spec.unit))),
    }
}

/// Loads the sample into one tenant within `tx` (which the caller commits).
pub async fn load(tx: &Transaction<'_>, req: &Request<'_>, reporter: &dyn Reporter) -> Result<Loaded> {
    let spec = spec(req.blueprint)?;
    // A row tenant's rows live in its pack's schema, beside every other tenant's.
    let row = req.blueprint.manifest.row.as_ref();
    let schema = row.map_or_else(|| req.code.schema_name(), |r| r.schema.clone());
    // A previous tenant's pack may have left pg_temp helpers of the same name and another type in this session.
    tx.batch_execute("DISCARD TEMP").await?;
    // Unqualified names in the sample's SQL mean the tenant's tables.
    tx.batch_execute(&format!(
        "SET LOCAL search_path = {}; {}",
        crate::pg::quote::quote_ident(&schema),
        include_str!("sql/sample_settings.sql")
    ))
    .await?;
    tx.execute(include_str!("sql/sample_app_tenant.sql"), &[&req.tenant_id.to_string()]).await?;
    let tables: Vec<String> =
        tx.query(include_str!("sql/sample_tables.sql"), &[&schema]).await?.iter().map(|r| r.get(0)).collect();
    let scripts = render(req, spec, &tables)?;
    // Not for a row pack: its tables hold other tenants' rows, whose indexes and triggers must stay.
    if row.is_some() {
        // Held to the pack's policies, a role would insert rows it cannot see: refuse instead.
        tx.batch_execute("SET LOCAL row_security = off").await?;
    }
    let bulk: bool =
        row.is_none() && tx.query_one(include_str!("sql/sample_bulk_mode.sql"), &[&schema]).await?.get::<_, bool>(0);
    if bulk {
        tx.batch_execute("SET LOCAL session_replication_role = replica").await?;
    }
    seed_key::create_secrets_table(tx).await?;
    let encrypted: Vec<EncryptedTable<'_>> =
        req.blueprint.manifest.encrypted.iter().map(|e| (e.table.as_str(), e.columns.as_slice())).collect();
    let key = match encrypted.is_empty() {
        true => None,
        false => Some(seed_key::begin(tx, req.code).await?),
    };
    let mut lap = Lap::new(reporter, req.code);
    lap.note(if bulk { "bulk mode (foreign keys checked per table)" } else { "per-row foreign-key checks" });
    // Dropping indexes needs the tables' owner; bulk mode means superuser.
    let deferred = if bulk { indexes::defer(tx, &schema).await? } else { indexes::Deferred::default() };
    for (file, sql) in &scripts {
        tx.batch_execute(sql).await.map_err(|e| script_error(req, file, e))?;
        lap.done(file);
    }
    if deferred.indexes > 0 {
        indexes::rebuild(tx, &deferred).await?;
        lap.done(&format!("{} secondary indexes built", deferred.indexes));
    }
    let inserted = inserted(tx, &schema).await?;
    if bulk {
        check_foreign_keys(tx, &inserted, &schema).await?;
        tx.batch_execute("SET LOCAL session_replication_role = origin").await?;
        let note = serde_json::json!({ "bulk_load": "provision seed", "sample": req.size, "rng_seed": req.rng_seed });
        summarize_in_audit_logs(tx, &inserted, &note).await?;
        lap.done("foreign keys checked, audit summarised");
    }
    let mut secrets = Vec::new();
    if let Some(key) = key {
        secrets.extend(seed_key::finish(tx, req.code, &encrypted, key).await?);
    }
    secrets.extend(seed_key::read_secrets(tx).await?);
    Ok(Loaded { inserted: inserted.into_iter().map(|t| (t.name, t.rows)).collect(), secrets })
}

/// Every `sample/*.sql.tera` rendered for this tenant, in name order. The
/// variables: the tenant's identity (as its templates see it), `size`,
/// `seed`, `unit`, `tables` (the tenant schema's tables and views) and the
/// `[sample.variables]` of the manifest.
fn render(req: &Request<'_>, spec: &SampleSpec, tables: &[String]) -> Result<Vec<(String, String)>> {
    let identity = Identity { code: req.code.clone(), tenant_id: req.tenant_id };
    let mut context = tera_context(&identity);
    for (name, value) in &spec.variables {
        context.insert(name, value);
    }
    context.insert("size", &req.size);
    context.insert("seed", &req.rng_seed);
    context.insert("unit", &spec.unit);
    context.insert("tables", tables);
    let mut files: Vec<_> = req.blueprint.sample_files().filter(|f| f.path.ends_with(".sql.tera")).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if files.is_empty() {
        return Err(bad_input(format!(
            "blueprint {:?} declares [sample] but has no sample/*.sql.tera files; add them or remove [sample]",
            req.blueprint.name
        )));
    }
    let mut rendered = Vec::with_capacity(files.len());
    for file in files {
        let where_ = format!("{}/{}", req.blueprint.name, file.path);
        let source = file.text(&req.blueprint.name)?;
        let sql = tera::Tera::one_off(&source, &context, false)
            .map_err(|e| bad_input(format!("cannot render {where_}: {}", tera_cause(&e))))?;
        rendered.push((file.path.clone(), sql));
    }
    Ok(rendered)
}

/// A sample file's own `RAISE EXCEPTION` is a refusal (exit 2, its message);
/// anything else is a failed load.
fn script_error(req: &Request<'_>, file: &str, error: tokio_postgres::Error) -> anyhow::Error {
    match error.as_db_error() {
        Some(db) if *db.code() == SqlState::RAISE_EXCEPTION => bad_input(db.message().to_owned()),
        _ => anyhow::Error::new(error).context(format!("{}/{file} failed for tenant {}", req.blueprint.name, req.code)),
    }
}

/// One table's rows inserted by this transaction.
struct Inserted {
    /// `schema.table`, as regclass text.
    table: String,
    name: String,
    rows: u64,
}

async fn inserted(tx: &Transaction<'_>, schema: &str) -> Result<Vec<Inserted>> {
    let rows = tx.query(include_str!("sql/sample_inserted.sql"), &[&schema]).await?;
    Ok(rows.iter().map(|r| Inserted { table: r.get(0), name: r.get(1), rows: r.get::<_, i64>(2) as u64 }).collect())
}

/// What the per-row triggers would have enforced, one query per foreign key.
async fn check_foreign_keys(tx: &Transaction<'_>, inserted: &[Inserted], schema: &str) -> Result<()> {
    let tables: Vec<&str> = inserted.iter().map(|t| t.table.as_str()).collect();
    // A pack may turn nested loops off for its inserts; this catalog query
    // (a lateral unnest) needs them, and took half a second without.
    let nestloop: String = tx.query_one("SELECT current_setting('enable_nestloop')", &[]).await?.get(0);
    tx.batch_execute("SET LOCAL enable_nestloop = on").await?;
    let checks = tx.query(include_str!("sql/sample_foreign_keys.sql"), &[&tables, &schema]).await?;
    tx.execute("SELECT set_config('enable_nestloop', $1, true)", &[&nestloop]).await?;
    for check in checks {
        let (name, sql, lock): (String, String, Option<String>) = (check.get(0), check.get(1), check.get(2));
        if let Some(lock) = lock {
            tx.execute(&lock, &[]).await.with_context(|| format!("cannot lock the rows {name} references"))?;
        }
        let dangling: i64 = tx.query_one(&sql, &[]).await?.get(0);
        if dangling > 0 {
            return Err(failed(format!(
                "{dangling} sample rows would violate foreign key {name} (their referenced rows are missing)"
            )));
        }
    }
    Ok(())
}

/// The audit rows the silenced audit triggers would have written, as one
/// summary row per audited table.
async fn summarize_in_audit_logs(tx: &Transaction<'_>, inserted: &[Inserted], note: &serde_json::Value) -> Result<()> {
    let tables: Vec<&str> = inserted.iter().map(|t| t.table.as_str()).collect();
    let names: Vec<&str> = inserted.iter().map(|t| t.name.as_str()).collect();
    let rows: Vec<i64> = inserted.iter().map(|t| t.rows as i64).collect();
    let statements: Vec<String> = tx
        .query(include_str!("sql/sample_audit_summary.sql"), &[&tables, &names, &rows, note])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !statements.is_empty() {
        tx.batch_execute(&statements.join(";\n")).await.context("cannot record the sample load in the audit log")?;
    }
    Ok(())
}

/// Step timings for `--verbose`.
struct Lap<'a> {
    reporter: &'a dyn Reporter,
    code: &'a TenantCode,
    last: Instant,
}

impl<'a> Lap<'a> {
    fn new(reporter: &'a dyn Reporter, code: &'a TenantCode) -> Lap<'a> {
        Lap { reporter, code, last: Instant::now() }
    }

    fn note(&self, what: &str) {
        self.reporter.detail(&format!("  {}: {what}", self.code));
    }

    fn done(&mut self, what: &str) {
        let now = Instant::now();
        self.reporter.detail(&format!("  {}: {what} in {:.2} s", self.code, (now - self.last).as_secs_f64()));
        self.last = now;
    }
}
