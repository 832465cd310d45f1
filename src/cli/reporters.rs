//! The CLI's side of the engine's progress traits: each `ops` use case that
//! reports more than notes and warnings declares a reporter trait, and this
//! file implements it with the printer's lines and progress bars (as uv's
//! `commands/reporters.rs` implements its engine crates' reporters).

use crate::cli::context::display_path;
use crate::cli::printer::{strong, Printer};
use crate::model::tenant::TenantCode;
use crate::ops::backup::{self, Written};
use crate::ops::tenant::remove::RemoveReporter;

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
