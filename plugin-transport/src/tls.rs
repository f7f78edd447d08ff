//! TLS client configuration from a descriptor's `TlsOptions` (docs/protocol.md, "TLS"):
//! TLS 1.2 at least, the system roots plus `CAFile`, the server's host name or
//! IP verified, an optional client certificate; verification skipped only when
//! the descriptor says `InsecureSkipVerify`.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use plugin_spec::TlsOptions;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::error::TransportError;
use crate::target::Target;

/// What the connector needs to open a TLS connection.
#[derive(Clone)]
pub(crate) struct TlsSetup {
    pub(crate) connector: tokio_rustls::TlsConnector,
    pub(crate) server_name: ServerName<'static>,
    pub(crate) insecure: bool,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup")
            .field("server_name", &self.server_name)
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

/// Builds the TLS client for `host` from the descriptor's options (`None`:
/// verify against the system roots, no client certificate).
pub(crate) fn setup(
    target: &Target,
    host: &str,
    options: Option<&TlsOptions>,
) -> Result<TlsSetup, TransportError> {
    let default_options = TlsOptions::new();
    let options = options.unwrap_or(&default_options);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| setup_error(target, "the crypto provider offers no TLS 1.2 or 1.3", e))?;
    let builder = if options.insecure_skip_verify() {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        let mut roots = system_roots().clone();
        if let Some(ca_file) = options.ca_file() {
            add_ca_file(target, &mut roots, ca_file)?;
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match (options.cert_file(), options.key_file()) {
        (Some(cert_file), Some(key_file)) => {
            let chain = load_chain(target, cert_file)?;
            let key = load_key(target, key_file)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TransportError::TlsFile {
                    target: target.clone(),
                    field: "KeyFile",
                    file: key_file.to_owned(),
                    reason: format!(
                        "it does not go with CertFile {} or is not a supported key: {e}",
                        cert_file.display()
                    ),
                    source: Some(Box::new(e)),
                })?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server_name = ServerName::try_from(host.to_owned()).map_err(|e| {
        setup_error(
            target,
            &format!("the host {host:?} is not a valid TLS server name"),
            e,
        )
    })?;
    Ok(TlsSetup {
        connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        server_name,
        insecure: options.insecure_skip_verify(),
    })
}

fn setup_error(
    target: &Target,
    reason: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> TransportError {
    TransportError::TlsSetup {
        target: target.clone(),
        reason: format!("{reason}: {source}"),
        source: Some(Box::new(source)),
    }
}

/// The operating system's trust store, loaded once per process: it is
/// read-only and the same for every plugin, and loading it takes milliseconds.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::debug!("loading the system's root certificates: {error}");
        }
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
        tracing::debug!(added, ignored, "system root certificates loaded");
        roots
    })
}

fn file_error(target: &Target, field: &'static str, file: &Path, reason: String) -> TransportError {
    TransportError::TlsFile {
        target: target.clone(),
        field,
        file: file.to_owned(),
        reason,
        source: None,
    }
}

fn read(target: &Target, field: &'static str, file: &Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(file).map_err(|e| TransportError::TlsFile {
        target: target.clone(),
        field,
        file: file.to_owned(),
        reason: format!("cannot read it: {e}"),
        source: Some(Box::new(e)),
    })
}

fn pem_error(target: &Target, field: &'static str, file: &Path, e: pem::Error) -> TransportError {
    TransportError::TlsFile {
        target: target.clone(),
        field,
        file: file.to_owned(),
        reason: format!("it is not valid PEM: {e}"),
        source: Some(Box::new(e)),
    }
}

fn certificates(
    target: &Target,
    field: &'static str,
    file: &Path,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let bytes = read(target, field, file)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(target, field, file, e))?;
    if certs.is_empty() {
        return Err(file_error(
            target,
            field,
            file,
            "it holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)".to_owned(),
        ));
    }
    Ok(certs)
}

fn add_ca_file(
    target: &Target,
    roots: &mut RootCertStore,
    file: &Path,
) -> Result<(), TransportError> {
    for cert in certificates(target, "CAFile", file)? {
        roots.add(cert).map_err(|e| TransportError::TlsFile {
            target: target.clone(),
            field: "CAFile",
            file: file.to_owned(),
            reason: format!("it holds a certificate that cannot be a trust anchor: {e}"),
            source: Some(Box::new(e)),
        })?;
    }
    Ok(())
}

fn load_chain(
    target: &Target,
    file: &Path,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    certificates(target, "CertFile", file)
}

fn load_key(target: &Target, file: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    let bytes = read(target, "KeyFile", file)?;
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(file_error(
            target,
            "KeyFile",
            file,
            "it is encrypted, which is not supported (as in Docker); decrypt it, e.g. `openssl pkey -in KEY -out KEY.plain`".to_owned(),
        ));
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => file_error(
            target,
            "KeyFile",
            file,
            "it holds no private key (expected PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")".to_owned(),
        ),
        other => pem_error(target, "KeyFile", file, other),
    })
}

/// `InsecureSkipVerify`: any certificate is accepted, but the handshake's own
/// signatures are still checked, so the session is at least bound to the key
/// the plugin presented.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
