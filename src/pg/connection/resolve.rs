//! Resolution: from `--database-url` / `DATABASE_URL`, a service and the
//! libpq variables to a [`Target`], filling gaps the way libpq does.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use tokio_postgres::Config;

use super::libpq_env::{LIBPQ_ENV, LIBPQ_TRIGGERS};
use super::settings::{keyword, Keyword, Setting, Settings, Source};
use super::target::{Endpoint, Host, Password, PasswordSource, Target};
use super::{conninfo, os_user, pgpass, service, tls, Origin, SslMode, DEFAULT_PORT, DEFAULT_SOCKET_DIR};
use crate::error::bad_input;

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

pub(super) fn resolve_in(
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

    let settings = gather(explicit, origin, &env)?;
    build(settings, &env, default_socket_dir).map(Some)
}

/// The URL's settings, then its service's, then the libpq variables': each
/// fills only what the ones before left out.
fn gather(explicit: Vec<(String, String)>, origin: Origin, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
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
    Ok(settings)
}

fn build(
    settings: Settings,
    env: &dyn Fn(&str) -> Option<String>,
    default_socket_dir: &dyn Fn() -> Option<PathBuf>,
) -> Result<Target> {
    let mut warnings = Vec::new();
    let home = env("HOME").map(PathBuf::from);
    let endpoints = endpoints(&settings, default_socket_dir)?;
    let user = match settings.get("user") {
        Some(user) => user.to_owned(),
        None => os_user::os_user(env).ok_or_else(|| {
            bad_input("cannot tell which user to connect as (USER is not set); set PGUSER or put the user in the URL")
        })?,
    };
    let dbname = settings.get("dbname").map(str::to_owned).unwrap_or_else(|| user.clone());
    let password = password(&settings);
    let pgpass = if password.is_none() { password_file(&settings, home.as_deref(), &mut warnings) } else { None };
    let tls = tls_settings(&settings, home.as_deref())?;
    let options = pass_through_options(&settings)?;
    let load_balance = settings.get("load_balance_hosts") == Some("random");
    Ok(Target {
        endpoints,
        user,
        dbname,
        password,
        pgpass,
        tls,
        options,
        load_balance,
        origin: settings.origin,
        warnings,
    })
}

/// One endpoint per host (or address), with its port.
fn endpoints(settings: &Settings, default_socket_dir: &dyn Fn() -> Option<PathBuf>) -> Result<Vec<Endpoint>> {
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
        let port = port(settings, ports.get(i).or(if ports.len() == 1 { ports.first() } else { None }))?;
        endpoints.push(Endpoint { host, hostaddr, port });
    }
    Ok(endpoints)
}

fn port(settings: &Settings, given: Option<&String>) -> Result<u16> {
    Ok(match given {
        Some(port) if !port.is_empty() => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| settings.invalid("port", "the port must be a number from 1 to 65535"))?,
        _ => DEFAULT_PORT,
    })
}

/// The password given in the URL, a variable or a service.
fn password(settings: &Settings) -> Option<Password> {
    settings.get("password").map(|value| Password {
        value: value.to_owned(),
        source: match settings.source("password") {
            Some(Source::Env(_)) => PasswordSource::Env,
            Some(Source::Service) => PasswordSource::Service,
            _ => PasswordSource::Url,
        },
    })
}

/// The password file (`passfile`, else `~/.pgpass`), when usable; a file
/// ignored for its permissions becomes a warning.
fn password_file(settings: &Settings, home: Option<&Path>, warnings: &mut Vec<String>) -> Option<Arc<pgpass::PgPass>> {
    let path = settings.get("passfile").map(PathBuf::from).or_else(|| home.map(|h| h.join(".pgpass")))?;
    match pgpass::load(&path) {
        pgpass::Loaded::Found(file) => Some(Arc::new(file)),
        pgpass::Loaded::Ignored(warning) => {
            warnings.push(warning);
            None
        }
        pgpass::Loaded::Missing => None,
    }
}

/// `sslmode`, the root certificates and the client certificate.
fn tls_settings(settings: &Settings, home: Option<&Path>) -> Result<tls::TlsSettings> {
    let root_cert = match settings.get("sslrootcert") {
        Some("system") => Some(tls::RootCert::System),
        Some(path) => Some(tls::RootCert::File(PathBuf::from(path))),
        None => home.map(|h| h.join(".postgresql/root.crt")).filter(|p| p.is_file()).map(tls::RootCert::File),
    };
    let mode = match settings.get("sslmode") {
        Some(text) => SslMode::parse(text).ok_or_else(|| invalid_sslmode(settings, text))?,
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
        .or_else(|| home.map(|h| h.join(".postgresql/postgresql.crt")))
        .filter(|p| p.is_file());
    let client_cert = match cert {
        Some(cert) => {
            let key = settings
                .get("sslkey")
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".postgresql/postgresql.key")))
                .ok_or_else(|| settings.invalid("sslcert", "sslcert is set but sslkey is not"))?;
            Some((cert, key))
        }
        None => None,
    };
    Ok(tls::TlsSettings { mode, root_cert, client_cert })
}

fn invalid_sslmode(settings: &Settings, text: &str) -> anyhow::Error {
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
}

/// Everything else goes through tokio-postgres's own parser, one by one so
/// that an error can name the source.
fn pass_through_options(settings: &Settings) -> Result<Config> {
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
    Ok(if options.is_empty() {
        Config::new()
    } else {
        options.join(" ").parse().map_err(|_| bad_input("invalid connection options"))?
    })
}
