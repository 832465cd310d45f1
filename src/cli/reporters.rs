//! The CLI's side of the engine's progress traits: each `ops` use case that
//! reports more than notes and warnings declares a reporter trait, and this
//! file implements it with the printer's lines and progress bars (as uv's
//! `commands/reporters.rs` implements its engine crates' reporters).

use std::sync::OnceLock;

use indicatif::ProgressBar;

use crate::cli::context::display_path;
use crate::cli::printer::{count, good, strong, FleetProgress, Printer};
use crate::model::tenant::TenantCode;
use crate::ops::backup::{self, Written};
use crate::ops::keys::RotateReporter;
use crate::ops::partitions::rollover::{is_failed, is_skipped, RolloverReporter};
use crate::ops::provisioner::Outcome;
use crate::ops::rollover::TenantResult;
use crate::ops::tenant::add::AddReporter;
use crate::ops::tenant::remove::RemoveReporter;
use crate::ops::tenant::upgrade::UpgradeReporter;
use crate::ops::up::UpReporter;
use crate::ops::verify::{self, VerifyReporter};
use crate::report::Reporter;

/// `tenant remove`: the final backup's line comes as soon as it is written.
impl RemoveReporter for Printer {
    fn backed_up(&self, code: &TenantCode, written: &Written) {
        self.line(format!(
            "backed up tenant {} to {} ({})",
            strong(code),
            display_path(&written.path).display(),
            backup::human_size(written.size_bytes)
        ));
    }
}

/// `partitions rollover`: a bar over the tenants with work, and one line
/// per tenant printed above it.
pub struct RolloverProgress<'a> {
    printer: &'a Printer,
    bar: ProgressBar,
}

impl<'a> RolloverProgress<'a> {
    pub fn new(printer: &'a Printer, tenants: usize) -> Self {
        RolloverProgress { printer, bar: printer.progress(tenants as u64, "rollover") }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for RolloverProgress<'_> {
    fn note(&self, text: &str) {
        self.bar.suspend(|| self.printer.note(text));
    }

    fn detail(&self, text: &str) {
        self.bar.suspend(|| self.printer.detail(text));
    }

    fn warn(&self, text: &str) {
        self.bar.suspend(|| self.printer.warn(text));
    }
}

impl RolloverReporter for RolloverProgress<'_> {
    fn tenant_rolled(&self, r: &TenantResult) {
        self.bar.inc(1);
        self.bar.suspend(|| {
            if is_skipped(r) {
                let why = "skipped: another provision process holds its lock (use --wait to wait)";
                self.printer.line(format!("{:<16} {why}", r.tenant));
            } else if is_failed(r) {
                // A lock timeout's one-line reason ends the run as its error instead.
                if !r.lock_timeout {
                    self.printer.warn_tenant(&r.tenant, r.error.as_deref().unwrap_or("failed"));
                }
            } else {
                self.printer.line(format!(
                    "{:<16} {} created, {} detached, {} dropped, {} archived, {} moved, {} released",
                    strong(&r.tenant),
                    r.created.len(),
                    r.detached.len(),
                    r.dropped.len(),
                    r.archived.len(),
                    count(r.rows_moved, "row"),
                    count(r.rows_released, "row")
                ));
            }
        });
    }
}

/// `tenant upgrade`: an overall bar and one line per worker, drawn once the
/// pool is open; each tenant's result line printed above them.
pub struct UpgradeProgress<'a> {
    printer: &'a Printer,
    fleet: OnceLock<FleetProgress>,
}

impl<'a> UpgradeProgress<'a> {
    pub fn new(printer: &'a Printer) -> Self {
        UpgradeProgress { printer, fleet: OnceLock::new() }
    }
}

impl Reporter for UpgradeProgress<'_> {
    fn note(&self, text: &str) {
        self.printer.note(text);
    }

    fn detail(&self, text: &str) {
        self.printer.detail(text);
    }

    fn warn(&self, text: &str) {
        self.printer.warn(text);
    }
}

impl UpgradeReporter for UpgradeProgress<'_> {
    fn upgrade_started(&self, tenants: usize, workers: usize) {
        let _ = self.fleet.set(self.printer.fleet_progress(tenants as u64, workers, "upgrading tenants"));
    }

    fn tenant_started(&self, worker: usize, code: &TenantCode) {
        if let Some(fleet) = self.fleet.get() {
            fleet.working(worker, &format!("{code}: upgrading"));
        }
    }

    fn tenant_finished(&self, worker: usize, code: &TenantCode, result: &anyhow::Result<Outcome>) {
        let line = match result {
            Ok(Outcome::Upgraded { from, version, applied, .. }) => {
                Ok(format!("{:<16} upgraded {from} → {version} ({})", code.as_str(), applied.join(", ")))
            }
            // Not only a crash leaves a tenant incomplete (a revoked grant, a
            // dropped trigger): say what was missing, not a guessed cause.
            Ok(Outcome::Completed { version, repaired, .. }) => Ok(match repaired.is_empty() {
                true => format!("{:<16} completed at version {version}", code.as_str()),
                false => {
                    format!("{:<16} completed at version {version}: it lacked {}", code.as_str(), repaired.join(", "))
                }
            }),
            Ok(_) => Ok(format!("{:<16} up to date", code.as_str())),
            Err(e) => Err((code.as_str(), crate::pg::connection::redact(&format!("{e:#}")))),
        };
        if let Some(fleet) = self.fleet.get() {
            let state = if line.is_ok() { "done" } else { "failed" };
            fleet.finished(worker, &format!("{code}: {state}"));
            fleet.done(self.printer, line);
        }
    }

    fn upgrade_finished(&self) {
        if let Some(fleet) = self.fleet.get() {
            fleet.finish();
        }
    }
}

/// The verification `up`, `tenant add` and `db create` end with: who was
/// busy, and the findings on stderr for people (JSON callers embed the outcome).
impl VerifyReporter for Printer {
    fn verified(&self, outcome: &verify::Outcome) {
        crate::cli::verify::say_who_was_busy(self, outcome);
        if !outcome.is_clean() && !self.is_json() {
            for line in verify::report::text(outcome).lines() {
                self.always("warn", None, line);
            }
        }
    }
}

/// `tenant add`: another tenant an interrupted run left incomplete, finished first.
impl AddReporter for Printer {
    fn completed_other(&self, code: &TenantCode) {
        self.line(format!("{} tenant {code}, which was incomplete", good("completed")));
    }
}

/// `up`: an overall bar over the tenants and one line per worker, drawn
/// once the workers are open.
pub struct UpProgress<'a> {
    printer: &'a Printer,
    fleet: OnceLock<FleetProgress>,
}

impl<'a> UpProgress<'a> {
    pub fn new(printer: &'a Printer) -> Self {
        UpProgress { printer, fleet: OnceLock::new() }
    }
}

impl Reporter for UpProgress<'_> {
    fn note(&self, text: &str) {
        self.printer.note(text);
    }

    fn detail(&self, text: &str) {
        self.printer.detail(text);
    }

    fn warn(&self, text: &str) {
        self.printer.warn(text);
    }
}

impl VerifyReporter for UpProgress<'_> {
    fn verified(&self, outcome: &verify::Outcome) {
        self.printer.verified(outcome);
    }
}

impl UpReporter for UpProgress<'_> {
    fn tenants_started(&self, tenants: usize, workers: usize) {
        let _ = self.fleet.set(self.printer.fleet_progress(tenants as u64, workers, "tenants"));
    }

    fn tenant_started(&self, worker: usize, code: &str) {
        if let Some(fleet) = self.fleet.get() {
            fleet.working(worker, code);
        }
    }

    fn tenant_finished(&self, worker: usize, code: &str, failed: bool) {
        if let Some(fleet) = self.fleet.get() {
            fleet.finished(worker, &format!("{code}: {}", if failed { "failed" } else { "done" }));
            fleet.tick();
        }
    }

    fn tenants_finished(&self) {
        if let Some(fleet) = self.fleet.get() {
            fleet.finish();
        }
    }
}

/// `keys rotate`: a bar over the values to re-encrypt, drawn once the
/// census has counted them.
pub struct RotateProgress<'a> {
    printer: &'a Printer,
    bar: OnceLock<ProgressBar>,
}

impl<'a> RotateProgress<'a> {
    pub fn new(printer: &'a Printer) -> Self {
        RotateProgress { printer, bar: OnceLock::new() }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }

    fn above_bar(&self, show: impl FnOnce()) {
        match self.bar.get() {
            Some(bar) => bar.suspend(show),
            None => show(),
        }
    }
}

impl Reporter for RotateProgress<'_> {
    fn note(&self, text: &str) {
        self.above_bar(|| self.printer.note(text));
    }

    fn detail(&self, text: &str) {
        self.above_bar(|| self.printer.detail(text));
    }

    fn warn(&self, text: &str) {
        self.above_bar(|| self.printer.warn(text));
    }
}

impl RotateReporter for RotateProgress<'_> {
    fn rotation_started(&self, values: u64) {
        let _ = self.bar.set(self.printer.progress(values, "re-encrypting"));
    }

    fn batch_committed(&self, table: &str, values: u64) {
        if let Some(bar) = self.bar.get() {
            bar.set_message(format!("re-encrypting {table}"));
            bar.inc(values);
        }
    }
}
