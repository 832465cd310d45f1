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

mod conninfo;
mod os_user;
mod pgpass;
mod redact;
mod service;
mod tls;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use tokio_postgres::config::TargetSessionAttrs;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{bad_input, unavailable};

pub use redact::redact;
pub use tls::SslMode;

/// Where the connection settings came from; shown by `status` and `sandbox url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    DatabaseUrl,
    Libpq,
    Sandbox,
}

impl Origin {
    /// How to name a URL from this origin in messages.
    fn url_name(self) -> &'static str {
        match self {
            Origin::Flag => "--database-url",
            Origin::DatabaseUrl => "DATABASE_URL",
            Origin::Libpq | Origin::Sandbox => "the database URL",
        }
    }
}

const DEFAULT_PORT: u16 = 5432;
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";
const APPLICATION_NAME: &str = "provision";

/// Every environment variable that changes where provision connects:
/// `DATABASE_URL`, the service variables and each libpq variable in
/// [`LIBPQ_ENV`]. A test harness clears these to make the binary use the
/// embedded sandbox or only what the test gives it. (Same list as helper
/// "split"'s `libpq_env::ENV_VARS`; keep theirs when both land.)
pub const ENV_VARS: &[&str] = &[
    "DATABASE_URL",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGSSLMODE",
    "PGREQUIRESSL",
    "PGSSLNEGOTIATION",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLROOTCERT",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
    "PGLOADBALANCEHOSTS",
    "PGCHANNELBINDING",
    "PGGSSENCMODE",
    "PGCLIENTENCODING",
];

/// Any of these set (non-empty) means "use the libpq variables".
const LIBPQ_TRIGGERS: &[&str] =
    &["PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSSLMODE", "PGSERVICE"];

/// libpq's environment variables and the keywords they default.
const LIBPQ_ENV: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGREQUIRESSL", "requiressl"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGGSSENCMODE", "gssencmode"),
    ("PGCLIENTENCODING", "client_encoding"),
];

/// What becomes of each libpq keyword.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    /// Handled here.
    Own,
    /// Validated and applied by `tokio_postgres::Config`.
    PassThrough,
    /// Accepted, without effect (GSSAPI, client_encoding: always UTF8, ...).
    Ignored,
    /// Known to libpq, not supported: an error rather than a silent change of meaning.
    Unsupported,
}

fn keyword(key: &str) -> Option<Keyword> {
    Some(match key {
        "host"
        | "hostaddr"
        | "port"
        | "dbname"
        | "user"
        | "password"
        | "passfile"
        | "service"
        | "sslmode"
        | "requiressl"
        | "sslrootcert"
        | "sslcert"
        | "sslkey"
        | "fallback_application_name"
        | "gssencmode" => Keyword::Own,
        "options"
        | "application_name"
        | "connect_timeout"
        | "tcp_user_timeout"
        | "keepalives"
        | "keepalives_idle"
        | "keepalives_interval"
        | "keepalives_retries"
        | "keepalives_count"
        | "target_session_attrs"
        | "channel_binding"
        | "load_balance_hosts"
        | "sslnegotiation" => Keyword::PassThrough,
        "client_encoding"
        | "sslsni"
        | "sslcompression"
        | "krbsrvname"
        | "gsslib"
        | "gssdelegation"
        | "sslcertmode"
        | "ssl_min_protocol_version"
        | "ssl_max_protocol_version" => Keyword::Ignored,
        "replication"
        | "sslcrl"
        | "sslcrldir"
        | "sslpassword"
        | "requirepeer"
        | "require_auth"
        | "sslkeylogfile"
        | "min_protocol_version"
        | "max_protocol_version"
        | "scram_client_key"
        | "scram_server_key" => Keyword::Unsupported,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Settings: libpq keywords with where each value came from.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Url,
    Service,
    Env(&'static str),
}

struct Setting {
    value: String,
    source: Source,
}

struct Settings {
    map: BTreeMap<String, Setting>,
    origin: Origin,
    /// The service used, and the file it came from.
    service: Option<(String, PathBuf)>,
}

impl Settings {
    fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(|s| s.value.as_str()).filter(|v| !v.is_empty())
    }

    fn source(&self, key: &str) -> Option<&Source> {
        self.map.get(key).map(|s| &s.source)
    }

    /// Sets `key` unless a value is already there.
    fn fill(&mut self, key: &str, value: &str, source: Source) {
        if self.get(key).is_none() && !value.is_empty() {
            self.map.insert(key.to_owned(), Setting { value: value.to_owned(), source });
        }
    }

    /// A bad-input error naming where `key`'s value came from, never the value.
    fn invalid(&self, key: &str, why: impl fmt::Display) -> anyhow::Error {
        self.invalid_from(self.source(key).cloned().unwrap_or(Source::Url), why)
    }

    fn invalid_from(&self, source: Source, why: impl fmt::Display) -> anyhow::Error {
        bad_input(match source {
            Source::Url => format!("{} is not a valid PostgreSQL URL: {why}", self.origin.url_name()),
            Source::Env(var) => format!("{var} is not valid: {why}"),
            Source::Service => match &self.service {
                Some((name, file)) => format!("service \"{name}\" in \"{}\" is not valid: {why}", file.display()),
                None => format!("the connection service is not valid: {why}"),
            },
        })
    }

    fn check_keyword(&self, key: &str, value: &str, source: Source) -> Result<()> {
        match keyword(key) {
            Some(Keyword::Unsupported) => {
                Err(self.invalid_from(source, format!("the option \"{key}\" is not supported by provision")))
            }
            Some(Keyword::Own) if key == "gssencmode" && value == "require" => Err(self.invalid_from(
                source,
                "gssencmode=require is not supported by provision (GSSAPI encryption); use sslmode instead",
            )),
            Some(_) => Ok(()),
            None => {
                // Name the keyword only when it looks like one: a mangled string
                // could otherwise put part of a password here.
                let shown =
                    !key.is_empty() && key.len() <= 40 && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                Err(self.invalid_from(
                    source,
                    if shown {
                        format!("unknown option \"{key}\"")
                    } else {
                        "it contains an unknown option".to_owned()
                    },
                ))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Target.

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Tcp(String),
    Unix(PathBuf),
}

/// One server to try. `host` is `None` only when `hostaddr` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Endpoint {
    host: Option<Host>,
    hostaddr: Option<IpAddr>,
    port: u16,
}

impl Endpoint {
    fn is_unix(&self) -> bool {
        matches!(self.host, Some(Host::Unix(_))) && self.hostaddr.is_none()
    }

    /// `localhost:5432`, `[::1]:5432`, `db (10.0.0.5):5432`, `socket /run/pg/.s.PGSQL.5432`.
    fn display(&self) -> String {
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
    fn pgpass_hosts(&self) -> Vec<String> {
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
enum PasswordSource {
    Url,
    Env,
    Service,
    PgPass(PathBuf),
}

#[derive(Clone)]
struct Password {
    value: String,
    source: PasswordSource,
}

/// A resolved database to connect to. Never prints its password.
#[derive(Clone)]
pub struct Target {
    endpoints: Vec<Endpoint>,
    user: String,
    dbname: String,
    /// Given in the URL, `PGPASSWORD` or a service; else looked up in `pgpass`.
    password: Option<Password>,
    pgpass: Option<Arc<pgpass::PgPass>>,
    tls: tls::TlsSettings,
    /// Every other setting (timeouts, options, application_name, ...); no
    /// host, port, user, database or password.
    options: Config,
    load_balance: bool,
    origin: Origin,
    warnings: Vec<String>,
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

    fn places(&self) -> String {
        self.endpoints.iter().map(Endpoint::display).collect::<Vec<_>>().join(", ")
    }

    /// A `postgresql://` URL for this target with the password shown as `***`
    /// (absent when none was given; a password-file password is never shown).
    pub fn redacted_url(&self) -> String {
        let mut url = String::from("postgresql://");
        url.push_str(&conninfo::encode(&self.user, ""));
        if self.password.is_some() {
            url.push_str(":***");
        }
        url.push('@');
        let mut query: Vec<(&str, String)> = Vec::new();
        let in_authority = self.endpoints.iter().all(|e| !matches!(e.host, Some(Host::Unix(_))));
        if in_authority {
            let hosts: Vec<String> = self
                .endpoints
                .iter()
                .map(|e| {
                    let host = match (&e.host, e.hostaddr) {
                        (Some(Host::Tcp(h)), _) => h.clone(),
                        (_, Some(addr)) => addr.to_string(),
                        _ => String::new(),
                    };
                    let host = if host.contains(':') { format!("[{host}]") } else { conninfo::encode(&host, "") };
                    format!("{host}:{}", e.port)
                })
                .collect();
            url.push_str(&hosts.join(","));
        } else {
            let hosts: Vec<String> = self
                .endpoints
                .iter()
                .map(|e| match &e.host {
                    Some(Host::Unix(dir)) => conninfo::encode(&dir.display().to_string(), "/"),
                    Some(Host::Tcp(h)) => conninfo::encode(h, ":"),
                    None => String::new(),
                })
                .collect();
            query.push(("host", hosts.join(",")));
            query.push(("port", self.endpoints.iter().map(|e| e.port.to_string()).collect::<Vec<_>>().join(",")));
        }
        if self.endpoints.iter().any(|e| e.host.is_some() && e.hostaddr.is_some()) {
            let addrs: Vec<String> =
                self.endpoints.iter().map(|e| e.hostaddr.map(|a| a.to_string()).unwrap_or_default()).collect();
            query.push(("hostaddr", conninfo::encode(&addrs.join(","), ":,")));
        }
        url.push('/');
        url.push_str(&conninfo::encode(&self.dbname, ""));

        if self.endpoints.iter().any(|e| !e.is_unix()) && self.tls.mode != SslMode::Prefer {
            query.push(("sslmode", self.tls.mode.as_str().to_owned()));
        }
        match &self.tls.root_cert {
            Some(tls::RootCert::File(path)) => {
                query.push(("sslrootcert", conninfo::encode(&path.display().to_string(), "/")))
            }
            Some(tls::RootCert::System) => query.push(("sslrootcert", "system".to_owned())),
            None => {}
        }
        if let Some((cert, key)) = &self.tls.client_cert {
            query.push(("sslcert", conninfo::encode(&cert.display().to_string(), "/")));
            query.push(("sslkey", conninfo::encode(&key.display().to_string(), "/")));
        }
        if let Some(name) = self.options.get_application_name() {
            query.push(("application_name", conninfo::encode(name, "")));
        }
        if let Some(options) = self.options.get_options() {
            query.push(("options", conninfo::encode(options, "")));
        }
        if let Some(timeout) = self.options.get_connect_timeout() {
            query.push(("connect_timeout", timeout.as_secs().to_string()));
        }
        match self.options.get_target_session_attrs() {
            TargetSessionAttrs::ReadWrite => query.push(("target_session_attrs", "read-write".to_owned())),
            TargetSessionAttrs::ReadOnly => query.push(("target_session_attrs", "read-only".to_owned())),
            _ => {}
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
        }
        url
    }

    /// The libpq environment variables that make a libpq client (`pg_dump`,
    /// `psql`) connect exactly here: `PGHOST`, `PGPORT`, `PGUSER`,
    /// `PGDATABASE`, the TLS settings, and the password as `PGPASSWORD` (or
    /// the password file as `PGPASSFILE`).
    ///
    /// The values include the password: put them only into a child process's
    /// environment, never on its command line or into output. The caller
    /// should remove every other inherited `PG*` variable from the child.
    pub fn libpq_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = Vec::new();
        let mut push = |key: &str, value: String| env.push((key.to_owned(), value));
        let hosts: Vec<String> = self
            .endpoints
            .iter()
            .map(|e| match &e.host {
                Some(Host::Tcp(host)) => host.clone(),
                Some(Host::Unix(dir)) => dir.display().to_string(),
                None => String::new(),
            })
            .collect();
        push("PGHOST", hosts.join(","));
        if self.endpoints.iter().any(|e| e.hostaddr.is_some()) {
            let addrs: Vec<String> =
                self.endpoints.iter().map(|e| e.hostaddr.map(|a| a.to_string()).unwrap_or_default()).collect();
            push("PGHOSTADDR", addrs.join(","));
        }
        push("PGPORT", self.endpoints.iter().map(|e| e.port.to_string()).collect::<Vec<_>>().join(","));
        push("PGUSER", self.user.clone());
        push("PGDATABASE", self.dbname.clone());
        // A single server: the password it would get, also from the password
        // file (matched exactly as `connect` matches it). Several: libpq looks
        // each one up in the same file itself.
        match (&self.endpoints[..], &self.password) {
            ([endpoint], _) => {
                if let Some(password) = self.password_for(endpoint) {
                    push("PGPASSWORD", password.value);
                }
            }
            (_, Some(password)) => push("PGPASSWORD", password.value.clone()),
            (_, None) => {
                if let Some(pgpass) = &self.pgpass {
                    push("PGPASSFILE", pgpass.path().display().to_string());
                }
            }
        }
        push("PGSSLMODE", self.tls.mode.as_str().to_owned());
        match &self.tls.root_cert {
            Some(tls::RootCert::File(path)) => push("PGSSLROOTCERT", path.display().to_string()),
            Some(tls::RootCert::System) => push("PGSSLROOTCERT", "system".to_owned()),
            None => {}
        }
        if let Some((cert, key)) = &self.tls.client_cert {
            push("PGSSLCERT", cert.display().to_string());
            push("PGSSLKEY", key.display().to_string());
        }
        // provision never uses GSSAPI encryption; neither does its child.
        push("PGGSSENCMODE", "disable".to_owned());
        push("PGAPPNAME", self.options.get_application_name().unwrap_or(APPLICATION_NAME).to_owned());
        if let Some(options) = self.options.get_options() {
            push("PGOPTIONS", options.to_owned());
        }
        if let Some(timeout) = self.options.get_connect_timeout() {
            push("PGCONNECT_TIMEOUT", timeout.as_secs().max(1).to_string());
        }
        match self.options.get_target_session_attrs() {
            TargetSessionAttrs::ReadWrite => push("PGTARGETSESSIONATTRS", "read-write".to_owned()),
            TargetSessionAttrs::ReadOnly => push("PGTARGETSESSIONATTRS", "read-only".to_owned()),
            _ => {}
        }
        if self.load_balance {
            push("PGLOADBALANCEHOSTS", "random".to_owned());
        }
        env
    }

    /// The password for `endpoint`, and where it came from.
    fn password_for(&self, endpoint: &Endpoint) -> Option<Password> {
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

    fn config_for(&self, endpoint: &Endpoint, password: Option<&Password>) -> Config {
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
    fn connect_order(&self) -> Vec<usize> {
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

    fn connect_error(&self, index: usize, error: &tokio_postgres::Error, password: Option<&PasswordSource>) -> String {
        let endpoint = &self.endpoints[index];
        let place = if self.endpoints.len() == 1 {
            endpoint.display()
        } else {
            format!("{} (tried {})", endpoint.display(), self.places())
        };
        let (reason, hint) = self.explain(endpoint, error, password);
        one_line(&redact(&format!(
            "cannot connect to PostgreSQL at {place} (database \"{}\", user \"{}\"): {reason}; {hint}",
            self.dbname, self.user
        )))
    }

    fn credentials_hint(&self, password: Option<&PasswordSource>) -> String {
        match password {
            Some(PasswordSource::Url) => {
                format!("check the user name and password in {}", self.origin.url_name())
            }
            Some(PasswordSource::Env) => "check the user name and PGPASSWORD".to_owned(),
            Some(PasswordSource::Service) => {
                "check the user name and the password in the connection service file".to_owned()
            }
            Some(PasswordSource::PgPass(path)) => {
                format!("check the user name and the password on the matching line of \"{}\"", path.display())
            }
            None => "check the credentials (URL, PGPASSWORD or ~/.pgpass)".to_owned(),
        }
    }

    fn explain(
        &self,
        endpoint: &Endpoint,
        error: &tokio_postgres::Error,
        password: Option<&PasswordSource>,
    ) -> (String, String) {
        if let Some(db) = error.as_db_error() {
            let reason = db.message().to_owned();
            let code = db.code();
            let hint = if *code == SqlState::INVALID_PASSWORD {
                self.credentials_hint(password)
            } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
                if reason.contains("pg_hba.conf") {
                    "the server's pg_hba.conf does not allow this host, user and database (or wants TLS: check sslmode)"
                        .to_owned()
                } else if reason.contains("does not exist") {
                    "check the user name (URL or PGUSER)".to_owned()
                } else {
                    self.credentials_hint(password)
                }
            } else if *code == SqlState::INVALID_CATALOG_NAME {
                "check the database name (URL path or PGDATABASE); it must exist on the server".to_owned()
            } else if *code == SqlState::TOO_MANY_CONNECTIONS {
                "the server has no free connection slots; try again later".to_owned()
            } else if *code == SqlState::CANNOT_CONNECT_NOW {
                "the server is starting up or shutting down; try again shortly".to_owned()
            } else {
                "see the server log for details".to_owned()
            };
            return (reason, hint);
        }

        let text = error.to_string();
        let innermost = innermost_message(error);
        if text.starts_with("error performing TLS handshake") {
            if innermost.contains("does not support TLS") {
                return (
                    "the server does not accept TLS connections".to_owned(),
                    format!(
                        "sslmode={} requires TLS; enable ssl on the server or use sslmode=prefer",
                        self.tls.mode.as_str()
                    ),
                );
            }
            let hint = match self.tls.effective_mode() {
                SslMode::VerifyFull => format!(
                    "the server certificate must chain to {} and name the host \"{}\"; check sslrootcert and the host name, or use sslmode=verify-ca or require",
                    self.roots_name(),
                    endpoint.pgpass_hosts()[0]
                ),
                SslMode::VerifyCa => format!(
                    "the server certificate must chain to {}; check sslrootcert, or use sslmode=require",
                    self.roots_name()
                ),
                mode => format!("check the server's TLS setup (sslmode={})", mode.as_str()),
            };
            return (format!("TLS handshake failed: {innermost}"), hint);
        }
        if innermost.contains("password missing") {
            return (
                "the server asked for a password and none was given".to_owned(),
                "set one in the URL, PGPASSWORD or ~/.pgpass".to_owned(),
            );
        }
        if text.starts_with("authentication error") {
            return (format!("authentication failed: {innermost}"), self.credentials_hint(password));
        }
        if let Some(io) = io_error(error) {
            use std::io::ErrorKind;
            let hint = match io.kind() {
                ErrorKind::NotFound if endpoint.is_unix() => {
                    return (
                        "no such socket file".to_owned(),
                        "is the server running locally, and are the socket directory and port right?".to_owned(),
                    );
                }
                ErrorKind::ConnectionRefused => {
                    "is the server running, and accepting TCP/IP connections on that host and port?"
                }
                ErrorKind::TimedOut => "the server did not answer in time; check the host, port and firewalls",
                ErrorKind::PermissionDenied if io.to_string().contains("does not allow writes") => {
                    "the server is read-only (a standby?) and target_session_attrs=read-write asks for a primary"
                }
                ErrorKind::PermissionDenied if endpoint.is_unix() => {
                    "cannot open the socket file; check its permissions"
                }
                _ if is_lookup_failure(&io.to_string()) => "check the host name",
                _ => "check the host and port, and that the server is running",
            };
            return (io.to_string(), hint.to_owned());
        }
        if error.is_closed() {
            return (
                "the server closed the connection".to_owned(),
                "see the server log (does the server require TLS? check sslmode)".to_owned(),
            );
        }
        (text, "check the connection settings".to_owned())
    }

    fn roots_name(&self) -> String {
        match &self.tls.root_cert {
            Some(tls::RootCert::File(path)) => format!("a CA in \"{}\"", path.display()),
            _ => "a well-known public CA (set sslrootcert for a private CA)".to_owned(),
        }
    }
}

fn io_error(error: &tokio_postgres::Error) -> Option<&std::io::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cause = e.source();
    }
    None
}

fn innermost_message(error: &tokio_postgres::Error) -> String {
    let mut message = error.to_string();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = cause {
        message = e.to_string();
        cause = e.source();
    }
    message
}

fn is_lookup_failure(message: &str) -> bool {
    [
        "failed to lookup address",
        "Name or service not known",
        "nodename nor servname",
        "No address associated",
        "could not resolve",
        "Temporary failure in name resolution",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------
// Resolution.

/// Resolves the target from `--database-url`/`DATABASE_URL` (`url`), then the
/// libpq variables read through `env`. `None` means "use the embedded sandbox".
///
/// The origin is inferred: a `url` equal to `env("DATABASE_URL")` is
/// [`Origin::DatabaseUrl`] (as when clap fills the flag from the variable),
/// any other `url` is [`Origin::Flag`]; with no `url`, a non-empty
/// `DATABASE_URL` read through `env` is used. Prefer [`resolve_with_origin`]
/// when the caller knows.
pub fn resolve(url: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Target>> {
    let from_env = env("DATABASE_URL");
    match url {
        Some(url) if from_env.as_deref() == Some(url) => resolve_with_origin(Some(url), Origin::DatabaseUrl, env),
        Some(url) => resolve_with_origin(Some(url), Origin::Flag, env),
        None => match from_env.filter(|u| !u.trim().is_empty()) {
            Some(url) => resolve_with_origin(Some(&url), Origin::DatabaseUrl, env),
            None => resolve_with_origin(None, Origin::Libpq, env),
        },
    }
}

/// Like [`resolve`], with the caller saying where `url` came from
/// ([`Origin::Flag`] for `--database-url`, [`Origin::DatabaseUrl`] for the
/// variable); the origin names the source in messages. An empty
/// `DATABASE_URL` counts as unset; an empty `--database-url` is bad input.
/// With `url` `None`, `origin` is ignored and `DATABASE_URL` is not read.
pub fn resolve_with_origin(
    url: Option<&str>,
    origin: Origin,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Target>> {
    resolve_in(url, origin, env, &|| {
        let dir = Path::new(DEFAULT_SOCKET_DIR);
        dir.is_dir().then(|| dir.to_owned())
    })
}

fn resolve_in(
    url: Option<&str>,
    origin: Origin,
    env: &dyn Fn(&str) -> Option<String>,
    default_socket_dir: &dyn Fn() -> Option<PathBuf>,
) -> Result<Option<Target>> {
    let env = |key: &str| env(key).filter(|v| !v.is_empty());
    let url = match url {
        Some(url) if url.trim().is_empty() => {
            if origin == Origin::Flag {
                return Err(bad_input("--database-url is empty; give a postgresql:// URL or leave the flag out"));
            }
            None
        }
        other => other,
    };
    let (explicit, origin) = match url {
        Some(url) => {
            let params = conninfo::parse(url)
                .map_err(|e| bad_input(format!("{} is not a valid PostgreSQL URL: {}", origin.url_name(), e.0)))?;
            (params, if origin == Origin::Libpq || origin == Origin::Sandbox { Origin::Flag } else { origin })
        }
        None => {
            if !LIBPQ_TRIGGERS.iter().any(|var| env(var).is_some()) {
                return Ok(None);
            }
            (Vec::new(), Origin::Libpq)
        }
    };

    let mut settings = Settings { map: BTreeMap::new(), origin, service: None };
    for (key, value) in explicit {
        settings.check_keyword(&key, &value, Source::Url)?;
        settings.map.insert(key, Setting { value, source: Source::Url });
    }

    // The service file fills what the URL left out; the variables come after.
    let service_name = match settings.get("service") {
        Some(name) => Some((name.to_owned(), Source::Url)),
        None => env("PGSERVICE").map(|name| (name, Source::Env("PGSERVICE"))),
    };
    if let Some((name, source)) = service_name {
        let found = service::find(&name, &env).map_err(|why| settings.invalid_from(source, why))?;
        settings.service = Some((name, found.file.clone()));
        for (key, value) in &found.params {
            settings.check_keyword(key, value, Source::Service)?;
            settings.fill(key, value, Source::Service);
        }
    }
    for (var, key) in LIBPQ_ENV {
        if let Some(value) = env(var) {
            settings.check_keyword(key, &value, Source::Env(var))?;
            settings.fill(key, &value, Source::Env(var));
        }
    }

    build(settings, &env, default_socket_dir).map(Some)
}

fn build(
    settings: Settings,
    env: &dyn Fn(&str) -> Option<String>,
    default_socket_dir: &dyn Fn() -> Option<PathBuf>,
) -> Result<Target> {
    let mut warnings = Vec::new();
    let home = env("HOME").map(PathBuf::from);

    // Hosts, addresses and ports.
    let list = |key: &str| -> Vec<String> {
        settings.get(key).map(|v| v.split(',').map(|s| s.trim().to_owned()).collect()).unwrap_or_default()
    };
    let hosts = list("host");
    let addrs = list("hostaddr");
    let ports = list("port");
    if !hosts.is_empty() && !addrs.is_empty() && hosts.len() != addrs.len() {
        return Err(
            settings.invalid("hostaddr", format!("hostaddr lists {} addresses for {} hosts", addrs.len(), hosts.len()))
        );
    }
    let count = hosts.len().max(addrs.len()).max(1);
    if ports.len() > 1 && ports.len() != count {
        return Err(settings.invalid("port", format!("port lists {} ports for {} hosts", ports.len(), count)));
    }
    let mut endpoints = Vec::with_capacity(count);
    for i in 0..count {
        let hostaddr = match addrs.get(i).filter(|a| !a.is_empty()) {
            Some(addr) => Some(
                addr.parse::<IpAddr>()
                    .map_err(|_| settings.invalid("hostaddr", "hostaddr must be numeric IP addresses"))?,
            ),
            None => None,
        };
        let host = match hosts.get(i).filter(|h| !h.is_empty()) {
            Some(host) if host.starts_with('/') => Some(Host::Unix(PathBuf::from(host))),
            Some(host) => Some(Host::Tcp(host.clone())),
            None if hostaddr.is_some() => None,
            None => Some(match default_socket_dir() {
                Some(dir) => Host::Unix(dir),
                None => Host::Tcp("localhost".to_owned()),
            }),
        };
        let port = match ports.get(i).or(if ports.len() == 1 { ports.first() } else { None }) {
            Some(port) if !port.is_empty() => port
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| settings.invalid("port", "the port must be a number from 1 to 65535"))?,
            _ => DEFAULT_PORT,
        };
        endpoints.push(Endpoint { host, hostaddr, port });
    }

    let user = match settings.get("user") {
        Some(user) => user.to_owned(),
        None => os_user::os_user(env).ok_or_else(|| {
            bad_input("cannot tell which user to connect as (USER is not set); set PGUSER or put the user in the URL")
        })?,
    };
    let dbname = settings.get("dbname").map(str::to_owned).unwrap_or_else(|| user.clone());

    // Password, else the password file.
    let password = settings.get("password").map(|value| Password {
        value: value.to_owned(),
        source: match settings.source("password") {
            Some(Source::Env(_)) => PasswordSource::Env,
            Some(Source::Service) => PasswordSource::Service,
            _ => PasswordSource::Url,
        },
    });
    let mut pgpass = None;
    if password.is_none() {
        let path = settings.get("passfile").map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".pgpass")));
        if let Some(path) = path {
            match pgpass::load(&path) {
                pgpass::Loaded::Found(file) => pgpass = Some(Arc::new(file)),
                pgpass::Loaded::Ignored(warning) => warnings.push(warning),
                pgpass::Loaded::Missing => {}
            }
        }
    }

    // TLS.
    let root_cert = match settings.get("sslrootcert") {
        Some("system") => Some(tls::RootCert::System),
        Some(path) => Some(tls::RootCert::File(PathBuf::from(path))),
        None => home.as_ref().map(|h| h.join(".postgresql/root.crt")).filter(|p| p.is_file()).map(tls::RootCert::File),
    };
    let mode = match settings.get("sslmode") {
        Some(text) => SslMode::parse(text).ok_or_else(|| {
            // Quote the value only from a variable: nothing from a URL is echoed.
            let shown = matches!(settings.source("sslmode"), Some(Source::Env(_)))
                && text.len() <= 20
                && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            settings.invalid(
                "sslmode",
                format!(
                    "sslmode{} must be one of disable, allow, prefer, require, verify-ca, verify-full",
                    if shown { format!(" \"{text}\"") } else { String::new() }
                ),
            )
        })?,
        None if root_cert == Some(tls::RootCert::System) => SslMode::VerifyFull,
        None if settings.get("requiressl") == Some("1") => SslMode::Require,
        None => SslMode::Prefer,
    };
    if root_cert == Some(tls::RootCert::System) && mode != SslMode::VerifyFull {
        return Err(settings.invalid(
            "sslmode",
            format!("sslmode \"{}\" may not be used with sslrootcert=system (use verify-full)", mode.as_str()),
        ));
    }
    let cert = settings
        .get("sslcert")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".postgresql/postgresql.crt")))
        .filter(|p| p.is_file());
    let client_cert = match cert {
        Some(cert) => {
            let key = settings
                .get("sslkey")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".postgresql/postgresql.key")))
                .ok_or_else(|| settings.invalid("sslcert", "sslcert is set but sslkey is not"))?;
            Some((cert, key))
        }
        None => None,
    };

    // Everything else goes through tokio-postgres's own parser, one by one so
    // that an error can name the source.
    let mut options = Vec::new();
    for (key, setting) in &settings.map {
        if keyword(key) != Some(Keyword::PassThrough) || setting.value.is_empty() {
            continue;
        }
        let name = if key == "keepalives_count" { "keepalives_retries" } else { key.as_str() };
        let pair = format!("{name}={}", conninfo::quote(&setting.value));
        pair.parse::<Config>().map_err(|_| settings.invalid(key, format!("invalid value for {key}")))?;
        options.push(pair);
    }
    if settings.get("application_name").is_none() {
        if let Some(fallback) = settings.get("fallback_application_name") {
            options.push(format!("application_name={}", conninfo::quote(fallback)));
        }
    }
    let options: Config = if options.is_empty() {
        Config::new()
    } else {
        options.join(" ").parse().map_err(|_| bad_input("invalid connection options"))?
    };
    let load_balance = settings.get("load_balance_hosts") == Some("random");

    Ok(Target {
        endpoints,
        user,
        dbname,
        password,
        pgpass,
        tls: tls::TlsSettings { mode, root_cert, client_cert },
        options,
        load_balance,
        origin: settings.origin,
        warnings,
    })
}

#[cfg(test)]
mod tests;
