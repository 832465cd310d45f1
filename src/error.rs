//! Exit codes and the error kinds that choose them.
//!
//! Every failure travels as an `anyhow::Error`; the few that must map to a
//! specific exit code carry a [`Classified`] somewhere in their chain. `main`
//! asks [`exit_code_of`] once, so no command decides exit codes by itself.

use std::fmt;

/// The documented exit codes (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything asked for was done.
    Success = 0,
    /// The operation failed (the message names the tenants).
    Failed = 1,
    /// Bad input: arguments, identifiers, `tenants.toml`. Nothing was changed.
    BadInput = 2,
    /// Cannot connect, or a lock wait timed out. Nothing was changed.
    Unavailable = 3,
}

/// An error whose exit code is decided where it is raised.
#[derive(Debug)]
pub struct Classified {
    pub code: ExitCode,
    pub message: String,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

/// Bad input (exit 2): the message names the thing and what to do.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    Classified { code: ExitCode::BadInput, message: message.into() }.into()
}

/// The database cannot be reached or a lock could not be had in time (exit 3).
pub fn unavailable(message: impl Into<String>) -> anyhow::Error {
    Classified { code: ExitCode::Unavailable, message: message.into() }.into()
}

/// The operation failed (exit 1).
pub fn failed(message: impl Into<String>) -> anyhow::Error {
    Classified { code: ExitCode::Failed, message: message.into() }.into()
}

/// Picks the exit code for an error by walking its cause chain.
///
/// A PostgreSQL `lock_not_available` (55P03, raised when `lock_timeout`
/// expires) counts as "unavailable" wherever it surfaces.
pub fn exit_code_of(error: &anyhow::Error) -> ExitCode {
    for cause in error.chain() {
        if let Some(classified) = cause.downcast_ref::<Classified>() {
            return classified.code;
        }
        if let Some(db) = cause.downcast_ref::<tokio_postgres::Error>() {
            if db.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                return ExitCode::Unavailable;
            }
        }
    }
    ExitCode::Failed
}
