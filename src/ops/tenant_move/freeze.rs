//! The write freeze and the switch, in one source transaction.
//!
//! The transaction takes `LOCK TABLE … IN EXCLUSIVE MODE` on every table of
//! the tenant (schema and audit log, partitions included): readers go on,
//! writers wait instead of failing. Holding it, the move waits until the
//! target has applied the source's WAL up to `pg_current_wal_lsn()` (the
//! slot's `confirmed_flush_lsn`; an offline move copies with pg_dump here
//! instead), sets the target's sequences from the source's, compares every
//! table's row count and checksum on both ends at once, and then, in the
//! same transaction, marks the source entry `moved`, revokes the app role's
//! writes on the source copy and records the step `switched`. The target's
//! entry becomes `active` in a target transaction committed right after the
//! source's: a kill between the two leaves the step `switched` and the
//! target `moving`, which the next run completes.
//!
//! A live move's freeze is bounded by `--max-freeze`: every statement runs
//! under `lock_timeout`/`statement_timeout` set to it and every step under
//! a timer; past it the transaction rolls back (unfreezing) and the error
//! names the step that was slow.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio_postgres::{Client, GenericClient, Transaction};

use super::relations::{self, Relations, TEXT_SETTINGS};
use super::state::{self, Step};
use crate::error::failed;
use crate::model::tenant::TenantCode;

/// What happens between the freeze and the comparison.
pub enum Copy<'a> {
    /// Wait until the subscription through this slot has applied everything;
    /// `flusher` is another session on the source (see [`applied`]).
    Live { slot: &'a str, flusher: &'a Client },
    /// Copy now, from the frozen transaction's snapshot (`--offline`).
    Dump(&'a super::offline::Dump<'a>),
}

/// A switched move.
#[derive(Debug, Clone)]
pub struct Frozen {
    pub freeze_ms: u64,
    pub rows: u64,
    /// The step of the freeze that took longest, and its milliseconds.
    pub slowest: Option<(String, u64)>,
}

/// Bounds each step by what is left of `--max-freeze` (none for `--offline`).
struct Clock {
    started: Instant,
    limit: Option<Duration>,
    /// The step that took longest so far, and its milliseconds.
    slowest: std::sync::Mutex<Option<(String, u64)>>,
}

impl Clock {
    async fn step<T>(&self, what: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
        let started = Instant::now();
        let done = self.bounded(what, work).await;
        if let Ok(mut slowest) = self.slowest.lock() {
            let ms = started.elapsed().as_millis() as u64;
            if slowest.as_ref().is_none_or(|(_, longest)| ms > *longest) {
                *slowest = Some((what.to_owned(), ms));
            }
        }
        done
    }

    async fn bounded<T>(&self, what: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
        let Some(limit) = self.limit else { return work.await };
        let left = limit.saturating_sub(self.started.elapsed());
        let too_long =
            || failed(format!("the write freeze reached --max-freeze ({:.1} s) while {what}", limit.as_secs_f64()));
        match tokio::time::timeout(left, work).await {
            // The server's own bound (lock_timeout, statement_timeout) may end the step first.
            Ok(Err(e)) if timed_out(&e) => Err(too_long()),
            Ok(done) => done,
            Err(_) => Err(too_long()),
        }
    }
}

/// Whether `error` is the server ending a statement at its lock or statement timeout.
fn timed_out(error: &anyhow::Error) -> bool {
    use tokio_postgres::error::SqlState;
    let code = error.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.code());
    matches!(code, Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE || *c == SqlState::QUERY_CANCELED)
}

/// Freezes the tenant's writes on `source`, brings `target` level, compares
/// and switches; see the module doc.
pub async fn freeze_and_switch(
    (source, target): (&mut Client, &mut Client),
    code: &TenantCode,
    relations: &Relations,
    copy: Copy<'_>,
    max_freeze: Option<Duration>,
) -> Result<Frozen> {
    let clock = Clock { started: Instant::now(), limit: max_freeze, slowest: Default::default() };
    let src = source.transaction().await?;
    let dst = target.transaction().await?;
    let bound = max_freeze.map_or("0".to_owned(), |d| d.as_millis().max(1).to_string());
    let session = format!("SET LOCAL lock_timeout = {bound}; SET LOCAL statement_timeout = {bound}; {TEXT_SETTINGS}");
    src.batch_execute(&session).await?;
    dst.batch_execute(&session).await?;
    let tables = relations.all_tables();
    let lock = format!("LOCK TABLE {} IN EXCLUSIVE MODE", tables.join(", "));
    clock.step("locking the tenant's tables against writes", async { Ok(src.batch_execute(&lock).await?) }).await?;
    match copy {
        Copy::Live { slot, flusher } => {
            let waiting = "waiting for the target to apply the source's last changes";
            clock.step(waiting, applied(&src, flusher, slot)).await?;
        }
        Copy::Dump(dump) => clock.step("copying with pg_dump", dump.run(&src)).await?,
    }
    clock.step("setting the target's sequences", sequences(&src, &dst, &relations.sequences)).await?;
    let comparing = async {
        let (a, b) = tokio::join!(relations::checksums(&src, relations), relations::checksums(&dst, relations));
        Ok((a?, b?))
    };
    let (ours, theirs) = clock.step("comparing row counts and checksums", comparing).await?;
    let differences = relations::differences(&ours, &theirs);
    if !differences.is_empty() {
        return Err(failed(format!(
            "tenant {code}: the target's copy differs from the source's: {}",
            differences.join(", ")
        )));
    }
    clock.step("switching the registries", switch(&src, &dst, code)).await?;
    src.commit().await?;
    let freeze_ms = clock.started.elapsed().as_millis() as u64;
    // The source said `moved`: the target's activation is what a re-run completes.
    dst.commit().await?;
    let slowest = clock.slowest.lock().ok().and_then(|s| s.clone());
    Ok(Frozen { freeze_ms, rows: relations::total_rows(&ours), slowest })
}

/// Waits until the subscriber has confirmed the slot up to the source's
/// WAL insert position, which (tables locked) covers every tenant write.
/// The insert position, not the write one: with asynchronous commits the
/// last tenant commits may be inserted, their locks released, and not yet
/// written. The walsender sends only flushed WAL, on the WAL writer's time,
/// so every 50 ms of waiting [`replicate::nudge`] flushes it now (from other
/// sessions: the freeze's own transactions must stay open).
async fn applied(src: &Transaction<'_>, flusher: &Client, slot: &str) -> Result<()> {
    let lsn: String = src.query_one("SELECT pg_catalog.pg_current_wal_insert_lsn()::text", &[]).await?.get(0);
    for tick in 0u64.. {
        if tick % 5 == 0 {
            super::replicate::nudge(flusher).await?;
        }
        let done: bool = src.query_one(include_str!("sql/slot_confirmed.sql"), &[&slot, &lsn]).await?.get(0);
        if done {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    unreachable!("the loop returns")
}

/// The target's sequences where the source's are.
async fn sequences(src: &Transaction<'_>, dst: &Transaction<'_>, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let rows = src.query(include_str!("sql/sequences_read.sql"), &[&names]).await?;
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let values: Vec<i64> = rows.iter().map(|r| r.get(1)).collect();
    let called: Vec<bool> = rows.iter().map(|r| r.get(2)).collect();
    dst.query_one(include_str!("sql/sequences_set.sql"), &[&names, &values, &called]).await?;
    Ok(())
}

/// The switch: source `moved` and read-only for the app role, step
/// recorded; target `active` (committed by the caller after the source).
async fn switch(src: &Transaction<'_>, dst: &Transaction<'_>, code: &TenantCode) -> Result<()> {
    if !state::set_status(src, code, "active", "moved").await? {
        return Err(failed(format!("tenant {code} is no longer active on the source; nothing was switched")));
    }
    revoke_writes(src, code).await?;
    state::set(src, code, Step::Switched).await?;
    activate(dst, code).await
}

/// The app role loses its writes on the source copy.
pub async fn revoke_writes(client: &impl GenericClient, code: &TenantCode) -> Result<()> {
    for row in client.query(include_str!("sql/revoke_writes.sql"), &[&code.schema_name(), &code.app_role()]).await? {
        client.batch_execute(row.get::<_, &str>(0)).await?;
    }
    Ok(())
}

/// The target entry goes from `moving` to `active` (already active: done before).
pub async fn activate(client: &impl GenericClient, code: &TenantCode) -> Result<()> {
    if state::set_status(client, code, "moving", "active").await? {
        return Ok(());
    }
    match state::status(client, code).await?.as_deref() {
        Some("active") => Ok(()),
        other => Err(failed(format!(
            "tenant {code} on the target is {}, not moving; nothing was activated",
            other.unwrap_or("not registered")
        ))),
    }
}
