//! `provision seed` as a use case: which tenants get sample data, one
//! transaction per tenant under the usual lock, and what each load inserted
//! and which secrets it produced. The rows themselves come from each
//! tenant's blueprint, run by [`crate::ops::sample`]; the command in
//! `cli/seed.rs` only parses its arguments and prints this report.
//!
//! Secrets (the sample encryption key, passwords a pack generated) are part
//! of the report only when the caller says the target is the embedded
//! sandbox; otherwise they are dropped here, and the report counts them so
//! the command can say that they were not shown.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::{bad_input, failed};
use crate::model::blueprint::Blueprint;
use crate::model::tenant::TenantCode;
use crate::ops::sample::{self, Request, Secret};
use crate::ops::Env;
use crate::report::Reporter;
use crate::store::registry::{self, Registered};

/// What to seed.
pub struct Seed<'a> {
    /// The tenants named (`--tenant`); empty means every active tenant.
    pub codes: &'a [TenantCode],
    /// Sample size per tenant; `None` takes each blueprint's default.
    pub size: Option<u64>,
    pub rng_seed: u64,
    pub templates_dir: &'a Path,
    /// Whether the target is the embedded sandbox, the only place where the
    /// sample's secrets may be shown.
    pub reveal_secrets: bool,
}

/// Progress of a seed run beyond the plain messages.
pub trait SeedReporter: Reporter {
    /// One tenant's sample is committed.
    fn tenant_seeded(&self, _report: &TenantSeeded) {}
}

/// What one tenant's load did.
#[derive(Debug, Serialize)]
pub struct TenantSeeded {
    pub tenant: String,
    pub schema: String,
    /// Rows inserted per table, parents first (tables that got none are left out).
    pub inserted: Inserted,
    /// The sample's secrets, only when the target is the embedded sandbox.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    /// How many secrets the load produced that this report leaves out
    /// because the target is not the sandbox.
    #[serde(skip_serializing_if = "is_zero")]
    pub secrets_withheld: usize,
    pub seconds: f64,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The whole run. `sample` is the size asked for (`None` when each
/// tenant's blueprint chose its default).
#[derive(Debug, Serialize)]
pub struct Seeded {
    pub sample: Option<u64>,
    pub rng_seed: u64,
    pub tenants: Vec<TenantSeeded>,
    pub seconds: f64,
}

/// Rows per table as a JSON object in load order (serde_json's own map
/// would sort the tables by name).
#[derive(Debug)]
pub struct Inserted(pub Vec<(String, u64)>);

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

/// Seeds the chosen tenants, each in its own transaction: all of a
/// tenant's sample or none of it. Every tenant is checked before the first
/// one is touched.
pub async fn seed(
    env: &Env<'_>,
    reporter: &dyn SeedReporter,
    client: &mut Client,
    request: &Seed<'_>,
) -> Result<Seeded> {
    let started = Instant::now();
    let registered = registry::snapshot(&*client, None).await?;
    let tenants = choose(&registered, request.codes)?;
    let mut work = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        let blueprint = Blueprint::load(request.templates_dir, &tenant.blueprint)?;
        let spec = blueprint.manifest.sample.as_ref().ok_or_else(|| {
            bad_input(format!(
                "tenant {} uses blueprint {:?}, which declares no sample data ([sample] in its blueprint.toml)",
                tenant.code, blueprint.name
            ))
        })?;
        let size = request.size.unwrap_or(spec.default_size);
        sample::check_size(spec, size)?;
        work.push((tenant, blueprint, size));
    }
    let mut reports = Vec::with_capacity(work.len());
    for (tenant, blueprint, size) in &work {
        let report = seed_tenant(env, client, tenant, blueprint, *size, request).await?;
        reporter.tenant_seeded(&report);
        reports.push(report);
    }
    Ok(Seeded {
        sample: request.size,
        rng_seed: request.rng_seed,
        tenants: reports,
        seconds: started.elapsed().as_secs_f64(),
    })
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
        if !tenant.schema_exists && !tenant.row {
            return Err(failed(format!("tenant {}: schema {} is missing", tenant.code, tenant.schema_name)));
        }
    }
    Ok(tenants)
}

/// One tenant, one transaction.
async fn seed_tenant(
    env: &Env<'_>,
    client: &mut Client,
    tenant: &Registered,
    blueprint: &Blueprint,
    size: u64,
    request: &Seed<'_>,
) -> Result<TenantSeeded> {
    let started = Instant::now();
    let code = &tenant.code;
    let tx = crate::ops::provisioner::begin_locked(client, code, env.lock_timeout, env.reporter).await?;
    let load = Request { blueprint, code, tenant_id: tenant.id, size, rng_seed: request.rng_seed };
    let loaded = sample::load(&tx, &load, env.reporter)
        .await
        .with_context(|| format!("seeding tenant {code} failed; its changes were rolled back"))?;
    tx.commit().await.with_context(|| format!("seeding tenant {code} failed at commit"))?;
    let (secrets, secrets_withheld) = match request.reveal_secrets {
        true => (loaded.secrets, 0),
        false => (Vec::new(), loaded.secrets.len()),
    };
    Ok(TenantSeeded {
        tenant: code.as_str().to_owned(),
        schema: code.schema_name(),
        inserted: Inserted(loaded.inserted),
        secrets,
        secrets_withheld,
        seconds: started.elapsed().as_secs_f64(),
    })
}
