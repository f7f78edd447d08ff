//! Server metrics (feature `metrics`): requests by method and status, their
//! durations, open connections and the connection limit, recorded by a real
//! server on a unix socket and read back from a test recorder.
#![cfg(feature = "metrics")]

mod support;

use plugin_server::metrics::{
    CONNECTIONS_AT_LIMIT_TOTAL, CONNECTIONS_OPEN, REQUEST_DURATION_SECONDS, REQUESTS_TOTAL,
    RequestMetricsLayer,
};
use plugin_test_support::metrics::Recorder;
use support::{Dir, docker_request, exchange_on};
use tokio::net::UnixStream;
use tower::{Layer, ServiceExt};

const TEST: (&str, &str) = ("plugin", "test");

#[tokio::test(flavor = "current_thread")]
async fn requests_are_counted_by_method_and_status_and_connections_while_open() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let serving = support::test_server().serve_unix(&path).unwrap();
    let mut stream = UnixStream::connect(&path).await.unwrap();
    for (method, body, status) in [
        ("Plugin.Activate", "", "200 OK"),
        ("Echo.Echo", "{}", "200 OK"),
        ("Echo.Echo", "{}", "200 OK"),
        (
            "VolumeDriver.Create",
            r#"{"Name":"fail"}"#,
            "500 Internal Server Error",
        ),
        ("No.Such", "{}", "404 Not Found"),
        ("../../etc/passwd", "{}", "404 Not Found"),
    ] {
        let answer = exchange_on(&mut stream, &docker_request(method, body)).await;
        assert_eq!(answer.status_line, format!("HTTP/1.1 {status}"), "{method}");
    }
    assert_eq!(recorder.gauge(CONNECTIONS_OPEN, &[TEST]), 1.0);
    assert_eq!(
        recorder.counters(REQUESTS_TOTAL),
        [
            (
                r#"method="Echo.Echo",plugin="test",status="200""#.to_owned(),
                2
            ),
            (
                r#"method="Plugin.Activate",plugin="test",status="200""#.to_owned(),
                1
            ),
            (
                r#"method="VolumeDriver.Create",plugin="test",status="500""#.to_owned(),
                1
            ),
            // Paths it does not know share one label value.
            (r#"method="other",plugin="test",status="404""#.to_owned(), 2),
        ]
    );
    let durations = recorder.histogram(
        REQUEST_DURATION_SECONDS,
        &[TEST, ("method", "Echo.Echo"), ("status", "200")],
    );
    assert_eq!(durations.len(), 2);
    assert!(
        durations.iter().all(|s| *s >= 0.0 && *s < 10.0),
        "{durations:?}"
    );

    drop(stream);
    serving.shutdown().await;
    assert_eq!(recorder.gauge(CONNECTIONS_OPEN, &[TEST]), 0.0);
    assert_eq!(recorder.counter(CONNECTIONS_AT_LIMIT_TOTAL, &[TEST]), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn taking_the_last_connection_slot_is_counted() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let serving = support::test_server()
        .max_connections(2)
        .serve_unix(&path)
        .unwrap();
    let mut first = UnixStream::connect(&path).await.unwrap();
    exchange_on(&mut first, &docker_request("Echo.Echo", "1")).await;
    assert_eq!(recorder.counter(CONNECTIONS_AT_LIMIT_TOTAL, &[TEST]), 0);
    let mut second = UnixStream::connect(&path).await.unwrap();
    exchange_on(&mut second, &docker_request("Echo.Echo", "2")).await;
    assert_eq!(recorder.gauge(CONNECTIONS_OPEN, &[TEST]), 2.0);
    // The second took the last slot: the next connection would wait.
    assert_eq!(recorder.counter(CONNECTIONS_AT_LIMIT_TOTAL, &[TEST]), 1);
    drop((first, second));
    serving.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_layer_records_a_server_used_as_a_service() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let server = support::test_server();
    let service = RequestMetricsLayer::new(&server).layer(server);
    let request = http::Request::post("/VolumeDriver.List")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let answer = service.oneshot(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        recorder.counters(REQUESTS_TOTAL),
        [(
            r#"method="VolumeDriver.List",plugin="test",status="200""#.to_owned(),
            1
        )]
    );
}
