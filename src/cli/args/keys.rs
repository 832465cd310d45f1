//! `provision keys …`: the arguments of the key commands (column
//! encryption, core V14). Keys are named by file, never given as arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt a tenant's encrypted columns from one key to another, in batches; then retire the old key.
    #[command(after_help = "Example:\n  \
        provision keys rotate --tenant acme --from-key-file keys/acme-2026q3 --to-key-file keys/acme-2026q4\n  \
        PROVISION_KEY_FILE_FROM=old.key PROVISION_KEY_FILE_TO=new.key provision --json keys rotate --tenant acme\n\n\
        Resumable: after a kill, run it again; values already under the new key are skipped.\n\
        Exit codes: 0 rotated (or already done); 2 a key file or the old key is wrong, nothing changed;\n\
        3 a lock did not come within --lock-timeout (finished batches are kept); 1 failed.")]
    Rotate(KeysRotateArgs),
}

#[derive(Debug, Args)]
pub struct KeysRotateArgs {
    /// The tenant whose values are re-encrypted.
    #[arg(long, value_name = "CODE")]
    pub tenant: String,
    /// File holding the key the values are encrypted with now.
    #[arg(long, env = "PROVISION_KEY_FILE_FROM", value_name = "FILE")]
    pub from_key_file: PathBuf,
    /// File holding the new key (at least 32 characters; `openssl rand -base64 48 > FILE`).
    #[arg(long, env = "PROVISION_KEY_FILE_TO", value_name = "FILE")]
    pub to_key_file: PathBuf,
    /// Rows per batch, one transaction each: live traffic waits at most one batch.
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch: u32,
}
