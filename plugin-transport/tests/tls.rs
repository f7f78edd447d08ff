//! TLS (docs/protocol.md, "TLS"): verified by default against the CAFile (and system
//! roots), by host name or IP; InsecureSkipVerify only when asked; client
//! certificates of every key type and encoding; files that do not load named.

#![cfg(feature = "tls")]

mod support;

use std::error::Error as _;

use plugin_transport::{Transport, TransportConfig, TransportError};
use rcgen::{PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519};
use support::certs::{self, Ca, Leaf};
use support::{Server, call, echo};

const UNKNOWN_ISSUER: &str = "the plugin's certificate is not signed by a CA we trust; name the \
     CA's certificate (or the plugin's own, if self-signed) in the descriptor's TLSConfig.CAFile";

/// A TLS plugin presenting `leaf`, whose descriptor's TLSConfig is `tls_json`
/// with `{CA}` replaced by the path of `ca_pem`, written beside it.
async fn plugin(
    leaf: &Leaf,
    client_ca: Option<&Ca>,
    host: &str,
    tls_json: &str,
    ca_pem: Option<&str>,
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = ca_pem.map(|pem| certs::write(dir.path(), "ca.pem", pem));
    let tls_json = match &ca_path {
        Some(path) => tls_json.replace("{CA}", path.to_str().unwrap()),
        None => tls_json.to_owned(),
    };
    let mut server = support::tls(
        echo(),
        certs::server_config(leaf, client_ca),
        host,
        &tls_json,
    )
    .await;
    server.dir = dir;
    server
}

fn handshake_error(err: &TransportError) -> String {
    assert!(err.is_tls() && err.is_connect(), "{err:?}");
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        chain += &format!(" / {s}");
        source = s.source();
    }
    chain
}

/// The handshake error of a call to a plugin serving `leaf`, at `host`,
/// described with `ca` as its CAFile: what it says after "failed: ".
async fn refused_with_ca(ca: &Ca, leaf: &Leaf, host: &str) -> String {
    reason(&refused_with_ca_file(leaf, host, &ca.pem()).await)
}

#[tokio::test]
async fn ca_file_verifies_the_server_by_name() {
    let ca = Ca::new("test CA");
    let leaf = ca.server(&["localhost"]);
    let server = plugin(
        &leaf,
        None,
        "localhost",
        r#"{"CAFile": "{CA}"}"#,
        Some(&ca.pem()),
    )
    .await;
    let (status, body) = call(&server.transport(), "/Echo.Echo", "secure")
        .await
        .unwrap();
    assert_eq!((status, body.as_ref()), (200, b"secure".as_ref()));
}

#[tokio::test]
async fn ca_file_verifies_the_server_by_ip_address() {
    let ca = Ca::new("test CA");
    let leaf = ca.server(&["127.0.0.1"]);
    let server = plugin(
        &leaf,
        None,
        "127.0.0.1",
        r#"{"CAFile": "{CA}"}"#,
        Some(&ca.pem()),
    )
    .await;
    assert_eq!(
        call(&server.transport(), "/Echo.Echo", "ip")
            .await
            .unwrap()
            .0,
        200
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let (ca, other) = (Ca::new("test CA"), Ca::new("another CA"));
    let leaf = other.server(&["localhost"]);
    let server = plugin(
        &leaf,
        None,
        "localhost",
        r#"{"CAFile": "{CA}"}"#,
        Some(&ca.pem()),
    )
    .await;
    let err = call(&server.transport(), "/Echo.Echo", "")
        .await
        .unwrap_err();
    let chain = handshake_error(&err);
    assert!(chain.contains("UnknownIssuer"), "{chain}");
    assert!(matches!(err, TransportError::TlsHandshake { .. }));
    assert_eq!(reason(&err), UNKNOWN_ISSUER);
    assert_eq!(
        server.seen().len(),
        0,
        "no request may reach an unverified server"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let ca = Ca::new("test CA");
    assert_eq!(
        refused_with_ca(&ca, &ca.server(&["other.example"]), "localhost").await,
        "the plugin's certificate is not valid for localhost (it is for other.example); \
         reissue it for localhost, or use a name it is valid for in the plugin's address"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let ca = Ca::new("test CA");
    assert_eq!(
        refused_with_ca(&ca, &ca.expired_server(&["localhost"]), "localhost").await,
        "the plugin's certificate has expired (it was valid until 2020-12-31T00:00:00Z); renew it"
    );
}

#[tokio::test]
async fn a_certificate_for_another_ip_is_refused() {
    let ca = Ca::new("test CA");
    assert_eq!(
        refused_with_ca(&ca, &ca.server(&["127.0.0.2"]), "127.0.0.1").await,
        "the plugin's certificate is not valid for 127.0.0.1 (it is for 127.0.0.2); \
         reissue it for 127.0.0.1, or use a name it is valid for in the plugin's address"
    );
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_by_default() {
    let leaf = certs::self_signed(&["localhost"]);
    // An empty TLSConfig: Docker would skip verification here; we do not.
    let server = plugin(&leaf, None, "localhost", "{}", None).await;
    let err = call(&server.transport(), "/Echo.Echo", "")
        .await
        .unwrap_err();
    let chain = handshake_error(&err);
    assert!(
        chain.contains("UnknownIssuer"),
        "the rustls error is the source: {chain}"
    );
    assert_eq!(reason(&err), UNKNOWN_ISSUER);
}

/// The error of a call to a plugin serving `leaf` at `host`, whose CAFile
/// holds `ca_pem`; it must be a handshake error, with no request sent.
async fn refused_with_ca_file(leaf: &Leaf, host: &str, ca_pem: &str) -> TransportError {
    let server = plugin(leaf, None, host, r#"{"CAFile": "{CA}"}"#, Some(ca_pem)).await;
    let err = call(&server.transport(), "/Echo.Echo", "")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::TlsHandshake { .. }),
        "{err:?}"
    );
    assert_eq!(
        server.seen().len(),
        0,
        "no request may reach a refused server"
    );
    err
}

/// The sentence after "TLS handshake with ... failed: ".
fn reason(err: &TransportError) -> String {
    let text = err.to_string();
    let (_, reason) = text.split_once(" failed: ").unwrap();
    reason.to_owned()
}

#[tokio::test]
async fn a_self_signed_ca_certificate_that_is_the_ca_file_is_accepted() {
    // What `openssl req -x509` makes: its own CA, served as the plugin's certificate
    // and named as the CAFile. Go accepts it (a leaf found in the root pool); webpki
    // alone refuses it as a CA used as an end entity.
    let leaf = certs::self_signed_ca(&["localhost"]);
    let server = plugin(
        &leaf,
        None,
        "localhost",
        r#"{"CAFile": "{CA}"}"#,
        Some(&leaf.cert_pem),
    )
    .await;
    let (status, body) = call(&server.transport(), "/Echo.Echo", "pinned")
        .await
        .unwrap();
    assert_eq!((status, body.as_ref()), (200, b"pinned".as_ref()));
}

#[tokio::test]
async fn a_self_signed_ca_certificate_among_others_in_the_ca_file_is_accepted_by_ip() {
    let other = Ca::new("another CA");
    let leaf = certs::self_signed_ca(&["127.0.0.1"]);
    let bundle = format!("{}{}", other.pem(), leaf.cert_pem);
    let server = plugin(
        &leaf,
        None,
        "127.0.0.1",
        r#"{"CAFile": "{CA}"}"#,
        Some(&bundle),
    )
    .await;
    assert_eq!(
        call(&server.transport(), "/Echo.Echo", "").await.unwrap().0,
        200
    );
}

#[tokio::test]
async fn a_self_signed_ca_certificate_in_the_ca_file_is_still_checked_for_its_name() {
    let leaf = certs::self_signed_ca(&["other.example"]);
    let err = refused_with_ca_file(&leaf, "localhost", &leaf.cert_pem).await;
    assert_eq!(
        reason(&err),
        "the plugin's certificate is not valid for localhost (it is for other.example); \
         reissue it for localhost, or use a name it is valid for in the plugin's address"
    );
}

#[tokio::test]
async fn a_self_signed_ca_certificate_in_the_ca_file_is_still_checked_for_its_dates() {
    let expired = certs::self_signed_ca_with(&["localhost"], |params| {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 12, 31);
    });
    let err = refused_with_ca_file(&expired, "localhost", &expired.cert_pem).await;
    assert_eq!(
        reason(&err),
        "the plugin's certificate has expired (it was valid until 2020-12-31T00:00:00Z); renew it"
    );
    let future = certs::self_signed_ca_with(&["localhost"], |params| {
        params.not_before = rcgen::date_time_ymd(2999, 1, 1);
        params.not_after = rcgen::date_time_ymd(3000, 1, 1);
    });
    let err = refused_with_ca_file(&future, "localhost", &future.cert_pem).await;
    assert_eq!(
        reason(&err),
        "the plugin's certificate is not valid yet; check the clocks of both machines"
    );
}

#[tokio::test]
async fn a_self_signed_ca_certificate_in_the_ca_file_must_allow_server_auth() {
    let client_only = certs::self_signed_ca_with(&["localhost"], |params| {
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    });
    let err = refused_with_ca_file(&client_only, "localhost", &client_only.cert_pem).await;
    assert_eq!(
        reason(&err),
        "the plugin's certificate is not for TLS servers (its extended key usage lacks serverAuth); reissue it"
    );
}

#[tokio::test]
async fn a_self_signed_ca_certificate_not_in_the_ca_file_is_refused_with_what_to_do() {
    let leaf = certs::self_signed_ca(&["localhost"]);
    let err = refused_with_ca_file(&leaf, "localhost", &Ca::new("test CA").pem()).await;
    assert_eq!(
        reason(&err),
        "the plugin's certificate is a CA certificate; name that very certificate in \
         TLSConfig.CAFile to trust it as it is, or serve a server certificate the CA issued"
    );
}

#[tokio::test]
async fn a_ca_certificate_issued_by_the_ca_file_but_not_in_it_is_refused_with_what_to_do() {
    // Go accepts this one (it does not check a leaf's basicConstraints); we trust a
    // CA certificate as a server's only when it is itself in the CAFile.
    let ca = Ca::new("test CA");
    let err = refused_with_ca_file(&ca.ca_server(&["localhost"]), "localhost", &ca.pem()).await;
    assert_eq!(
        reason(&err),
        "the plugin's certificate is a CA certificate; name that very certificate in \
         TLSConfig.CAFile to trust it as it is, or serve a server certificate the CA issued"
    );
}

#[tokio::test]
async fn a_plain_http_plugin_behind_an_https_address_is_named_as_such() {
    let server = support::tcp(echo()).await;
    let address = server
        .spec
        .address()
        .to_string()
        .replace("tcp://", "https://");
    let spec = plugin_transport::PluginSpec::from_json_text(
        support::name(),
        &format!(r#"{{"Addr": "{address}"}}"#),
        server.dir.path().join("test-plugin.json"),
    )
    .unwrap();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = call(&transport, "/Echo.Echo", "").await.unwrap_err();
    assert!(
        matches!(err, TransportError::TlsHandshake { .. }),
        "{err:?}"
    );
    assert_eq!(
        reason(&err),
        "the plugin did not answer in TLS; if it serves plain HTTP, its address is tcp:// or http://, not https://"
    );
}

#[tokio::test]
async fn insecure_skip_verify_accepts_any_certificate() {
    let leaf = certs::self_signed(&["somewhere.else"]);
    let server = plugin(
        &leaf,
        None,
        "localhost",
        r#"{"InsecureSkipVerify": true}"#,
        None,
    )
    .await;
    let (status, body) = call(&server.transport(), "/Echo.Echo", "trusting")
        .await
        .unwrap();
    assert_eq!((status, body.as_ref()), (200, b"trusting".as_ref()));
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate() {
    let (server_ca, client_ca) = (Ca::new("server CA"), Ca::new("client CA"));
    let leaf = server_ca.server(&["localhost"]);
    let server = plugin(
        &leaf,
        Some(&client_ca),
        "localhost",
        r#"{"CAFile": "{CA}"}"#,
        Some(&server_ca.pem()),
    )
    .await;
    let err = call(&server.transport(), "/Echo.Echo", "")
        .await
        .unwrap_err();
    // TLS 1.3 lets the client finish its handshake before the server checks the
    // (missing) certificate, so the refusal arrives with the first response.
    let text = err.to_string();
    assert!(
        text.ends_with(
            ": the plugin refused our client certificate (TLS alert CertificateRequired); \
             set TLSConfig.CertFile and KeyFile to a certificate it trusts"
        ),
        "{text}"
    );
    assert_eq!(server.seen().len(), 0);
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate_signed_by_another_ca_fails() {
    let (server_ca, client_ca) = (Ca::new("server CA"), Ca::new("client CA"));
    let leaf = server_ca.server(&["localhost"]);
    let stranger = Ca::new("stranger CA").client(certs::key_for(&PKCS_ECDSA_P256_SHA256));
    let dir = tempfile::tempdir().unwrap();
    let cert = certs::write(dir.path(), "c.pem", &stranger.cert_pem);
    let key = certs::write(dir.path(), "k.pem", &stranger.key.serialize_pem());
    let tls_json = format!(
        r#"{{"CAFile": "{{CA}}", "CertFile": "{}", "KeyFile": "{}"}}"#,
        cert.display(),
        key.display()
    );
    let server = plugin(
        &leaf,
        Some(&client_ca),
        "localhost",
        &tls_json,
        Some(&server_ca.pem()),
    )
    .await;
    assert!(call(&server.transport(), "/Echo.Echo", "").await.is_err());
    assert_eq!(server.seen().len(), 0);
}

#[tokio::test]
async fn client_keys_ecdsa_p256_in_pkcs8_and_sec1() {
    let ca = Ca::new("client CA");
    let key = certs::key_for(&PKCS_ECDSA_P256_SHA256);
    let pkcs8 = key.serialize_pem();
    let sec1 = certs::pem("EC PRIVATE KEY", certs::pkcs8_inner(&key.serialize_der()));
    let client = ca.client(key);
    for key_pem in [pkcs8, sec1] {
        let leaf = Leaf {
            cert_pem: client.cert_pem.clone(),
            key: certs::key_for(&PKCS_ECDSA_P256_SHA256),
        };
        mutual_tls_with(&ca, key_pem, leaf).await;
    }
}

#[tokio::test]
async fn client_keys_ecdsa_p384_ed25519_and_rsa() {
    let ca = Ca::new("client CA");
    for alg in [&PKCS_ECDSA_P384_SHA384, &PKCS_ED25519] {
        let key = certs::key_for(alg);
        let key_pem = key.serialize_pem();
        mutual_tls_with(&ca, key_pem, ca.client(key)).await;
    }
    let rsa = certs::rsa_key();
    let pkcs8 = rsa.serialize_pem();
    let pkcs1 = certs::pem("RSA PRIVATE KEY", certs::pkcs8_inner(&rsa.serialize_der()));
    let client = ca.client(rsa);
    for key_pem in [pkcs8, pkcs1] {
        let leaf = Leaf {
            cert_pem: client.cert_pem.clone(),
            key: certs::rsa_key(),
        };
        mutual_tls_with(&ca, key_pem, leaf).await;
    }
}

/// Mutual TLS where `client_ca` signed the client certificate.
async fn mutual_tls_with(client_ca: &Ca, client_key_pem: String, client: Leaf) {
    let server_ca = Ca::new("server CA");
    let leaf = server_ca.server(&["localhost"]);
    let dir = tempfile::tempdir().unwrap();
    let cert = certs::write(dir.path(), "client.pem", &client.cert_pem);
    let key = certs::write(dir.path(), "client.key", &client_key_pem);
    let tls_json = format!(
        r#"{{"CAFile": "{{CA}}", "CertFile": "{}", "KeyFile": "{}"}}"#,
        cert.display(),
        key.display()
    );
    let server = plugin(
        &leaf,
        Some(client_ca),
        "localhost",
        &tls_json,
        Some(&server_ca.pem()),
    )
    .await;
    let result = call(&server.transport(), "/Echo.Echo", "mutual").await;
    let first_line = client_key_pem.lines().next().unwrap_or_default().to_owned();
    let (status, body) = result.unwrap_or_else(|e| panic!("{first_line}: {e}"));
    assert_eq!(
        (status, body.as_ref()),
        (200, b"mutual".as_ref()),
        "{first_line}"
    );
}

fn spec_with(tls_json: &str) -> plugin_transport::PluginSpec {
    let json = format!(r#"{{"Addr": "https://localhost:1", "TLSConfig": {tls_json}}}"#);
    plugin_transport::PluginSpec::from_json_text(
        support::name(),
        &json,
        "/plugins/test-plugin.json",
    )
    .unwrap()
}

fn tls_file_error(tls_json: &str) -> TransportError {
    Transport::for_spec(&spec_with(tls_json), &TransportConfig::default()).unwrap_err()
}

#[test]
fn a_key_file_that_is_not_a_key_is_named_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let cert = certs::write(dir.path(), "c.pem", &certs::self_signed(&["x"]).cert_pem);
    let key = certs::write(dir.path(), "k.pem", "this is not a key\n");
    let err = tls_file_error(&format!(
        r#"{{"CertFile": "{}", "KeyFile": "{}"}}"#,
        cert.display(),
        key.display()
    ));
    assert!(
        matches!(&err, TransportError::TlsFile { field: "KeyFile", file, .. } if file == &key),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "plugin \"test-plugin\" at https://localhost:1: cannot use TLSConfig.KeyFile {}: it holds no private key (expected PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")",
            key.display()
        )
    );
    assert!(err.is_tls() && !err.is_connect());
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cert = certs::write(dir.path(), "c.pem", &certs::self_signed(&["x"]).cert_pem);
    let key = certs::write(
        dir.path(),
        "k.pem",
        &certs::key_for(&PKCS_ECDSA_P256_SHA256).serialize_pem(),
    );
    let err = tls_file_error(&format!(
        r#"{{"CertFile": "{}", "KeyFile": "{}"}}"#,
        cert.display(),
        key.display()
    ));
    assert!(
        matches!(
            &err,
            TransportError::TlsFile {
                field: "KeyFile",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("does not go with CertFile"),
        "{err}"
    );
}

#[test]
fn an_encrypted_key_is_refused_with_how_to_decrypt_it() {
    let dir = tempfile::tempdir().unwrap();
    let cert = certs::write(dir.path(), "c.pem", &certs::self_signed(&["x"]).cert_pem);
    let key = certs::write(
        dir.path(),
        "k.pem",
        &certs::pem("ENCRYPTED PRIVATE KEY", vec![1, 2, 3]),
    );
    let err = tls_file_error(&format!(
        r#"{{"CertFile": "{}", "KeyFile": "{}"}}"#,
        cert.display(),
        key.display()
    ));
    assert!(
        err.to_string()
            .contains("it is encrypted, which is not supported"),
        "{err}"
    );
}

#[test]
fn a_ca_file_that_is_missing_or_empty_is_named() {
    let err = tls_file_error(r#"{"CAFile": "/nonexistent/ca.pem"}"#);
    assert!(matches!(
        &err,
        TransportError::TlsFile {
            field: "CAFile",
            ..
        }
    ));
    assert!(
        err.to_string()
            .ends_with("cannot use TLSConfig.CAFile /nonexistent/ca.pem: cannot read it"),
        "{err}"
    );
    assert!(err.source().is_some());

    let dir = tempfile::tempdir().unwrap();
    let empty = certs::write(dir.path(), "ca.pem", "no certificates here\n");
    let err = tls_file_error(&format!(r#"{{"CAFile": "{}"}}"#, empty.display()));
    assert!(
        err.to_string()
            .ends_with("it holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)"),
        "{err}"
    );
}

/// What a CAFile naming `file` gives, and how long it took.
fn refused_ca_file(file: &std::path::Path) -> (TransportError, std::time::Duration) {
    let started = std::time::Instant::now();
    let err = tls_file_error(&format!(r#"{{"CAFile": "{}"}}"#, file.display()));
    (err, started.elapsed())
}

/// The rule a TLS file broke, after "cannot use TLSConfig.<field> <file>: ".
fn broken_rule(err: &TransportError, field: &str, file: &std::path::Path) -> String {
    let text = err.to_string();
    let prefix = format!(
        "plugin \"test-plugin\" at https://localhost:1: cannot use TLSConfig.{field} {}: ",
        file.display()
    );
    text.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned()
}

#[test]
fn a_fifo_as_a_tls_file_is_refused_at_once_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ca.pem");
    plugin_test_support::files::fifo(&fifo);
    // Before the fix this blocked in open(2) until a writer came: forever.
    let (err, took) = refused_ca_file(&fifo);
    assert_eq!(
        broken_rule(&err, "CAFile", &fifo),
        "it is a FIFO, not a regular file; TLS files must be regular files"
    );
    assert!(
        matches!(&err, TransportError::TlsFile { field: "CAFile", file, source: None, .. } if file == &fifo),
        "{err:?}"
    );
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");

    // CertFile and KeyFile are read the same way.
    let cert = certs::write(dir.path(), "c.pem", &certs::self_signed(&["x"]).cert_pem);
    for (field, cert_file, key_file) in [("KeyFile", &cert, &fifo), ("CertFile", &fifo, &cert)] {
        let err = tls_file_error(&format!(
            r#"{{"CertFile": "{}", "KeyFile": "{}"}}"#,
            cert_file.display(),
            key_file.display()
        ));
        assert_eq!(
            broken_rule(&err, field, &fifo),
            "it is a FIFO, not a regular file; TLS files must be regular files"
        );
    }
}

#[test]
fn dev_zero_as_a_tls_file_is_refused_without_reading_it() {
    // Before the fix this read without end: 23 GB in 76 s, then the OOM killer.
    let zero = std::path::Path::new("/dev/zero");
    let (err, took) = refused_ca_file(zero);
    assert_eq!(
        broken_rule(&err, "CAFile", zero),
        "it is a device, not a regular file; TLS files must be regular files"
    );
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
}

#[test]
fn a_directory_as_a_tls_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (err, _) = refused_ca_file(dir.path());
    assert_eq!(
        broken_rule(&err, "CAFile", dir.path()),
        "it is a directory, not a regular file; TLS files must be regular files"
    );
}

#[test]
fn a_tls_file_over_the_cap_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("ca.pem");
    let file = std::fs::File::create(&big).unwrap();
    // A sparse file: its size is all that is looked at.
    file.set_len(plugin_transport::MAX_TLS_FILE_LEN + 1)
        .unwrap();
    let (err, took) = refused_ca_file(&big);
    assert_eq!(
        broken_rule(&err, "CAFile", &big),
        "it is 1048577 bytes, more than the 1048576 (1 MiB) a TLS file may hold; \
         name a file with only the certificates or key this plugin needs"
    );
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");

    // At the cap exactly, the file is read (and here holds no certificate).
    file.set_len(plugin_transport::MAX_TLS_FILE_LEN).unwrap();
    let (err, _) = refused_ca_file(&big);
    assert_eq!(
        broken_rule(&err, "CAFile", &big),
        "it holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)"
    );
}

const NOT_SIGNED_BY_ITS_ISSUER: &str = "the plugin's certificate was not signed by the CA it \
     names as its issuer, though a CA of that name is trusted (a self-signed certificate whose \
     subject is a trusted CA's, or one from another CA of the same name); serve a certificate \
     that CA issued, or name the plugin's own certificate in TLSConfig.CAFile";

/// A self-signed server certificate for localhost with `key`, whose subject
/// (and so issuer) is the name of `Ca::new("test CA")`.
fn self_signed_as_test_ca(key: rcgen::KeyPair) -> Leaf {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "test CA");
    let cert = params.self_signed(&key).unwrap();
    Leaf {
        cert_pem: cert.pem(),
        key,
    }
}

#[tokio::test]
async fn a_self_signed_certificate_with_a_trusted_cas_subject_is_refused_in_words() {
    // The CA's key is ECDSA P-256 and so is the leaf's: webpki checks the
    // leaf's signature with the CA's key, and it does not verify.
    let ca = Ca::new("test CA");
    let leaf = self_signed_as_test_ca(certs::key_for(&PKCS_ECDSA_P256_SHA256));
    let err = refused_with_ca_file(&leaf, "localhost", &ca.pem()).await;
    assert_eq!(reason(&err), NOT_SIGNED_BY_ITS_ISSUER);
    assert!(handshake_error(&err).contains("BadSignature"), "{err:?}");
}

#[tokio::test]
async fn a_self_signed_certificate_with_a_trusted_cas_subject_and_another_key_type_is_refused_in_words()
 {
    // An Ed25519 signature cannot be checked with the CA's ECDSA key: webpki's
    // `UnsupportedSignatureAlgorithmForPublicKeyContext`, once shown raw.
    let ca = Ca::new("test CA");
    let leaf = self_signed_as_test_ca(certs::key_for(&PKCS_ED25519));
    let err = refused_with_ca_file(&leaf, "localhost", &ca.pem()).await;
    assert_eq!(reason(&err), NOT_SIGNED_BY_ITS_ISSUER);
    assert!(!err.to_string().contains('{'), "{err}");
    // rustls' own error stays the cause.
    let chain = handshake_error(&err);
    assert!(
        chain.contains("UnsupportedSignatureAlgorithmForPublicKey"),
        "{chain}"
    );
}
