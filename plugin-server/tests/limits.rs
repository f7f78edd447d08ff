//! What a server holds is bounded: open connections (new ones wait, open ones
//! are answered), idle keep-alive connections (closed after the idle timeout),
//! and clients slow to send their headers (cut at the header-read timeout).

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use plugin_server::HandlerError;
use support::{Dir, docker_request, exchange_on, read_response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// A fresh keep-alive connection that has had one call answered.
async fn answered_connection(path: &std::path::Path, text: &str) -> UnixStream {
    let mut stream = UnixStream::connect(path).await.unwrap();
    let body = format!("{text:?}");
    let raw = exchange_on(&mut stream, &docker_request("Echo.Echo", &body)).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert_eq!(raw.body_text(), body);
    stream
}

/// How long until the server closes `stream` (end of file or reset), at most
/// `within`.
async fn closed_after(stream: &mut UnixStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(within, stream.read(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("the server kept the connection open for {within:?}"));
    match read {
        Ok(0) | Err(_) => started.elapsed(),
        Ok(n) => panic!("expected the connection closed, got {:?}", &buf[..n]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_limit_new_connections_wait_and_open_ones_keep_answering() {
    let dir = Dir::new();
    let path = dir.join("limit.sock");
    let _serving = support::test_server()
        .max_connections(3)
        .serve_unix(&path)
        .unwrap();
    let mut held = Vec::new();
    for i in 0..3 {
        held.push(answered_connection(&path, &format!("held {i}")).await);
    }
    // A fourth client: the kernel takes its connection and its request into
    // the listen backlog, but the server does not accept it yet.
    let mut waiting = UnixStream::connect(&path).await.unwrap();
    waiting
        .write_all(&docker_request("Echo.Echo", r#""waited""#))
        .await
        .unwrap();
    // The three open connections go on being answered.
    for round in 0..5 {
        for (i, stream) in held.iter_mut().enumerate() {
            let body = format!(r#""round {round} on {i}""#);
            let raw = exchange_on(stream, &docker_request("Echo.Echo", &body)).await;
            assert_eq!(
                (raw.status_line.as_str(), raw.body_text()),
                ("HTTP/1.1 200 OK", body.as_str())
            );
        }
    }
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(200), waiting.read(&mut byte))
            .await
            .is_err(),
        "a connection beyond the limit of 3 was served"
    );
    // One of the three leaves: the fourth is accepted and answered.
    drop(held.pop());
    let raw = tokio::time::timeout(Duration::from_secs(10), read_response(&mut waiting))
        .await
        .expect("the waiting connection was not served once a slot was free");
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", r#""waited""#)
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_is_closed_after_the_idle_timeout() {
    let dir = Dir::new();
    let path = dir.join("quiet.sock");
    let idle = Duration::from_millis(300);
    let _serving = support::test_server()
        .idle_timeout(idle)
        .serve_unix(&path)
        .unwrap();
    let mut quiet = UnixStream::connect(&path).await.unwrap();
    let took = closed_after(&mut quiet, Duration::from_secs(10)).await;
    assert!(
        took >= idle - Duration::from_millis(20),
        "closed after {took:?}, before the idle timeout {idle:?}"
    );
}

#[tokio::test]
async fn a_keep_alive_connection_is_closed_after_the_idle_timeout_and_not_before() {
    let dir = Dir::new();
    let path = dir.join("idle.sock");
    let idle = Duration::from_millis(400);
    let _serving = support::test_server()
        .idle_timeout(idle)
        .serve_unix(&path)
        .unwrap();
    let mut stream = answered_connection(&path, "first").await;
    // Each call starts the idle time again: four calls 200 ms apart span
    // twice the idle timeout on one connection.
    for i in 0..4 {
        tokio::time::sleep(idle / 2).await;
        let body = format!(r#""again {i}""#);
        let raw = exchange_on(&mut stream, &docker_request("Echo.Echo", &body)).await;
        assert_eq!(raw.body_text(), body);
    }
    let took = closed_after(&mut stream, Duration::from_secs(10)).await;
    assert!(
        took >= idle - Duration::from_millis(20),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn a_request_longer_than_the_idle_timeout_is_not_cut() {
    let dir = Dir::new();
    let path = dir.join("busy.sock");
    let _serving = support::test_server()
        .idle_timeout(Duration::from_millis(100))
        .handle_raw("Test.Slow", |body: Bytes| async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok::<_, HandlerError>(body)
        })
        .serve_unix(&path)
        .unwrap();
    let mut stream = UnixStream::connect(&path).await.unwrap();
    let raw = exchange_on(&mut stream, &docker_request("Test.Slow", r#""slow""#)).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", r#""slow""#)
    );
}

#[tokio::test]
async fn a_client_slow_to_send_its_headers_is_cut_at_the_header_read_timeout() {
    let dir = Dir::new();
    let path = dir.join("slow.sock");
    let header_read = Duration::from_millis(300);
    let _serving = support::test_server()
        .header_read_timeout(header_read)
        .serve_unix(&path)
        .unwrap();
    let mut stream = UnixStream::connect(&path).await.unwrap();
    let request = docker_request("Echo.Echo", "{}");
    stream.write_all(&request[..20]).await.unwrap();
    let took = closed_after(&mut stream, Duration::from_secs(10)).await;
    assert!(
        took >= header_read - Duration::from_millis(20),
        "cut after {took:?}"
    );
}

#[tokio::test]
async fn the_header_read_timeout_does_not_bound_an_idle_keep_alive_connection() {
    let dir = Dir::new();
    let path = dir.join("patient.sock");
    let header_read = Duration::from_millis(100);
    let _serving = support::test_server()
        .header_read_timeout(header_read)
        .serve_unix(&path)
        .unwrap();
    let mut stream = answered_connection(&path, "first").await;
    // Idle for three header-read timeouts: still open, and answered.
    tokio::time::sleep(header_read * 3).await;
    let raw = exchange_on(&mut stream, &docker_request("Echo.Echo", r#""later""#)).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", r#""later""#)
    );
}

/// `Duration::MAX` is a timeout no `Instant` can hold: it is never reached,
/// and nothing panics adding it to now.
#[tokio::test]
async fn timeouts_of_duration_max_mean_never_and_do_not_panic() {
    let dir = Dir::new();
    let path = dir.join("forever.sock");
    let _serving = support::test_server()
        .idle_timeout(Duration::MAX)
        .header_read_timeout(Duration::MAX)
        .max_connections(usize::MAX)
        .serve_unix(&path)
        .unwrap();
    let mut stream = answered_connection(&path, "first").await;
    let raw = exchange_on(&mut stream, &docker_request("Echo.Echo", r#""second""#)).await;
    assert_eq!(raw.body_text(), r#""second""#);
}

/// The connection watchdog keeps tokio's time: under a paused test clock an
/// idle connection is closed once the clock moves past the idle timeout (an
/// hour here), in no real time. On the system clock it spun until the real
/// hour had passed; a guard thread ends the wait after 30 real seconds.
#[tokio::test]
async fn the_idle_timeout_follows_a_paused_test_clock() {
    let dir = Dir::new();
    let path = dir.join("paused.sock");
    let idle = Duration::from_secs(3600);
    let _serving = support::test_server()
        .idle_timeout(idle)
        .serve_unix(&path)
        .unwrap();
    // The idle time starts at the connection's last activity, which comes
    // after this instant: the close is at least an hour after it, however
    // much real time passes before the clock is paused.
    let started = tokio::time::Instant::now();
    let mut stream = answered_connection(&path, "first").await;
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let guard = {
        let socket = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(
            stream.into_std().unwrap(),
        ));
        let ours = socket.try_clone().unwrap();
        stream = UnixStream::from_std(socket).unwrap();
        std::thread::spawn(move || {
            let gave_up = finished.recv_timeout(Duration::from_secs(30)).is_err();
            if gave_up {
                let _ = ours.shutdown(std::net::Shutdown::Both);
            }
            gave_up
        })
    };
    tokio::time::pause();
    let mut byte = [0u8; 1];
    let read = stream.read(&mut byte).await;
    let _ = done.send(());
    assert!(!guard.join().unwrap(), "still open after 30 real seconds");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        started.elapsed() >= idle,
        "closed {:?} into the idle hour",
        started.elapsed()
    );
}

/// Whether the server still holds `stream` open (nothing to read, and no end
/// of file), without waiting.
fn still_open(stream: &UnixStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.try_read(&mut byte) {
        Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
        Ok(0) => false,
        Ok(n) => panic!("the server sent {n} unasked-for bytes"),
    }
}

/// `idle_timeout(None)` means never: under a paused clock moved on by an
/// hour, an idle keep-alive connection and one that never sent anything are
/// both still open, and answered.
#[tokio::test]
async fn with_no_idle_timeout_idle_connections_outlive_an_hour() {
    let dir = Dir::new();
    let path = dir.join("patient.sock");
    let _serving = support::test_server()
        .idle_timeout(None)
        .serve_unix(&path)
        .unwrap();
    let mut kept = answered_connection(&path, "first").await;
    let mut quiet = UnixStream::connect(&path).await.unwrap();
    tokio::time::pause();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(still_open(&kept), "the keep-alive connection was closed");
    assert!(still_open(&quiet), "the quiet connection was closed");
    for (stream, text) in [(&mut kept, r#""kept""#), (&mut quiet, r#""quiet""#)] {
        let raw = exchange_on(stream, &docker_request("Echo.Echo", text)).await;
        assert_eq!(
            (raw.status_line.as_str(), raw.body_text()),
            ("HTTP/1.1 200 OK", text)
        );
    }
}

/// The default idle timeout holds under a paused clock too: open a second
/// before it runs out, closed when it does.
#[tokio::test]
async fn with_the_default_idle_timeout_idle_connections_close_at_it() {
    let dir = Dir::new();
    let path = dir.join("default.sock");
    let _serving = support::test_server().serve_unix(&path).unwrap();
    let mut kept = answered_connection(&path, "first").await;
    let mut quiet = UnixStream::connect(&path).await.unwrap();
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let second = Duration::from_secs(1);
    tokio::time::sleep(plugin_server::DEFAULT_IDLE_TIMEOUT - second).await;
    assert!(still_open(&kept), "the keep-alive connection closed early");
    assert!(still_open(&quiet), "the quiet connection closed early");
    for stream in [&mut kept, &mut quiet] {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(3600), stream.read(&mut byte))
            .await
            .expect("still open an hour on");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        let took = started.elapsed();
        assert!(
            took <= plugin_server::DEFAULT_IDLE_TIMEOUT + second,
            "closed only after {took:?}"
        );
    }
}
