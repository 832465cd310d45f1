//! `tenant move`: a schema tenant and its audit log, from the server that
//! holds it to another declared server (`[servers.<name>]`).
//!
//! The steps, each recorded on the source in `shared.tenant_moves` once
//! done ([`state`]), so a re-run resumes where a kill stopped:
//!
//! 1. provision the tenant on the target with `tenant add`'s code at the
//!    source's blueprint version, empty it, add every partition the source
//!    has, register it `moving` ([`target`]);
//! 2. publish the schema and the audit log (partitions via their root) on
//!    the source ([`replicate`]);
//! 3. make a slot there and subscribe from the target with `copy_data`;
//!    wait until it has caught up, reporting rows and lag;
//! 4. freeze the tenant's writes on the source, wait until the target has
//!    applied everything, set sequences, compare counts and checksums, and
//! 5. switch the registries in the same transaction ([`freeze`]);
//!    then drop subscription, publication and slot;
//! 6. back up and drop the source copy, unless `--keep-source` ([`cleanup`]).
//!
//! The source stays authoritative until the switch: a kill or failure
//! before it leaves the tenant active and writable there, and `--abort`
//! removes everything the move made. A failure during the freeze (past
//! `--max-freeze`, or copies that differ) rolls the freeze back and aborts
//! the move. `--offline` replaces steps 2–3 with `pg_dump | psql` inside the
//! freeze ([`offline`]). With `--pgbouncer`, the tenant's PgBouncer alias
//! is paused around the freeze and pointed at the target ([`cutover`]).
//! Ops never prints: progress goes to [`MoveReporter`].

mod checks;
mod cleanup;
mod cutover;
mod flow;
mod freeze;
mod offline;
mod relations;
mod replicate;
mod state;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::error::{bad_input, failed, unavailable};
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::backup::Written;
use crate::ops::provisioner::Settings;
use crate::ops::tenant::add::AddReporter;
use crate::pg::connection::Target;
use crate::pg::tools::PgDump;

pub use cutover::Cutover;
pub use flow::{abort, run};
pub use state::Step;

/// Progress of a move beyond notes and warnings.
pub trait MoveReporter: AddReporter {
    /// A step begins ("provisioning tenant lic on server b").
    fn step(&self, _text: &str) {}
    /// The live copy began; about `rows` rows to copy (an estimate).
    fn copy_started(&self, _rows: u64) {}
    /// Rows on the target so far and the source's WAL not yet confirmed (bytes).
    fn copy_progress(&self, _rows: u64, _lag_bytes: i64) {}
    fn copy_finished(&self) {}
}

/// One server of the move: its tenants.toml name and its connection.
#[derive(Debug, Clone)]
pub struct Side {
    pub name: String,
    pub target: Target,
}

/// What the caller asks for.
pub struct Request<'a> {
    pub code: &'a TenantCode,
    pub to: &'a str,
    pub offline: bool,
    pub keep_source: bool,
    pub max_freeze: Duration,
    pub config: &'a Config,
    pub settings: &'a Settings,
    /// Needed unless `--keep-source` and not `--offline`.
    pub pg_dump: Option<&'a PgDump>,
    /// Where the source copy's backup goes.
    pub backup_out: PathBuf,
    /// The applications' PgBouncer, cut over with the switch (`--pgbouncer`).
    pub cutover: Option<Cutover>,
}

/// How a move ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Moved,
    /// A re-run found the tenant on the target already: nothing to do.
    AlreadyMoved,
    Aborted,
}

/// What a move did.
#[derive(Debug)]
pub struct Moved {
    pub outcome: Outcome,
    pub from: String,
    pub to: String,
    pub rows: u64,
    pub freeze_ms: Option<u64>,
    /// The steps this run did, in order.
    pub steps: Vec<Step>,
    /// The step an interrupted run had reached, when this one resumed it.
    pub resumed_from: Option<Step>,
    pub backup: Option<Written>,
    /// Logins granted the tenant on the source but not on the target.
    pub missing_logins: Vec<String>,
    /// The source copy was kept (`--keep-source`).
    pub kept_source: bool,
    /// The freeze's longest step and its milliseconds.
    pub slowest: Option<(String, u64)>,
    /// How long PgBouncer held the tenant's clients (the cutover's pause).
    pub paused_ms: Option<u64>,
}

/// Where `code` is among `servers`, for a move to `to`.
#[derive(Debug)]
pub(crate) enum Location {
    /// On this source (index), with the unfinished move recorded there.
    Source(usize, Option<state::Recorded>),
    /// Active on the target already and no move pending.
    AlreadyThere,
}

/// Finds the source: the server with an unfinished move of `code` recorded,
/// else the one other than `to` where it is registered and not moved.
pub(crate) async fn locate(code: &TenantCode, to: &str, servers: &[Side]) -> Result<Location> {
    let (mut live, mut pending, mut there) = (Vec::new(), None, false);
    let mut unreachable = Vec::new();
    for (i, side) in servers.iter().enumerate() {
        // A server that is down cannot be the target; it may be the source, which the error then says.
        let client = match side.target.connect().await {
            Ok(client) => client,
            Err(e) if side.name != to => {
                unreachable.push(format!("{} ({e:#})", side.name));
                continue;
            }
            Err(e) => return Err(e.context(format!("server {to}"))),
        };
        let status = state::status(&client, code).await?;
        if side.name == to {
            there = status.as_deref() == Some("active");
            continue;
        }
        match state::read(&client, code).await? {
            Some(recorded) if pending.is_none() => pending = Some((i, recorded)),
            Some(_) => return Err(failed(format!("tenant {code}: more than one server records a move of it"))),
            // Placement's rule of where a tenant lives, its one owner.
            None if status.as_deref().is_some_and(crate::ops::placement::serves) => live.push(i),
            None => {}
        }
    }
    if let Some((i, recorded)) = pending {
        if recorded.target_server != to {
            return Err(bad_input(format!(
                "tenant {code}: server {} records an unfinished move to server {}; re-run with --to {} or abort it \
                 with `provision tenant move {code} --to {} --abort`",
                servers[i].name, recorded.target_server, recorded.target_server, recorded.target_server
            )));
        }
        return Ok(Location::Source(i, Some(recorded)));
    }
    match (live.as_slice(), there) {
        ([one], _) => Ok(Location::Source(*one, None)),
        ([], true) => Ok(Location::AlreadyThere),
        ([], false) if unreachable.is_empty() => {
            Err(bad_input(format!("tenant {code} is registered on no declared server; nothing to move")))
        }
        ([], false) => Err(unavailable(format!(
            "tenant {code} is registered on no server that answered; these did not: {}",
            unreachable.join(", ")
        ))),
        (many, _) => {
            let names: Vec<&str> = many.iter().map(|i| servers[*i].name.as_str()).collect();
            Err(failed(format!(
                "tenant {code} is registered on several servers ({}); nothing was moved",
                names.join(", ")
            )))
        }
    }
}
