//! The server side of TLS: a certificate chain and key from PEM files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ServerError;

/// The files [`serve_tls`](crate::PluginServer::serve_tls) uses.
///
/// ```
/// use plugin_server::TlsFiles;
///
/// let files = TlsFiles::new("/etc/plugin/cert.pem", "/etc/plugin/key.pem")
///     .ca_file("/etc/plugin/ca.pem")
///     .host("localhost");
/// assert_ne!(files, TlsFiles::new("/etc/plugin/cert.pem", "/etc/plugin/key.pem"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) host: Option<String>,
}

impl TlsFiles {
    /// The server's certificate chain and private key (PEM; RSA, ECDSA or
    /// Ed25519; PKCS#1, PKCS#8 or SEC1).
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
            ca_file: None,
            host: None,
        }
    }

    /// The CA that signed the certificate: the descriptor becomes a `.json`
    /// with `TLSConfig.CAFile` pointing at it, so hosts can verify the plugin.
    #[must_use]
    pub fn ca_file(mut self, ca_file: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(ca_file.into());
        self
    }

    /// The host name written in the descriptor's `https://` address (one the
    /// certificate is valid for). Default: the IP address bound.
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }
}

fn file_error(what: &'static str, file: &Path, reason: String) -> ServerError {
    ServerError::TlsFile {
        what,
        file: file.to_owned(),
        reason,
    }
}

/// rustls's *ring* provider, which [`serve_tls`](crate::PluginServer::serve_tls) uses.
///
/// rustls 0.23.48 deprecates `ring::default_provider` because *ring* has no
/// post-quantum key exchange; rustls keeps *ring* as a first-party provider
/// (the `rustls-ring` crate from 0.24 on), and it stays our choice for its
/// lighter build. The `allow` is scoped to this one call so that any other
/// deprecation still fails the build.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// A TLS acceptor for `files`: TLS 1.2 or 1.3, ring, ALPN `http/1.1`.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, ServerError> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error("certificate", &files.cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(file_error(
            "certificate",
            &files.cert,
            "it holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)".to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_error("private key", &files.key, e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(ring_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ServerError::Tls {
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            file_error(
                "private key",
                &files.key,
                format!(
                    "it does not go with {} or is not a supported key: {e}",
                    files.cert.display()
                ),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
