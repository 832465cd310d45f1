//! A target written back as a `postgresql://` URL with the password hidden,
//! and the percent-encoding every URL provision writes goes through.

use tokio_postgres::config::TargetSessionAttrs;

use super::target::{Host, Target};
use super::{tls, SslMode};

/// Percent-encodes everything except unreserved characters and `keep` (raw
/// bytes, so a non-UTF-8 path encodes too).
pub(crate) fn percent_encode(bytes: &[u8], keep: &str) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (b.is_ascii() && keep.contains(b as char)) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// [`percent_encode`] for text.
pub(crate) fn encode(text: &str, keep: &str) -> String {
    percent_encode(text.as_bytes(), keep)
}

impl Target {
    /// A `postgresql://` URL for this target with the password shown as `***`
    /// (absent when none was given; a password-file password is never shown).
    pub fn redacted_url(&self) -> String {
        let mut url = String::from("postgresql://");
        url.push_str(&encode(&self.user, ""));
        if self.password.is_some() {
            url.push_str(":***");
        }
        url.push('@');
        let mut query: Vec<(&str, String)> = Vec::new();
        if self.endpoints.iter().all(|e| !matches!(e.host, Some(Host::Unix(_)))) {
            url.push_str(&self.authority_hosts());
        } else {
            self.push_socket_hosts(&mut query);
        }
        if self.endpoints.iter().any(|e| e.host.is_some() && e.hostaddr.is_some()) {
            let addrs: Vec<String> =
                self.endpoints.iter().map(|e| e.hostaddr.map(|a| a.to_string()).unwrap_or_default()).collect();
            query.push(("hostaddr", encode(&addrs.join(","), ":,")));
        }
        url.push('/');
        url.push_str(&encode(&self.dbname, ""));
        self.push_tls_params(&mut query);
        self.push_option_params(&mut query);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
        }
        url
    }

    /// `host:port,...` for the URL's authority (TCP hosts only).
    fn authority_hosts(&self) -> String {
        let hosts: Vec<String> = self
            .endpoints
            .iter()
            .map(|e| {
                let host = match (&e.host, e.hostaddr) {
                    (Some(Host::Tcp(h)), _) => h.clone(),
                    (_, Some(addr)) => addr.to_string(),
                    _ => String::new(),
                };
                let host = if host.contains(':') { format!("[{host}]") } else { encode(&host, "") };
                format!("{host}:{}", e.port)
            })
            .collect();
        hosts.join(",")
    }

    /// `host=` and `port=` query parameters: a socket directory cannot go in the authority.
    fn push_socket_hosts(&self, query: &mut Vec<(&str, String)>) {
        let hosts: Vec<String> = self
            .endpoints
            .iter()
            .map(|e| match &e.host {
                Some(Host::Unix(dir)) => encode(&dir.display().to_string(), "/"),
                Some(Host::Tcp(h)) => encode(h, ":"),
                None => String::new(),
            })
            .collect();
        query.push(("host", hosts.join(",")));
        query.push(("port", self.endpoints.iter().map(|e| e.port.to_string()).collect::<Vec<_>>().join(",")));
    }

    fn push_tls_params(&self, query: &mut Vec<(&str, String)>) {
        if self.endpoints.iter().any(|e| !e.is_unix()) && self.tls.mode != SslMode::Prefer {
            query.push(("sslmode", self.tls.mode.as_str().to_owned()));
        }
        match &self.tls.root_cert {
            Some(tls::RootCert::File(path)) => query.push(("sslrootcert", encode(&path.display().to_string(), "/"))),
            Some(tls::RootCert::System) => query.push(("sslrootcert", "system".to_owned())),
            None => {}
        }
        if let Some((cert, key)) = &self.tls.client_cert {
            query.push(("sslcert", encode(&cert.display().to_string(), "/")));
            query.push(("sslkey", encode(&key.display().to_string(), "/")));
        }
    }

    fn push_option_params(&self, query: &mut Vec<(&str, String)>) {
        if let Some(name) = self.options.get_application_name() {
            query.push(("application_name", encode(name, "")));
        }
        if let Some(options) = self.options.get_options() {
            query.push(("options", encode(options, "")));
        }
        if let Some(timeout) = self.options.get_connect_timeout() {
            query.push(("connect_timeout", timeout.as_secs().to_string()));
        }
        match self.options.get_target_session_attrs() {
            TargetSessionAttrs::ReadWrite => query.push(("target_session_attrs", "read-write".to_owned())),
            TargetSessionAttrs::ReadOnly => query.push(("target_session_attrs", "read-only".to_owned())),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_unreserved_and_the_given_characters() {
        assert_eq!(encode("/var/run x@", "/"), "/var/run%20x%40");
        assert_eq!(percent_encode(b"a\xffb/", ""), "a%FFb%2F");
    }
}
