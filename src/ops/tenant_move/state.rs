//! How far a move got, recorded on the source in `shared.tenant_moves`
//! (core V19), and where a tenant is: a move spans two servers and several
//! transactions, and a re-run after a kill must know which server is the
//! source and which steps are done.

use anyhow::Result;
use tokio_postgres::GenericClient;

use crate::model::tenant::TenantCode;

/// The steps of a move, in order. Each is recorded once it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Started,
    /// The target copy exists, empty, registered `moving`.
    Provisioned,
    Published,
    Subscribed,
    CaughtUp,
    /// The registries are switched: the target serves the tenant.
    Switched,
    /// Subscription and publication are gone.
    Cleaned,
    Done,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Started => "started",
            Step::Provisioned => "provisioned",
            Step::Published => "published",
            Step::Subscribed => "subscribed",
            Step::CaughtUp => "caught_up",
            Step::Switched => "switched",
            Step::Cleaned => "cleaned",
            Step::Done => "done",
        }
    }

    fn parse(text: &str) -> Option<Step> {
        [
            Step::Started,
            Step::Provisioned,
            Step::Published,
            Step::Subscribed,
            Step::CaughtUp,
            Step::Switched,
            Step::Cleaned,
            Step::Done,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// An unfinished move recorded on the source.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub target_server: String,
    pub offline: bool,
    pub step: Step,
}

/// The unfinished move of `code` away from this database, if any.
pub async fn read(client: &impl GenericClient, code: &TenantCode) -> Result<Option<Recorded>> {
    if !table_exists(client).await? {
        return Ok(None);
    }
    let row = client.query_opt(include_str!("sql/state_read.sql"), &[&code.as_str()]).await?;
    Ok(row.map(|row| Recorded {
        target_server: row.get(0),
        offline: row.get(1),
        step: Step::parse(row.get(2)).unwrap_or(Step::Started),
    }))
}

async fn table_exists(client: &impl GenericClient) -> Result<bool> {
    let row = client.query_one("SELECT to_regclass('shared.tenant_moves') IS NOT NULL", &[]).await?;
    Ok(row.get(0))
}

/// Records a new move (replacing a finished earlier one's row).
pub async fn begin(client: &impl GenericClient, code: &TenantCode, to: &str, offline: bool) -> Result<()> {
    let name = super::replicate::object_name(code);
    client.execute(include_str!("sql/state_begin.sql"), &[&code.as_str(), &to, &offline, &name, &name]).await?;
    Ok(())
}

pub async fn set(client: &impl GenericClient, code: &TenantCode, step: Step) -> Result<()> {
    client.execute(include_str!("sql/state_step.sql"), &[&code.as_str(), &step.as_str()]).await?;
    Ok(())
}

pub async fn finish(client: &impl GenericClient, code: &TenantCode) -> Result<()> {
    client.execute(include_str!("sql/state_finish.sql"), &[&code.as_str()]).await?;
    Ok(())
}

/// An aborted move leaves no row.
pub async fn forget(client: &impl GenericClient, code: &TenantCode) -> Result<()> {
    if table_exists(client).await? {
        client.execute(include_str!("sql/state_forget.sql"), &[&code.as_str()]).await?;
    }
    Ok(())
}

/// `code`'s registry status on this server (`None`: not registered, or no registry yet).
pub async fn status(client: &impl GenericClient, code: &TenantCode) -> Result<Option<String>> {
    if !crate::store::registry::exists(client).await? {
        return Ok(None);
    }
    let row = client.query_opt(include_str!("sql/registry_status.sql"), &[&code.as_str()]).await?;
    Ok(row.map(|r| r.get(0)))
}

/// Moves `code`'s registry entry from status `from` to `to`; whether it did.
pub async fn set_status(client: &impl GenericClient, code: &TenantCode, from: &str, to: &str) -> Result<bool> {
    let changed = client.execute(include_str!("sql/registry_set_status.sql"), &[&code.as_str(), &from, &to]).await?;
    Ok(changed == 1)
}
