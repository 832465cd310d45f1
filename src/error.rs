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

impl ExitCode {
    /// The stable name of the code's class, the `kind` of a `--json` error
    /// document (README, "Exit codes"): scripts match on it, not on messages.
    pub fn kind(self) -> &'static str {
        match self {
            ExitCode::Success => "success",
            ExitCode::Failed => "failed",
            ExitCode::BadInput => "bad_input",
            ExitCode::Unavailable => "unavailable",
        }
    }
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

/// The exit error of a run over many tenants: "unavailable" (3) when every
/// failure was a lock or connection timeout (retrying later is the whole
/// remedy), else "failed" (1).
pub fn tenants_failed<'a>(message: String, failures: impl IntoIterator<Item = &'a anyhow::Error>) -> anyhow::Error {
    let mut codes = failures.into_iter().map(exit_code_of).peekable();
    let only_unavailable = codes.peek().is_some() && codes.all(|code| code == ExitCode::Unavailable);
    match only_unavailable {
        true => unavailable(message),
        false => failed(message),
    }
}

/// When `error` comes from a connection the server dropped mid-run (a crash,
/// a restart, `pg_terminate_backend`), what to tell the operator: which
/// server, and that a re-run resumes. `None` for any other error.
pub fn lost_connection(error: &anyhow::Error, server: Option<&str>) -> Option<String> {
    use tokio_postgres::error::SqlState;
    let lost = error.chain().any(|cause| {
        if let Some(db) = cause.downcast_ref::<tokio_postgres::Error>() {
            let shutdown = [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW];
            return db.is_closed() || db.code().is_some_and(|code| shutdown.contains(code));
        }
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            use std::io::ErrorKind::*;
            matches!(io.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe)
        })
    });
    if !lost {
        return None;
    }
    let server = server.map_or_else(|| "the server".to_owned(), |s| s.to_owned());
    Some(format!(
        "the connection to {server} was lost (the server crashed, restarted or ended the session): check that the \
         server is up and read its log, then run the same command again, which resumes where this one stopped"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_has_a_stable_kind() {
        let kinds: Vec<(u8, &str)> = [ExitCode::Failed, ExitCode::BadInput, ExitCode::Unavailable]
            .into_iter()
            .map(|code| (code as u8, code.kind()))
            .collect();
        assert_eq!(kinds, [(1, "failed"), (2, "bad_input"), (3, "unavailable")]);
        assert_eq!(exit_code_of(&bad_input("x")).kind(), "bad_input");
        assert_eq!(exit_code_of(&anyhow::anyhow!("unclassified")).kind(), "failed");
    }
}
