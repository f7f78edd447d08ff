//! Listeners (docs/protocol.md, "Serving a plugin"): unix sockets with their permissions and stale
//! sockets; TCP and TLS with their descriptor files; shutdown and drop clean up.

mod support;

#[cfg(feature = "tls")]
use plugin_test_support::certs::CertFiles;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[cfg(feature = "tls")]
use plugin_server::TlsFiles;
use plugin_server::{ServerError, UnixOptions};
use plugin_transport::{Transport, TransportConfig};
use support::{Dir, docker_request, exchange, test_server, wire};
use tower::ServiceExt;

async fn activate(spec: &plugin_server::PluginSpec) -> String {
    let transport = Transport::for_spec(spec, &TransportConfig::default()).unwrap();
    let request = http::Request::post("/Plugin.Activate")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = transport.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn a_unix_socket_is_0660_in_a_created_directory() {
    let dir = Dir::new();
    let path = dir.join("deep/er/test.sock");
    let serving = test_server().serve_unix(&path).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(
        serving.address().to_string(),
        format!("unix://{}", path.display())
    );
    assert_eq!(serving.file(), Some(path.as_path()));
    assert_eq!(
        activate(serving.spec()).await,
        "{\"Implements\":[\"VolumeDriver\"]}\n"
    );
}

#[tokio::test]
async fn a_unix_socket_can_have_a_mode_and_group() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    // Root may give any group; anyone else only their own.
    let own = std::fs::metadata(dir.0.path()).unwrap();
    let gid = if own.uid() == 0 { 4242 } else { own.gid() };
    let _serving = test_server()
        .serve_unix_with(&path, UnixOptions::new().mode(0o600).group(gid))
        .unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (meta.permissions().mode() & 0o777, meta.gid()),
        (0o600, gid)
    );
}

#[tokio::test]
async fn a_stale_socket_is_replaced() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let _serving = test_server().serve_unix(&path).unwrap();
    let raw = exchange(&path, &wire("activate-request.http")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn a_live_socket_is_not_taken_over() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let first = test_server().serve_unix(&path).unwrap();
    let err = test_server().serve_unix(&path).unwrap_err();
    assert!(
        matches!(&err, ServerError::SocketInUse { path: p } if p == &path),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "a server is already listening on {}; stop it first, or serve on another path",
            path.display()
        )
    );
    // The first server still answers.
    let raw = exchange(&path, &wire("activate-request.http")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    drop(first);
}

#[tokio::test]
async fn a_file_that_is_not_a_socket_is_left_alone() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    std::fs::write(&path, "precious").unwrap();
    let err = test_server().serve_unix(&path).unwrap_err();
    assert!(matches!(err, ServerError::NotASocket { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[tokio::test]
async fn a_socket_path_that_is_too_long_is_refused() {
    let dir = Dir::new();
    let path = dir.join(&format!("{}.sock", "x".repeat(120)));
    let err = test_server().serve_unix(&path).unwrap_err();
    assert!(matches!(err, ServerError::InvalidPath { .. }), "{err:?}");
    let chain = support::chain(&err);
    assert!(chain.contains("over the 107-byte limit"), "{chain}");
}

#[tokio::test]
async fn shutdown_removes_the_socket() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let serving = test_server().serve_unix(&path).unwrap();
    serving.shutdown().await;
    assert!(!path.exists());
}

#[tokio::test]
async fn drop_removes_the_socket_at_once() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    drop(test_server().serve_unix(&path).unwrap());
    assert!(!path.exists());
}

#[tokio::test]
async fn a_server_whose_socket_was_removed_keeps_its_path_until_it_stops() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let old = test_server().serve_unix(&path).unwrap();
    // Someone removes the socket: the old server still runs, and still owns
    // the path (its lock), so a new one is refused rather than racing the old
    // one's cleanup.
    std::fs::remove_file(&path).unwrap();
    let refused = test_server().serve_unix(&path);
    assert!(
        matches!(&refused, Err(ServerError::SocketInUse { path: p }) if p == &path),
        "{refused:?}"
    );
    drop(old);
    let _new = test_server().serve_unix(&path).unwrap();
    assert_eq!(
        exchange(&path, &wire("activate-request.http"))
            .await
            .status_line,
        "HTTP/1.1 200 OK"
    );
}

#[tokio::test]
async fn tcp_writes_a_spec_with_the_port_actually_bound() {
    let dir = Dir::new();
    let serving = test_server()
        .serve_tcp("127.0.0.1:0", dir.join("specs"))
        .unwrap();
    let spec_path = dir.join("specs/test.spec");
    let port = serving.address().host_port().unwrap().port();
    assert_ne!(port, 0);
    assert_eq!(
        std::fs::read_to_string(&spec_path).unwrap(),
        format!("tcp://127.0.0.1:{port}\n")
    );
    assert_eq!(serving.file(), Some(spec_path.as_path()));
    // Only the descriptor: no temporary file is left beside it.
    let entries: Vec<_> = std::fs::read_dir(dir.join("specs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["test.spec"]);
    assert_eq!(
        activate(serving.spec()).await,
        "{\"Implements\":[\"VolumeDriver\"]}\n"
    );
    serving.shutdown().await;
    assert!(!spec_path.exists());
}

#[tokio::test]
async fn tcp_on_ipv6_writes_a_bracketed_address() {
    let dir = Dir::new();
    let Ok(serving) = test_server().serve_tcp("[::1]:0", dir.0.path()) else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let port = serving.address().host_port().unwrap().port();
    assert_eq!(
        std::fs::read_to_string(dir.join("test.spec")).unwrap(),
        format!("tcp://[::1]:{port}\n")
    );
    assert_eq!(
        activate(serving.spec()).await,
        "{\"Implements\":[\"VolumeDriver\"]}\n"
    );
}

#[cfg(feature = "tls")]
fn tls_files(dir: &Dir) -> (TlsFiles, std::path::PathBuf) {
    let files = CertFiles::write(dir.0.path(), &["localhost", "127.0.0.1"]);
    (TlsFiles::new(files.cert, files.key), files.ca)
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_with_a_ca_writes_a_json_descriptor_hosts_can_verify() {
    let dir = Dir::new();
    let (files, ca) = tls_files(&dir);
    let files = files.ca_file(&ca).host("localhost");
    let serving = test_server()
        .serve_tls("127.0.0.1:0", &files, dir.join("specs"))
        .unwrap();
    let port = serving.address().host_port().unwrap().port();
    let json = std::fs::read_to_string(dir.join("specs/test.json")).unwrap();
    assert_eq!(
        json,
        format!(
            "{{\"Addr\":\"https://localhost:{port}\",\"Name\":\"test\",\"TLSConfig\":{{\"CAFile\":\"{}\"}}}}\n",
            ca.display()
        )
    );
    assert_eq!(serving.spec().tls().unwrap().ca_file(), Some(ca.as_path()));
    assert_eq!(
        activate(serving.spec()).await,
        "{\"Implements\":[\"VolumeDriver\"]}\n"
    );
    drop(serving);
    assert!(!dir.join("specs/test.json").exists());
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_without_a_ca_writes_an_https_spec() {
    let dir = Dir::new();
    let (files, _ca) = tls_files(&dir);
    let serving = test_server()
        .serve_tls("127.0.0.1:0", &files, dir.0.path())
        .unwrap();
    let port = serving.address().host_port().unwrap().port();
    assert_eq!(
        std::fs::read_to_string(dir.join("test.spec")).unwrap(),
        format!("https://127.0.0.1:{port}\n")
    );
    assert!(serving.address().is_tls());
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_files_that_do_not_load_are_named() {
    let dir = Dir::new();
    let (files, _) = tls_files(&dir);
    std::fs::write(dir.join("key.pem"), "not a key").unwrap();
    let err = test_server()
        .serve_tls("127.0.0.1:0", &files, dir.0.path())
        .unwrap_err();
    assert!(
        matches!(
            &err,
            ServerError::TlsFile {
                what: "private key",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().starts_with(&format!(
        "cannot use private key {}",
        dir.join("key.pem").display()
    )));
    assert!(!dir.join("test.spec").exists());
}

#[test]
fn serving_needs_a_runtime() {
    let dir = Dir::new();
    let err = test_server().serve_unix(dir.join("x.sock")).unwrap_err();
    assert!(matches!(err, ServerError::NoRuntime));
}

#[tokio::test]
async fn one_server_serves_on_several_listeners() {
    let dir = Dir::new();
    let server = test_server();
    let unix = server.serve_unix(dir.join("test.sock")).unwrap();
    let tcp = server.serve_tcp("127.0.0.1:0", dir.0.path()).unwrap();
    let raw = exchange(unix.file().unwrap(), &docker_request("Echo.Echo", "both")).await;
    assert_eq!(raw.body_text(), "both");
    assert_eq!(
        activate(tcp.spec()).await,
        "{\"Implements\":[\"VolumeDriver\"]}\n"
    );
}

#[tokio::test]
async fn a_managed_socket_must_be_a_file_name_in_the_plugin_socket_dir() {
    for name in ["", ".", "..", "a/b.sock", "/run/x.sock", "x\0.sock"] {
        let err = test_server().serve_managed(name).unwrap_err();
        let ServerError::ManagedSocket { source } = &err else {
            panic!("{err:?}");
        };
        assert!(source.socket_name_rule().is_some(), "{source:?}");
        assert_eq!(
            plugin_test_support::errors::chain(&err),
            format!(
                "cannot serve as a managed plugin: invalid socket name {name:?}: {}",
                source.socket_name_rule().unwrap()
            )
        );
        plugin_test_support::errors::assert_each_cause_once(&err);
    }
}

#[tokio::test]
async fn a_managed_plugin_serves_in_the_socket_dir_it_is_given() {
    let dir = Dir::new();
    let sockets = dir.join("run/docker/plugins");
    let serving = test_server()
        .managed_socket_dir(&sockets)
        .serve_managed("test.sock")
        .unwrap();
    assert_eq!(serving.file(), Some(sockets.join("test.sock").as_path()));
    let raw = exchange(
        &sockets.join("test.sock"),
        &docker_request("Echo.Echo", "managed"),
    )
    .await;
    assert_eq!(raw.body_text(), "managed");
    serving.shutdown().await;
    assert!(!sockets.join("test.sock").exists());
}
