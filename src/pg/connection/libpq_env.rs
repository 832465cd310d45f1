//! The libpq environment variables: the ones provision honours when it
//! resolves a target, and the ones it hands to a libpq child (`pg_dump`,
//! `psql`) so the child connects exactly where provision would.

use tokio_postgres::config::TargetSessionAttrs;

use super::target::{Host, Target};
use super::{tls, APPLICATION_NAME};

/// Every environment variable that changes where provision connects:
/// `DATABASE_URL`, the service variables and each libpq variable in
/// [`LIBPQ_ENV`]. (`USER`, `LOGNAME` and `HOME` matter too, as libpq's
/// defaults, but are not connection settings.) A test harness clears these to
/// make the binary use the embedded sandbox or only what the test gives it.
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
pub(super) const LIBPQ_TRIGGERS: &[&str] =
    &["PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSSLMODE", "PGSERVICE"];

/// libpq's environment variables and the keywords they default.
pub(super) const LIBPQ_ENV: &[(&str, &str)] = &[
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

impl Target {
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
        self.push_password_env(&mut push);
        self.push_tls_env(&mut push);
        self.push_option_env(&mut push);
        env
    }

    /// `PGPASSWORD`, else `PGPASSFILE`.
    fn push_password_env(&self, push: &mut impl FnMut(&str, String)) {
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
    }

    fn push_tls_env(&self, push: &mut impl FnMut(&str, String)) {
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
    }

    fn push_option_env(&self, push: &mut impl FnMut(&str, String)) {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_lists_every_variable_resolution_reads() {
        let read = LIBPQ_ENV.iter().map(|(var, _)| *var).chain(LIBPQ_TRIGGERS.iter().copied());
        let read = read.chain(["DATABASE_URL", "PGSERVICEFILE", "PGSYSCONFDIR"]);
        for var in read {
            assert!(ENV_VARS.contains(&var), "{var} is read but missing from ENV_VARS");
        }
    }
}
