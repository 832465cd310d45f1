//! TLS for TCP connections, with libpq's `sslmode` semantics on rustls (ring).
//!
//! | sslmode      | encrypted        | chain verified | host name verified |
//! |--------------|------------------|----------------|--------------------|
//! | disable      | no               | -              | -                  |
//! | allow/prefer | if server agrees | no             | no                 |
//! | require      | yes              | no (¹)         | no                 |
//! | verify-ca    | yes              | yes            | no                 |
//! | verify-full  | yes              | yes            | yes                |
//!
//! (¹) As in libpq, `require` verifies the chain when a root certificate
//! file is given (`sslrootcert`, or `~/.postgresql/root.crt` exists).
//! Trust roots come from `sslrootcert` (PEM), else the Mozilla roots
//! (`webpki-roots`; also for `sslrootcert=system`). Unverified modes still
//! check the handshake signatures, so the peer must hold the key of the
//! certificate it shows. Unix-domain sockets never use TLS.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootCert {
    File(PathBuf),
    /// `sslrootcert=system`: the platform's roots (here: the Mozilla roots).
    System,
}

/// Everything TLS-related a target carries (paths only; files are read at connect time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    /// As given (default `prefer`).
    pub(crate) mode: SslMode,
    pub(crate) root_cert: Option<RootCert>,
    /// Client certificate and key (`sslcert` / `sslkey`), both or neither.
    pub(crate) client_cert: Option<(PathBuf, PathBuf)>,
}

impl TlsSettings {
    pub(crate) fn disabled() -> TlsSettings {
        TlsSettings { mode: SslMode::Disable, root_cert: None, client_cert: None }
    }

    /// The mode in force: `require` with a root certificate file acts as `verify-ca` (libpq).
    pub(crate) fn effective_mode(&self) -> SslMode {
        match (self.mode, &self.root_cert) {
            (SslMode::Require, Some(RootCert::File(_))) => SslMode::VerifyCa,
            (mode, _) => mode,
        }
    }

    /// The tokio-postgres mode to hand over for TCP hosts.
    pub(crate) fn wire_mode(&self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Wire;
        match self.effective_mode() {
            SslMode::Disable => Wire::Disable,
            SslMode::Allow | SslMode::Prefer => Wire::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Wire::Require,
        }
    }

    /// Builds the rustls configuration. `Err` is one line naming the file at fault.
    pub(crate) fn client_config(&self) -> Result<ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.effective_mode() {
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = Arc::new(self.roots()?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| format!("cannot set up TLS certificate verification: {e}"))?;
                if self.effective_mode() == SslMode::VerifyFull {
                    webpki
                } else {
                    Arc::new(ChainOnly { inner: webpki })
                }
            }
            _ => Arc::new(NoVerification { provider: provider.clone() }),
        };
        let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
        match &self.client_cert {
            None => Ok(builder.with_no_client_auth()),
            Some((cert, key)) => {
                let chain = read_certs(cert, "sslcert")?;
                let key = read_key(key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("cannot use client certificate \"{}\": {e}", cert.display()))
            }
        }
    }

    fn roots(&self) -> Result<RootCertStore, String> {
        match &self.root_cert {
            Some(RootCert::File(path)) => {
                let mut roots = RootCertStore::empty();
                let (added, _) = roots.add_parsable_certificates(read_certs(path, "sslrootcert")?);
                if added == 0 {
                    return Err(format!("sslrootcert file \"{}\" holds no usable CA certificate", path.display()));
                }
                Ok(roots)
            }
            None | Some(RootCert::System) => Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }),
        }
    }
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {what} file \"{}\": {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what} file \"{}\" is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{what} file \"{}\" holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read sslkey file \"{}\": {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = meta.permissions().mode();
        // libpq: u=rw (0600) or less, or u=rw,g=r (0640) or less when owned by root.
        let too_open = if meta.uid() == 0 { mode & 0o037 != 0 } else { mode & 0o077 != 0 };
        if too_open {
            return Err(format!(
                "private key file \"{}\" has group or world access; it must be u=rw (0600) or less (0640 if owned by root)",
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read sslkey file \"{}\": {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| format!("sslkey file \"{}\" holds no usable unencrypted PEM private key: {e}", path.display()))
}

/// `prefer`/`require`: any certificate, but the handshake signatures must verify.
#[derive(Debug)]
struct NoVerification {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name is not checked.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name, so a name error means the chain was fine.
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mode: SslMode, root_cert: Option<RootCert>) -> TlsSettings {
        TlsSettings { mode, root_cert, client_cert: None }
    }

    #[test]
    fn modes_parse_and_print() {
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            assert_eq!(SslMode::parse(mode).unwrap().as_str(), mode);
        }
        assert_eq!(SslMode::parse("verify_full"), None);
    }

    #[test]
    fn require_with_root_cert_verifies_the_chain() {
        assert_eq!(settings(SslMode::Require, None).effective_mode(), SslMode::Require);
        let file = Some(RootCert::File("/ca.pem".into()));
        assert_eq!(settings(SslMode::Require, file.clone()).effective_mode(), SslMode::VerifyCa);
        assert_eq!(settings(SslMode::Prefer, file).effective_mode(), SslMode::Prefer);
    }

    #[test]
    fn wire_modes() {
        use tokio_postgres::config::SslMode as Wire;
        assert_eq!(settings(SslMode::Disable, None).wire_mode(), Wire::Disable);
        assert_eq!(settings(SslMode::Allow, None).wire_mode(), Wire::Prefer);
        assert_eq!(settings(SslMode::VerifyCa, None).wire_mode(), Wire::Require);
        assert_eq!(settings(SslMode::VerifyFull, None).wire_mode(), Wire::Require);
    }

    #[test]
    fn client_configs_build() {
        for mode in [SslMode::Prefer, SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
            settings(mode, None).client_config().unwrap();
        }
        settings(SslMode::VerifyFull, Some(RootCert::System)).client_config().unwrap();
        let err = settings(SslMode::VerifyFull, Some(RootCert::File("/nonexistent/ca.pem".into())))
            .client_config()
            .unwrap_err();
        assert!(err.contains("sslrootcert") && err.contains("/nonexistent/ca.pem"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("ca.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let err = settings(SslMode::VerifyCa, Some(RootCert::File(junk))).client_config().unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
