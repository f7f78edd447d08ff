//! TLS client configuration from a descriptor's `TlsOptions` (docs/protocol.md, "TLS"):
//! TLS 1.2 at least, the system roots plus `CAFile`, the server's host name or
//! IP verified, an optional client certificate; verification skipped only when
//! the descriptor says `InsecureSkipVerify`.
//!
//! A server certificate that is byte for byte one of the `CAFile`'s
//! certificates is trusted as it is, as Go's `crypto/x509` trusts a leaf found
//! in its root pool: its name, validity period and extended key usage are
//! still checked, but not its `basicConstraints`. So the self-signed CA
//! certificate `openssl req -x509` makes, served by the plugin and named as its
//! CAFile, works as it does with Docker.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use plugin_spec::TlsOptions;
use std::io;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::ParsedCertificate;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};
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

/// rustls's *ring* provider, which every connection uses (docs/protocol.md, "TLS").
///
/// rustls 0.23.48 deprecates `ring::default_provider` because *ring* has no
/// post-quantum key exchange; rustls keeps *ring* as a first-party provider
/// (the `rustls-ring` crate from 0.24 on), and it stays our choice for its
/// lighter build. The `allow` is scoped to this one call so that any other
/// deprecation still fails the build.
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
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
    let provider = Arc::new(ring_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| setup_error(target, "the crypto provider offers no TLS 1.2 or 1.3", e))?;
    let builder = if options.insecure_skip_verify() {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        let mut roots = system_roots().clone();
        let pinned = match options.ca_file() {
            Some(ca_file) => add_ca_file(target, &mut roots, ca_file)?,
            None => Vec::new(),
        };
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| setup_error(target, "cannot build the certificate verifier", e))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CaFileVerifier { webpki, pinned }))
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
                        "it does not go with CertFile {} or is not a supported key",
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
        reason: reason.to_owned(),
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

/// The most a TLS file named by a descriptor (`CAFile`, `CertFile`,
/// `KeyFile`) may hold: 1 MiB. A bundle of every root a Linux distribution
/// trusts is about 200 KiB; a larger file, or one that never ends
/// (`/dev/zero`), is refused before it is read, so a descriptor cannot make a
/// host read without end (docs/protocol.md, "TLS").
pub const MAX_TLS_FILE_LEN: u64 = 1024 * 1024;

/// The bytes of a TLS file, read defensively as descriptors are: a regular
/// file (a FIFO, a device, a directory or a socket is refused without a byte
/// read), at most [`MAX_TLS_FILE_LEN`].
///
/// The file's type is looked at before it is opened (opening some devices
/// does something), and again on the open file, which is opened with
/// `O_NONBLOCK`: a FIFO put in the file's place between the two opens at once
/// instead of waiting for a writer, and is then refused.
fn read(target: &Target, field: &'static str, file: &Path) -> Result<Vec<u8>, TransportError> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let refused = |reason: String, source: Option<io::Error>| TransportError::TlsFile {
        target: target.clone(),
        field,
        file: file.to_owned(),
        reason,
        source: source.map(|e| Box::new(e) as crate::error::BoxError),
    };
    let unreadable = |e: io::Error| refused("cannot read it".to_owned(), Some(e));
    let checked = |meta: &std::fs::Metadata| {
        if let Some(kind) = not_regular(&meta.file_type()) {
            return Err(refused(
                format!("it is {kind}, not a regular file; TLS files must be regular files"),
                None,
            ));
        }
        if meta.len() > MAX_TLS_FILE_LEN {
            return Err(refused(
                format!(
                    "it is {} bytes, more than the {MAX_TLS_FILE_LEN} (1 MiB) a TLS file may hold; name a file with only the certificates or key this plugin needs",
                    meta.len()
                ),
                None,
            ));
        }
        Ok(())
    };
    checked(&std::fs::metadata(file).map_err(unreadable)?)?;
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(file)
        .map_err(unreadable)?;
    let meta = opened.metadata().map_err(unreadable)?;
    checked(&meta)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    opened
        .take(MAX_TLS_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    // The file may have grown since it was measured.
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_TLS_FILE_LEN {
        return Err(refused(
            format!(
                "it grew past the {MAX_TLS_FILE_LEN} bytes (1 MiB) a TLS file may hold while it was read"
            ),
            None,
        ));
    }
    Ok(bytes)
}

/// `None` for a regular file, else what it is instead, with its article.
fn not_regular(file_type: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt as _;
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_fifo() {
        Some("a FIFO")
    } else if file_type.is_socket() {
        Some("a socket")
    } else if file_type.is_char_device() || file_type.is_block_device() {
        Some("a device")
    } else {
        Some("a special file")
    }
}

fn pem_error(target: &Target, field: &'static str, file: &Path, e: pem::Error) -> TransportError {
    TransportError::TlsFile {
        target: target.clone(),
        field,
        file: file.to_owned(),
        reason: "it is not valid PEM".to_owned(),
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

/// Adds the CAFile's certificates to `roots`, and returns them: a server
/// presenting one of them exactly is trusted as Go trusts it.
fn add_ca_file(
    target: &Target,
    roots: &mut RootCertStore,
    file: &Path,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs = certificates(target, "CAFile", file)?;
    for cert in &certs {
        roots
            .add(cert.clone())
            .map_err(|e| TransportError::TlsFile {
                target: target.clone(),
                field: "CAFile",
                file: file.to_owned(),
                reason: "it holds a certificate that cannot be a trust anchor".to_owned(),
                source: Some(Box::new(e)),
            })?;
    }
    Ok(certs)
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

/// The verifier used unless `InsecureSkipVerify`: rustls' own (webpki, the
/// system roots plus the CAFile), and, where that refuses a certificate that
/// is byte for byte one of the CAFile's, the checks Go makes of a leaf that
/// is itself a root: name, validity period, extended key usage.
#[derive(Debug)]
struct CaFileVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for CaFileVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => Ok(verified),
            Err(refused) => {
                if self
                    .pinned
                    .iter()
                    .any(|cert| cert.as_ref() == end_entity.as_ref())
                {
                    verify_pinned(end_entity, server_name, now)
                } else {
                    Err(refused)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Go's checks of a server certificate found in the root pool itself: the
/// name (rustls' own check), the validity period, and, if the certificate
/// lists extended key usages, that server authentication is one of them.
fn verify_pinned(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    let parsed = ParsedCertificate::try_from(end_entity)?;
    rustls::client::verify_server_name(&parsed, server_name)?;
    let (_, cert) = x509_parser::parse_x509_certificate(end_entity.as_ref())
        .map_err(|_| CertificateError::BadEncoding)?;
    let validity = cert.validity();
    let at = |seconds: i64| {
        UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
    };
    let now_seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    if now_seconds < validity.not_before.timestamp() {
        return Err(CertificateError::NotValidYetContext {
            time: now,
            not_before: at(validity.not_before.timestamp()),
        }
        .into());
    }
    if now_seconds > validity.not_after.timestamp() {
        return Err(CertificateError::ExpiredContext {
            time: now,
            not_after: at(validity.not_after.timestamp()),
        }
        .into());
    }
    match cert.extended_key_usage() {
        Ok(None) => {}
        Ok(Some(usage)) if usage.value.server_auth || usage.value.any => {}
        Ok(Some(_)) => return Err(CertificateError::InvalidPurpose.into()),
        Err(_) => return Err(CertificateError::BadEncoding.into()),
    }
    Ok(ServerCertVerified::assertion())
}

/// What a failed handshake means and what to do, in one sentence (the rustls
/// error stays the error's source).
pub(crate) fn handshake_failure(error: &io::Error, host: &str) -> String {
    let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match error.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                "the plugin closed the connection during the handshake; is it serving TLS on this port?".to_owned()
            }
            _ => "the connection failed during the handshake".to_owned(),
        };
    };
    use rustls::Error as E;
    match tls {
        E::InvalidCertificate(cert) => certificate_problem(cert, host),
        E::AlertReceived(alert) => alert_reason(*alert),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            "the plugin did not answer in TLS; if it serves plain HTTP, its address is tcp:// or http://, not https://".to_owned()
        }
        E::PeerIncompatible(_) => {
            "the plugin and this client share no TLS version or cipher suite; it must offer TLS 1.2 or 1.3".to_owned()
        }
        E::NoCertificatesPresented => {
            "the plugin presented no certificate; configure its TLS certificate and key".to_owned()
        }
        E::UnsupportedNameType => {
            "the plugin's address has a kind of host name TLS cannot verify; use a DNS name or an IP address".to_owned()
        }
        E::DecryptError | E::PeerMisbehaved(_) | E::PeerSentOversizedRecord => {
            "the plugin broke the TLS protocol during the handshake (or something between us altered the connection); check the plugin's TLS library and what sits between".to_owned()
        }
        E::NoApplicationProtocol => {
            "the plugin and this client agree on no application protocol (ALPN); the plugin must accept http/1.1".to_owned()
        }
        E::FailedToGetCurrentTime => {
            "the system clock cannot be read, so the plugin's certificate cannot be checked".to_owned()
        }
        // rustls' own words are the source.
        _ => "the handshake failed; see the cause".to_owned(),
    }
}

/// `other.example` from webpki's `DnsName("other.example")`, `10.0.0.1` from
/// `IpAddress(10.0.0.1)`; anything else as it is.
fn bare_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .or_else(|| {
            presented
                .strip_prefix("IpAddress(")
                .and_then(|rest| rest.strip_suffix(')'))
        })
        .unwrap_or(presented)
}

/// The plugin's TLS alert, in words, if `error` is one. With TLS 1.3 a plugin
/// that wants a client certificate says so after our side of the handshake is
/// done, so the alert arrives with the first answer, not as a handshake error.
pub(crate) fn alert_received(error: &io::Error) -> Option<String> {
    match error.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(alert) => Some(alert_reason(*alert)),
        _ => None,
    }
}

fn alert_reason(alert: AlertDescription) -> String {
    match alert {
        AlertDescription::CertificateRequired
        | AlertDescription::BadCertificate
        | AlertDescription::UnknownCA
        | AlertDescription::CertificateUnknown
        | AlertDescription::AccessDenied => format!(
            "the plugin refused our client certificate (TLS alert {alert:?}); set TLSConfig.CertFile and KeyFile to a certificate it trusts"
        ),
        AlertDescription::ProtocolVersion | AlertDescription::HandshakeFailure => format!(
            "the plugin and this client share no TLS version or cipher suite (TLS alert {alert:?}); it must offer TLS 1.2 or 1.3"
        ),
        other => format!("the plugin ended the TLS session with alert {other:?}"),
    }
}

fn certificate_problem(error: &CertificateError, host: &str) -> String {
    use CertificateError as C;
    match error {
        C::Expired | C::ExpiredContext { .. } => {
            let when = match error {
                C::ExpiredContext { not_after, .. } => std::time::UNIX_EPOCH
                    .checked_add(Duration::from_secs(not_after.as_secs()))
                    .map(|until| {
                        format!(
                            " (it was valid until {})",
                            humantime::format_rfc3339_seconds(until)
                        )
                    })
                    .unwrap_or_default(),
                _ => String::new(),
            };
            format!("the plugin's certificate has expired{when}; renew it")
        }
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "the plugin's certificate is not valid yet; check the clocks of both machines".to_owned()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            let presented = match error {
                C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                    let names: Vec<&str> = presented.iter().map(|name| bare_name(name)).collect();
                    format!(" (it is for {})", names.join(", "))
                }
                _ => String::new(),
            };
            format!(
                "the plugin's certificate is not valid for {host}{presented}; reissue it for {host}, or use a name it is valid for in the plugin's address"
            )
        }
        C::UnknownIssuer => {
            "the plugin's certificate is not signed by a CA we trust; name the CA's certificate (or the plugin's own, if self-signed) in the descriptor's TLSConfig.CAFile".to_owned()
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "the plugin's certificate is not for TLS servers (its extended key usage lacks serverAuth); reissue it".to_owned()
        }
        // webpki found a trusted CA of the name the certificate gives as its
        // issuer, and that CA's key does not verify it: a bad signature, or
        // one of a kind that key cannot make (an Ed25519 signature checked
        // with an ECDSA key).
        C::BadSignature | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "the plugin's certificate was not signed by the CA it names as its issuer, though a CA of that name is trusted (a self-signed certificate whose subject is a trusted CA's, or one from another CA of the same name); serve a certificate that CA issued, or name the plugin's own certificate in TLSConfig.CAFile".to_owned()
        }
        C::UnsupportedSignatureAlgorithmContext { .. } => {
            "the plugin's certificate is signed with an algorithm this client does not accept (such as SHA-1 or MD5); reissue it signed with ECDSA, Ed25519, or RSA with SHA-256 or better".to_owned()
        }
        C::BadEncoding => {
            "the plugin's certificate is malformed (not a valid X.509 DER certificate); reissue it".to_owned()
        }
        C::Revoked => "the plugin's certificate has been revoked; serve a new one".to_owned(),
        C::UnhandledCriticalExtension => {
            "the plugin's certificate has an extension marked critical that this client does not understand; reissue it without that extension".to_owned()
        }
        C::UnknownRevocationStatus
        | C::ExpiredRevocationList
        | C::ExpiredRevocationListContext { .. } => {
            "the revocation status of the plugin's certificate cannot be established; check the CA's revocation lists".to_owned()
        }
        C::InvalidOcspResponse => {
            "the plugin stapled an OCSP response that is not valid for its certificate; fix or remove the plugin's OCSP stapling".to_owned()
        }
        C::ApplicationVerificationFailure => {
            "the plugin's certificate was refused by this client's own checks; see the cause".to_owned()
        }
        C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::CaUsedAsEndEntity) => {
                "the plugin's certificate is a CA certificate; name that very certificate in TLSConfig.CAFile to trust it as it is, or serve a server certificate the CA issued".to_owned()
            }
            Some(problem) => webpki_problem(problem),
            None => "the plugin's certificate was refused by this client's own checks; see the cause".to_owned(),
        },
        // `CertificateError` is non-exhaustive: a kind rustls adds later.
        _ => "the plugin's certificate was refused for a reason this client has no words for; see the cause".to_owned(),
    }
}

/// The webpki refusals rustls passes on as they are (`CertificateError::Other`).
fn webpki_problem(error: &webpki::Error) -> String {
    use webpki::Error as W;
    let what = match error {
        W::EndEntityUsedAsCa => {
            "a certificate the plugin sent as an issuer is not a CA (its basicConstraints say CA:FALSE); send the real intermediate CA certificates"
        }
        W::PathLenConstraintViolated => {
            "the plugin's certificate chain is longer than a CA in it allows (pathLenConstraint); issue it from a CA allowed to issue it"
        }
        W::NameConstraintViolation => {
            "the plugin's certificate is for a name its CA is not allowed to issue (name constraints); reissue it within the CA's permitted names"
        }
        W::MaximumPathDepthExceeded
        | W::MaximumPathBuildCallsExceeded
        | W::MaximumSignatureChecksExceeded
        | W::MaximumNameConstraintComparisonsExceeded => {
            "the plugin's certificate chain is too long or too complex to verify; send only the chain to a trusted CA"
        }
        W::CertDistrusted => {
            "the plugin's certificate was issued by a CA this client no longer trusts for it; reissue it from another CA"
        }
        W::EmptyEkuExtension => {
            "the plugin's certificate lists no extended key usage at all, so it is for nothing; reissue it with serverAuth"
        }
        W::UnsupportedCertVersion => {
            "the plugin's certificate is not an X.509 version 3 certificate; reissue it"
        }
        W::UnsupportedCriticalExtension => {
            "the plugin's certificate has an extension marked critical that this client does not understand; reissue it without that extension"
        }
        W::UnsupportedNameType => {
            "the plugin's certificate has a kind of name this client cannot check against the plugin's address; reissue it with DNS names or IP addresses"
        }
        W::SignatureAlgorithmMismatch => {
            "the plugin's certificate declares two different signature algorithms; reissue it"
        }
        W::ExtensionValueInvalid
        | W::InvalidNetworkMaskConstraint
        | W::InvalidSerialNumber
        | W::MalformedDnsIdentifier
        | W::MalformedExtensions
        | W::MalformedNameConstraint => {
            "the plugin's certificate (or a CA certificate in its chain) is malformed; reissue it"
        }
        _ => {
            "the plugin's certificate was refused for a reason this client has no words for; see the cause"
        }
    };
    what.to_owned()
}
