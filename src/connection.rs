//! Where to connect, and connecting.
//!
//! STUB: the public API below is fixed; the internals (URL/libpq-variable
//! resolution, pgpass, TLS) are being written separately.

use std::path::Path;

use anyhow::Result;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::unavailable;

/// Where the connection settings came from; shown by `status` and `sandbox url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    DatabaseUrl,
    Libpq,
    Sandbox,
}

/// A resolved database to connect to. Never prints its password.
#[derive(Clone)]
pub struct Target {
    config: Config,
    origin: Origin,
}

impl Target {
    /// A server listening on a Unix socket in `dir` (the embedded sandbox, the test cluster).
    pub fn socket(dir: &Path, port: u16, user: &str, dbname: &str) -> Target {
        let mut config = Config::new();
        config.host_path(dir).port(port).user(user).dbname(dbname);
        Target { config, origin: Origin::Sandbox }
    }

    /// The same server and credentials, another database.
    pub fn with_dbname(&self, dbname: &str) -> Target {
        let mut next = self.clone();
        next.config.dbname(dbname);
        next
    }

    pub fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or("postgres")
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// One line naming host, port, database and user; never the password.
    pub fn describe(&self) -> String {
        format!("database {}", self.dbname())
    }

    /// Connects and spawns the connection driver on the current runtime.
    pub async fn connect(&self) -> Result<Client> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| unavailable(format!("cannot connect to {}: {e}", self.describe())))?;
        tokio::spawn(connection);
        Ok(client)
    }
}

/// Resolves the target from `--database-url`/`DATABASE_URL` (`url`), then the
/// libpq variables read through `env`. `None` means "use the embedded sandbox".
pub fn resolve(url: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Target>> {
    let _ = env;
    match url {
        Some(url) => {
            let config: Config = url.parse().map_err(|e| crate::error::bad_input(format!("invalid database URL: {e}")))?;
            Ok(Some(Target { config, origin: Origin::Flag }))
        }
        None => Ok(None),
    }
}
