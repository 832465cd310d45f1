//! The shared (cluster-wide) migrations: extensions, `shared`, `audit`.
//!
//! They are compiled into the binary, so a given `provision` always knows the
//! exact shared schema it expects.

use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use crate::report::Reporter;
use crate::store::lock::{self, Mode, Resource};
use crate::store::migrate::{self, parse_applied, Plan};

/// Reads what the database has applied and what this binary would add.
pub async fn plan(client: &Client) -> Result<Plan> {
    let row = client.query_opt(include_str!("sql/shared_history.sql"), &[]).await?;
    let applied = parse_applied(row.as_ref().and_then(|r| r.get::<_, Option<&str>>(0)));
    Ok(Plan::new(&migrate::shared_migrations(), &applied))
}

/// Applies pending shared migrations in one transaction under the exclusive
/// shared lock. Returns the names applied (empty when already current).
pub async fn apply(client: &mut Client, lock_timeout: Duration, reporter: &dyn Reporter) -> Result<Vec<String>> {
    let plan = plan(client).await?;
    if plan.pending.is_empty() && plan.edited.is_empty() {
        return Ok(Vec::new());
    }
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, lock_timeout).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Exclusive, reporter).await?;
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", migrate::HISTORY_SCHEMA)).await?;
    let applied = migrate::apply(&tx, &migrate::shared_migrations(), &migrate::shared_history_table())
        .await
        .context("shared migrations failed; nothing was applied")?;
    tx.commit().await?;
    Ok(applied.iter().map(ToString::to_string).collect())
}
