//! The session side of a rollover: bounds on every statement and on
//! `--now`, the tenant's advisory lock held across the tenant's many short
//! transactions, and the one-line error a lock timeout becomes.

use std::time::Duration;

use anyhow::Result;
use tokio_postgres::Client;

use super::Options;
use crate::error::{bad_input, unavailable};
use crate::model::tenant::TenantCode;

/// Every statement of the session ends after `statement_timeout`; a
/// transaction left idle by a stuck client ends too; and the server checks
/// every second, during a long query or lock wait, that the client is still
/// there, so a killed client never leaves its query running.
pub async fn bound_session(client: &Client, statement_timeout: Duration) -> Result<()> {
    let ms = statement_timeout.as_millis().max(1);
    client
        .batch_execute(&format!(
            "SET statement_timeout = '{ms}ms'; SET idle_in_transaction_session_timeout = '{ms}ms'; \
             SET client_connection_check_interval = '1s'"
        ))
        .await?;
    Ok(())
}

/// Where `--now` may lie, on the server's clock (`rollover_now.sql`).
pub struct NowBounds {
    pub server_now: String,
    pub earliest: String,
    pub latest: String,
}

/// Refuses (exit 2, naming the bound) a `--now` before today or more than
/// two years ahead of the server's clock. An unparsable value surfaces as
/// the database's data exception, for the caller to word.
pub async fn check_now(client: &Client, now: &str) -> Result<NowBounds> {
    let row = client.query_one(include_str!("../sql/rollover_now.sql"), &[&now]).await?;
    let bounds =
        NowBounds { server_now: row.get("server_now"), earliest: row.get("earliest"), latest: row.get("latest") };
    if row.get::<_, bool>("too_early") {
        return Err(bad_input(format!(
            "--now {now:?} is before the server's clock ({}): rollover never works in the past, where it could only \
             create partitions older than the retained window; give a --now from {} to {}",
            bounds.server_now, bounds.earliest, bounds.latest
        )));
    }
    if row.get::<_, bool>("too_late") {
        return Err(bad_input(format!(
            "--now {now:?} is more than 2 years after the server's clock ({}); give a --now from {} to {}",
            bounds.server_now, bounds.earliest, bounds.latest
        )));
    }
    Ok(bounds)
}

/// How the tenant's lock was had.
pub enum Locked {
    /// Held elsewhere, and we do not wait.
    Busy,
    AtOnce,
    /// We waited for another run, which may have done part of the work.
    AfterWait,
}

/// Takes the shared provision lock and the tenant's lock at session level,
/// so they cover all of the tenant's transactions (the same keys `tenant
/// add`/`upgrade` take per transaction). Without `--wait` a held lock means
/// [`Locked::Busy`]; with it, waits up to the patience, then exit 3.
pub async fn lock_tenant(client: &Client, code: &str, options: &Options) -> Result<Locked> {
    let tenant = TenantCode::parse(code)?;
    if crate::store::lock::session_try_tenant(client, &tenant).await? {
        return Ok(Locked::AtOnce);
    }
    unlock_tenant(client).await;
    let Some(patience) = options.wait else { return Ok(Locked::Busy) };
    let statement = (patience + options.statement_timeout).as_millis();
    client
        .batch_execute(&format!(
            "SET lock_timeout = '{}ms'; SET statement_timeout = '{statement}ms'",
            patience.as_millis().max(1)
        ))
        .await?;
    let waited = crate::store::lock::session_take_tenant(client, &tenant).await;
    let restore = format!("RESET lock_timeout; SET statement_timeout = '{}ms'", options.statement_timeout.as_millis());
    client.batch_execute(&restore).await?;
    match waited {
        Ok(_) => Ok(Locked::AfterWait),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            unlock_tenant(client).await;
            Err(unavailable(format!(
                "tenant {code}: another provision process held its lock for more than --lock-timeout ({} s); \
                 nothing of {code} was rolled over, run again later",
                patience.as_secs_f64()
            )))
        }
        Err(e) => {
            unlock_tenant(client).await;
            Err(e.into())
        }
    }
}

/// Whether the parents of the partitions `actions` create still have the
/// owner, RLS flags and policies the plan copied (asked once the tenant is
/// locked, so no migration of the tenant can change them afterwards).
pub async fn security_unchanged(client: &Client, actions: &[super::Action]) -> Result<bool> {
    let mut parents: Vec<&str> = Vec::new();
    let mut planned: Vec<&str> = Vec::new();
    for action in actions.iter().filter(|a| a.creates()) {
        if !parents.contains(&action.parent.as_str()) {
            parents.push(&action.parent);
            planned.push(&action.security);
        }
    }
    if parents.is_empty() {
        return Ok(true);
    }
    let row = client.query_one(include_str!("../sql/rollover_security.sql"), &[&parents, &planned]).await?;
    Ok(row.get("unchanged"))
}

/// Releases every session-level advisory lock of this connection (it holds
/// only the tenant's). Best effort: a broken connection released them.
pub async fn unlock_tenant(client: &Client) {
    let _ = client.batch_execute("SELECT pg_advisory_unlock_all()").await;
}

/// The error of a tenant whose tables stayed locked through every retry:
/// one line, naming the tenant and the tables (exit 3).
pub fn lock_timeout(code: &str, tables: &[&str], work: &str, options: &Options) -> anyhow::Error {
    unavailable(format!(
        "tenant {code}: {} stayed locked by other sessions longer than --ddl-timeout ({} s), {} retries \
         (first blocked: {work}); its other work is done, run again later",
        tables.join(", "),
        options.ddl_timeout.as_secs_f64(),
        options.retries
    ))
}
