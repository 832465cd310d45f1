//! Health checks of what `provision up` would still do: pending shared
//! versions, tenants behind their blueprints (or declared and not created),
//! and verify's verdict on what exists.

use anyhow::Result;
use tokio_postgres::Client;

use super::{Check, Status};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::ops::verify::{self, Scope};
use crate::pg::connection::Target;
use crate::store::{registry, shared};

/// provision's own migrations and each blueprint's shared part.
pub async fn shared(client: &Client, in_use: &[Blueprint]) -> Result<Check> {
    let plan = shared::plan(client, &crate::ops::shared_parts::parts(in_use)).await?;
    let mut pending: Vec<String> = plan.core.pending.iter().map(|m| format!("core {m}")).collect();
    for (blueprint, part) in &plan.blueprints {
        pending.extend(part.pending.iter().map(|m| format!("{blueprint} {m}")));
    }
    if pending.is_empty() {
        return Ok(Check::ok("shared versions", format!("shared version {}, nothing pending", plan.core.current)));
    }
    Ok(Check::problem(
        "shared versions",
        Status::Fail,
        format!("{} pending", crate::report::count(pending.len(), "shared version")),
        "run `provision up` (or `provision migrate`)",
    )
    .naming(pending))
}

/// Every active tenant at its blueprint's last version, and every tenant of
/// tenants.toml created.
pub async fn tenants(client: &Client, config: &Config) -> Result<Check> {
    let registered = registry::snapshot(client, None).await?;
    let mut behind = Vec::new();
    for tenant in registered.iter().filter(|t| t.is_active()) {
        if let Some(problem) = tenant_problem(tenant, config) {
            behind.push(format!("{}: {problem}", tenant.code));
        }
    }
    for spec in config.tenants.iter().filter(|s| !registered.iter().any(|t| t.code == s.code)) {
        behind.push(format!("{}: declared in tenants.toml, not created", spec.code));
    }
    let active = registered.iter().filter(|t| t.is_active()).count();
    if behind.is_empty() {
        return Ok(Check::ok(
            "tenant versions",
            format!("{}, each at its blueprint's last version", crate::report::count(active, "active tenant")),
        ));
    }
    let edited = behind.iter().any(|b| b.contains("edited since"));
    let action = match edited {
        true => {
            "restore each edited version's file (or accept it with `provision tenant repair`), then run `provision up`"
        }
        false => "run `provision up`",
    };
    // The active tenants plus the declared ones not created yet (both may be behind).
    let not_created = config.tenants.iter().filter(|s| !registered.iter().any(|t| t.code == s.code)).count();
    let (n, total) = (behind.len(), active + not_created);
    let summary = format!(
        "{} {} behind tenants.toml or their blueprints",
        crate::report::count_of(n, total, "tenant"),
        crate::report::is_are(n)
    );
    Ok(Check::problem("tenant versions", Status::Fail, summary, action).naming(behind))
}

/// Why one registered tenant is not where its blueprint is, if it is not:
/// `status`'s own answer, so the two commands never disagree.
fn tenant_problem(tenant: &registry::Registered, config: &Config) -> Option<String> {
    let status = crate::ops::status::tenant_status(tenant.clone(), config);
    if status.problem.is_some() {
        return status.problem;
    }
    let pending = &status.pending;
    (!pending.is_empty()).then(|| format!("{} pending ({})", pending.len(), pending.join(", ")))
}

/// `provision verify` over the whole database, summed up.
pub async fn verify(client: &mut Client, target: &Target, config: &Config) -> Result<Check> {
    let tenants: Vec<registry::Registered> =
        registry::snapshot(&*client, None).await?.into_iter().filter(|t| t.is_active()).collect();
    let outcome = verify::run(client, target, config, &tenants, Scope::Everything).await?;
    let summary = verify::report::summary(&outcome);
    if outcome.is_clean() {
        return Ok(Check::ok("verify", summary));
    }
    let named =
        outcome.findings.iter().map(|f| format!("{}: {} {} {}", f.scope, f.kind, f.object, f.problem)).collect();
    let action = "run `provision verify` for what each object should be and put it back so (verify names it; `up` \
                  does not rebuild drifted objects)";
    Ok(Check::problem("verify", Status::Fail, summary, action).naming(named))
}
