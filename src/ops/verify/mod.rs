//! `provision verify`: prove from the catalog that every tenant matches its
//! blueprint and that the isolation invariants hold.
//!
//! The expected state is never a hand-kept list: a reference tenant is built
//! from the templates (at each tenant's applied version) inside a transaction,
//! read from the catalog like the real tenants (without deparsing, see
//! `canonical.rs`), and rolled back. Shared schemas are compared against the
//! shared migrations applied to a throwaway database. Invariants that no
//! template can express (RLS on partitions, cross-tenant privileges, …) are
//! a few more queries. Row tenants (no schema of their own) are checked
//! through their blueprint's `[row]` tables and rows instead (`row.rs`).
//! The number of queries does not grow with the tenant count, and the
//! three checks run at once on their own connections.
//! Tenants another provision process is changing are skipped or waited for
//! (`busy.rs`).

mod busy;
mod cache;
mod canonical;
mod digest;
mod fingerprint;
mod invariants;
mod kinds;
mod references;
pub mod report;
mod row;
mod scratch;
mod shared;

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::Client;

use crate::model::blueprint::Blueprint;
use crate::model::config::{Config, TenantSpec};
use crate::model::tenant::TenantCode;
use crate::pg::connection::Target;
use crate::store::registry::Registered;

pub use busy::Busy;
pub use kinds::{Check, Difference};

/// The checks, in report order; every schema tenant gets each (JUnit
/// testcases): all but `registry`, which is row tenancy's.
pub const TENANT_CHECKS: &[Check] = Check::ALL.split_last().expect("checks").1;
pub use row::{BLUEPRINT_CHECKS as ROW_BLUEPRINT_CHECKS, TENANT_CHECKS as ROW_TENANT_CHECKS};
pub const SHARED_CHECKS: &[Check] = &[Check::Structure, Check::Checksums, Check::Indexes, Check::Constraints];

/// One problem, named precisely enough to act on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// The tenant, `shared` for the shared schemas, or `row:<blueprint>`
    /// for a row blueprint's tables.
    pub scope: String,
    pub check: Check,
    /// A [`Difference`] (`missing`, `extra`, `changed`) or a sentence for invariants.
    pub problem: String,
    /// Object kind (table, column, index, …) and qualified name.
    pub kind: String,
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

/// The result of a run: who was checked and what was found.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The tenants verified.
    pub tenants: Vec<String>,
    /// Those of them that are row tenants (`tenancy = "row"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row_tenants: Vec<String>,
    /// The row blueprints whose tables were verified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row_blueprints: Vec<String>,
    pub findings: Vec<Finding>,
    pub seconds: f64,
    /// Tenants another provision process was changing; verified once it
    /// was done with them.
    pub waited: Vec<String>,
    /// Tenants another provision process was changing; not verified.
    pub skipped: Vec<String>,
}

impl Outcome {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What a run covers besides the given tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The tenants and the shared schemas (a throwaway database is made).
    Everything,
    /// Only the tenants (what `tenant add` checks after creating one).
    TenantsOnly,
}

/// Verifies the given tenants, and the shared schemas unless told not to;
/// tenants another provision process is changing are skipped.
pub async fn run(
    client: &mut Client,
    target: &Target,
    config: &Config,
    tenants: &[Registered],
    scope: Scope,
) -> Result<Outcome> {
    run_with(client, target, config, tenants, scope, Busy::Skip).await
}

/// [`run`], saying what to do about tenants another process is changing.
pub async fn run_with(
    client: &mut Client,
    target: &Target,
    config: &Config,
    tenants: &[Registered],
    scope: Scope,
    busy: Busy,
) -> Result<Outcome> {
    let codes: Vec<TenantCode> = tenants.iter().map(|t| t.code.clone()).collect();
    run_codes(client, target, config, &codes, scope, busy).await
}

/// Verifies the tenants of `codes` as the registry has them once their
/// locks are held (inactive or removed ones are left out).
pub async fn run_codes(
    client: &mut Client,
    target: &Target,
    config: &Config,
    codes: &[TenantCode],
    scope: Scope,
    busy: Busy,
) -> Result<Outcome> {
    let started = std::time::Instant::now();
    // Three connections work at once (the structure check opens three more):
    // the server does most of the work, and it has more than one core. The
    // invariants' connection also holds the tenants' locks until it closes.
    let (mut invariant_side, shared_side) = tokio::try_join!(side_connection(target), side_connection(target))?;
    let shared_schemas = shared::schemas(&shared_side, config).await?;
    let shared = async {
        match scope {
            Scope::Everything => shared::compare(&shared_side, target, &config.templates_dir).await,
            Scope::TenantsOnly => Ok(Vec::new()),
        }
    };
    let tenant_checks = async {
        let held = busy::hold(&mut invariant_side, codes, busy).await?;
        // Loading the blueprints and comparing checksums is client work.
        let (blueprints, schema_tenants, row_tenants, mut findings) = {
            let (templates, tenants) = (config.templates_dir.clone(), held.tenants.clone());
            tokio::task::spawn_blocking(move || prepare(&templates, tenants)).await??
        };
        let specs = row::blueprints(&invariant_side, config, &row_tenants, &blueprints, scope).await?;
        let (structure, invariants, rows) = tokio::join!(
            fingerprint::compare(client, target, &schema_tenants, &blueprints),
            invariants::check(&invariant_side, &schema_tenants, &row_tenants, &blueprints, config, &shared_schemas),
            row::check(&invariant_side, &specs, &row_tenants, scope)
        );
        findings.extend(structure?);
        findings.extend(invariants?);
        findings.extend(rows?);
        let row_codes = row_tenants.iter().map(|t| t.code.as_str().to_owned()).collect();
        anyhow::Ok((held, row_codes, specs.into_keys().collect(), findings))
    };
    let (tenant_findings, shared) = tokio::join!(tenant_checks, shared);
    let (held, row_tenants, row_blueprints, mut findings) = tenant_findings?;
    findings.extend(shared?);
    Ok(Outcome {
        tenants: held.tenants.iter().map(|t| t.code.as_str().to_owned()).collect(),
        row_tenants,
        row_blueprints,
        findings,
        seconds: started.elapsed().as_secs_f64(),
        waited: held.waited,
        skipped: held.skipped,
    })
}

/// What [`prepare`] hands the checks: the tenants' blueprints, the schema
/// tenants, the row tenants (no schema of their own), the checksum findings.
type Prepared = (HashMap<String, Blueprint>, Vec<Registered>, Vec<Registered>, Vec<Finding>);

/// The tenants' blueprints, the tenants split by tenancy, and the schema
/// tenants' checksum findings (a row tenant has no history of its own).
fn prepare(templates: &std::path::Path, tenants: Vec<Registered>) -> Result<Prepared> {
    let mut blueprints: HashMap<String, Blueprint> = HashMap::new();
    for tenant in &tenants {
        if !blueprints.contains_key(&tenant.blueprint) {
            blueprints.insert(tenant.blueprint.clone(), Blueprint::load(templates, &tenant.blueprint)?);
        }
    }
    let (row_tenants, schema_tenants): (Vec<Registered>, Vec<Registered>) =
        tenants.into_iter().partition(|t| row::is_row_tenant(t, &blueprints));
    let mut findings = checksums(&schema_tenants, &blueprints)?;
    findings.extend(row::mismatched(&row_tenants, &blueprints));
    Ok((blueprints, schema_tenants, row_tenants, findings))
}

/// Keys missing from `found`, extra in it, or with another value; sorted
/// by key, so reports come in a stable order.
pub(crate) fn differences<K: Clone + Ord + std::hash::Hash, V: PartialEq>(
    expected: &HashMap<K, V>,
    found: &HashMap<K, V>,
) -> Vec<(Difference, K)> {
    let mut out = Vec::new();
    for (key, value) in expected {
        match found.get(key) {
            None => out.push((Difference::Missing, key.clone())),
            Some(other) if other != value => out.push((Difference::Changed, key.clone())),
            Some(_) => {}
        }
    }
    out.extend(found.keys().filter(|key| !expected.contains_key(*key)).map(|key| (Difference::Extra, key.clone())));
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Another connection to the same database, for work done in parallel.
/// JIT compilation is off: it costs more than it saves on catalog queries
/// planned once (about 120 ms on the invariants query).
async fn side_connection(target: &Target) -> Result<Client> {
    let client = context(target.connect().await, "cannot open another connection")?;
    client.batch_execute("SET jit = off").await?;
    Ok(client)
}

/// Applied versions whose template changed since (refinery checksums), and
/// versions a tenant has that its blueprint no longer has.
fn checksums(tenants: &[Registered], blueprints: &HashMap<String, Blueprint>) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for tenant in tenants {
        let blueprint = &blueprints[&tenant.blueprint];
        let identity = crate::model::blueprint::Identity { code: tenant.code.clone(), tenant_id: tenant.id };
        let migrations = blueprint.render(&identity)?;
        for applied in &tenant.applied {
            let (problem, expected) = match migrations.iter().find(|m| m.version() == applied.version) {
                None => (Difference::Missing, None),
                Some(m) if m.checksum() != applied.checksum => (Difference::Changed, Some(m.checksum().to_string())),
                Some(_) => continue,
            };
            findings.push(Finding {
                scope: tenant.code.as_str().to_owned(),
                check: Check::Checksums,
                problem: problem.as_str().to_owned(),
                kind: "applied version".to_owned(),
                object: format!("V{}", applied.version),
                expected,
                found: Some(applied.checksum.to_string()),
            });
        }
    }
    Ok(findings)
}

/// The reference tenant of one (blueprint, version) group.
pub(crate) fn reference_spec(blueprint: &str, index: usize) -> TenantSpec {
    let code = TenantCode::parse(&format!("provision_verify_ref{index}")).expect("a valid reference code");
    TenantSpec {
        id: crate::model::config::derived_tenant_id(&code),
        code,
        name: "provision verify reference".to_owned(),
        tenant_type: blueprint.to_owned(),
        attributes: Default::default(),
        blueprint: blueprint.to_owned(),
        partitions: Default::default(),
    }
}

/// Groups tenants by what their reference looks like.
pub(crate) fn groups(tenants: &[Registered]) -> BTreeMap<(String, i32), Vec<&Registered>> {
    let mut groups: BTreeMap<(String, i32), Vec<&Registered>> = BTreeMap::new();
    for tenant in tenants {
        groups.entry((tenant.blueprint.clone(), tenant.version())).or_default().push(tenant);
    }
    groups
}

pub(crate) fn context<T>(result: Result<T>, what: &str) -> Result<T> {
    result.with_context(|| format!("verify: {what}"))
}

/// The active registered tenants among `wanted` (all of them when `wanted`
/// is empty), without reading their histories: verify reads those once it
/// holds the tenants' locks. A wanted code that is not registered is bad
/// input (exit 2).
pub async fn active_codes(client: &Client, wanted: &[TenantCode]) -> Result<Vec<TenantCode>> {
    if !crate::store::registry::exists(client).await? {
        return match wanted.first() {
            Some(missing) => Err(crate::store::registry::not_registered(missing)),
            None => Ok(Vec::new()),
        };
    }
    let rows = client.query(include_str!("../sql/verify_registered.sql"), &[]).await?;
    let all: Vec<(TenantCode, bool)> =
        rows.iter().map(|r| Ok((TenantCode::parse(r.get(0))?, r.get(1)))).collect::<Result<_>>()?;
    if let Some(missing) = wanted.iter().find(|c| !all.iter().any(|(code, _)| code == *c)) {
        return Err(crate::store::registry::not_registered(missing));
    }
    let chosen = |(code, active): &(TenantCode, bool)| *active && (wanted.is_empty() || wanted.contains(code));
    Ok(all.into_iter().filter(chosen).map(|(code, _)| code).collect())
}

/// How a command that changed the database hears about the verification it
/// ends with ([`after_changes`]): the outcome, before the command reports.
pub trait VerifyReporter: crate::report::Reporter {
    fn verified(&self, _outcome: &Outcome) {}
}

/// The check `up`, `tenant add` and `db create` end with: every active tenant
/// (only `only`, without the shared schemas, when given), waiting up to
/// `lock_timeout` for any tenant another process is changing.
pub async fn after_changes(
    reporter: &dyn VerifyReporter,
    client: &mut Client,
    target: &Target,
    config: &Config,
    only: Option<&TenantCode>,
    lock_timeout: std::time::Duration,
) -> Result<Outcome> {
    let mut codes = active_codes(client, &[]).await?;
    codes.retain(|code| only.is_none_or(|only| only == code));
    let scope = if only.is_some() { Scope::TenantsOnly } else { Scope::Everything };
    // These commands ran alongside whatever else changes the database: the
    // honest answer about a tenant being changed is the one after it.
    let outcome = run_codes(client, target, config, &codes, scope, Busy::Wait(lock_timeout)).await?;
    reporter.verified(&outcome);
    Ok(outcome)
}
