//! `tenant move --offline`: the copy is `pg_dump --data-only | psql`, run
//! while the tenant's writes are frozen, for the whole copy (so it needs no
//! `wal_level = logical`, no publication and no subscription).
//!
//! pg_dump reads the snapshot the freezing transaction exports, so it sees
//! exactly what the comparison then checks; it dumps every table, partition
//! and sequence of the tenant (the sequences as setval). psql loads it into
//! the empty target copy in one transaction with `session_replication_role =
//! replica`, so the target's audit triggers do not log the copied rows a
//! second time and its foreign keys do not fire on the load order. Both get
//! their connections from libpq variables, never a command line, and every
//! inherited `PG*` variable is removed first.

use std::process::Stdio;

use anyhow::{Context as _, Result};
use tokio_postgres::Transaction;

use super::relations::Relations;
use crate::error::failed;
use crate::pg::connection::redact;
use crate::pg::connection::Target;
use crate::pg::tools::PgDump;

/// What the offline copy needs.
pub struct Dump<'a> {
    pub pg_dump: &'a PgDump,
    pub from: &'a Target,
    pub to: &'a Target,
    pub relations: &'a Relations,
    pub server_major: u32,
}

impl Dump<'_> {
    /// Copies every row the frozen `src` transaction sees into the target.
    pub async fn run(&self, src: &Transaction<'_>) -> Result<()> {
        let snapshot: String = src.query_one("SELECT pg_catalog.pg_export_snapshot()", &[]).await?.get(0);
        let tool = self.pg_dump.for_server(self.server_major)?;
        let psql = tool.path.with_file_name("psql");
        let mut args = vec![
            "--data-only".to_owned(),
            "--load-via-partition-root".to_owned(),
            "--no-password".to_owned(),
            format!("--snapshot={snapshot}"),
        ];
        let mut names = self.relations.all_tables();
        names.extend(self.relations.sequences.iter().cloned());
        for name in names {
            args.push("--table".to_owned());
            args.push(name);
        }
        let mut dump = command(&tool.path, self.from, None);
        let mut dump = dump.args(&args).stdout(Stdio::piped()).spawn().context("cannot run pg_dump")?;
        let piped: Stdio = dump.stdout.take().context("pg_dump's output")?.try_into()?;
        let mut load = command(&psql, self.to, Some("-c session_replication_role=replica"));
        load.args(["-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--single-transaction"]).stdin(piped);
        let load = load.stdout(Stdio::null()).spawn().with_context(|| format!("cannot run {}", psql.display()))?;
        let (dumped, loaded) = tokio::join!(dump.wait_with_output(), load.wait_with_output());
        let (dumped, loaded) = (dumped?, loaded?);
        if !dumped.status.success() {
            return Err(failed(format!("pg_dump failed: {}", last_line(&dumped.stderr))));
        }
        if !loaded.status.success() {
            return Err(failed(format!("psql failed loading the target copy: {}", last_line(&loaded.stderr))));
        }
        Ok(())
    }
}

/// `program` connected to `target` through libpq variables only, with
/// `options` added to the target's own `PGOPTIONS`.
fn command(program: &std::path::Path, target: &Target, options: Option<&str>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            command.env_remove(&key);
        }
    }
    let mut env = target.libpq_env();
    if let Some(options) = options {
        match env.iter_mut().find(|(k, _)| k == "PGOPTIONS") {
            Some((_, value)) => *value = format!("{value} {options}"),
            None => env.push(("PGOPTIONS".to_owned(), options.to_owned())),
        }
    }
    command.envs(env).stdin(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
    command
}

/// The last non-empty line of a tool's stderr, without any password.
fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("no message");
    redact(line)
}
