//! `[servers.<name>]`: the PostgreSQL servers a fleet is placed across.
//!
//! A server is declared by where its connection comes from, never by the
//! connection itself: `url_env` names an environment variable holding the
//! URL (so no password sits in a file that is committed), `service` names
//! a libpq service (`pg_service.conf`). Resolving a server into a
//! [`Target`] happens at run time, so a missing variable is reported by the
//! command that needs that server, naming the variable.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::error::bad_input;
use crate::pg::connection::{self, Target};

/// A server's name as `tenants.toml`, `--server` and `--to` give it: a
/// lower-case identifier, so it can be printed, used in a PgBouncer alias
/// comment and compared without quoting rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerName(String);

impl ServerName {
    pub fn parse(name: &str) -> Result<ServerName, String> {
        let mut chars = name.chars();
        let ok = matches!(chars.next(), Some('a'..='z'))
            && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
            && name.len() <= 40;
        match ok {
            true => Ok(ServerName(name.to_owned())),
            false => Err(format!(
                "invalid server name {name:?}: use at most 40 lower-case letters, digits, '_' and '-', starting with a letter"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[servers.<name>]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    url_env: Option<String>,
    service: Option<String>,
}

/// Where a server's connection settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSource {
    /// The environment variable holding its URL.
    UrlEnv(String),
    /// A libpq service name.
    Service(String),
}

/// One declared server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    pub name: ServerName,
    pub source: ServerSource,
}

impl ServerSpec {
    /// Where this server's settings come from, for messages (`$EU1_DATABASE_URL`, `service eu1`).
    pub fn source_label(&self) -> String {
        match &self.source {
            ServerSource::UrlEnv(var) => format!("${var}"),
            ServerSource::Service(service) => format!("service {service}"),
        }
    }

    /// The server's target, read through `env` (the process environment in
    /// the CLI). A missing or empty variable is bad input naming it.
    pub fn target(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Target> {
        let conninfo = match &self.source {
            ServerSource::UrlEnv(var) => env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                bad_input(format!(
                    "server {}: the variable {var} is not set; export it with the server's postgresql:// URL",
                    self.name
                ))
            })?,
            ServerSource::Service(service) => format!("service={service}"),
        };
        // Origin::Flag: the URL is explicit, so DATABASE_URL is not consulted.
        let target = connection::resolve_with_origin(Some(&conninfo), connection::Origin::Flag, env)
            .with_context(|| format!("server {} ({})", self.name, self.source_label()))?;
        target.ok_or_else(|| bad_input(format!("server {}: {} gives no connection", self.name, self.source_label())))
    }
}

/// Checks `[servers.*]`: one source each, identifiers that are names.
pub(super) fn servers(raw: BTreeMap<String, RawServer>) -> Result<Vec<ServerSpec>, String> {
    let mut specs = Vec::with_capacity(raw.len());
    for (name, server) in raw {
        let name = ServerName::parse(&name).map_err(|m| format!("[servers.{name}] {m}"))?;
        let source = match (server.url_env, server.service) {
            (Some(var), None) => {
                check_variable(&var).map_err(|m| format!("[servers.{name}] url_env: {m}"))?;
                ServerSource::UrlEnv(var)
            }
            (None, Some(service)) if !service.trim().is_empty() => ServerSource::Service(service),
            (None, Some(_)) => return Err(format!("[servers.{name}] service: is empty; give the libpq service name")),
            (Some(_), Some(_)) => {
                return Err(format!("[servers.{name}] give url_env or service, not both"));
            }
            (None, None) => {
                return Err(format!(
                    "[servers.{name}] says nothing about where the server is: set url_env = \"VARIABLE\" (the name \
                     of an environment variable holding its URL) or service = \"name\""
                ))
            }
        };
        specs.push(ServerSpec { name, source });
    }
    Ok(specs)
}

/// `url_env` names a variable; a URL there would put a password in the file.
fn check_variable(var: &str) -> Result<(), String> {
    if var.contains("://") || var.contains('=') {
        return Err("is the name of an environment variable, not a URL: write the URL into that variable, \
                    never into tenants.toml"
            .to_owned());
    }
    let mut chars = var.chars();
    let ok = matches!(chars.next(), Some('A'..='Z' | 'a'..='z' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    match ok {
        true => Ok(()),
        false => Err(format!("{var:?} is not an environment variable name (letters, digits and '_')")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url_env: Option<&str>, service: Option<&str>) -> RawServer {
        RawServer { url_env: url_env.map(str::to_owned), service: service.map(str::to_owned) }
    }

    #[test]
    fn a_url_in_url_env_is_refused_so_no_password_lands_in_the_file() {
        let given = BTreeMap::from([("eu1".to_owned(), raw(Some("postgres://u:secret@h/db"), None))]);
        let error = servers(given).unwrap_err();
        assert!(error.starts_with("[servers.eu1] url_env: is the name of an environment variable"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn a_server_needs_exactly_one_source() {
        let both = BTreeMap::from([("a".to_owned(), raw(Some("A_URL"), Some("a")))]);
        assert_eq!(servers(both).unwrap_err(), "[servers.a] give url_env or service, not both");
        let none = BTreeMap::from([("a".to_owned(), raw(None, None))]);
        assert!(servers(none).unwrap_err().starts_with("[servers.a] says nothing about where the server is"));
    }

    #[test]
    fn a_missing_variable_names_the_server_and_the_variable() {
        let spec =
            ServerSpec { name: ServerName::parse("eu1").unwrap(), source: ServerSource::UrlEnv("EU1_URL".into()) };
        let error = spec.target(&|_| None).unwrap_err().to_string();
        assert_eq!(error, "server eu1: the variable EU1_URL is not set; export it with the server's postgresql:// URL");
    }

    #[test]
    fn server_names_are_identifiers() {
        assert!(ServerName::parse("eu-1").is_ok());
        assert!(ServerName::parse("EU1").is_err());
        assert!(ServerName::parse("1eu").is_err());
    }
}
