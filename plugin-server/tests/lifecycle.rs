//! Graceful shutdown, streaming answers, thousands of connections, and systemd
//! socket activation.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};
use plugin_transport::{Transport, TransportConfig};
use support::{Dir, docker_request, exchange};
use tokio::net::UnixStream;
use tokio::sync::{Notify, oneshot};
use tower::ServiceExt;

/// A plugin whose `Slow.Wait` answers only when `release` is notified, and
/// tells `started` when a call arrives.
fn slow_server(started: Arc<Notify>, release: Arc<Notify>) -> PluginServer {
    PluginServer::new(PluginName::new("slow").unwrap()).handle("Slow.Wait", move |(): ()| {
        let (started, release) = (Arc::clone(&started), Arc::clone(&release));
        async move {
            started.notify_one();
            release.notified().await;
            Ok::<_, HandlerError>("done")
        }
    })
}

#[tokio::test]
async fn shutdown_refuses_new_connections_and_lets_requests_in_flight_finish() {
    let dir = Dir::new();
    let path = dir.join("slow.sock");
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let serving = slow_server(Arc::clone(&started), Arc::clone(&release))
        .serve_unix(&path)
        .unwrap();
    let in_flight = tokio::spawn({
        let path = path.clone();
        async move { exchange(&path, &docker_request("Slow.Wait", "")).await }
    });
    started.notified().await;
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(async move {
        serving.shutdown().await;
        let _ = done_tx.send(());
    });
    // The socket goes at once, so nobody new can connect...
    let gone = tokio::time::timeout(Duration::from_secs(10), async {
        while path.exists() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(gone.is_ok(), "the socket is still there");
    assert!(UnixStream::connect(&path).await.is_err());
    // ...while the call in flight finishes with its answer.
    release.notify_one();
    let raw = in_flight.await.unwrap();
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", "\"done\"\n")
    );
    tokio::time::timeout(Duration::from_secs(10), done_rx)
        .await
        .unwrap()
        .unwrap();
}

/// A slow server with this grace period, and a connection whose `Slow.Wait`
/// has reached the handler (written by hand: `exchange` would give up after a
/// few seconds of a paused clock): the directory that holds the socket, the
/// server, the connection, and what releases the call.
async fn a_call_in_flight(
    grace: impl Into<Option<Duration>>,
) -> (Dir, Serving, UnixStream, Arc<Notify>) {
    let dir = Dir::new();
    let path = dir.join("slow.sock");
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let serving = slow_server(Arc::clone(&started), Arc::clone(&release))
        .grace_period(grace)
        .serve_unix(&path)
        .unwrap();
    let mut stream = UnixStream::connect(&path).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, &docker_request("Slow.Wait", ""))
        .await
        .unwrap();
    started.notified().await;
    (dir, serving, stream, release)
}

#[tokio::test]
async fn requests_still_running_after_the_grace_period_are_cut_off() {
    let (_dir, serving, mut stream, _release) = a_call_in_flight(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(10), serving.shutdown())
        .await
        .expect("shutdown hung");
    let mut rest = Vec::new();
    let read = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut rest).await;
    assert!(
        read.is_err() || rest.is_empty(),
        "got an answer after the cut-off: {rest:?}"
    );
}

/// `grace_period(None)` waits for a request in flight however long it
/// takes: an hour of paused time on, the shutdown still waits, and the
/// request, once released, is answered.
#[tokio::test]
async fn with_no_grace_period_shutdown_waits_for_requests_in_flight() {
    let (_dir, serving, mut stream, release) = a_call_in_flight(None).await;
    let (done_tx, mut done_rx) = oneshot::channel();
    tokio::spawn(async move {
        serving.shutdown().await;
        let _ = done_tx.send(());
    });
    tokio::time::pause();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(
        done_rx.try_recv(),
        Err(oneshot::error::TryRecvError::Empty),
        "the shutdown gave up on the request in flight"
    );
    release.notify_one();
    let raw = support::read_response(&mut stream).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", "\"done\"\n")
    );
    tokio::time::timeout(Duration::from_secs(10), done_rx)
        .await
        .expect("the shutdown did not end once the request was answered")
        .unwrap();
}

#[tokio::test]
async fn a_shutdown_handle_stops_the_server_from_elsewhere() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let serving = support::test_server().serve_unix(&path).unwrap();
    let handle = serving.shutdown_handle();
    let waiting = tokio::spawn(serving.wait());
    handle.shutdown();
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn run_until_serves_until_the_signal() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let serving = support::test_server().serve_unix(&path).unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let running = tokio::spawn(serving.run_until(async move {
        let _ = rx.await;
    }));
    assert_eq!(
        exchange(&path, &docker_request("Echo.Echo", "up"))
            .await
            .body_text(),
        "up"
    );
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn a_streaming_handler_sends_its_chunks() {
    let dir = Dir::new();
    let server = PluginServer::new(PluginName::new("logs").unwrap()).handle_stream(
        "LogDriver.ReadLogs",
        |count: u32| async move {
            let chunks =
                (0..count).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("entry {i}\n"))));
            Ok::<_, HandlerError>(futures_util::stream::iter(chunks))
        },
    );
    let serving = server.serve_unix(dir.join("logs.sock")).unwrap();
    let transport = Transport::for_spec(serving.spec(), &TransportConfig::default()).unwrap();
    let request = http::Request::post("/LogDriver.ReadLogs")
        .body(http_body_util::Full::new(Bytes::from("3")))
        .unwrap();
    let response = transport.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        plugin_server::CONTENT_TYPE_V1_1
    );
    assert!(
        response.headers().get("content-length").is_none(),
        "a stream is chunked"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "entry 0\nentry 1\nentry 2\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_thousand_concurrent_connections_are_all_answered() {
    rlimit::increase_nofile_limit(8192).unwrap();
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let _serving = support::test_server().serve_unix(&path).unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(1000));
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let (path, barrier) = (path.clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            // All 1,000 connections are open before any request is sent.
            let mut stream = UnixStream::connect(&path).await.unwrap();
            barrier.wait().await;
            let body = format!("{{\"i\":{i}}}");
            let raw = support::exchange_on(&mut stream, &docker_request("Echo.Echo", &body)).await;
            assert_eq!(raw.body_text(), body);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Systemd socket activation, for real: systemd's own launcher,
/// `systemd-socket-activate`, listens on a unix socket and, on the first
/// connection, starts a child (this test binary, re-run) with the socket as
/// fd 3, `LISTEN_FDS=1` and its `LISTEN_PID`, as a socket unit does.
#[tokio::test]
async fn systemd_socket_activation_serves_the_passed_socket() {
    if std::env::var_os("PLUGIN_SERVER_SYSTEMD_CHILD").is_some() {
        return;
    }
    let dir = Dir::new();
    let path = dir.join("activated.sock");
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new("systemd-socket-activate")
        .arg("--listen")
        .arg(&path)
        .arg("--setenv=PLUGIN_SERVER_SYSTEMD_CHILD=1")
        .arg(&exe)
        .args(["--exact", "systemd_child", "--nocapture", "--test-threads=1"])
        .kill_on_drop(true)
        .spawn()
        .expect("systemd-socket-activate (Debian's systemd package; .ci/run installs it) launches the plugin");
    // The socket exists and listens before the child serves: connect and wait
    // for the answer, as a host talking to socket-activated plugin would.
    let connected = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(stream) = UnixStream::connect(&path).await {
                return stream;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the launcher never created the socket");
    let mut stream = connected;
    let raw = support::exchange_on(&mut stream, &support::wire("activate-request.http")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert_eq!(raw.body_text(), "{\"Implements\":[\"Activated\"]}\n");
    child.kill().await.unwrap();
    // The socket belongs to the launcher (systemd): the plugin leaves it alone.
    assert!(path.exists());
}

/// Runs only as the child of `systemd_socket_activation_serves_the_passed_socket`.
#[tokio::test]
async fn systemd_child() {
    if std::env::var_os("PLUGIN_SERVER_SYSTEMD_CHILD").is_none() {
        return;
    }
    let serving = PluginServer::new(PluginName::new("activated").unwrap())
        .implements("Activated")
        .serve_systemd()
        .expect("a socket from the launcher");
    assert!(
        std::env::var_os("LISTEN_FDS").is_none(),
        "LISTEN_FDS is unset for children"
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    drop(serving);
}

#[tokio::test]
async fn without_systemd_there_is_a_clear_error() {
    if std::env::var_os("LISTEN_FDS").is_some() {
        return;
    }
    let err = PluginServer::new(PluginName::new("x").unwrap())
        .serve_systemd()
        .unwrap_err();
    assert!(matches!(err, plugin_server::ServerError::Systemd { .. }));
    assert!(err.to_string().contains("LISTEN_FDS is not set"), "{err}");
}

/// A plugin restarted in place, gracefully or by dropping the old instance
/// (whose accept loop may still be removing its socket on another thread):
/// the new instance starts every time, and its socket survives the old one's
/// cleanup. The lock file beside the socket is gone once nobody serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_restarted_in_place_starts_every_time_and_keeps_its_socket() {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let lock = dir.join(".test.sock.lock");
    let mut serving = support::test_server().serve_unix(&path).unwrap();
    assert!(lock.exists(), "the serving instance holds no lock file");
    for round in 0..200 {
        if round % 2 == 0 {
            drop(serving);
        } else {
            serving.shutdown().await;
        }
        serving = support::test_server()
            .serve_unix(&path)
            .unwrap_or_else(|e| panic!("round {round}: the new instance did not start: {e:?}"));
        tokio::task::yield_now().await;
        assert_eq!(
            exchange(&path, &docker_request("Echo.Echo", "up"))
                .await
                .body_text(),
            "up",
            "round {round}: the new instance's socket"
        );
    }
    drop(serving);
    assert!(!path.exists());
    assert!(!lock.exists(), "the lock file outlived the server");
}
