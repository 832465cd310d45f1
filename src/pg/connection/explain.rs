//! Turning a failed connection into one line a person can act on: what went
//! wrong (server message, TLS, socket, network) and a hint where to look.

use tokio_postgres::error::SqlState;

use super::target::{Endpoint, PasswordSource, Target};
use super::{redact, tls, SslMode};
use crate::pg::text::one_line;

impl Target {
    pub(super) fn connect_error(
        &self,
        index: usize,
        error: &tokio_postgres::Error,
        password: Option<&PasswordSource>,
    ) -> String {
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
            return (db.message().to_owned(), self.server_hint(db, password));
        }
        let text = error.to_string();
        let innermost = innermost_message(error);
        if text.starts_with("error performing TLS handshake") {
            return self.explain_tls(endpoint, innermost);
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
            return explain_io(endpoint, io);
        }
        if error.is_closed() {
            return (
                "the server closed the connection".to_owned(),
                "see the server log (does the server require TLS? check sslmode)".to_owned(),
            );
        }
        (text, "check the connection settings".to_owned())
    }

    /// The hint for an error the server itself reported.
    fn server_hint(&self, db: &tokio_postgres::error::DbError, password: Option<&PasswordSource>) -> String {
        let reason = db.message();
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD {
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
        }
    }

    /// Reason and hint for a failed TLS handshake.
    fn explain_tls(&self, endpoint: &Endpoint, innermost: String) -> (String, String) {
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
        (format!("TLS handshake failed: {innermost}"), hint)
    }

    fn roots_name(&self) -> String {
        match &self.tls.root_cert {
            Some(tls::RootCert::File(path)) => format!("a CA in \"{}\"", path.display()),
            _ => "a well-known public CA (set sslrootcert for a private CA)".to_owned(),
        }
    }
}

/// Reason and hint for a failure below PostgreSQL: sockets, TCP, name lookup.
fn explain_io(endpoint: &Endpoint, io: &std::io::Error) -> (String, String) {
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
        ErrorKind::PermissionDenied if endpoint.is_unix() => "cannot open the socket file; check its permissions",
        _ if is_lookup_failure(&io.to_string()) => "check the host name",
        _ => "check the host and port, and that the server is running",
    };
    (io.to_string(), hint.to_owned())
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
