//! libpq's keywords, and the settings gathered from a URL, a service file and
//! the `PG*` variables with where each value came from (so that an error can
//! name its source without echoing the value).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use anyhow::Result;

use super::Origin;
use crate::error::bad_input;

/// What becomes of each libpq keyword.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    /// Handled here.
    Own,
    /// Validated and applied by `tokio_postgres::Config`.
    PassThrough,
    /// Accepted, without effect (GSSAPI, client_encoding: always UTF8, ...).
    Ignored,
    /// Known to libpq, not supported: an error rather than a silent change of meaning.
    Unsupported,
}

pub(super) fn keyword(key: &str) -> Option<Keyword> {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    Url,
    Service,
    Env(&'static str),
}

pub(super) struct Setting {
    pub(super) value: String,
    pub(super) source: Source,
}

pub(super) struct Settings {
    pub(super) map: BTreeMap<String, Setting>,
    pub(super) origin: Origin,
    /// The service used, and the file it came from.
    pub(super) service: Option<(String, PathBuf)>,
}

impl Settings {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(|s| s.value.as_str()).filter(|v| !v.is_empty())
    }

    pub(super) fn source(&self, key: &str) -> Option<&Source> {
        self.map.get(key).map(|s| &s.source)
    }

    /// Sets `key` unless a value is already there.
    pub(super) fn fill(&mut self, key: &str, value: &str, source: Source) {
        if self.get(key).is_none() && !value.is_empty() {
            self.map.insert(key.to_owned(), Setting { value: value.to_owned(), source });
        }
    }

    /// A bad-input error naming where `key`'s value came from, never the value.
    pub(super) fn invalid(&self, key: &str, why: impl fmt::Display) -> anyhow::Error {
        self.invalid_from(self.source(key).cloned().unwrap_or(Source::Url), why)
    }

    pub(super) fn invalid_from(&self, source: Source, why: impl fmt::Display) -> anyhow::Error {
        bad_input(match source {
            Source::Url => format!("{} is not a valid PostgreSQL URL: {why}", self.origin.url_name()),
            Source::Env(var) => format!("{var} is not valid: {why}"),
            Source::Service => match &self.service {
                Some((name, file)) => format!("service \"{name}\" in \"{}\" is not valid: {why}", file.display()),
                None => format!("the connection service is not valid: {why}"),
            },
        })
    }

    pub(super) fn check_keyword(&self, key: &str, value: &str, source: Source) -> Result<()> {
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
