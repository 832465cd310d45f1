//! `provision health`: is this database fit to serve, and if not, what to do.
//! The checks of seed 004's `/api/health/db`, grown to what running a
//! multi-tenant database needs: the server answers and how fast, the settings
//! that matter (the shared lock table against what a tenant locks, pgaudit),
//! pending shared and tenant versions, verify's verdict, partitions due,
//! sessions stuck waiting on locks, and dead tuples in the system catalog.
//! Reads only. Returns a typed report; the command line decides how it looks.

mod activity;
mod server;
mod versions;

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::model::config::Config;
use crate::pg::connection::Target;

/// How bad one check's finding is. Only `Fail` makes the database unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One check: what it found, what to do about it, and the things it names.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub summary: String,
    /// What to do; present whenever the status is not `Ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The objects, tenants or sessions the finding is about.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

impl Check {
    fn ok(name: &'static str, summary: impl Into<String>) -> Check {
        Check { name, status: Status::Ok, summary: summary.into(), action: None, items: Vec::new() }
    }

    fn problem(name: &'static str, status: Status, summary: impl Into<String>, action: impl Into<String>) -> Check {
        Check { name, status, summary: summary.into(), action: Some(action.into()), items: Vec::new() }
    }

    fn naming(mut self, items: Vec<String>) -> Check {
        self.items = items;
        self
    }
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub database: String,
    pub healthy: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failed(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail).collect()
    }
}

/// What the caller may tune.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// A session waiting on a lock longer than this is a finding.
    pub lock_wait_threshold: Duration,
}

/// Runs every check on `client` (connected to `target`). A check that cannot
/// run (a permission, a blueprint that does not load) fails by itself with
/// the reason, so the others still report; only a database that cannot be
/// reached at all is an error.
pub async fn run(client: &mut Client, target: &Target, config: &Config, options: Options) -> Result<Report> {
    let mut checks = vec![server::round_trip(client).await?];
    let settings = server::Settings::read(client).await?;
    checks.push(server::version(&settings));
    let provisioned = crate::store::registry::exists(&*client).await?;
    let in_use = match provisioned {
        true => crate::ops::shared_parts::in_use(&*client, config).await,
        false => Ok(Vec::new()),
    };
    checks.push(guard("lock capacity", server::lock_capacity(client, &settings, provisioned).await));
    checks.push(server::pgaudit(&settings, in_use.as_deref().unwrap_or_default()));
    if provisioned {
        let shared = match &in_use {
            Ok(in_use) => versions::shared(client, in_use).await,
            Err(e) => Err(anyhow::anyhow!("{e:#}")),
        };
        checks.push(guard("shared versions", shared));
        checks.push(guard("tenant versions", versions::tenants(client, config).await));
        checks.push(guard("verify", versions::verify(client, target, config).await));
        checks.push(guard("partitions", activity::partitions(client, config).await));
    } else {
        checks.push(Check::problem(
            "tenant versions",
            Status::Fail,
            "not provisioned: provision's registry (shared.tenants) is missing",
            "run `provision up`",
        ));
    }
    checks.push(guard("lock waits", activity::lock_waits(client, options.lock_wait_threshold).await));
    checks.push(guard("catalog bloat", activity::catalog_bloat(client).await));
    let healthy = checks.iter().all(|c| c.status != Status::Fail);
    Ok(Report { database: target.describe(), healthy, checks })
}

/// The check, or a failed one named `name` saying why it could not run.
fn guard(name: &'static str, result: Result<Check>) -> Check {
    result.unwrap_or_else(|e| {
        Check::problem(
            name,
            Status::Fail,
            format!("could not check: {e:#}"),
            "fix the cause above (permissions: run health as the role that runs `provision up`), then run health again",
        )
    })
}
