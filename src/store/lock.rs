//! Advisory locks, because refinery takes none.
//!
//! Shared migrations take `provision:shared` exclusively; every tenant
//! operation takes it in shared mode plus `provision:tenant:<code>`
//! exclusively. So two processes never apply the same step twice, different
//! tenants proceed in parallel, and shared migrations never run underneath a
//! tenant being built. These locks are transaction-scoped: they vanish with the
//! transaction, even when the process is killed.
//!
//! Work on one tenant that spans several transactions (creating a tenant,
//! an upgrade, …) also holds the tenant's lock at session level from start to
//! end ([`while_held`]), so nobody sees the tenant between two of them; and
//! `verify` holds the locks of the tenants it checks in shared mode
//! ([`try_shared`], [`wait_shared`]) so none changes underneath it. Session
//! locks vanish with the connection, so a killed process leaves none behind.
//!
//! This module is the one owner of the keys: every name is made by
//! [`Resource::key`], and the SQL that turns a name into an advisory-lock
//! key (`hashtextextended(name, 0)`) is only in `store/sql/lock_*.sql`, which
//! take the name as a parameter. Callers elsewhere go through the functions
//! here.

use std::time::Duration;

use anyhow::Result;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Transaction};

use crate::error::unavailable;
use crate::model::tenant::TenantCode;
use crate::report::Reporter;

/// What a lock protects; names the key and the message a waiter prints.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Shared,
    Tenant(&'a TenantCode),
    /// A template database (`db create`), by the hash of its contents.
    Template(&'a str),
}

impl Resource<'_> {
    fn key(&self) -> String {
        match self {
            Resource::Shared => "provision:shared".to_owned(),
            Resource::Tenant(code) => format!("provision:tenant:{code}"),
            Resource::Template(hash) => format!("provision:template:{hash}"),
        }
    }

    fn describe(&self) -> String {
        match self {
            Resource::Shared => "the shared migrations".to_owned(),
            Resource::Tenant(code) => format!("tenant {code}"),
            Resource::Template(hash) => format!("template database {hash}"),
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
pub async fn acquire(tx: &Transaction<'_>, resource: Resource<'_>, mode: Mode, reporter: &dyn Reporter) -> Result<()> {
    let key = resource.key();
    let shared = mode == Mode::Shared;
    let acquired: bool = tx.query_one(include_str!("sql/lock_try.sql"), &[&key, &shared]).await?.get(0);
    if acquired {
        return Ok(());
    }
    reporter.note(&format!("waiting for {}: another provision process holds its lock", resource.describe()));
    match tx.query_one(include_str!("sql/lock_wait.sql"), &[&key, &shared]).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(unavailable(format!(
            "timed out waiting for the lock on {} (another provision process is still working on it); retry later or raise --lock-timeout",
            resource.describe()
        ))),
        Err(e) => Err(anyhow::Error::new(e).context(format!("waiting for the lock on {}", resource.describe()))),
    }
}

/// What [`set_lock_timeout`] and [`acquire`] of the shared lock (shared
/// mode) and then `code`'s (exclusive) do, in one round trip when both are
/// free: the timeout and one query trying both are sent together. When one
/// is held, falls back to [`acquire`] of each, which says what it waits for.
pub async fn acquire_tenant(
    tx: &Transaction<'_>,
    code: &TenantCode,
    timeout: Duration,
    reporter: &dyn Reporter,
) -> Result<()> {
    let (shared, tenant) = (shared_key(), tenant_key(code));
    let bound = format!("SET LOCAL lock_timeout = '{}ms'", timeout.as_millis());
    let params: [(&(dyn ToSql + Sync), Type); 2] = [(&shared, Type::TEXT), (&tenant, Type::TEXT)];
    let both = async { tx.query_typed_one(include_str!("sql/lock_try_tenant_xact.sql"), &params).await };
    let ((), row) = tokio::try_join!(tx.batch_execute(&bound), both)?;
    if row.get::<_, bool>(0) {
        return Ok(());
    }
    acquire(tx, Resource::Shared, Mode::Shared, reporter).await?;
    acquire(tx, Resource::Tenant(code), Mode::Exclusive, reporter).await
}

/// Runs `work` holding `resource` exclusively for the session of `client`,
/// across all the transactions `work` commits. Waits as [`acquire`] does
/// (same message, same exit code 3 on timeout). The transaction-scoped
/// locks `work` takes on the same resource succeed at once: the session
/// holds it already.
pub async fn while_held<T>(
    client: &mut Client,
    resource: Resource<'_>,
    timeout: Duration,
    reporter: &dyn Reporter,
    work: impl AsyncFnOnce(&mut Client) -> Result<T>,
) -> Result<T> {
    let key = resource.key();
    let acquired: bool = client.query_one(include_str!("sql/lock_session_try.sql"), &[&key]).await?.get(0);
    if !acquired {
        reporter.note(&format!("waiting for {}: another provision process holds its lock", resource.describe()));
        let tx = client.transaction().await?;
        set_lock_timeout(&tx, timeout).await?;
        match tx.query_one(include_str!("sql/lock_session_wait.sql"), &[&key]).await {
            Ok(_) => tx.commit().await?,
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => return Err(timed_out(resource)),
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("waiting for the lock on {}", resource.describe())))
            }
        }
    }
    let result = work(&mut *client).await;
    // A broken connection has released it already.
    let _ = client.query_one(include_str!("sql/lock_session_release.sql"), &[&key]).await;
    result
}

fn timed_out(resource: Resource<'_>) -> anyhow::Error {
    unavailable(format!(
        "timed out waiting for the lock on {} (another provision process is still working on it); retry later or raise --lock-timeout",
        resource.describe()
    ))
}

/// The name of a tenant's lock, as [`try_shared`] and [`wait_shared`] take it.
pub fn tenant_key(code: &TenantCode) -> String {
    Resource::Tenant(code).key()
}

/// The name of the shared lock, for callers that take it by name.
pub fn shared_key() -> String {
    Resource::Shared.key()
}

/// The name of a template database's lock.
pub fn template_key(hash: &str) -> String {
    Resource::Template(hash).key()
}

/// Takes the session-level lock named `key` in `mode` if it is free.
pub async fn session_try(client: &Client, key: &str, mode: Mode) -> Result<bool> {
    let shared = mode == Mode::Shared;
    Ok(client.query_one(include_str!("sql/lock_session_try_mode.sql"), &[&key, &shared]).await?.get(0))
}

/// Waits for the session-level lock named `key` in `mode`, up to the
/// session's lock_timeout (the error's code tells a timeout).
pub async fn session_wait(client: &Client, key: &str, mode: Mode) -> Result<(), tokio_postgres::Error> {
    let shared = mode == Mode::Shared;
    client.query_one(include_str!("sql/lock_session_wait_mode.sql"), &[&key, &shared]).await.map(drop)
}

/// Releases one hold of the session-level lock named `key` in `mode`.
pub async fn session_release(client: &Client, key: &str, mode: Mode) -> Result<()> {
    let shared = mode == Mode::Shared;
    client.query_one(include_str!("sql/lock_session_release_mode.sql"), &[&key, &shared]).await?;
    Ok(())
}

/// For work on a tenant outside any transaction: the shared lock in shared
/// mode and the tenant's exclusively, at session level, waiting up to the
/// session's lock_timeout (the error's code tells a timeout).
pub async fn session_take_tenant(client: &Client, code: &TenantCode) -> Result<(), tokio_postgres::Error> {
    let keys = [shared_key(), tenant_key(code)];
    client.query_one(include_str!("sql/lock_session_take_tenant.sql"), &[&keys[0], &keys[1]]).await.map(drop)
}

/// [`session_take_tenant`] without waiting: whether both were free. On
/// false, what was taken is still held: release it
/// ([`session_release_tenant`] or `pg_advisory_unlock_all`).
pub async fn session_try_tenant(client: &Client, code: &TenantCode) -> Result<bool> {
    let keys = [shared_key(), tenant_key(code)];
    Ok(client.query_one(include_str!("sql/lock_session_try_tenant.sql"), &[&keys[0], &keys[1]]).await?.get(0))
}

/// Releases what [`session_take_tenant`] took.
pub async fn session_release_tenant(client: &Client, code: &TenantCode) -> Result<()> {
    let keys = [shared_key(), tenant_key(code)];
    client.query_one(include_str!("sql/lock_session_release_tenant.sql"), &[&keys[0], &keys[1]]).await?;
    Ok(())
}

/// Takes session-level shared locks on `keys` without waiting; returns the
/// keys taken. One query, however many keys.
pub async fn try_shared(client: &Client, keys: &[String]) -> Result<Vec<String>> {
    let rows = client.query(include_str!("sql/lock_session_try_shared.sql"), &[&keys]).await?;
    Ok(rows.iter().filter(|r| r.get::<_, bool>(1)).map(|r| r.get(0)).collect())
}

/// Waits up to `timeout` in all for session-level shared locks on `keys`,
/// then returns the keys held (those not taken in time are missing).
pub async fn wait_shared(client: &mut Client, keys: &[String], timeout: Duration) -> Result<Vec<String>> {
    let tx = client.transaction().await?;
    let ms = timeout.as_millis().max(1);
    // SET LOCAL takes no parameters; the value is a number we formatted.
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{ms}ms'; SET LOCAL statement_timeout = '{ms}ms'")).await?;
    let waited = tx.query_one(include_str!("sql/lock_session_wait_shared.sql"), &[&keys]).await;
    match waited {
        Ok(_) => {
            tx.commit().await?;
            return Ok(keys.to_vec());
        }
        Err(e) if gave_up(&e) => tx.rollback().await?,
        Err(e) => return Err(e.into()),
    }
    // Session locks taken before the timeout are still held: taking them
    // again succeeds, and tells which they are.
    try_shared(client, keys).await
}

/// Out of patience (lock_timeout, statement_timeout), or chosen as a
/// deadlock's victim: a wait that ended without an error of the database.
fn gave_up(e: &tokio_postgres::Error) -> bool {
    let ends = [SqlState::LOCK_NOT_AVAILABLE, SqlState::QUERY_CANCELED, SqlState::T_R_DEADLOCK_DETECTED];
    e.code().is_some_and(|code| ends.contains(code))
}
