//! The arguments of `provision completions` and `provision man`: what a
//! package or an install script needs from the binary itself, generated from
//! this clap tree so it never goes stale.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (provision.1, provision-tenant-add.1, …) into
    /// this directory, created if missing; without it, the top page goes to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}
