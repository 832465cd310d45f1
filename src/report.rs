//! How the engine tells about what it is doing without printing.
//!
//! `ops` and `store` report through [`Reporter`]; the CLI's printer
//! implements it and alone decides what reaches the terminal (as uv's engine
//! crates declare reporter traits that its CLI implements). Tests and nested
//! runs (a verification's scratch database) use [`Silent`].
//!
//! A use case with progress beyond these messages (a tenant finished, a file
//! written) declares its own trait extending [`Reporter`], with quiet
//! defaults, beside the use case (e.g. `ops::tenant::upgrade::UpgradeReporter`);
//! `cli/reporters.rs` implements them with lines and progress bars.

/// Receives the engine's messages. Every method has a quiet default, so a
/// reporter implements only what it shows.
pub trait Reporter: Sync {
    /// Something the operator should know, shown unless quiet (waiting for a lock, …).
    fn note(&self, _text: &str) {}
    /// Detail shown only when verbose (each step, each connection).
    fn detail(&self, _text: &str) {}
    /// Something that may need action; shown even when quiet.
    fn warn(&self, _text: &str) {}
}

/// A reporter that drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {}
