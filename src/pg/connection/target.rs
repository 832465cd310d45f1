//! A resolved [`Target`]: its servers, credentials and TLS settings, and
//! connecting to it (trying each server in turn).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{pgpass, redact, tls, Origin, SslMode, APPLICATION_NAME};
use crate::error::{bad_input, unavailable};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Host {
    Tcp(String),
    Unix(PathBuf),
}

/// One server to try. `host` is `None` only when `hostaddr` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Endpoint {
    pub(super) host: Option<Host>,
    pub(super) hostaddr: Option<IpAddr>,
    pub(super) port: u16,
}

impl Endpoint {
    pub(super) fn is_unix(&self) -> bool {
        matches!(self.host, Some(Host::Unix(_))) && self.hostaddr.is_none()
    }

    /// `localhost:5432`, `[::1]:5432`, `db (10.0.0.5):5432`, `socket /run/pg/.s.PGSQL.5432`.
    pub(super) fn display(&self) -> String {
        fn bracket(host: &str) -> String {
            if host.contains(':') {
                format!("[{host}]")
            } else {
                host.to_owned()
            }
        }
        match (&self.host, self.hostaddr) {
            (Some(Host::Unix(dir)), None) => {
                format!("socket {}", dir.join(format!(".s.PGSQL.{}", self.port)).display())
            }
            (Some(Host::Tcp(host)), None) => format!("{}:{}", bracket(host), self.port),
            (Some(Host::Tcp(host)), Some(addr)) => format!("{host} ({addr}):{}", self.port),
            (Some(Host::Unix(_)) | None, Some(addr)) => {
                format!("{}:{}", bracket(&addr.to_string()), self.port)
            }
            (None, None) => format!("localhost:{}", self.port),
        }
    }

    /// The names this endpoint's host may have in a password file.
    pub(super) fn pgpass_hosts(&self) -> Vec<String> {
        match (&self.host, self.hostaddr) {
            (Some(Host::Tcp(host)), _) => vec![host.clone()],
            (Some(Host::Unix(dir)), _) => vec!["localhost".to_owned(), dir.display().to_string()],
            (None, Some(addr)) => vec![addr.to_string()],
            (None, None) => vec!["localhost".to_owned()],
        }
    }
}

/// Where a password came from (for hints; never the password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PasswordSource {
    Url,
    Env,
    Service,
    PgPass(PathBuf),
}

#[derive(Clone)]
pub(super) struct Password {
    pub(super) value: String,
    pub(super) source: PasswordSource,
}

/// A resolved database to connect to. Never prints its password.
#[derive(Clone)]
pub struct Target {
    pub(super) endpoints: Vec<Endpoint>,
    pub(super) user: String,
    pub(super) dbname: String,
    /// Given in the URL, `PGPASSWORD` or a service; else looked up in `pgpass`.
    pub(super) password: Option<Password>,
    pub(super) pgpass: Option<Arc<pgpass::PgPass>>,
    pub(super) tls: tls::TlsSettings,
    /// Every other setting (timeouts, options, application_name, ...); no
    /// host, port, user, database or password.
    pub(super) options: Config,
    pub(super) load_balance: bool,
    pub(super) origin: Origin,
    pub(super) warnings: Vec<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("origin", &self.origin)
            .field("endpoints", &self.endpoints.iter().map(Endpoint::display).collect::<Vec<_>>())
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("passfile", &self.pgpass.as_ref().map(|p| p.path().to_owned()))
            .field("sslmode", &self.tls.effective_mode().as_str())
            .field("sslrootcert", &self.tls.root_cert)
            .field("application_name", &self.options.get_application_name())
            .finish_non_exhaustive()
    }
}

impl Target {
    /// A server listening on a Unix socket in `dir` (the embedded sandbox, the test cluster).
    pub fn socket(dir: &Path, port: u16, user: &str, dbname: &str) -> Target {
        Target {
            endpoints: vec![Endpoint { host: Some(Host::Unix(dir.to_owned())), hostaddr: None, port }],
            user: user.to_owned(),
            dbname: dbname.to_owned(),
            password: None,
            pgpass: None,
            tls: tls::TlsSettings::disabled(),
            options: Config::new(),
            load_balance: false,
            origin: Origin::Sandbox,
            warnings: Vec::new(),
        }
    }

    /// The same server and credentials, another database.
    pub fn with_dbname(&self, dbname: &str) -> Target {
        let mut next = self.clone();
        next.dbname = dbname.to_owned();
        next
    }

    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    pub fn is_sandbox(&self) -> bool {
        self.origin == Origin::Sandbox
    }

    /// The `sslmode` in force (`require` with a root certificate acts as `verify-ca`).
    pub fn ssl_mode(&self) -> SslMode {
        self.tls.effective_mode()
    }

    /// One-line warnings found while resolving (e.g. a password file ignored
    /// for its permissions), for the caller to print on stderr. No secrets.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// One line naming host, port, database and user; never the password.
    /// E.g. `database "app" as user "bob" on localhost:5432`.
    pub fn describe(&self) -> String {
        format!("database \"{}\" as user \"{}\" on {}", self.dbname, self.user, self.places())
    }

    /// The first server tried, as data: its host (a name, an address, or a
    /// socket directory) and port. For JSON documents, whose `database` is
    /// an object rather than [`Target::describe`]'s sentence.
    pub fn host_port(&self) -> (String, u16) {
        let Some(endpoint) = self.endpoints.first() else { return ("localhost".to_owned(), 5432) };
        let host = match (&endpoint.host, endpoint.hostaddr) {
            (Some(Host::Tcp(host)), _) => host.clone(),
            (Some(Host::Unix(dir)), None) => dir.display().to_string(),
            (_, Some(addr)) => addr.to_string(),
            (None, None) => "localhost".to_owned(),
        };
        (host, endpoint.port)
    }

    /// How many servers the target lists (`host=a,b`): a pooler that routes
    /// by one address takes [`Target::host_port`]'s first.
    pub fn host_count(&self) -> usize {
        self.endpoints.len()
    }

    pub(super) fn places(&self) -> String {
        self.endpoints.iter().map(Endpoint::display).collect::<Vec<_>>().join(", ")
    }

    /// The password for `endpoint`, and where it came from.
    pub(super) fn password_for(&self, endpoint: &Endpoint) -> Option<Password> {
        if let Some(password) = &self.password {
            return Some(password.clone());
        }
        let pgpass = self.pgpass.as_ref()?;
        let hosts = endpoint.pgpass_hosts();
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        pgpass
            .lookup_any(&hosts, &endpoint.port.to_string(), &self.dbname, &self.user)
            .map(|value| Password { value: value.to_owned(), source: PasswordSource::PgPass(pgpass.path().to_owned()) })
    }

    pub(super) fn config_for(&self, endpoint: &Endpoint, password: Option<&Password>) -> Config {
        let mut config = self.options.clone();
        match (&endpoint.host, endpoint.hostaddr) {
            (Some(Host::Tcp(host)), _) => {
                config.host(host);
            }
            (Some(Host::Unix(dir)), _) => {
                config.host_path(dir);
            }
            // The address doubles as the TLS server name.
            (None, Some(addr)) => {
                config.host(addr.to_string());
            }
            (None, None) => {
                config.host("localhost");
            }
        }
        if let Some(addr) = endpoint.hostaddr {
            config.hostaddr(addr);
        }
        config.port(endpoint.port).user(&self.user).dbname(&self.dbname);
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        if let Some(password) = password {
            config.password(password.value.as_bytes());
        }
        config
    }

    /// The order to try the endpoints in (`load_balance_hosts=random` shuffles).
    pub(super) fn connect_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.endpoints.len()).collect();
        if self.load_balance {
            use std::hash::BuildHasher;
            let state = std::collections::hash_map::RandomState::new();
            order.sort_by_key(|&i| state.hash_one(i));
        }
        order
    }

    /// Connects and spawns the connection driver on the current runtime.
    ///
    /// Tries each host in turn. Errors are one line naming host, port,
    /// database and user with a hint, classified `unavailable` (exit 3); a
    /// TLS file that cannot be used (`sslrootcert`, ...) is `bad_input` (exit 2).
    pub async fn connect(&self) -> Result<Client> {
        let tls = if self.tls.effective_mode() != SslMode::Disable && self.endpoints.iter().any(|e| !e.is_unix()) {
            let config = self.tls.client_config().map_err(|e| bad_input(redact(&e)))?;
            Some(MakeRustlsConnect::new(config))
        } else {
            None
        };
        let mut failure = None;
        for index in self.connect_order() {
            let endpoint = &self.endpoints[index];
            let password = self.password_for(endpoint);
            let mut config = self.config_for(endpoint, password.as_ref());
            let result = match &tls {
                Some(tls) if !endpoint.is_unix() => {
                    config.ssl_mode(self.tls.wire_mode());
                    config.connect(tls.clone()).await.map(|(client, connection)| {
                        tokio::spawn(connection);
                        client
                    })
                }
                // Unix-domain sockets never use TLS.
                _ => {
                    config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                    config.connect(NoTls).await.map(|(client, connection)| {
                        tokio::spawn(connection);
                        client
                    })
                }
            };
            match result {
                Ok(client) => return Ok(client),
                Err(error) => failure = Some((index, error, password.map(|p| p.source))),
            }
        }
        let (index, error, source) = failure.expect("a target has at least one endpoint");
        Err(unavailable(self.connect_error(index, &error, source.as_ref())))
    }
}
