//! The connection pool: a connection the plugin closed while it sat idle, a
//! body dropped unread, and idle connections closed after the idle timeout
//! (and kept with none).
//! The test is the plugin here, so it decides exactly when each connection
//! closes.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use plugin_spec::PluginSpec;
use plugin_test_support::http::{read_request, response};
use plugin_transport::{ConnectionInfo, Transport, TransportConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tower::ServiceExt;

/// A socket in a temp dir that the test answers itself.
fn listen() -> (tempfile::TempDir, UnixListener, PluginSpec) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pool.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let spec = PluginSpec::from_socket(support::name(), &path).unwrap();
    (dir, listener, spec)
}

/// One call; the connection's number and the answer.
async fn call(transport: Transport) -> (u64, Bytes) {
    let request = Request::post("/Echo.Echo")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let response = transport.oneshot(request).await.unwrap();
    let id = response.extensions().get::<ConnectionInfo>().unwrap().id();
    (id, response.into_body().collect().await.unwrap().to_bytes())
}

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("the pool did not act within 10 s")
}

#[tokio::test]
async fn an_idle_connection_the_plugin_closed_is_not_used_again() {
    let (_dir, listener, spec) = listen();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let calling = tokio::spawn(call(transport.clone()));
        let (mut stream, _) = within(listener.accept()).await.unwrap();
        read_request(&mut stream).await;
        // A keep-alive answer, then the plugin closes: the client's connection
        // goes back to the pool before it can know.
        stream.write_all(&response("200 OK", b"{}")).await.unwrap();
        drop(stream);
        let (id, body) = within(calling).await.unwrap();
        assert_eq!(body.as_ref(), b"{}");
        ids.push(id);
    }
    assert_eq!(
        ids,
        [0, 1, 2],
        "each call found the last connection closed and opened a new one"
    );
}

#[tokio::test]
async fn a_body_dropped_unread_closes_its_connection() {
    let (_dir, listener, spec) = listen();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let calling = tokio::spawn({
        let transport = transport.clone();
        async move {
            let request = Request::post("/Echo.Echo")
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap();
            drop(transport.oneshot(request).await.unwrap());
        }
    });
    let (mut stream, _) = within(listener.accept()).await.unwrap();
    read_request(&mut stream).await;
    // Announces 10 bytes and sends 4: the rest never comes.
    stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{\"a\"")
        .await
        .unwrap();
    within(calling).await.unwrap();
    let mut rest = Vec::new();
    let read = within(stream.read_to_end(&mut rest)).await.unwrap();
    assert_eq!(read, 0, "the client closed the connection");
    // The next call opens another.
    let calling = tokio::spawn(call(transport));
    let (mut stream, _) = within(listener.accept()).await.unwrap();
    read_request(&mut stream).await;
    stream.write_all(&response("200 OK", b"{}")).await.unwrap();
    assert_eq!(within(calling).await.unwrap().0, 1);
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let (_dir, listener, spec) = listen();
    let config = TransportConfig::default().pool_idle_timeout(Duration::from_millis(100));
    let transport = Transport::for_spec(&spec, &config).unwrap();
    let calling = tokio::spawn(call(transport.clone()));
    let (mut stream, _) = within(listener.accept()).await.unwrap();
    read_request(&mut stream).await;
    stream.write_all(&response("200 OK", b"{}")).await.unwrap();
    within(calling).await.unwrap();
    // Kept alive, then closed by the pool once idle for the timeout.
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    assert_eq!(within(stream.read_to_end(&mut rest)).await.unwrap(), 0);
    assert!(
        started.elapsed() >= Duration::from_millis(90),
        "closed after {:?}, before the idle timeout",
        started.elapsed()
    );
    drop(transport);
}

#[tokio::test]
async fn no_idle_timeout_keeps_an_idle_connection() {
    let (_dir, listener, spec) = listen();
    let config = TransportConfig::default().pool_idle_timeout(None);
    let transport = Transport::for_spec(&spec, &config).unwrap();
    let calling = tokio::spawn(call(transport.clone()));
    let (mut stream, _) = within(listener.accept()).await.unwrap();
    read_request(&mut stream).await;
    stream.write_all(&response("200 OK", b"{}")).await.unwrap();
    assert_eq!(within(calling).await.unwrap().0, 0);
    // Idle for longer than the 100 ms after which the test above sees its
    // connection closed: this one is kept, and carries the next call.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calling = tokio::spawn(call(transport));
    read_request(&mut stream).await;
    stream.write_all(&response("200 OK", b"{}")).await.unwrap();
    assert_eq!(within(calling).await.unwrap().0, 0, "the same connection");
}

#[test]
fn a_response_body_holding_its_connection_is_still_send_and_sync() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<plugin_transport::ResponseBody>();
}
