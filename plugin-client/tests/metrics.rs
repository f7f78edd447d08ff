//! Call metrics (feature `metrics`): every outcome of a call, recorded once,
//! with its plugin, method and duration, against real plugins on unix sockets;
//! and the transport's gauge of open connections.
#![cfg(feature = "metrics")]

mod support;

use std::time::Duration;

use plugin_client::metrics::{CALL_DURATION_SECONDS, CALLS_TOTAL, CallMetricsLayer};
use plugin_client::{Client, ClientConfig, PluginSpec, RetryConfig, Transport, TransportConfig};
use plugin_server::PluginName;
use plugin_test_support::metrics::Recorder;
use support::{Answering, plugin, response, serve_unix};
use tower::Layer;

fn metered(
    spec: &PluginSpec,
    transport: &TransportConfig,
    config: ClientConfig,
) -> Client<plugin_client::metrics::CallMetrics<Transport>> {
    let transport = Transport::for_spec(spec, transport).unwrap();
    let service = CallMetricsLayer::new(spec.name().clone()).layer(transport);
    Client::new(spec.name().clone(), service).with_config(config)
}

fn labels<'a>(method: &'a str, outcome: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("plugin", "testplug"),
        ("method", method),
        ("outcome", outcome),
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn each_answer_is_counted_once_by_method_and_outcome() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let served = serve_unix(&plugin());
    let client = metered(
        served.serving.spec(),
        &TransportConfig::default(),
        ClientConfig::default(),
    );

    client.activate().await.unwrap();
    client.call_raw("Echo.Echo", "{}").await.unwrap();
    client.call_raw("Echo.Echo", "{}").await.unwrap();
    assert!(
        client
            .call::<_, ()>("Volume.Fail", &())
            .await
            .unwrap_err()
            .is_plugin_error()
    );
    assert!(
        client
            .call::<_, ()>("Volume.Nope", &())
            .await
            .unwrap_err()
            .is_not_implemented()
    );

    assert_eq!(
        recorder.counters(CALLS_TOTAL),
        [
            (
                r#"method="Echo.Echo",outcome="ok",plugin="testplug""#.to_owned(),
                2
            ),
            (
                r#"method="Plugin.Activate",outcome="ok",plugin="testplug""#.to_owned(),
                1
            ),
            (
                r#"method="Volume.Fail",outcome="plugin_error",plugin="testplug""#.to_owned(),
                1
            ),
            (
                r#"method="Volume.Nope",outcome="not_implemented",plugin="testplug""#.to_owned(),
                1
            ),
        ]
    );
    let durations = recorder.histogram(CALL_DURATION_SECONDS, &labels("Echo.Echo", "ok"));
    assert_eq!(durations.len(), 2);
    assert!(
        durations.iter().all(|s| *s > 0.0 && *s < 10.0),
        "{durations:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_that_cannot_connect_is_connect() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let dir = tempfile::tempdir().unwrap();
    let spec = PluginSpec::from_socket(
        PluginName::new("testplug").unwrap(),
        dir.path().join("gone.sock"),
    )
    .unwrap();
    let client = metered(&spec, &TransportConfig::default(), ClientConfig::default());
    assert!(client.activate().await.unwrap_err().is_connect());
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Plugin.Activate", "connect")),
        1
    );
    assert_eq!(recorder.keys().len(), 2, "{:?}", recorder.keys());
}

#[tokio::test(flavor = "current_thread")]
async fn the_clients_deadline_is_timeout_and_giving_up_before_it_is_cancelled() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let served = serve_unix(&plugin());
    let config = ClientConfig::new().call_timeout(Duration::from_millis(50));
    let client = metered(served.serving.spec(), &TransportConfig::default(), config);
    assert!(
        client
            .call::<_, ()>("Test.Forever", &())
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Test.Forever", "timeout")),
        1
    );

    // The caller's own, shorter, deadline: the call is given up, not timed out.
    let patient = client.clone().with_config(
        client
            .config()
            .clone()
            .call_timeout(Duration::from_secs(600)),
    );
    let given_up = tokio::time::timeout(
        Duration::from_millis(20),
        patient.call::<_, ()>("Test.Forever", &()),
    )
    .await;
    assert!(given_up.is_err());
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Test.Forever", "cancelled")),
        1
    );
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Test.Forever", "timeout")),
        1
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_answer_over_the_limit_is_body_too_large_and_a_broken_one_transport() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let big = format!("{{\"Data\":\"{}\"}}", "x".repeat(4096));
    let answering = Answering::new(response("200 OK", big.as_bytes()));
    let spec =
        PluginSpec::from_socket(PluginName::new("testplug").unwrap(), answering.path()).unwrap();
    let limited = TransportConfig::new().max_response_body(Some(1024));
    let client = metered(
        &spec,
        &limited,
        ClientConfig::new().retry(RetryConfig::none()),
    );
    client.call_raw("Big.Answer", "{}").await.unwrap_err();
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Big.Answer", "body_too_large")),
        1
    );

    // Headers promising more than the plugin sends before it closes.
    let broken = Answering::new(&b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"short\""[..]);
    let spec =
        PluginSpec::from_socket(PluginName::new("testplug").unwrap(), broken.path()).unwrap();
    let client = metered(
        &spec,
        &TransportConfig::default(),
        ClientConfig::new().retry(RetryConfig::none()),
    );
    client.call_raw("Broken.Answer", "{}").await.unwrap_err();
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Broken.Answer", "transport")),
        1
    );
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "current_thread")]
async fn a_tls_failure_is_tls() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    // A plain-TCP plugin reached over https: the handshake fails.
    let dir = tempfile::tempdir().unwrap();
    let serving = plugin().serve_tcp("127.0.0.1:0", dir.path()).unwrap();
    let plugin_spec::Address::Tcp(hp) = serving.spec().address() else {
        panic!("not tcp")
    };
    let spec = PluginSpec::from_spec_text(
        PluginName::new("testplug").unwrap(),
        &format!("https://{hp}"),
        dir.path().join("testplug.spec"),
    )
    .unwrap();
    let client = metered(
        &spec,
        &TransportConfig::default(),
        ClientConfig::new().retry(RetryConfig::none()),
    );
    client.activate().await.unwrap_err();
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Plugin.Activate", "tls")),
        1
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_recorder_installed_after_the_first_calls_gets_the_calls_after_it() {
    let served = serve_unix(&plugin());
    let client = metered(
        served.serving.spec(),
        &TransportConfig::default(),
        ClientConfig::default(),
    );
    // No recorder yet: the call is recorded nowhere.
    client.call_raw("Echo.Echo", "{}").await.unwrap();
    let first = Recorder::new();
    {
        let _installed = first.install();
        client.call_raw("Echo.Echo", "{}").await.unwrap();
    }
    let second = Recorder::new();
    let _installed = second.install();
    client.call_raw("Echo.Echo", "{}").await.unwrap();
    client.call_raw("Echo.Echo", "{}").await.unwrap();
    let ok = labels("Echo.Echo", "ok");
    assert_eq!(first.counter(CALLS_TOTAL, &ok), 1);
    assert_eq!(second.counter(CALLS_TOTAL, &ok), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_body_read_to_its_length_is_ok_and_one_dropped_early_is_cancelled() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let served = serve_unix(&plugin());
    let transport =
        Transport::for_spec(served.serving.spec(), &TransportConfig::default()).unwrap();
    let service = CallMetricsLayer::new(PluginName::new("testplug").unwrap()).layer(transport);
    let echo = |body: &'static str| {
        http::Request::post("/Echo.Echo")
            .body(plugin_client::RequestBody::from_bytes(body))
            .unwrap()
    };
    // One frame, the whole body, then dropped without polling for its end.
    let answer = service.clone().oneshot(echo("{}")).await.unwrap();
    let mut body = answer.into_body();
    let frame = body.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "{}");
    drop(body);
    assert_eq!(recorder.counter(CALLS_TOTAL, &labels("Echo.Echo", "ok")), 1);
    // Dropped before any of it was read: the caller gave up.
    drop(service.oneshot(echo("{}")).await.unwrap());
    assert_eq!(
        recorder.counter(CALLS_TOTAL, &labels("Echo.Echo", "cancelled")),
        1
    );
}
