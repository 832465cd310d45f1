//! `provision seed`: realistic, deterministic sample data for CI and
//! benchmarks. This file chooses the tenants, gives each its own
//! transaction under the usual locks, and reports; the rows themselves come
//! from [`crate::ops::sample`].

use std::time::Instant;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::Client;

use crate::cli::args::SeedArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::error::{bad_input, failed};
use crate::model::blueprint::{Blueprint, PartitionSpec};
use crate::model::tenant::TenantCode;
use crate::ops::sample::{self, scale::MAX_SAMPLE, Request};
use crate::store::registry::{self, Registered};

/// The only blueprint with a sample generator.
const SEEDABLE_BLUEPRINT: &str = "agent_mitra";

#[derive(Debug, Serialize)]
struct TenantReport {
    tenant: String,
    schema: String,
    /// Rows inserted per table, parents first (0 where they existed already).
    inserted: Inserted,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// The `--json` document.
#[derive(Debug, Serialize)]
struct Summary {
    sample: u64,
    rng_seed: u64,
    tenants: Vec<TenantReport>,
    seconds: f64,
}

/// Rows per table as a JSON object in load order (serde_json's own map
/// would sort the tables by name).
#[derive(Debug)]
struct Inserted(Vec<(&'static str, u64)>);

impl Serialize for Inserted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (table, rows) in &self.0 {
            map.serialize_entry(table, rows)?;
        }
        map.end()
    }
}

pub async fn run(ctx: &Context, args: &SeedArgs) -> Result<()> {
    let started = Instant::now();
    let policies = u64::from(args.sample);
    if policies == 0 || policies > MAX_SAMPLE {
        return Err(bad_input(format!("--sample {policies}: give between 1 and {MAX_SAMPLE} policies per tenant")));
    }
    let codes = args.tenants.iter().map(|c| TenantCode::parse(c)).collect::<Result<Vec<_>>>()?;
    let config = ctx.config()?;
    let (mut client, _) = ctx.connect().await?;
    let registered = registry::snapshot(&client, None).await?;
    let tenants = choose(&registered, &codes)?;
    // Every tenant is checked before the first one is touched.
    let mut work = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
        let events = blueprint.manifest.partitioned.iter().find(|p| p.table == "user_events").cloned();
        work.push((tenant, events));
    }
    let mut reports = Vec::with_capacity(work.len());
    for (tenant, events) in &work {
        let report = seed_tenant(ctx, &mut client, tenant, events.as_ref(), args).await?;
        print_report(ctx, &report);
        reports.push(report);
    }
    let seconds = started.elapsed().as_secs_f64();
    // A typed document rather than json!(): serde_json's map would sort each
    // tenant's tables by name instead of load order.
    ctx.printer.json(&Summary { sample: policies, rng_seed: args.rng_seed, tenants: reports, seconds });
    Ok(())
}

/// The named tenants (all registered, active, seedable), else every active one.
fn choose<'a>(registered: &'a [Registered], codes: &[TenantCode]) -> Result<Vec<&'a Registered>> {
    let tenants: Vec<&Registered> = if codes.is_empty() {
        registered.iter().filter(|t| t.is_active()).collect()
    } else {
        let mut chosen = Vec::new();
        for code in codes {
            let tenant = registered.iter().find(|t| &t.code == code).ok_or_else(|| registry::not_registered(code))?;
            if !tenant.is_active() {
                return Err(bad_input(format!("tenant {code} is {}; only active tenants are seeded", tenant.status)));
            }
            if !chosen.iter().any(|t: &&Registered| &t.code == code) {
                chosen.push(tenant);
            }
        }
        chosen
    };
    if tenants.is_empty() {
        return Err(bad_input("no active tenants to seed; run `provision up` first"));
    }
    for tenant in &tenants {
        if tenant.blueprint != SEEDABLE_BLUEPRINT {
            return Err(bad_input(format!(
                "tenant {} uses blueprint {:?}; provision seed only has a generator for {SEEDABLE_BLUEPRINT:?}",
                tenant.code, tenant.blueprint
            )));
        }
        if !tenant.schema_exists {
            return Err(failed(format!("tenant {}: schema {} is missing", tenant.code, tenant.schema_name)));
        }
    }
    Ok(tenants)
}

/// One tenant, one transaction: all of its sample or none of it.
async fn seed_tenant(
    ctx: &Context,
    client: &mut Client,
    tenant: &Registered,
    events: Option<&PartitionSpec>,
    args: &SeedArgs,
) -> Result<TenantReport> {
    let started = Instant::now();
    let code = &tenant.code;
    let tx = crate::ops::provisioner::begin_locked(client, code, ctx.lock_timeout(), &ctx.printer).await?;
    let request =
        Request { code, tenant_id: tenant.id, rng_seed: args.rng_seed, policies: u64::from(args.sample), events };
    let loaded = sample::load(&tx, &request, &ctx.printer)
        .await
        .with_context(|| format!("seeding tenant {code} failed; its changes were rolled back"))?;
    tx.commit().await.with_context(|| format!("seeding tenant {code} failed at commit"))?;
    if let Some(note) = &loaded.skipped_events {
        ctx.printer.note(format!("{code}: {note}"));
    }
    Ok(TenantReport {
        tenant: code.as_str().to_owned(),
        schema: code.schema_name(),
        inserted: Inserted(loaded.inserted),
        seconds: started.elapsed().as_secs_f64(),
        note: loaded.skipped_events,
    })
}

fn print_report(ctx: &Context, report: &TenantReport) {
    let total: u64 = report.inserted.0.iter().map(|(_, rows)| rows).sum();
    let tenant = strong(&report.tenant);
    if total == 0 {
        ctx.printer.line(format!("{tenant}: nothing new, the sample is already there ({:.2} s)", report.seconds));
        return;
    }
    let counts: Vec<String> = report.inserted.0.iter().map(|(table, rows)| format!("{rows} {table}")).collect();
    ctx.printer.line(format!("{tenant}: inserted {} in {:.2} s", counts.join(", "), report.seconds));
}
