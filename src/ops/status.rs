//! `provision status` as a use case: where the shared migrations and every
//! registered tenant stand against their blueprints, which declared tenants
//! are not created yet, and `verify`'s verdict. Reads only. The report also
//! answers `status --check` ([`Status::check_failures`]): what `up` would
//! still do, or what verify found drifted.

use anyhow::Result;
use tokio_postgres::Client;

use crate::model::blueprint::{Blueprint, Identity, Origin};
use crate::model::config::Config;
use crate::pg::connection::Target;
use crate::store::migrate::{shared_migrations, Plan};
use crate::store::registry::{self, Registered};
use crate::store::shared::{self, SharedPlan};

/// Everything `status` says.
pub struct Status {
    pub shared: SharedPlan,
    /// The newest core (shared) version this build knows.
    pub latest: i32,
    pub tenants: Vec<TenantStatus>,
    /// Codes in tenants.toml that are not registered yet.
    pub declared_not_created: Vec<String>,
    pub verified: Verified,
}

/// One registered tenant against its blueprint.
pub struct TenantStatus {
    pub tenant: Registered,
    /// Where its blueprint was loaded from (`None`: it does not load).
    pub origin: Option<Origin>,
    pub pending: Vec<String>,
    /// Why its versions cannot be planned, or its schema is missing.
    pub problem: Option<String>,
    /// Applied versions edited since they ran: (name, version).
    pub edited: Vec<(String, i32)>,
    /// What changed in each of them (filled by [`status`]).
    pub diffs: Vec<crate::ops::template_diff::VersionDiff>,
}

/// `verify`'s verdict as status reports it (status itself does not fail on it).
pub enum Verified {
    /// No registry yet: nothing was provisioned.
    NothingYet,
    Ran(crate::ops::verify::Outcome),
    CouldNotRun(String),
}

/// Reads where everything stands, then runs `verify` over every active tenant.
pub async fn status(client: &mut Client, target: &Target, config: &Config) -> Result<Status> {
    let in_use = crate::ops::shared_parts::in_use(&*client, config).await?;
    let shared = shared::plan(&*client, &crate::ops::shared_parts::parts(&in_use)).await?;
    let latest = shared_migrations().last().map_or(0, |m| m.version());
    let registered = registry::snapshot(&*client, None).await?;
    let declared_not_created = config
        .tenants
        .iter()
        .filter(|s| !registered.iter().any(|t| t.code == s.code))
        .map(|s| s.code.as_str().to_owned())
        .collect();
    let verified = verify(client, target, config, &registered).await;
    let mut tenants: Vec<TenantStatus> = registered.into_iter().map(|t| tenant_status(t, config)).collect();
    for status in tenants.iter_mut().filter(|t| !t.edited.is_empty()) {
        if let Ok(blueprint) = Blueprint::load(&config.templates_dir, &status.tenant.blueprint) {
            status.diffs =
                crate::ops::template_diff::edited(&*client, &status.tenant, &blueprint, &status.edited).await?;
        }
    }
    Ok(Status { shared, latest, tenants, declared_not_created, verified })
}

async fn verify(client: &mut Client, target: &Target, config: &Config, tenants: &[Registered]) -> Verified {
    if !registry::exists(&*client).await.unwrap_or(false) {
        return Verified::NothingYet;
    }
    let active: Vec<Registered> = tenants.iter().filter(|t| t.is_active()).cloned().collect();
    match crate::ops::verify::run(client, target, config, &active, crate::ops::verify::Scope::Everything).await {
        Ok(outcome) => Verified::Ran(outcome),
        Err(e) => Verified::CouldNotRun(format!("{e:#}")),
    }
}

/// Where one registered tenant stands against its blueprint (also `health`'s
/// tenant check).
pub(crate) fn tenant_status(tenant: Registered, config: &Config) -> TenantStatus {
    let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)
        .map_err(|e| anyhow::anyhow!("blueprint {} cannot be read: {e:#}", tenant.blueprint));
    let origin = blueprint.as_ref().ok().map(|bp| bp.origin.clone());
    let plan = blueprint
        .and_then(|bp| bp.render(&Identity { code: tenant.code.clone(), tenant_id: tenant.id }))
        .map(|migrations| Plan::new(&migrations, &tenant.applied));
    let (pending, problem) = match &plan {
        Ok(plan) if !plan.edited.is_empty() => {
            let names: Vec<&str> = plan.edited.iter().map(|(n, _)| n.as_str()).collect();
            (Vec::new(), Some(format!("applied versions edited since they ran: {}", names.join(", "))))
        }
        Ok(plan) => (plan.pending.iter().map(ToString::to_string).collect(), None),
        Err(e) => (Vec::new(), Some(format!("{e:#}"))),
    };
    let problem = problem.or_else(|| {
        (!tenant.schema_exists && !tenant.row).then(|| format!("schema {} is missing", tenant.schema_name))
    });
    let edited = plan.map(|p| p.edited).unwrap_or_default();
    TenantStatus { tenant, origin, pending, problem, edited, diffs: Vec::new() }
}

impl Status {
    /// Why `status --check` fails: each thing pending or drifted, in the
    /// order status lists them (empty: everything is current and clean).
    /// Inactive tenants are not `up`'s to change, so only active ones count.
    pub fn check_failures(&self) -> Vec<String> {
        let mut why = Vec::new();
        let shared_pending = self.shared.core.pending.len()
            + self.shared.blueprints.iter().map(|(_, plan)| plan.pending.len()).sum::<usize>();
        if shared_pending > 0 {
            why.push(format!("{shared_pending} shared versions pending"));
        }
        if self.shared.rerecorded > 0 {
            why.push(format!("{} shared versions to re-record", self.shared.rerecorded));
        }
        let active = || self.tenants.iter().filter(|t| t.tenant.is_active());
        let behind: Vec<&str> = active().filter(|t| !t.pending.is_empty()).map(|t| t.tenant.code.as_str()).collect();
        if !behind.is_empty() {
            why.push(format!("tenants with pending versions: {}", behind.join(", ")));
        }
        for t in active().filter(|t| t.problem.is_some()) {
            why.push(format!("tenant {}: {}", t.tenant.code, t.problem.as_deref().unwrap_or_default()));
        }
        if !self.declared_not_created.is_empty() {
            why.push(format!("not created yet: {}", self.declared_not_created.join(", ")));
        }
        match &self.verified {
            Verified::Ran(outcome) if !outcome.is_clean() => why.push(crate::ops::verify::report::summary(outcome)),
            // A tenant left out must never pass for a verified one.
            Verified::Ran(outcome) if !outcome.skipped.is_empty() => {
                why.push(format!("not verified (being changed): {}", outcome.skipped.join(", ")))
            }
            Verified::CouldNotRun(error) => why.push(format!("verify could not run ({error})")),
            _ => {}
        }
        why
    }
}
