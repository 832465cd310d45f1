//! Health checks of the database at work: partitions that rollover should
//! already have made, sessions stuck waiting on locks, and dead tuples piling
//! up in the system catalog (tenant churn bloats pg_class and pg_attribute).

use std::time::Duration;

use anyhow::Result;
use tokio_postgres::Client;

use super::{Check, Status};
use crate::model::config::Config;
use crate::ops::partitions::rollover::{self, Change};
use crate::ops::rollover::DefaultRows;

/// A catalog table is bloated from this many dead tuples…
const BLOAT_MIN_DEAD: i64 = 10_000;
/// …when they are also more than this share of its live ones.
const BLOAT_DEAD_SHARE: f64 = 0.2;

/// Partitions due (the current period through `premake` ahead) that do not
/// exist yet; partitions retention would detach or drop are only noted.
pub async fn partitions(client: &Client, config: &Config) -> Result<Check> {
    let planned = rollover::plan(client, config, &[], None, Duration::from_secs(60), DefaultRows::Leave).await?;
    let changes = planned.changes();
    let due: Vec<String> = changes
        .iter()
        .filter(|(_, change, _)| *change == Change::Create)
        .map(|(tenant, _, target)| format!("{tenant}: {target}"))
        .collect();
    let retiring = changes.len() - due.len();
    if !due.is_empty() {
        return Ok(Check::problem(
            "partitions",
            Status::Fail,
            format!(
                "{} due within premake {} missing (rows land in DEFAULT partitions)",
                crate::report::count(due.len(), "partition"),
                crate::report::is_are(due.len())
            ),
            "run `provision partitions rollover` (and schedule it, see README \"Partitions from cron\")",
        )
        .naming(due));
    }
    if retiring > 0 {
        return Ok(Check::problem(
            "partitions",
            Status::Warn,
            format!("every partition due exists; {retiring} are past retention"),
            "run `provision partitions rollover` to apply retention",
        ));
    }
    Ok(Check::ok(
        "partitions",
        format!("every partition due within premake exists ({})", crate::report::count(planned.inputs.len(), "table")),
    ))
}

/// Sessions of any database of the server waiting on a lock for longer than `threshold`.
pub async fn lock_waits(client: &Client, threshold: Duration) -> Result<Check> {
    let rows = client.query(include_str!("sql/lock_waits.sql"), &[&threshold.as_secs_f64()]).await?;
    let waiting: Vec<String> = rows
        .iter()
        .map(|r| {
            let blockers: Vec<i32> = r.get("blocked_by");
            format!(
                "pid {} ({}@{}) has waited {:.0} s for {} on {}, blocked by pid {}",
                r.get::<_, i32>("pid"),
                r.get::<_, String>("usename"),
                r.get::<_, String>("datname"),
                r.get::<_, f64>("waiting_seconds"),
                r.get::<_, String>("mode"),
                r.get::<_, String>("object"),
                blockers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", pid ")
            )
        })
        .collect();
    let limit = threshold.as_secs_f64();
    if waiting.is_empty() {
        return Ok(Check::ok("lock waits", format!("no session has waited on a lock for more than {limit} s")));
    }
    Ok(Check::problem(
        "lock waits",
        Status::Fail,
        format!(
            "{} waited on a lock for more than {limit} s",
            match waiting.len() {
                1 => "1 session has".to_owned(),
                n => format!("{n} sessions have"),
            }
        ),
        "look at the blockers in pg_stat_activity (state, xact_start, query); end a stuck one with \
         SELECT pg_terminate_backend(<pid>)",
    )
    .naming(waiting))
}

/// System catalog tables with many dead tuples (vacuum is not keeping up).
pub async fn catalog_bloat(client: &Client) -> Result<Check> {
    let rows = client.query(include_str!("sql/catalog_bloat.sql"), &[&BLOAT_MIN_DEAD, &BLOAT_DEAD_SHARE]).await?;
    let bloated: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "pg_catalog.{}: {} dead tuples, {} live",
                r.get::<_, String>("relname"),
                r.get::<_, i64>("dead"),
                r.get::<_, i64>("live")
            )
        })
        .collect();
    if bloated.is_empty() {
        return Ok(Check::ok("catalog bloat", "no system catalog table holds many dead tuples"));
    }
    Ok(Check::problem(
        "catalog bloat",
        Status::Warn,
        format!(
            "{} many dead tuples",
            match bloated.len() {
                1 => "1 system catalog table holds".to_owned(),
                n => format!("{n} system catalog tables hold"),
            }
        ),
        "run VACUUM on them as a superuser (e.g. VACUUM pg_catalog.pg_attribute) and check that autovacuum is on",
    )
    .naming(bloated))
}
