//! Certificates made at test time with rcgen: a CA and the leaves it issues
//! (server, client, expired, CA-flagged), self-signed certificates, and the
//! rustls server configuration that presents one.
//!
//! ```
//! use plugin_test_support::certs::{Ca, CertFiles};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let files = CertFiles::write(dir.path(), &["localhost", "127.0.0.1"]);
//! assert!(std::fs::read_to_string(&files.ca).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
//!
//! let ca = Ca::new("test CA");
//! let leaf = ca.server(&["plugin.test"]);
//! let config = plugin_test_support::certs::server_config(&leaf, None);
//! assert_eq!(config.alpn_protocols, Vec::<Vec<u8>>::new());
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The RSA key the tests use (rcgen with ring cannot generate RSA keys).
pub const RSA_PKCS8: &str = include_str!("../fixtures/rsa-2048.pk8.pem");

/// A certificate authority.
#[derive(Debug)]
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate with its key.
#[derive(Debug)]
pub struct Leaf {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key.
    pub key: KeyPair,
}

impl Leaf {
    /// The private key, PKCS#8 PEM.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }
}

/// The PEM files of a server certificate and the CA that issued it, written
/// into a directory: what a plugin serving TLS and a host trusting it need.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// `ca.pem`: the issuing CA's certificate.
    pub ca: PathBuf,
    /// `cert.pem`: the server certificate.
    pub cert: PathBuf,
    /// `key.pem`: its private key.
    pub key: PathBuf,
}

impl CertFiles {
    /// A new CA and a server certificate for `names` (DNS names or IP
    /// addresses), written as `ca.pem`, `cert.pem` and `key.pem` in `dir`
    /// (made if missing).
    pub fn write(dir: &Path, names: &[&str]) -> Self {
        let ca = Ca::new("test CA");
        let leaf = ca.server(names);
        if let Err(e) = std::fs::create_dir_all(dir) {
            panic!("cannot make {}: {e}", dir.display());
        }
        Self {
            ca: write(dir, "ca.pem", &ca.pem()),
            cert: write(dir, "cert.pem", &leaf.cert_pem),
            key: write(dir, "key.pem", &leaf.key_pem()),
        }
    }
}

impl Ca {
    /// A new self-signed CA with this common name.
    pub fn new(common_name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).unwrap(),
        }
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for these names (DNS names or IP addresses).
    pub fn server(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate().unwrap();
        self.leaf(names, key, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A server certificate for these names that expired at the end of 2020.
    pub fn expired_server(&self, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key,
        }
    }

    /// A server certificate for these names that is itself a CA
    /// (`basicConstraints CA:TRUE`), issued by this CA.
    pub fn ca_server(&self, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key,
        }
    }

    /// A client certificate for `key`.
    pub fn client(&self, key: KeyPair) -> Leaf {
        self.leaf(&["client.test"], key, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, names: &[&str], key: KeyPair, usage: ExtendedKeyUsagePurpose) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "test leaf");
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key,
        }
    }

    /// A root store holding only this CA.
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.issuer.der().clone()).unwrap();
        roots
    }
}

/// A self-signed server certificate (no CA).
pub fn self_signed(names: &[&str]) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Leaf {
        cert_pem: cert.pem(),
        key,
    }
}

/// A self-signed certificate that is its own CA (`basicConstraints CA:TRUE`,
/// no extended key usage), as `openssl req -x509` makes by default.
pub fn self_signed_ca(names: &[&str]) -> Leaf {
    self_signed_ca_with(names, |_| {})
}

/// [`self_signed_ca`] with its parameters changed by `change` first.
pub fn self_signed_ca_with(names: &[&str], change: impl FnOnce(&mut CertificateParams)) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "self-signed plugin");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    change(&mut params);
    let cert = params.self_signed(&key).unwrap();
    Leaf {
        cert_pem: cert.pem(),
        key,
    }
}

/// A new key pair for `alg`.
pub fn key_for(alg: &'static SignatureAlgorithm) -> KeyPair {
    KeyPair::generate_for(alg).unwrap()
}

/// The fixed RSA key ([`RSA_PKCS8`]).
pub fn rsa_key() -> KeyPair {
    KeyPair::from_pem(RSA_PKCS8).unwrap()
}

/// rustls's *ring* provider, as the crates under test use it (deprecated from
/// rustls 0.23.48 for its lack of post-quantum key exchange, which the tests
/// do not need).
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config presenting `leaf`; with `client_ca`, client certificates
/// signed by it are required.
pub fn server_config(leaf: &Leaf, client_ca: Option<&Ca>) -> rustls::ServerConfig {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .unwrap();
    let builder = match client_ca {
        Some(ca) => builder.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(ca.roots()),
                provider(),
            )
            .build()
            .unwrap(),
        ),
        None => builder.with_no_client_auth(),
    };
    let chain = vec![CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.serialize_der()));
    builder.with_single_cert(chain, key).unwrap()
}

/// Writes `contents` to `dir/name`; the path.
pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, contents) {
        panic!("cannot write {}: {e}", path.display());
    }
    path
}

/// PEM with the given label.
pub fn pem(label: &str, der: Vec<u8>) -> String {
    pem::encode(&pem::Pem::new(label, der))
}

/// The key inside a PKCS#8 `PrivateKeyInfo`: PKCS#1 for RSA, SEC1 for EC.
pub fn pkcs8_inner(pkcs8_der: &[u8]) -> Vec<u8> {
    let (tag, info, _) = der_item(pkcs8_der);
    assert_eq!(tag, 0x30, "PrivateKeyInfo is a SEQUENCE");
    let (tag, _version, rest) = der_item(info);
    assert_eq!(tag, 0x02, "version");
    let (tag, _algorithm, rest) = der_item(rest);
    assert_eq!(tag, 0x30, "algorithm");
    let (tag, key, _) = der_item(rest);
    assert_eq!(tag, 0x04, "privateKey OCTET STRING");
    key.to_vec()
}

/// (tag, content, rest) of the DER item at the start of `input`.
fn der_item(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let first = input[1];
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        let len = input[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        (len, 2 + n)
    };
    (tag, &input[header..header + len], &input[header + len..])
}
