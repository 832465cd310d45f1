//! `provision seed`: deterministic sample data for CI and benchmarks, from
//! each tenant's blueprint (`[sample]` and `sample/*.sql.tera`). This file
//! chooses the tenants, gives each its own transaction under the usual
//! locks, and reports; the rows themselves come from the pack, run by
//! [`crate::ops::sample`].

use std::time::Instant;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::Client;

use crate::cli::args::SeedArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::error::{bad_input, failed};
use crate::model::blueprint::Blueprint;
use crate::model::tenant::TenantCode;
use crate::ops::sample::{self, Request};
use crate::store::registry::{self, Registered};

#[derive(Debug, Serialize)]
struct TenantReport {
    tenant: String,
    schema: String,
    /// Rows inserted per table, parents first (tables that got none are left out).
    inserted: Inserted,
    seconds: f64,
}

/// The `--json` document. `sample` is the size asked for (`null` when each
/// tenant's blueprint chose its default).
#[derive(Debug, Serialize)]
struct Summary {
    sample: Option<u64>,
    rng_seed: u64,
    tenants: Vec<TenantReport>,
    seconds: f64,
}

/// Rows per table as a JSON object in load order (serde_json's own map
/// would sort the tables by name).
#[derive(Debug)]
struct Inserted(Vec<(String, u64)>);

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
    let codes = args.tenants.codes.iter().map(|c| TenantCode::parse(c)).collect::<Result<Vec<_>>>()?;
    let config = ctx.config()?;
    let (mut client, _) = ctx.connect().await?;
    let registered = registry::snapshot(&client, None).await?;
    let tenants = choose(&registered, &codes)?;
    // Every tenant is checked before the first one is touched.
    let mut work = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
        let spec = blueprint.manifest.sample.as_ref().ok_or_else(|| {
            bad_input(format!(
                "tenant {} uses blueprint {:?}, which declares no sample data ([sample] in its blueprint.toml)",
                tenant.code, blueprint.name
            ))
        })?;
        let size = args.sample.map_or(spec.default_size, u64::from);
        sample::check_size(spec, size)?;
        work.push((tenant, blueprint, size));
    }
    let mut reports = Vec::with_capacity(work.len());
    for (tenant, blueprint, size) in &work {
        let report = seed_tenant(ctx, &mut client, tenant, blueprint, *size, args.rng_seed).await?;
        print_report(ctx, &report);
        reports.push(report);
    }
    let seconds = started.elapsed().as_secs_f64();
    // A typed document rather than json!(): serde_json's map would sort each
    // tenant's tables by name instead of load order.
    let sample = args.sample.map(u64::from);
    ctx.printer.json(&Summary { sample, rng_seed: args.rng_seed, tenants: reports, seconds });
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
    blueprint: &Blueprint,
    size: u64,
    rng_seed: u64,
) -> Result<TenantReport> {
    let started = Instant::now();
    let code = &tenant.code;
    let tx = crate::ops::provisioner::begin_locked(client, code, ctx.lock_timeout(), &ctx.printer).await?;
    let request = Request { blueprint, code, tenant_id: tenant.id, size, rng_seed };
    let loaded = sample::load(&tx, &request, &ctx.printer)
        .await
        .with_context(|| format!("seeding tenant {code} failed; its changes were rolled back"))?;
    tx.commit().await.with_context(|| format!("seeding tenant {code} failed at commit"))?;
    Ok(TenantReport {
        tenant: code.as_str().to_owned(),
        schema: code.schema_name(),
        inserted: Inserted(loaded.inserted),
        seconds: started.elapsed().as_secs_f64(),
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
