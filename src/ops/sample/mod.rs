//! Realistic, deterministic sample data for a tenant (`provision seed`).
//!
//! CI and benchmarks need the same rows every time, loaded fast and never
//! twice. So every key and unique column is derived from (tenant, rng seed,
//! entity, index); rows are generated straight into COPY streams feeding
//! temporary tables; and one `INSERT … SELECT` per table moves in the rows
//! whose key and unique columns are not there yet, parents before children,
//! in the caller's transaction. A rerun inserts nothing; a larger sample
//! adds only the new rows.

pub mod calendar;
mod copy;
mod events;
pub mod keys;
mod lists;
mod merge;
mod people;
mod policies;
pub mod scale;
mod world;

use std::time::Instant;

use anyhow::{Context as _, Result};
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::error::{bad_input, failed};
use crate::model::blueprint::PartitionSpec;
use crate::model::tenant::TenantCode;
use crate::report::Reporter;
use calendar::Stamp;
use keys::{Entity, Keys};
use scale::Scale;
use world::{Providers, World};

/// The tables a sample fills, parents first.
pub const TABLES: [&str; 6] =
    ["users", "agents", "policyholders", "insurance_policies", "premium_payments", EVENTS_TABLE];

/// Optional: skipped (with a note) in tenants whose schema predates it.
const EVENTS_TABLE: &str = "user_events";

/// What to load into one tenant.
pub struct Request<'a> {
    pub code: &'a TenantCode,
    pub tenant_id: Uuid,
    pub rng_seed: u64,
    pub policies: u64,
    /// The blueprint's `[[partitioned]]` entry for user_events, if any.
    pub events: Option<&'a PartitionSpec>,
}

/// What one tenant's load did.
pub struct Loaded {
    /// Rows inserted per table, in [`TABLES`] order (events only if loaded).
    pub inserted: Vec<(&'static str, u64)>,
    /// Why events were skipped, when they were.
    pub skipped_events: Option<String>,
}

/// Loads the sample into one tenant within `tx` (which the caller commits).
pub async fn load(tx: &Transaction<'_>, req: &Request<'_>, reporter: &dyn Reporter) -> Result<Loaded> {
    let schema = req.code.schema_name();
    // Unqualified names in the sample's SQL mean the tenant's tables.
    tx.batch_execute(&format!("SET LOCAL search_path = {}; {}", req.code.schema_ident(), include_str!("settings.sql")))
        .await?;
    tx.execute(include_str!("app_tenant.sql"), &[&req.tenant_id.to_string()]).await?;
    let missing: Vec<String> = tx
        .query(include_str!("missing_tables.sql"), &[&schema, &TABLES.to_vec()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if let Some(table) = missing.iter().find(|t| *t != EVENTS_TABLE) {
        return Err(failed(format!(
            "tenant {} has no table {schema}.{table}: its schema is behind the blueprint; run `provision up` first",
            req.code
        )));
    }
    let with_events = missing.is_empty();
    let world = world(tx, req, with_events, reporter).await?;
    check_owner(tx, &world, req).await?;
    let mut timer = Timer::new(reporter, req.code);
    stage(tx, &world, &mut timer).await?;
    let note = serde_json::json!({ "bulk_load": "provision seed", "sample": req.policies, "rng_seed": req.rng_seed });
    let inserted = merge::merge(tx, with_events, &note, &mut timer).await?;
    tx.execute(include_str!("agent_counters.sql"), &[]).await.context("cannot update the agents' counters")?;
    timer.lap("agent counters");
    let skipped_events = (!with_events).then(|| format!("{schema}.{EVENTS_TABLE} does not exist; events were skipped"));
    Ok(Loaded { inserted, skipped_events })
}

/// Reads the database's clock and providers, and fixes the sample's inputs.
async fn world(tx: &Transaction<'_>, req: &Request<'_>, with_events: bool, reporter: &dyn Reporter) -> Result<World> {
    let anchor = Stamp(tx.query_one(include_str!("clock.sql"), &[]).await?.get("anchor")).date();
    let providers: Vec<(String, Uuid)> =
        tx.query(include_str!("providers.sql"), &[]).await?.iter().map(|r| (r.get(0), r.get(1))).collect();
    let events = match with_events {
        true => Some(event_window(tx, req, reporter).await?),
        false => None,
    };
    Ok(World {
        keys: Keys::new(req.tenant_id, req.rng_seed),
        scale: Scale::of(req.policies),
        code: req.code.as_str().to_owned(),
        prefix: req.code.as_str().to_uppercase(),
        anchor,
        providers: Providers::choose(req.code.as_str(), providers),
        events,
    })
}

/// `[from, to)` for events: the partition window, as far as partitions exist.
async fn event_window(tx: &Transaction<'_>, req: &Request<'_>, reporter: &dyn Reporter) -> Result<(Stamp, Stamp)> {
    let (unit, premake) = req.events.map_or(("month", 0), |spec| (spec.interval.unit(), spec.premake as i32));
    let row = tx.query_one(include_str!("event_window.sql"), &[&unit, &premake]).await?;
    let (from, to) = (Stamp(row.get("window_from")), Stamp(row.get("window_to")));
    match row.get::<_, Option<i64>>("covered_to") {
        Some(covered) => Ok((from, Stamp(covered))),
        None => {
            reporter.warn(&format!(
                "{}: no partition of {EVENTS_TABLE} holds the current period; sample events go to its DEFAULT partition",
                req.code
            ));
            Ok((from, to))
        }
    }
}

/// Refuses to mix samples: unique columns come from the index alone, so a
/// different seed's rows would collide with these on e-mail while their keys
/// (and so their children's references) differ.
async fn check_owner(tx: &Transaction<'_>, w: &World, req: &Request<'_>) -> Result<()> {
    let email = format!("agent0@{}.example", w.code);
    let row = tx.query_opt(include_str!("sample_owner.sql"), &[&email]).await?;
    match row.map(|r| r.get::<_, Uuid>(0)) {
        Some(id) if id != w.keys.id(Entity::AgentUser, 0) => Err(bad_input(format!(
            "tenant {} already holds sample data made with another --rng-seed (user {email} has another id); \
             seed it with the seed it was made with, or remove the tenant and provision it again",
            req.code
        ))),
        _ => Ok(()),
    }
}

/// Generates every row into the staging tables, parents first.
async fn stage(tx: &Transaction<'_>, w: &World, timer: &mut Timer<'_>) -> Result<()> {
    tx.batch_execute(include_str!("temp_tables.sql")).await.context("cannot create the staging tables")?;
    let s = w.scale;
    copy::copy_in(tx, include_str!("copy_users.sql"), s.users(), |i, r| people::user(w, i, r)).await?;
    timer.lap("users staged");
    copy::copy_in(tx, include_str!("copy_agents.sql"), s.agents, |k, r| people::agent(w, k, r)).await?;
    timer.lap("agents staged");
    copy::copy_in(tx, include_str!("copy_policyholders.sql"), s.holders, |j, r| people::holder(w, j, r)).await?;
    timer.lap("policyholders staged");
    copy::copy_in(tx, include_str!("copy_policies.sql"), s.policies, |i, r| policies::policy(w, i, r)).await?;
    timer.lap("policies staged");
    copy::copy_in(tx, include_str!("copy_payments.sql"), s.policies, |i, r| policies::payments(w, i, r)).await?;
    timer.lap("payments staged");
    if let Some(window) = w.events {
        tx.batch_execute(include_str!("temp_events.sql")).await.context("cannot create the staging tables")?;
        copy::copy_in(tx, include_str!("copy_events.sql"), s.events, |e, r| events::event(w, window, e, r)).await?;
        timer.lap("events staged");
    }
    Ok(())
}

/// Phase timings for `--verbose`.
struct Timer<'a> {
    reporter: &'a dyn Reporter,
    code: &'a TenantCode,
    last: Instant,
}

impl<'a> Timer<'a> {
    fn new(reporter: &'a dyn Reporter, code: &'a TenantCode) -> Timer<'a> {
        Timer { reporter, code, last: Instant::now() }
    }

    fn note(&self, what: &str) {
        self.reporter.detail(&format!("  {}: {what}", self.code));
    }

    fn lap(&mut self, what: &str) {
        let now = Instant::now();
        self.reporter.detail(&format!("  {}: {what} in {:.2} s", self.code, (now - self.last).as_secs_f64()));
        self.last = now;
    }
}
