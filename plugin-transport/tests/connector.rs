//! Custom connectors (`Transport::with_connector`): the connector carries
//! every connection, the pool still reuses them, TLS is still made over its
//! stream for an `https://` address, and its failures are connect errors that
//! name the plugin.

mod support;

use std::error::Error as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Request;
use http_body_util::Full;
use plugin_spec::{Address, PluginSpec};
use plugin_transport::{ConnectionInfo, Target, Transport, TransportConfig, TransportError};
#[cfg(feature = "tls")]
use support::certs;
use support::{Seen, call, echo};
use tower::ServiceExt;

/// A spec whose address nothing listens on: only a connector can reach it.
fn nowhere(dir: &tempfile::TempDir) -> PluginSpec {
    PluginSpec::from_socket(support::name(), dir.path().join("nowhere.sock")).unwrap()
}

/// The connection a response came over.
async fn connection_of(transport: &Transport) -> u64 {
    let request = Request::post("/Echo.Echo")
        .body(Full::new(bytes::Bytes::from_static(b"hi")))
        .unwrap();
    let response = transport.clone().oneshot(request).await.unwrap();
    let id = response.extensions().get::<ConnectionInfo>().unwrap().id();
    // Read to the end: the connection goes back to the pool.
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body, "hi");
    id
}

/// Two calls, each answered with its own body.
async fn two_calls_answered(transport: &Transport) {
    for body in ["one", "two"] {
        assert_eq!(
            call(transport, "/Echo.Echo", body).await.unwrap(),
            (200, body.into())
        );
    }
}

#[tokio::test]
async fn a_connector_over_an_in_memory_pipe_carries_the_calls_and_its_connections_are_pooled() {
    let dir = tempfile::tempdir().unwrap();
    let spec = nowhere(&dir);
    let opened = Arc::new(AtomicUsize::new(0));
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let connector = {
        let (opened, targets, seen) =
            (Arc::clone(&opened), Arc::clone(&targets), Arc::clone(&seen));
        tower::service_fn(move |target: Target| {
            opened.fetch_add(1, Ordering::SeqCst);
            targets.lock().unwrap().push(target);
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            tokio::spawn(support::serve(theirs, echo(), Arc::clone(&seen)));
            async move { Ok::<_, std::io::Error>(ours) }
        })
    };
    let transport =
        Transport::with_connector(&spec, &TransportConfig::default(), connector).unwrap();

    let first = connection_of(&transport).await;
    let second = connection_of(&transport).await;
    let third = connection_of(&transport).await;

    assert_eq!(opened.load(Ordering::SeqCst), 1, "one connection, reused");
    assert_eq!((first, second, third), (0, 0, 0));
    let targets = targets.lock().unwrap();
    assert_eq!(targets[0].name(), spec.name());
    assert_eq!(targets[0].address(), spec.address());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].path, "/Echo.Echo");
    // The HTTP handling is the transport's, as over a unix socket.
    assert_eq!(seen[0].headers["host"], "plugin.moby.localhost");
}

#[tokio::test]
async fn a_connector_reaches_a_socket_other_than_the_descriptors_address() {
    let server = support::unix(echo()).await;
    let real = match server.spec.address() {
        Address::Unix(path) => path.as_path().to_owned(),
        other => panic!("not a unix socket: {other}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = nowhere(&dir);
    let opened = Arc::new(AtomicUsize::new(0));
    let connector = {
        let opened = Arc::clone(&opened);
        tower::service_fn(move |_: Target| {
            opened.fetch_add(1, Ordering::SeqCst);
            tokio::net::UnixStream::connect(real.clone())
        })
    };
    let transport =
        Transport::with_connector(&spec, &TransportConfig::default(), connector).unwrap();

    two_calls_answered(&transport).await;

    assert_eq!(opened.load(Ordering::SeqCst), 1);
    assert_eq!(
        server.connections(),
        1,
        "the second call reused the first's connection"
    );
    assert_eq!(server.seen().len(), 2);
    // Without the connector, the descriptor's address is refused.
    let direct = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    assert!(
        call(&direct, "/A", "")
            .await
            .unwrap_err()
            .is_nothing_listening()
    );
}

/// A connector's own error type.
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the vsock peer refused")
    }
}

impl std::error::Error for Refused {}

#[tokio::test]
async fn a_failing_connector_is_a_connect_error_that_names_the_plugin_and_keeps_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let spec = nowhere(&dir);
    let connector =
        tower::service_fn(|_: Target| async { Err::<tokio::io::DuplexStream, _>(Refused) });
    let transport =
        Transport::with_connector(&spec, &TransportConfig::default(), connector).unwrap();

    let err = call(&transport, "/Plugin.Activate", "").await.unwrap_err();

    assert!(matches!(err, TransportError::Connector { .. }), "{err:?}");
    assert!(err.is_connect() && err.is_connection_failure());
    assert!(!err.is_timeout() && !err.is_tls() && !err.is_nothing_listening());
    assert_eq!(err.target().name(), spec.name());
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to plugin \"test-plugin\" at unix://{}: its connector failed",
            dir.path().join("nowhere.sock").display()
        )
    );
    let source = err.source().expect("the connector's error is the source");
    assert!(source.is::<Refused>(), "{source:?}");
    assert_eq!(
        plugin_test_support::errors::causes(&err)[1],
        "the vsock peer refused"
    );
    plugin_test_support::errors::assert_each_cause_once(&err);
}

#[tokio::test]
async fn a_connector_that_never_answers_is_bounded_by_the_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let spec = nowhere(&dir);
    let connector = tower::service_fn(|_: Target| {
        std::future::pending::<Result<tokio::io::DuplexStream, std::io::Error>>()
    });
    let config = TransportConfig::default().connect_timeout(Duration::from_millis(50));
    let transport = Transport::with_connector(&spec, &config, connector).unwrap();

    let err = call(&transport, "/Plugin.Activate", "").await.unwrap_err();

    assert!(
        matches!(err, TransportError::ConnectTimeout { after, .. } if after == Duration::from_millis(50)),
        "{err:?}"
    );
    assert!(err.is_connect() && err.is_timeout());
}

#[cfg(feature = "tls")]
/// A TLS plugin whose descriptor says `https://plugin.test:PORT` (a name that
/// does not resolve) and trusts `ca`, and the port it really listens on.
async fn tls_plugin(ca: &certs::Ca) -> (support::Server, u16) {
    let leaf = ca.server(&["plugin.test"]);
    let dir = tempfile::tempdir().unwrap();
    let ca_path = certs::write(dir.path(), "ca.pem", &ca.pem());
    let mut server = support::tls(
        echo(),
        certs::server_config(&leaf, None),
        "plugin.test",
        &format!(r#"{{"CAFile": "{}"}}"#, ca_path.display()),
    )
    .await;
    server.dir = dir;
    let port = match server.spec.address() {
        Address::Tls(hp) => hp.port(),
        other => panic!("not https: {other}"),
    };
    (server, port)
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn an_https_plugin_gets_tls_over_the_connectors_stream_verified_as_its_descriptor_says() {
    let ca = certs::Ca::new("test CA");
    let (server, port) = tls_plugin(&ca).await;
    let connector =
        tower::service_fn(move |_: Target| tokio::net::TcpStream::connect(("127.0.0.1", port)));
    let transport =
        Transport::with_connector(&server.spec, &TransportConfig::default(), connector).unwrap();

    two_calls_answered(&transport).await;
    assert_eq!(server.connections(), 1);
    assert_eq!(
        server.seen()[0].headers["host"],
        format!("plugin.test:{port}")
    );
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn an_https_plugin_behind_a_connector_is_never_spoken_to_in_plain_http() {
    // The connector reaches a plain HTTP server: the handshake fails, as it
    // would over TCP, rather than the request going out unencrypted.
    let ca = certs::Ca::new("test CA");
    let (tls, _) = tls_plugin(&ca).await;
    let plain = support::unix(echo()).await;
    let real = match plain.spec.address() {
        Address::Unix(path) => path.as_path().to_owned(),
        other => panic!("not a unix socket: {other}"),
    };
    let connector =
        tower::service_fn(move |_: Target| tokio::net::UnixStream::connect(real.clone()));
    let transport =
        Transport::with_connector(&tls.spec, &TransportConfig::default(), connector).unwrap();

    let err = call(&transport, "/A", "one").await.unwrap_err();

    assert!(
        matches!(err, TransportError::TlsHandshake { .. }),
        "{err:?}"
    );
    assert!(err.is_connect() && err.is_tls());
    assert!(
        plain.seen().is_empty(),
        "no request reached the plain server"
    );
}
