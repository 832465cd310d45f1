//! Advisory locks, because refinery takes none.
//!
//! Shared migrations take `provision:shared` exclusively; every tenant
//! operation takes it in shared mode plus `provision:tenant:<code>`
//! exclusively. So two processes never apply the same step twice, different
//! tenants proceed in parallel, and shared migrations never run underneath a
//! tenant being built. All locks are transaction-scoped: they vanish with the
//! transaction, even when the process is killed.

use std::time::Duration;

use anyhow::Result;
use tokio_postgres::error::SqlState;
use tokio_postgres::Transaction;

use crate::error::unavailable;
use crate::output::Printer;
use crate::tenant::TenantCode;

/// What a lock protects; names the key and the message a waiter prints.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Shared,
    Tenant(&'a TenantCode),
}

impl Resource<'_> {
    fn key(&self) -> String {
        match self {
            Resource::Shared => "provision:shared".to_owned(),
            Resource::Tenant(code) => format!("provision:tenant:{code}"),
        }
    }

    fn describe(&self) -> String {
        match self {
            Resource::Shared => "the shared migrations".to_owned(),
            Resource::Tenant(code) => format!("tenant {code}"),
        }
    }
}

/// Lock mode: exclusive for writers of a resource, shared for readers of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Exclusive,
    Shared,
}

/// Bounds every lock wait of `tx` (advisory and DDL locks alike).
pub async fn set_lock_timeout(tx: &Transaction<'_>, timeout: Duration) -> Result<()> {
    // SET LOCAL takes no parameters; the value is a number we formatted.
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{}ms'", timeout.as_millis())).await?;
    Ok(())
}

/// Takes the lock for the rest of `tx`. If another process holds it, says
/// what it waits for and waits up to the transaction's lock_timeout; a
/// timeout becomes exit code 3 naming the resource.
pub async fn acquire(tx: &Transaction<'_>, resource: Resource<'_>, mode: Mode, printer: &Printer) -> Result<()> {
    let key = resource.key();
    let shared = mode == Mode::Shared;
    let acquired: bool = tx.query_one(include_str!("sql/lock_try.sql"), &[&key, &shared]).await?.get(0);
    if acquired {
        return Ok(());
    }
    printer.note(format!("waiting for {}: another provision process holds its lock", resource.describe()));
    match tx.query_one(include_str!("sql/lock_wait.sql"), &[&key, &shared]).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(unavailable(format!(
            "timed out waiting for the lock on {} (another provision process is still working on it); retry later or raise --lock-timeout",
            resource.describe()
        ))),
        Err(e) => Err(anyhow::Error::new(e).context(format!("waiting for the lock on {}", resource.describe()))),
    }
}
