//! TLS settings for an `https://` plugin, as a `.json` descriptor gives them.

use std::path::{Path, PathBuf};

/// How to secure the connection to an `https://` plugin: the `TLSConfig` object
/// of a `.json` descriptor.
///
/// Secure by default, unlike Docker ([TLS]): the server is verified
/// against the system roots plus [`ca_file`](Self::ca_file) unless the descriptor
/// explicitly says `"InsecureSkipVerify": true`. (Docker skips verification for
/// every `.spec` plugin and for any `TLSConfig` without a `CAFile`.)
///
/// [TLS]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#tls
///
/// These are only file paths; `plugin-spec` never opens them. The transport loads
/// them when it connects and names the file in its error when one does not load.
///
/// ```
/// use plugin_spec::TlsOptions;
///
/// let tls = TlsOptions::new()
///     .with_ca_file("/etc/docker/plugins/ca.pem")
///     .with_client_cert("/etc/docker/plugins/cert.pem", "/etc/docker/plugins/key.pem");
/// assert!(!tls.insecure_skip_verify());
/// assert_eq!(tls.key_file().and_then(|p| p.to_str()), Some("/etc/docker/plugins/key.pem"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsOptions {
    insecure_skip_verify: bool,
    ca_file: Option<PathBuf>,
    client_cert: Option<ClientCert>,
}

/// A client certificate and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientCert {
    cert_file: PathBuf,
    key_file: PathBuf,
}

impl TlsOptions {
    /// Options that verify the server against the system roots and send no client
    /// certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also trust the CA certificates in this PEM file.
    #[must_use]
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Present this client certificate (PEM) with this private key (PEM).
    #[must_use]
    pub fn with_client_cert(
        mut self,
        cert_file: impl Into<PathBuf>,
        key_file: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some(ClientCert {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
        });
        self
    }

    /// Do not verify the server's certificate at all. Anyone on the path can then
    /// impersonate the plugin; meant for tests only.
    #[must_use]
    pub fn with_insecure_skip_verify(mut self, skip: bool) -> Self {
        self.insecure_skip_verify = skip;
        self
    }

    /// Whether server verification is turned off (`"InsecureSkipVerify": true`).
    pub fn insecure_skip_verify(&self) -> bool {
        self.insecure_skip_verify
    }

    /// Extra CA certificates to trust (`CAFile`), beside the system roots.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The client certificate (`CertFile`); given exactly when
    /// [`key_file`](Self::key_file) is.
    pub fn cert_file(&self) -> Option<&Path> {
        self.client_cert.as_ref().map(|c| c.cert_file.as_path())
    }

    /// The client certificate's private key (`KeyFile`); given exactly when
    /// [`cert_file`](Self::cert_file) is.
    pub fn key_file(&self) -> Option<&Path> {
        self.client_cert.as_ref().map(|c| c.key_file.as_path())
    }
}
