//! The pool: spare clones of the current template, so `db create` renames a
//! database (`ALTER DATABASE … RENAME`, a catalog update) instead of copying
//! one (`CREATE DATABASE … TEMPLATE`, a file copy and two checkpoints).
//!
//! - **A spare names its template.** `provision_tpl_<hash>_spare_<n>`: only
//!   a caller whose inputs hash to `<hash>` takes it, so a spare of a stale
//!   template is never handed out. Stale spares go with their template
//!   ([`super::stale`]), and spares whose template is gone are dropped
//!   by the next `db create`.
//! - **A label saves the key.** The refill writes on each spare a quick
//!   fingerprint of the raw inputs and the current periods ([`label`]); a
//!   pooled `db create` first takes a spare so labelled ([`take_labelled`])
//!   before loading any blueprint, and only on a miss computes the key.
//! - **Nobody connects to a spare.** It is created `ALLOW_CONNECTIONS false`
//!   (RENAME needs a database without sessions) and opened in the same
//!   transaction that renames it and marks it as a clone.
//! - **One caller per spare.** The rename is the claim: PostgreSQL locks the
//!   database before renaming it and looks it up again by name once it has
//!   the lock, so of two callers renaming the same spare the second finds it
//!   gone (`3D000`) and tries the next one. A spare someone drops meanwhile
//!   is skipped the same way, so takers need no advisory lock: a take is one
//!   round trip (template_db_take.sql).
//! - **One refiller per template.** [`refill`] holds the pool's own lock
//!   exclusively (`db drop --spares` too), and the template's in shared mode.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, SimpleQueryMessage};

use super::listing::{Kind, Listed, SPARE_INFIX};
use super::{already_exists, lock_name, state, Key, State, CLONE_COMMENT, TEMPLATE_PREFIX};
use crate::error::unavailable;
use crate::ops::Env;
use crate::pg::quote::{quote_ident, quote_literal};
use crate::store::lock::{self, Mode};

/// How a spare's comment starts: the label [`take_labelled`] looks for.
const SPARE_LABEL: &str = "provision spare: quick ";

/// The spare taken by a `db create`.
#[derive(Debug, Clone)]
pub struct Taken {
    /// Its name as a spare.
    pub spare: String,
    /// The template it is a clone of.
    pub template: String,
    /// Spares of the template left in the pool just after the take.
    pub left: usize,
}

/// What a refill did.
#[derive(Debug, Clone, Default)]
pub struct Refilled {
    pub created: Vec<String>,
    /// Spares above the pool's size.
    pub dropped: Vec<String>,
    /// Spares of the template once done.
    pub spares: usize,
    /// Why nothing was done, when nothing could be.
    pub skipped: Option<String>,
}

/// `provision_tpl_<hash>_spare_`.
fn prefix(hash: &str) -> String {
    format!("{TEMPLATE_PREFIX}{hash}{SPARE_INFIX}")
}

/// The lock of the pool of the template with `hash` (refills, `db drop --spares`).
fn pool_lock(hash: &str) -> String {
    lock::template_key(&format!("{hash}:pool"))
}

/// The spares of the template with `hash`, by name.
pub(super) async fn spares_of(admin: &Client, hash: &str) -> Result<Vec<String>> {
    let prefix = prefix(hash);
    let rows = admin.query_typed(include_str!("../sql/template_db_spares.sql"), &[(&prefix, Type::TEXT)]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Renames a spare of `key`'s template to `name`, opens it and marks it as
/// a clone, in one transaction and one round trip (template_db_take.sql);
/// `None` when no spare is left. Needs no lock: a spare dropped meanwhile
/// (stale, or above the pool's size) is skipped like one taken.
pub(super) async fn take(admin: &Client, key: &Key, name: &str) -> Result<Option<Taken>> {
    take_where(admin, (&prefix(&key.hash), ""), name).await
}

/// [`take`] before the key is known: a spare of any template whose label
/// names `quick` ([`super::quick_fingerprint`]) and today's periods, so
/// one made from exactly these inputs.
pub async fn take_labelled(admin: &Client, quick: &str, name: &str) -> Result<Option<Taken>> {
    take_where(admin, (TEMPLATE_PREFIX, &format!("{SPARE_LABEL}{quick}; periods ")), name).await
}

async fn take_where(admin: &Client, (prefix, label): (&str, &str), name: &str) -> Result<Option<Taken>> {
    let params: [(&(dyn ToSql + Sync), Type); 4] =
        [(&prefix, Type::TEXT), (&name, Type::TEXT), (&label, Type::TEXT), (&CLONE_COMMENT, Type::TEXT)];
    // Sent together: the settings first, then the block that reads them.
    let set = admin.query_typed(include_str!("../sql/template_db_take_params.sql"), &params);
    let taken = admin.simple_query(include_str!("../sql/template_db_take.sql"));
    let messages = match tokio::try_join!(set, taken) {
        Ok((_, messages)) => messages,
        Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => return Err(already_exists(name)),
        Err(e) => return Err(e).with_context(|| format!("cannot rename a spare to {name}")),
    };
    let row = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    });
    let (spare, left) = row.map_or(("", "0"), |r| (r.get("taken").unwrap_or(""), r.get("left").unwrap_or("0")));
    let Some(template) = spare.split_once(SPARE_INFIX).map(|(t, _)| t.to_owned()) else { return Ok(None) };
    Ok(Some(Taken { spare: spare.to_owned(), template, left: left.parse().unwrap_or(0) }))
}

/// The comment of a spare made from inputs of fingerprint `quick` in the
/// current `periods` (template_db_periods.sql).
pub fn label(quick: &str, periods: &str) -> String {
    format!("{SPARE_LABEL}{quick}; periods {periods}")
}

/// The current periods of every interval, as a label records them.
pub async fn periods_now(admin: &Client) -> Result<String> {
    let row = admin.query_typed_one(include_str!("../sql/template_db_periods.sql"), &[]).await?;
    Ok(row.get(0))
}

/// Brings the spares of `key`'s template to `size`: creates the missing ones
/// (from the template, which must exist) and drops those above it. Waits
/// for another refill of the same template; does nothing while the template
/// is built or dropped (its lock is held exclusively).
/// Each new spare gets `label` as its comment, when given (see [`label`]).
pub async fn refill(env: &Env<'_>, admin: &Client, key: &Key, size: u32, label: Option<&str>) -> Result<Refilled> {
    hold_pool(env, admin, &key.hash).await?;
    let result = async {
        if !lock::session_try(admin, &lock_name(&key.hash), Mode::Shared).await? {
            let why = format!("{} is being built or dropped by another provision process", key.template());
            return Ok(Refilled { skipped: Some(why), ..Refilled::default() });
        }
        if state(admin, &key.template()).await? != Some(State::Ready) {
            let why = format!("{} does not exist yet; the next `db create` builds it", key.template());
            return Ok(Refilled { skipped: Some(why), ..Refilled::default() });
        }
        fill_to(admin, key, size as usize, label).await
    }
    .await;
    admin.batch_execute("SELECT pg_advisory_unlock_all()").await?;
    result
}

/// The refill itself, under both locks. Takers may empty the pool while it
/// runs, so it re-counts after each spare, a bounded number of times.
async fn fill_to(admin: &Client, key: &Key, size: usize, label: Option<&str>) -> Result<Refilled> {
    let mut done = Refilled::default();
    for _ in 0..size * 2 + 2 {
        let spares = spares_of(admin, &key.hash).await?;
        done.spares = spares.len();
        if spares.len() == size {
            break;
        }
        if let Some(extra) = spares.last().filter(|_| spares.len() > size) {
            drop_spare(admin, extra).await?;
            done.dropped.push(extra.clone());
            continue;
        }
        let spare = format!("{}{}", prefix(&key.hash), unique_number());
        let strategy = if key.version_num >= 150_000 { " STRATEGY FILE_COPY" } else { "" };
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}{strategy} ALLOW_CONNECTIONS false",
            quote_ident(&spare),
            quote_ident(&key.template())
        );
        admin.batch_execute(&sql).await.with_context(|| format!("cannot create the spare {spare}"))?;
        if let Some(label) = label {
            // A spare taken meanwhile (by its hash) keeps the clone's comment.
            let comment = format!("COMMENT ON DATABASE {} IS {}", quote_ident(&spare), quote_literal(label));
            if let Err(e) = admin.batch_execute(&comment).await {
                if e.code() != Some(&SqlState::UNDEFINED_DATABASE) {
                    return Err(e).with_context(|| format!("cannot label the spare {spare}"));
                }
            }
        }
        done.created.push(spare);
    }
    Ok(done)
}

/// Microseconds since the epoch: a spare's number, never reused (one
/// refiller at a time per template), so a taken spare's name is its own.
fn unique_number() -> u128 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    now.as_micros()
}

/// `DROP DATABASE IF EXISTS`: a spare a taker renamed meanwhile is no spare any more.
async fn drop_spare(admin: &Client, spare: &str) -> Result<()> {
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {}", quote_ident(spare)))
        .await
        .with_context(|| format!("cannot drop the spare {spare}"))
}

/// Takes the pool's lock exclusively at session level, waiting up to the
/// session's lock_timeout for a refill in progress.
async fn hold_pool(env: &Env<'_>, admin: &Client, hash: &str) -> Result<()> {
    let key = pool_lock(hash);
    if lock::session_try(admin, &key, Mode::Exclusive).await? {
        return Ok(());
    }
    let template = format!("{TEMPLATE_PREFIX}{hash}");
    env.reporter.note(&format!("waiting for the spares of {template}: another provision process is refilling them"));
    match lock::session_wait(admin, &key, Mode::Exclusive).await {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(unavailable(format!(
            "timed out waiting for the spares of {template} (another provision process is refilling them); \
             retry later or raise --lock-timeout"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `db drop --spares`: drops every spare on the server, each template's
/// while no refill of it runs. Returns their names.
pub async fn drop_spares(env: &Env<'_>, admin: &Client) -> Result<Vec<String>> {
    let mut by_hash: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in super::listing::entries(admin, false).await? {
        if let Kind::Spare { hash, .. } = entry.kind {
            by_hash.entry(hash).or_default().push(entry.name);
        }
    }
    let mut dropped = Vec::new();
    for (hash, spares) in by_hash {
        hold_pool(env, admin, &hash).await?;
        let result = async {
            for spare in spares {
                drop_spare(admin, &spare).await?;
                dropped.push(spare);
            }
            anyhow::Ok(())
        }
        .await;
        lock::session_release(admin, &pool_lock(&hash), Mode::Exclusive).await?;
        result?;
    }
    Ok(dropped)
}

/// The spares of the template with `hash` among `listed`.
pub(super) fn spares_in<'a>(listed: &'a [Listed], hash: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    listed.iter().filter(move |l| matches!(&l.kind, Kind::Spare { hash: h, .. } if h == hash)).map(|l| l.name.as_str())
}

/// Drops the spares (among `listed`) of the template with `hash`, whose
/// lock the caller holds exclusively. Returns their names.
pub(super) async fn drop_spares_of(admin: &Client, listed: &[Listed], hash: &str) -> Result<Vec<String>> {
    let mut dropped = Vec::new();
    for spare in spares_in(listed, hash) {
        drop_spare(admin, spare).await?;
        dropped.push(spare.to_owned());
    }
    Ok(dropped)
}

/// Drops the spares whose template no longer exists (dropped by an older
/// provision, or by hand), other than `key`'s own, each template's only if
/// nobody builds, clones or refills it right now.
pub(super) async fn drop_orphans(admin: &Client, listed: &[Listed], key: &Key) -> Result<Vec<String>> {
    let templates: BTreeSet<&str> = listed
        .iter()
        .filter_map(|l| if let Kind::Template { hash, .. } = &l.kind { Some(hash.as_str()) } else { None })
        .collect();
    let orphans: BTreeSet<&str> = listed
        .iter()
        .filter_map(|l| if let Kind::Spare { hash, .. } = &l.kind { Some(hash.as_str()) } else { None })
        .filter(|hash| *hash != key.hash && !templates.contains(hash))
        .collect();
    let mut dropped = Vec::new();
    for hash in orphans {
        let lock = lock_name(hash);
        if !lock::session_try(admin, &lock, Mode::Exclusive).await? {
            continue;
        }
        let result = drop_spares_of(admin, listed, hash).await;
        lock::session_release(admin, &lock, Mode::Exclusive).await?;
        dropped.extend(result?);
    }
    Ok(dropped)
}
