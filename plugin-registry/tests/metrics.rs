//! The registry's metrics (feature `metrics`), each recorded by real plugins
//! on unix sockets and read back from metrics-util's debugging recorder.
#![cfg(feature = "metrics")]

mod support;

use std::time::Duration;

use plugin_registry::metrics::{
    ACTIVATIONS_TOTAL, CALLS_TOTAL, CONNECTIONS_OPEN, HEALTH_PROBES_TOTAL, HEALTHY,
    REACTIVATIONS_TOTAL, STALE_TOTAL,
};
use plugin_registry::{HealthProbe, Registry};
use plugin_test_support::metrics::Recorder;
use support::{Counted, Dir};

const VOL: (&str, &str) = ("plugin", "vol");

#[tokio::test(flavor = "current_thread")]
async fn activations_calls_staleness_and_connections_are_counted() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let dir = Dir::new();
    let registry = dir.registry();

    assert!(
        registry
            .get("vol", "VolumeDriver")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let first = Counted::new("vol", &["VolumeDriver"]);
    let serving = first.serve(&dir, "vol");
    let plugin = registry.get("vol", "VolumeDriver").await.unwrap();
    plugin.client().call_raw("Echo.Echo", "x").await.unwrap();
    plugin.client().call_raw("Echo.Echo", "x").await.unwrap();
    assert_eq!(recorder.gauge(CONNECTIONS_OPEN, &[VOL]), 1.0);

    // Stopped and restarted: the socket is re-created, so the plugin is stale
    // (changed), and the next get activates it again.
    serving.shutdown().await;
    let second = Counted::new("vol", &["VolumeDriver"]);
    let _serving = second.serve(&dir, "vol");
    registry.get("vol", "VolumeDriver").await.unwrap();

    assert_eq!(
        recorder.counters(ACTIVATIONS_TOTAL),
        [
            (r#"outcome="not_found",plugin="vol""#.to_owned(), 1),
            (r#"outcome="ok",plugin="vol""#.to_owned(), 2),
        ]
    );
    assert_eq!(recorder.counter(REACTIVATIONS_TOTAL, &[VOL]), 1);
    assert_eq!(
        recorder.counters(STALE_TOTAL),
        [(r#"plugin="vol",reason="changed""#.to_owned(), 1)]
    );
    assert_eq!(
        recorder.counters(CALLS_TOTAL),
        [
            (
                r#"method="Echo.Echo",outcome="ok",plugin="vol""#.to_owned(),
                2
            ),
            (
                r#"method="Plugin.Activate",outcome="ok",plugin="vol""#.to_owned(),
                2
            ),
        ]
    );
    // The first activation's connection closed with its plugin's server.
    drop(plugin);
    assert_eq!(recorder.gauge(CONNECTIONS_OPEN, &[VOL]), 1.0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_call_is_stale_by_connection_and_a_refused_activation_is_connect() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let dir = Dir::new();
    let registry = dir.registry();
    let counted = Counted::new("vol", &["VolumeDriver"]);
    let serving = counted.serve(&dir, "vol");
    let plugin = registry.get("vol", "VolumeDriver").await.unwrap();
    // A plugin killed with its socket left behind: nothing listens on it.
    let socket = dir.socket("vol");
    serving.shutdown().await;
    let _dead = std::os::unix::net::UnixListener::bind(&socket).map(drop);
    plugin
        .client()
        .call_raw("Echo.Echo", "x")
        .await
        .unwrap_err();
    assert!(
        registry
            .get("vol", "VolumeDriver")
            .await
            .unwrap_err()
            .is_nothing_listening()
    );

    // The failed call told first; the re-created socket then changes nothing.
    assert_eq!(
        recorder.counters(STALE_TOTAL),
        [(r#"plugin="vol",reason="connection""#.to_owned(), 1)]
    );
    assert_eq!(
        recorder.counters(ACTIVATIONS_TOTAL),
        [
            (r#"outcome="connect",plugin="vol""#.to_owned(), 1),
            (r#"outcome="ok",plugin="vol""#.to_owned(), 1),
        ]
    );
    assert_eq!(
        recorder.counter(
            CALLS_TOTAL,
            &[VOL, ("method", "Echo.Echo"), ("outcome", "connect")]
        ),
        1
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn probes_are_counted_and_health_is_a_gauge() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let dir = Dir::new();
    let counted = Counted::new("vol", &["VolumeDriver"]);
    let serving = counted.serve(&dir, "vol");
    let registry = Registry::builder(dir.discovery())
        .health_probe(
            HealthProbe::every(Duration::from_secs(1))
                .failures(2)
                .jitter(0.0),
        )
        .build();
    registry.get("vol", "VolumeDriver").await.unwrap();
    assert_eq!(recorder.gauge(HEALTHY, &[VOL]), 1.0);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        recorder.counter(HEALTH_PROBES_TOTAL, &[VOL, ("outcome", "ok")]),
        2
    );

    serving.shutdown().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        recorder.counter(HEALTH_PROBES_TOTAL, &[VOL, ("outcome", "failed")]),
        2
    );
    assert_eq!(recorder.gauge(HEALTHY, &[VOL]), 0.0);
}

#[tokio::test(flavor = "current_thread")]
async fn call_metrics_can_be_turned_off() {
    let recorder = Recorder::new();
    let _installed = recorder.install();
    let dir = Dir::new();
    let counted = Counted::new("vol", &["VolumeDriver"]);
    let _serving = counted.serve(&dir, "vol");
    let registry = Registry::builder(dir.discovery())
        .call_metrics(false)
        .build();
    let plugin = registry.get("vol", "VolumeDriver").await.unwrap();
    plugin.client().call_raw("Echo.Echo", "x").await.unwrap();
    assert!(recorder.counters(CALLS_TOTAL).is_empty());
    assert_eq!(
        recorder.counter(ACTIVATIONS_TOTAL, &[VOL, ("outcome", "ok")]),
        1
    );
}
