//! The PgBouncer cutover of a move (`--pgbouncer URL --routing-out FILE`):
//! applications that reach the tenant through PgBouncer see a pause, never
//! an error.
//!
//! Before the freeze, `PAUSE <code>` on PgBouncer's console waits for the
//! tenant's running transactions to end and then holds its clients' next
//! queries in PgBouncer. After the switch the routing file is regenerated
//! from every server's registry (the source now says `moved`, the target
//! `active`), `RELOAD` points the alias at the target, and `RESUME` lets
//! the held queries go on, to the target. Without a switch (the freeze
//! failed and was rolled back) only `RESUME` runs: the source serves on.
//!
//! Without the cutover, clients pooled to the source keep reaching it after
//! the switch, where the tenant's writes are revoked, until the routing is
//! regenerated and reloaded by hand.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Side;
use crate::error::failed;
use crate::model::tenant::TenantCode;
use crate::pg::connection::Target;
use crate::pg::pgbouncer::Console;

/// Where the applications' PgBouncer is, and the routing file it `%include`s.
#[derive(Debug, Clone)]
pub struct Cutover {
    pub console: Target,
    pub routing_file: PathBuf,
}

/// The tenant's alias, paused; end it with [`Paused::reroute`] or [`Paused::resume`].
pub(super) struct Paused<'a> {
    cutover: &'a Cutover,
    console: Console,
    alias: String,
    since: Instant,
}

impl Cutover {
    /// Pauses the tenant's alias, waiting at most `bound` for its running
    /// transactions; past it the pause is lifted and the move stops before
    /// its freeze (the source still serves, nothing changed).
    pub(super) async fn pause(&self, code: &TenantCode, bound: Duration) -> Result<Paused<'_>> {
        let console = Console::connect(&self.console).await?;
        let since = Instant::now();
        let alias = code.as_str().to_owned();
        match tokio::time::timeout(bound, console.pause(&alias)).await {
            Ok(Ok(())) => Ok(Paused { cutover: self, console, alias, since }),
            Ok(Err(e)) => Err(e.context(format!("pausing alias {alias} on PgBouncer"))),
            Err(_) => {
                // The console still waits on the PAUSE: lift it from a second session.
                let resumed = match Console::connect(&self.console).await {
                    Ok(second) => second.resume(&alias).await,
                    Err(e) => Err(e),
                };
                let left = match resumed {
                    Ok(()) => "the pause was lifted".to_owned(),
                    Err(e) => format!("lifting the pause failed ({e:#}): run RESUME {alias} on PgBouncer's console"),
                };
                Err(failed(format!(
                    "PgBouncer did not pause alias {alias} within --max-freeze ({:.1} s): a transaction of the \
                     tenant kept running; {left}, nothing was moved",
                    bound.as_secs_f64()
                )))
            }
        }
    }

    /// After a switch this run did not cut over (a re-run after a kill):
    /// the routing file, `RELOAD`, and `RESUME` of a pause the killed run
    /// left behind.
    pub(super) async fn reroute_only(&self, servers: &[Side], code: &TenantCode) -> Result<()> {
        let console = Console::connect(&self.console).await?;
        self.rewrite(servers).await?;
        console.reload().await?;
        console.resume_if_paused(code.as_str()).await?;
        Ok(())
    }

    /// `--abort`: lifts a pause a killed run left behind, nothing else.
    pub async fn release(&self, code: &TenantCode) -> Result<bool> {
        Console::connect(&self.console).await?.resume_if_paused(code.as_str()).await
    }

    async fn rewrite(&self, servers: &[Side]) -> Result<()> {
        let named: Vec<(&str, &Target)> = servers.iter().map(|s| (s.name.as_str(), &s.target)).collect();
        crate::ops::routing::rewrite(&named, &self.routing_file).await?;
        Ok(())
    }
}

impl Paused<'_> {
    /// After the switch: routing file, `RELOAD`, `RESUME`. The pause is
    /// lifted even when the file or the reload fails, so clients are never
    /// left waiting (they then reach the source, read-only, until a re-run
    /// of the move rewrites the routing). The milliseconds clients waited.
    pub(super) async fn reroute(self, servers: &[Side]) -> Result<u64> {
        let rerouted = match self.cutover.rewrite(servers).await {
            Ok(()) => self.console.reload().await,
            Err(e) => Err(e),
        };
        let paused = self.resume().await?;
        rerouted.map_err(|e| {
            e.context(
                "the tenant is switched but PgBouncer still routes it to the source: re-run the same command, which \
                 rewrites the routing and reloads PgBouncer",
            )
        })?;
        Ok(paused)
    }

    /// Lifts the pause; the milliseconds clients waited.
    pub(super) async fn resume(self) -> Result<u64> {
        let resumed = self.console.resume(&self.alias).await;
        let waited = self.since.elapsed().as_millis() as u64;
        resumed.map_err(|e| {
            e.context(format!("PgBouncer still pauses alias {}: run RESUME {} on its console", self.alias, self.alias))
        })?;
        Ok(waited)
    }
}
