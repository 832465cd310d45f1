//! Template databases: a fully provisioned database for CI in milliseconds.
//!
//! `provision db create <name>` provisions a database once, as a *template*
//! named after a hash of everything that decides its contents ([`Key`]), and
//! then clones it with `CREATE DATABASE <name> TEMPLATE <template> STRATEGY
//! FILE_COPY`: a file copy, whatever the number of tenants.
//!
//! How it stays safe with many CI jobs at once:
//!
//! - **One build per key.** Builders serialise on a session-level advisory
//!   lock keyed by the hash, held on the maintenance database `postgres`
//!   (advisory locks are per database, so every creator must meet there),
//!   and re-check after acquiring it. Cloners hold the same lock in shared
//!   mode while they look the template up and copy it.
//! - **No half-built template under the real name.** A build goes into
//!   `<template>_build`, which becomes `IS_TEMPLATE true, ALLOW_CONNECTIONS
//!   false` and is renamed to the real name in one transaction when complete.
//!   A crashed build's leftover is dropped by the next builder (under the lock).
//! - **Stale templates are never used and eventually dropped.** Any change to
//!   the inputs changes the name. After a `db create`, older templates made
//!   for the same tenants.toml and sample size (both are in the template's
//!   comment) are dropped, each only if its own lock can be had at once: never while
//!   another process builds or clones it.
//! - **Ours only.** Clones carry `COMMENT ON DATABASE … IS 'provision db
//!   create: template …'`; `db drop` refuses any database without it.
//! - **A pool, when asked for.** Spare clones of the current template are
//!   renamed rather than copied ([`pool`]); stale ones go with their template.

mod key;
mod listing;
mod pool;
mod stale;

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use crate::error::{bad_input, failed, unavailable};
use crate::model::tenant::MAX_IDENTIFIER_BYTES;
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::pg::quote::{quote_ident, quote_literal};
use key::lock_name;
pub(crate) use key::{binary_identity, Fields};
pub use key::{key, quick_fingerprint, Key};
use listing::entries;
pub use listing::{drop_clone, list, recreate, Kind};
pub use pool::{drop_spares, label, periods_now, refill, take_labelled, Refilled, Taken};
use stale::dropped_stale;

/// Every template's name starts so; user databases may not.
pub const TEMPLATE_PREFIX: &str = "provision_tpl_";
/// Where a template is built before it is renamed.
const BUILD_SUFFIX: &str = "_build";
/// Hex digits of the hash in a template's name.
const HASH_HEX: usize = 16;
/// The comment that marks a database `db create` made (followed by its template).
pub const CLONE_COMMENT: &str = "provision db create: template ";
/// The comment of a template (followed by `sample …; config <tenants.toml>`).
const TEMPLATE_COMMENT: &str = "provision template: ";
/// Where administration happens and the template locks live.
pub const MAINTENANCE_DB: &str = "postgres";

/// Checks a database name given to `db create` / `db drop` (bad input, exit 2).
pub fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let well_formed =
        matches!(chars.next(), Some('a'..='z' | '_')) && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'));
    if !well_formed {
        return Err(bad_input(format!(
            "invalid database name {name:?}: use lower-case letters, digits and '_', not starting with a digit (e.g. ci_42)"
        )));
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(bad_input(format!(
            "invalid database name {name:?}: at most {MAX_IDENTIFIER_BYTES} bytes ({} given)",
            name.len()
        )));
    }
    if matches!(name, "postgres" | "template0" | "template1") {
        return Err(bad_input(format!("{name} is a system database; provision db only handles its own databases")));
    }
    if name.starts_with(TEMPLATE_PREFIX) {
        return Err(bad_input(format!(
            "{name}: names starting with {TEMPLATE_PREFIX} belong to provision's templates, which `db create` builds and drops itself"
        )));
    }
    Ok(())
}

/// Fails (exit 1) when a database called `name` exists.
pub async fn ensure_absent(admin: &Client, name: &str) -> Result<()> {
    match state(admin, name).await? {
        None => Ok(()),
        Some(_) => Err(already_exists(name)),
    }
}

fn already_exists(name: &str) -> anyhow::Error {
    failed(format!(
        "database {name} already exists; choose another name, or drop it first (`provision db drop {name}`)"
    ))
}

// ---------------------------------------------------------------------------
// Creating a database from the template.

/// What `create` did.
#[derive(Debug, Clone)]
pub struct Created {
    pub database: String,
    pub template: String,
    /// Seconds the template build took, when this call built it.
    pub build_seconds: Option<f64>,
    /// Seconds the clone (or the rename of a spare) took.
    pub clone_seconds: f64,
    /// The spare renamed to the new database, if one was taken.
    pub spare: Option<String>,
    /// Spares of the template left after this call (as seen when it took one).
    pub spares_left: usize,
    /// Older templates of the same tenants.toml dropped afterwards.
    pub dropped_templates: Vec<String>,
    /// Spares of those templates, and of templates already gone, dropped afterwards.
    pub dropped_spares: Vec<String>,
}

/// What a database of the template's name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Finished: a template.
    Ready,
    /// Exists but is not a template (a drop that stopped half-way, or a hand edit).
    Broken,
}

async fn state(admin: &Client, name: &str) -> Result<Option<State>> {
    // Typed: one round trip, no statement to prepare first.
    let sql = "SELECT datistemplate FROM pg_catalog.pg_database WHERE datname = $1";
    let row = admin.query_typed_opt(sql, &[(&name, Type::TEXT)]).await?;
    Ok(row.map(|r| if r.get(0) { State::Ready } else { State::Broken }))
}

/// Creates database `name` from the template of `key`: renames one of its
/// spares when there is one, else clones it, building the template first
/// (into a database `fill` provisions) when it does not exist.
pub async fn create(
    env: &Env<'_>,
    admin: &Client,
    target: &Target,
    key: &Key,
    name: &str,
    fill: impl AsyncFnOnce(&Target) -> Result<()>,
) -> Result<Created> {
    let template = key.template();
    // A spare first, in the same flight as the listing `drop_stale` needs
    // afterwards (the client pipelines them; the listing runs after the take).
    let started = Instant::now();
    let (taken, listed) = tokio::join!(pool::take(admin, key, name), entries(admin, false));
    if let Some(taken) = taken? {
        let clone_seconds = started.elapsed().as_secs_f64();
        let (dropped_templates, dropped_spares) = dropped_stale(env, admin, key, listed).await;
        let (spare, spares_left) = (Some(taken.spare), taken.left);
        let (database, build_seconds) = (name.to_owned(), None);
        return Ok(Created {
            database,
            template,
            build_seconds,
            clone_seconds,
            spare,
            spares_left,
            dropped_templates,
            dropped_spares,
        });
    }
    let lock = lock_name(&key.hash);
    let what = format!("template {template}");
    // The lock and the template's state in one flight.
    let shared = crate::store::lock::Mode::Shared;
    let (free, mut ready) =
        tokio::try_join!(crate::store::lock::session_try(admin, &lock, shared), state(admin, &template))?;
    if !free {
        acquire(env, admin, &lock, true, &what).await?;
        // Looked at before the lock was ours: look again.
        ready = state(admin, &template).await?;
    }
    let mut build_seconds = None;
    let result = async {
        if ready != Some(State::Ready) {
            // Exclusive to build; a shared holder asking for it would be
            // granted at once (a session never waits for itself).
            release(admin, &lock, true).await?;
            acquire(env, admin, &lock, false, &what).await?;
            // Another process may have built it while we waited.
            let now = state(admin, &template).await?;
            if now != Some(State::Ready) {
                let started = Instant::now();
                if now == Some(State::Broken) {
                    drop_database(admin, &template, true).await?;
                }
                build(admin, target, key, fill).await?;
                build_seconds = Some(started.elapsed().as_secs_f64());
            }
        }
        let started = Instant::now();
        clone(admin, key, name).await?;
        anyhow::Ok(started.elapsed().as_secs_f64())
    }
    .await;
    let unlock = async { admin.batch_execute("SELECT pg_advisory_unlock_all()").await.map_err(anyhow::Error::from) };
    let (unlocked, listed) = tokio::join!(unlock, entries(admin, false));
    unlocked?;
    let clone_seconds = result?;
    let (dropped_templates, dropped_spares) = dropped_stale(env, admin, key, listed).await;
    let (database, spare, spares_left) = (name.to_owned(), None, 0);
    Ok(Created {
        database,
        template,
        build_seconds,
        clone_seconds,
        spare,
        spares_left,
        dropped_templates,
        dropped_spares,
    })
}

/// Builds the template under the exclusive lock: into `<template>_build`,
/// then flagged and renamed in one transaction. A failure drops the build.
async fn build(
    admin: &Client,
    target: &Target,
    key: &Key,
    fill: impl AsyncFnOnce(&Target) -> Result<()>,
) -> Result<()> {
    let building = key.build_name();
    // Under the exclusive lock nobody else builds this key: a leftover is a crashed build.
    drop_database(admin, &building, false).await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&building)))
        .await
        .with_context(|| format!("cannot create {building} to build the template in"))?;
    let built = async {
        admin
            .batch_execute(&format!(
                "COMMENT ON DATABASE {} IS {}",
                quote_ident(&building),
                quote_literal(&key.comment())
            ))
            .await?;
        fill(&target.with_dbname(&building)).await?;
        wait_for_sessions(admin, &building).await?;
        // One transaction: the real name appears only on a finished template.
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {b} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false; ALTER DATABASE {b} RENAME TO {t}",
                b = quote_ident(&building),
                t = quote_ident(&key.template())
            ))
            .await
            .with_context(|| format!("cannot turn {building} into the template {}", key.template()))?;
        anyhow::Ok(())
    }
    .await;
    if let Err(error) = built {
        let _ = drop_database(admin, &building, false).await;
        return Err(error.context(format!("building the template {} failed; nothing was kept", key.template())));
    }
    Ok(())
}

/// Waits until the builder's own connections to `name` are gone (a closed
/// client's backend exits asynchronously), so the rename does not fail.
async fn wait_for_sessions(admin: &Client, name: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row =
            admin.query_one("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1", &[&name]).await?;
        if row.get::<_, i64>(0) == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(failed(format!("sessions connected to {name} did not go away")));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `CREATE DATABASE name TEMPLATE template STRATEGY FILE_COPY`, then the comment that marks it ours.
async fn clone(admin: &Client, key: &Key, name: &str) -> Result<()> {
    let template = key.template();
    // FILE_COPY copies the directory (and checkpoints); WAL_LOG, 15's
    // default, writes every block of the template to the WAL instead.
    let strategy = if key.version_num >= 150_000 { " STRATEGY FILE_COPY" } else { "" };
    let sql = format!("CREATE DATABASE {} TEMPLATE {}{strategy}", quote_ident(name), quote_ident(&template));
    match admin.batch_execute(&sql).await {
        Ok(()) => {}
        Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => return Err(already_exists(name)),
        Err(e) => return Err(e).with_context(|| format!("cannot create database {name} from {template}")),
    }
    let comment = format!("COMMENT ON DATABASE {} IS {}", quote_ident(name), quote_literal(&clone_comment(&template)));
    if let Err(e) = admin.batch_execute(&comment).await {
        let _ = drop_database(admin, name, false).await;
        return Err(e).with_context(|| format!("cannot mark database {name} as made by provision; it was dropped"));
    }
    Ok(())
}

fn clone_comment(template: &str) -> String {
    format!("{CLONE_COMMENT}{template}")
}

/// `DROP DATABASE IF EXISTS … WITH (FORCE)`, un-templating it first if asked.
async fn drop_database(admin: &Client, name: &str, is_template: bool) -> Result<()> {
    let ident = quote_ident(name);
    if is_template {
        admin.batch_execute(&format!("ALTER DATABASE {ident} WITH IS_TEMPLATE false")).await?;
    }
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {ident} WITH (FORCE)"))
        .await
        .with_context(|| format!("cannot drop database {name}"))?;
    Ok(())
}

/// Takes a session-level template lock, saying what it waits for.
async fn acquire(env: &Env<'_>, admin: &Client, lock: &str, shared: bool, what: &str) -> Result<()> {
    let mode = if shared { crate::store::lock::Mode::Shared } else { crate::store::lock::Mode::Exclusive };
    let acquired = crate::store::lock::session_try(admin, lock, mode).await?;
    if acquired {
        return Ok(());
    }
    env.reporter.note(&format!("waiting for {what}: another provision process is building or cloning it"));
    match crate::store::lock::session_wait(admin, lock, mode).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(unavailable(format!(
            "timed out waiting for {what} (another provision process is still building it); retry later or raise --lock-timeout"
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn release(admin: &Client, lock: &str, shared: bool) -> Result<()> {
    let mode = if shared { crate::store::lock::Mode::Shared } else { crate::store::lock::Mode::Exclusive };
    crate::store::lock::session_release(admin, lock, mode).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{exit_code_of, ExitCode};

    #[test]
    fn names() {
        for good in ["ci_1", "_x", "a", &"a".repeat(63)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1ci",
            "Ci",
            "ci-1",
            "ci 1",
            "ci;drop",
            &"a".repeat(64),
            "postgres",
            "template0",
            "template1",
            "provision_tpl_0123456789abcdef",
            "provision_tpl_x",
        ] {
            let error = check_name(bad).expect_err(bad);
            assert_eq!(exit_code_of(&error), ExitCode::BadInput, "{bad}");
        }
    }
}
