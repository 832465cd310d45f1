//! Where to connect, and connecting.
//!
//! # Where the settings come from
//!
//! 1. `--database-url`, else `DATABASE_URL`: a `postgresql://` / `postgres://`
//!    URL or a libpq `key=value` string. The CLI passes whichever applies to
//!    [`resolve_with_origin`] with [`Origin::Flag`] or [`Origin::DatabaseUrl`];
//!    [`resolve`] works it out itself (see there).
//! 2. Otherwise, when any of `PGHOST`, `PGHOSTADDR`, `PGPORT`, `PGUSER`,
//!    `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`, `PGSERVICE` is set (non-empty):
//!    the libpq variables ([`Origin::Libpq`]).
//! 3. Otherwise `None`: the embedded sandbox.
//!
//! Within a source, things are filled in the way libpq (and so `psql`) does:
//! what the URL leaves out comes from its service (`service=` / `PGSERVICE`),
//! then the `PG*` variables, then the defaults (host: the socket directory
//! `/var/run/postgresql` if it exists, else `localhost`; port 5432; user:
//! `USER`, else the OS user; database: the user name; `sslmode=prefer`). A
//! password given nowhere comes from the password file (`passfile=`,
//! `PGPASSFILE`, else `~/.pgpass`), looked up per host at connect time.
//!
//! `sslmode` accepts all of libpq's values (tokio-postgres only knows three)
//! and `sslrootcert`, `sslcert`, `sslkey` are honoured; see [`tls`].
//!
//! Passwords never appear in output: not in [`Target::describe`],
//! [`Target::redacted_url`], `Debug`, nor any error message.
//!
//! # Where things are
//!
//! [`resolve`] gathers the settings ([`settings`]) and builds the [`Target`]
//! ([`target`]), which connects; [`explain`] words a failed connection,
//! [`url`] and [`libpq_env`] write a target back as a URL or as the
//! variables of a libpq child.

mod conninfo;
mod explain;
mod libpq_env;
mod os_user;
mod pgpass;
mod redact;
mod resolve;
mod service;
mod settings;
mod target;
mod tls;
pub(crate) mod url;

pub use libpq_env::ENV_VARS;
pub use redact::redact;
pub use resolve::{resolve, resolve_with_origin};
pub use target::Target;
pub use tls::SslMode;

/// Where the connection settings came from; shown by `status` and `sandbox url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    DatabaseUrl,
    Libpq,
    Sandbox,
    /// Another option of the command that takes a URL (`--pgbouncer`).
    Option(&'static str),
}

impl Origin {
    /// How to name a URL from this origin in messages.
    fn url_name(self) -> &'static str {
        match self {
            Origin::Flag => "--database-url",
            Origin::DatabaseUrl => "DATABASE_URL",
            Origin::Libpq | Origin::Sandbox => "the database URL",
            Origin::Option(name) => name,
        }
    }
}

const DEFAULT_PORT: u16 = 5432;
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";
const APPLICATION_NAME: &str = "provision";

#[cfg(test)]
mod tests;
