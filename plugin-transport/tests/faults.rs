//! Plugins that misbehave: refuse, never answer, close mid-body, send too much.
//! Each failure is the right error, with the right predicates, and nothing
//! hangs.

mod support;

use plugin_test_support::memory::resident_mib;
use std::time::Duration;

use plugin_transport::{PluginSpec, Transport, TransportConfig, TransportError};
use support::call;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Fails the test instead of hanging.
async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("the call hung for 10 s")
}

/// Reads one request head (the tests send no body).
async fn read_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
}

#[tokio::test]
async fn a_refused_unix_socket_is_a_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    // A stale socket: the file stays, nobody listens.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let spec = PluginSpec::from_socket(support::name(), &path).unwrap();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(
        err.is_connect() && !err.is_timeout() && !err.is_tls(),
        "{err:?}"
    );
    let TransportError::Connect { source, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(err.is_nothing_listening(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to plugin \"test-plugin\" at unix://{}",
            path.display()
        )
    );
}

#[tokio::test]
async fn a_missing_socket_and_a_closed_port_are_connect_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = PluginSpec::from_socket(support::name(), dir.path().join("gone.sock")).unwrap();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TransportError::Connect { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(err.is_nothing_listening(), "{err:?}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = PluginSpec::from_spec_text(
        support::name(),
        &format!("tcp://127.0.0.1:{port}"),
        "/p.spec",
    )
    .unwrap();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    // A refused TCP port may be a host still booting: not "nothing listening".
    assert!(!err.is_nothing_listening(), "{err:?}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn a_tls_handshake_that_never_completes_hits_the_connect_timeout() {
    // Accepts TCP, then says nothing: the TLS handshake waits forever.
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    })
    .await;
    let port = spec.address().host_port().unwrap().port();
    let spec = PluginSpec::from_spec_text(
        support::name(),
        &format!("https://127.0.0.1:{port}"),
        "/p.spec",
    )
    .unwrap();
    let config = TransportConfig::new().connect_timeout(Duration::from_millis(200));
    let transport = Transport::for_spec(&spec, &config).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::ConnectTimeout { after, .. } if after == Duration::from_millis(200))
    );
    assert!(err.is_timeout() && err.is_connect());
}

#[tokio::test]
async fn a_plugin_that_never_answers_hits_the_response_timeout() {
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        read_head(&mut stream).await;
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    })
    .await;
    let config = TransportConfig::new().response_timeout(Duration::from_millis(200));
    let transport = Transport::for_spec(&spec, &config).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::ResponseTimeout { .. }),
        "{err:?}"
    );
    assert!(err.is_timeout() && !err.is_connect());
    assert!(
        err.to_string().ends_with("did not answer within 200ms"),
        "{err}"
    );
}

#[tokio::test]
async fn a_plugin_that_closes_after_reading_the_request_is_not_a_connect_error() {
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        read_head(&mut stream).await;
    })
    .await;
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/VolumeDriver.Create", ""))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Request { .. }), "{err:?}");
    assert!(
        !err.is_connect(),
        "the request was sent: retrying could repeat it"
    );
    assert!(
        err.to_string().ends_with(
            "failed: the plugin closed the connection before it answered; it may have stopped, restarted or crashed"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_plugin_that_closes_mid_body_is_a_body_error() {
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            .await;
    })
    .await;
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Body { .. }), "{err:?}");
    assert!(!err.is_connect());
}

#[tokio::test]
async fn a_declared_length_over_the_limit_fails_without_reading() {
    // Announces 1 GB and sends none of it: reading would hang.
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
            .await;
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    })
    .await;
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::BodyTooLarge { limit, .. } if limit == 16 * 1024 * 1024),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_limit() {
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
    })
    .await;
    let config = TransportConfig::new().max_response_body(Some(1024 * 1024));
    let transport = Transport::for_spec(&spec, &config).unwrap();
    let err = within(call(&transport, "/LogDriver.ReadLogs", ""))
        .await
        .unwrap_err();
    assert!(err.is_body_too_large(), "{err:?}");
}

#[tokio::test]
async fn garbage_instead_of_http_is_a_request_error() {
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        read_head(&mut stream).await;
        let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await;
    })
    .await;
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/Plugin.Activate", ""))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Request { .. }), "{err:?}");
    let chain = support::chain(&err);
    assert!(
        chain.contains("failed: the plugin's answer is not valid HTTP/1.1: ")
            && chain.ends_with("invalid HTTP version parsed"),
        "{chain}"
    );
}

#[tokio::test]
async fn a_plugin_answering_one_byte_a_second_hits_the_response_timeout() {
    let (spec, _dir, _task) = support::raw_tcp(|mut stream: TcpStream| async move {
        read_head(&mut stream).await;
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" {
            if stream.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let config = TransportConfig::new().response_timeout(Duration::from_millis(1500));
    let transport = Transport::for_spec(&spec, &config).unwrap();
    let started = std::time::Instant::now();
    let err = within(call(&transport, "/VolumeDriver.List", ""))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        err.to_string().ends_with("did not answer within 1.5s"),
        "{err}"
    );
    assert!(
        (Duration::from_millis(1500)..Duration::from_millis(2500)).contains(&took),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_1_gib_answer_stops_at_the_limit_with_memory_flat() {
    const GIB: usize = 1 << 30;
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&sent);
    let (spec, _dir, _task) = support::raw_tcp(move |mut stream: TcpStream| {
        let sent = std::sync::Arc::clone(&counter);
        async move {
            read_head(&mut stream).await;
            // Chunked: no length to refuse up front, so the limit must stop
            // the reading itself.
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let mut chunk = format!("{:x}\r\n", 1 << 20).into_bytes();
            chunk.extend(std::iter::repeat_n(b'x', 1 << 20));
            chunk.extend(b"\r\n");
            while sent.load(std::sync::atomic::Ordering::Relaxed) < GIB
                && stream.write_all(&chunk).await.is_ok()
            {
                sent.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
            }
        }
    })
    .await;
    // The default limit is 16 MiB.
    let before = resident_mib();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let err = within(call(&transport, "/VolumeDriver.Get", ""))
        .await
        .unwrap_err();
    let after = resident_mib();
    assert!(err.is_body_too_large(), "{err:?}");
    assert!(
        err.to_string().contains("16 MiB") || err.to_string().contains("16777216"),
        "{err}"
    );
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "1 GiB answer: stopped after the plugin sent {} MiB; resident {before:.1} -> {after:.1} MiB",
        sent >> 20
    );
    assert!(sent < 64 << 20, "the plugin got to send {sent} bytes");
    assert!(
        after - before < 48.0,
        "resident set grew from {before:.1} MiB to {after:.1} MiB"
    );
}
