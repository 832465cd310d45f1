//! The live copy: a publication of the tenant on the source, a slot there,
//! a subscription on the target with `copy_data = true`, and the wait until
//! the target has caught up. All three are named `pmove_<code>` (at most 62
//! bytes: codes are at most 56), so a re-run finds what an interrupted one
//! made, and an abort knows what to drop.
//!
//! The subscription's connection string is built from the source's
//! [`Target`]; it holds the password, which PostgreSQL keeps in its catalog
//! until the move drops the subscription. It is never printed: the statement
//! is formatted by the server (`sql/subscription_create.sql`).

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use super::relations::Relations;
use super::{MoveReporter, Side};
use crate::error::failed;
use crate::model::tenant::TenantCode;
use crate::pg::connection::Target;

/// The publication's, slot's and subscription's name.
pub fn object_name(code: &TenantCode) -> String {
    format!("pmove_{code}")
}

/// Runs the statement a `sql/*.sql` query formats, if it returns one.
async fn run_formatted(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<()> {
    for row in client.query(sql, params).await? {
        let statement: String = row.get(0);
        client.batch_execute(&statement).await?;
    }
    Ok(())
}

/// The publication and the slot on the source (each made if missing).
pub async fn publish(source: &Client, code: &TenantCode) -> Result<()> {
    let name = object_name(code);
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&name, &code.schema_name(), &code.audit_log_name()];
    run_formatted(source, include_str!("sql/publication_create.sql"), &params)
        .await
        .with_context(|| format!("cannot publish tenant {code} on the source"))
}

/// The slot on the source, then the subscription on the target.
pub async fn subscribe(source: &Client, target: &Client, from: &Target, code: &TenantCode) -> Result<()> {
    let name = object_name(code);
    source
        .query(include_str!("sql/slot_create.sql"), &[&name])
        .await
        .with_context(|| format!("cannot create the replication slot {name} on the source"))?;
    let conninfo = conninfo(from);
    run_formatted(target, include_str!("sql/subscription_create.sql"), &[&name, &conninfo])
        .await
        // The error text is the server's; the statement (with the password) is not part of it.
        .with_context(|| format!("cannot subscribe the target to the source's publication {name}"))
}

/// libpq keywords for the variables [`Target::libpq_env`] sets. A password
/// file path means nothing to the target server, which reads the string.
const KEYWORDS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGDATABASE", "dbname"),
    ("PGPASSWORD", "password"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGOPTIONS", "options"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
];

/// The source's libpq connection string for the target server's subscription.
pub fn conninfo(from: &Target) -> String {
    let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    from.libpq_env()
        .iter()
        .filter_map(|(var, value)| {
            let (_, keyword) = KEYWORDS.iter().find(|(v, _)| v == var)?;
            (!value.is_empty()).then(|| format!("{keyword}={}", quote(value)))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Flushes the source's WAL now rather than on its WAL writer's time
/// (`wal_writer_delay`, 200 ms): the walsender sends only flushed WAL, and
/// the source's last writes may have committed asynchronously. A
/// transaction commits synchronously only when it wrote WAL, so this one
/// writes a logical decoding message (no table; the subscription does not
/// ask for messages, so nothing reaches the target).
pub async fn nudge(source: &Client) -> Result<()> {
    source.batch_execute(include_str!("sql/flush_wal.sql")).await.context("cannot flush the source's WAL")
}

/// How long the copy may make no progress at all before the move gives up.
const STALLED: Duration = Duration::from_secs(120);

/// Waits until the target has copied every table and applied the source's
/// WAL up to where it was once the copy was done, reporting rows and lag.
pub async fn catch_up(
    reporter: &dyn MoveReporter,
    (source, target): (&Client, &Client),
    code: &TenantCode,
    to: &Side,
    relations: &Relations,
) -> Result<()> {
    let name = object_name(code);
    let tables = relations.all_tables();
    let estimate = live_rows(source, &tables).await?;
    reporter.copy_started(estimate);
    let (mut last, mut since) = ((0u64, -1i64, -1i64), Instant::now());
    let mut warned_errors = 0i64;
    let mut rounds = Rounds::default();
    loop {
        let progress = target.query_opt(include_str!("sql/subscription_progress.sql"), &[&name]).await?;
        let Some(progress) = progress else {
            return Err(failed(format!("the subscription {name} on server {} has disappeared", to.name)));
        };
        let (syncing, tables_count, errors): (i64, i64, i64) = (progress.get(0), progress.get(1), progress.get(2));
        let slot = source.query_opt(include_str!("sql/slot_state.sql"), &[&name]).await?;
        let Some(slot) = slot else {
            return Err(failed(format!("the replication slot {name} on the source has disappeared")));
        };
        let (current, lag): (String, i64) = (slot.get(0), slot.get(1));
        let rows = live_rows(target, &tables).await?;
        reporter.copy_progress(rows, lag);
        if errors > warned_errors {
            warned_errors = errors;
            reporter.warn(&format!(
                "the subscription {name} on server {} met {errors} error(s) so far (it retries); its server log says why",
                to.name
            ));
        }
        if syncing == 0 && tables_count > 0 && rounds.caught_up((source, target), &name, &current).await? {
            reporter.copy_finished();
            return Ok(());
        }
        let now = (rows, syncing, lag);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() > STALLED {
            return Err(failed(format!(
                "the copy of tenant {code} to server {} made no progress for {} s ({syncing} of {tables_count} tables \
                 still syncing, {errors} errors); see server {}'s log, then re-run or `tenant move {code} --abort`",
                to.name,
                STALLED.as_secs(),
                to.name
            )));
        }
        tokio::time::sleep(rounds.poll()).await;
    }
}

/// A round confirmed this fast means the target applies as fast as the source writes.
const CLOSE_ENOUGH: Duration = Duration::from_millis(300);
/// Rounds before the freeze starts anyway (the target applies slower than
/// the source writes: the freeze waits for the rest, within --max-freeze).
const MAX_ROUNDS: u32 = 10;

/// Rounds of "has the target confirmed the WAL position the source had
/// when the round began?", once every table is copied. The first covers the
/// copy; later ones go on until one is confirmed within [`CLOSE_ENOUGH`] (or
/// [`MAX_ROUNDS`]), so the freeze starts with little left to apply: what is
/// left is applied while the tenant's writers wait.
#[derive(Default)]
struct Rounds {
    /// The position this round waits for, and when the round began.
    at: Option<(String, Instant)>,
    confirmed: u32,
}

impl Rounds {
    /// Whether the copy is caught up; `current` is the source's position now.
    async fn caught_up(&mut self, (source, target): (&Client, &Client), slot: &str, current: &str) -> Result<bool> {
        let Some((lsn, began)) = &self.at else {
            run_formatted(target, include_str!("sql/subscription_commit_now.sql"), &[&slot]).await?;
            self.at = Some((current.to_owned(), Instant::now()));
            return Ok(false);
        };
        let confirmed: bool = source.query_one(include_str!("sql/slot_confirmed.sql"), &[&slot, lsn]).await?.get(0);
        if !confirmed {
            nudge(source).await?;
            return Ok(false);
        }
        self.confirmed += 1;
        if self.confirmed >= 2 && (began.elapsed() <= CLOSE_ENOUGH || self.confirmed >= MAX_ROUNDS) {
            return Ok(true);
        }
        self.at = Some((current.to_owned(), Instant::now()));
        Ok(false)
    }

    /// How long to wait before the next look: shorter once the rounds began.
    fn poll(&self) -> Duration {
        Duration::from_millis(if self.at.is_some() { 50 } else { 200 })
    }
}

/// The live rows the statistics count in `tables` (an estimate for the bar).
async fn live_rows(client: &Client, tables: &[String]) -> Result<u64> {
    let rows: i64 = client.query_one(include_str!("sql/live_rows.sql"), &[&tables]).await?.get(0);
    Ok(rows.max(0) as u64)
}

/// Whether a subscription left by an interrupted run has copied every
/// table (each `ready`). Anything else is copied again ([`restart_copy`]):
/// PostgreSQL 15 can lose a table sync's state when the target stops
/// between dropping the sync slot on the source and committing that the
/// table is done, and that table then never finishes.
pub async fn copy_finished(target: &Client, code: &TenantCode) -> Result<bool> {
    let progress = target.query_opt(include_str!("sql/subscription_progress.sql"), &[&object_name(code)]).await?;
    Ok(progress.is_some_and(|p| p.get::<_, i64>(0) == 0 && p.get::<_, i64>(1) > 0))
}

/// Starts the copy again: drops the subscription, publication and slots,
/// empties the target's tables, then publishes and subscribes anew.
pub async fn restart_copy(
    (source, target): (&Client, &mut Client),
    from: &Target,
    code: &TenantCode,
    relations: &Relations,
) -> Result<()> {
    drop_all(source, Some(target), code).await?;
    let tx = target.transaction().await?;
    for row in tx.query(include_str!("sql/copy_truncate.sql"), &[&relations.all_tables()]).await? {
        tx.batch_execute(row.get::<_, &str>(0)).await.context("cannot empty the target's copy")?;
    }
    tx.commit().await?;
    publish(source, code).await?;
    subscribe(source, target, from, code).await
}

/// Drops the subscription on the target (when reachable) and the
/// publication and slots on the source; each only if it exists.
pub async fn drop_all(source: &Client, target: Option<&Client>, code: &TenantCode) -> Result<()> {
    let name = object_name(code);
    let mut sync_slots = String::new();
    if let Some(target) = target {
        let rows = target.query(include_str!("sql/subscription_drop.sql"), &[&name]).await?;
        for row in &rows {
            target.batch_execute(row.get::<_, &str>(0)).await.context("cannot drop the move's subscription")?;
            sync_slots = row.get(1);
        }
    }
    run_formatted(source, include_str!("sql/publication_drop.sql"), &[&name]).await?;
    drop_slots(source, &name, &sync_slots).await
}

/// Drops the move's slots on the source, waiting a little for a walsender
/// that is still letting go of one (the subscription was just disabled).
async fn drop_slots(source: &Client, name: &str, sync_slots: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        source.query(include_str!("sql/slot_drop.sql"), &[&name, &sync_slots]).await?;
        let left: i64 = source.query_one(include_str!("sql/slots_left.sql"), &[&name, &sync_slots]).await?.get(0);
        if left == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(failed(format!(
                "the replication slot {name} on the source is still in use after 30 s; stop whatever uses it, then \
                 re-run the command"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conninfo_quotes_every_value() {
        let target = crate::pg::connection::resolve(Some("postgresql://u:p%27w@db.example:5433/app"), &|_| None)
            .unwrap()
            .unwrap();
        let conninfo = conninfo(&target);
        assert!(
            conninfo.contains("host='db.example' port='5433' user='u' dbname='app' password='p\\'w'"),
            "{conninfo}"
        );
    }
}
