//! `get_all` and `get_or_wait`: every candidate activated at once, failures
//! returned beside the plugins, a dead socket in milliseconds; waiting driven
//! by the directory watch.

mod support;

use std::time::{Duration, Instant};

use futures_util::FutureExt;
use plugin_registry::RegistryError;
use support::{Counted, Dir, name};

#[tokio::test]
async fn get_all_returns_the_implementing_plugins_and_the_failures() {
    let dir = Dir::new();
    let (live, other) = (
        Counted::new("live", &["VolumeDriver"]),
        Counted::new("other", &["NetworkDriver"]),
    );
    let (_live, _other) = (live.serve(&dir, "live"), other.serve(&dir, "other"));
    // A dead plugin: its socket is there, nobody listens.
    drop(std::os::unix::net::UnixListener::bind(dir.socket("dead")).unwrap());
    std::fs::write(dir.dir.path().join("bad.sock"), "not a socket").unwrap();
    let registry = dir.registry();
    let started = Instant::now();
    let all = registry.get_all("VolumeDriver").await;
    let took = started.elapsed();
    let names: Vec<&str> = all.plugins.iter().map(|p| p.name().as_str()).collect();
    assert_eq!(names, ["live"]);
    assert_eq!(all.failures.len(), 1);
    let dead = &all.failures[0];
    assert_eq!(dead.name().map(|n| n.as_str()), Some("dead"));
    assert!(dead.is_connect(), "{dead:?}");
    assert_eq!(all.skipped.len(), 1, "bad.sock is reported, not dropped");
    assert!(all.skipped[0].path().ends_with("bad.sock"));
    // Docker stalls here for its 15 s retry window; no retry happens here (the
    // first backoff alone would be 1 s).
    assert!(took < Duration::from_secs(1), "{took:?}");
    eprintln!("get_all with a dead socket: {took:?}");
    // The non-implementing plugin was activated and cached all the same.
    assert_eq!(other.activations(), 1);
    registry.get(&name("other"), "NetworkDriver").await.unwrap();
    assert_eq!(other.activations(), 1);
}

#[tokio::test]
async fn get_or_wait_wakes_when_the_plugin_appears() {
    let dir = Dir::new();
    let registry = dir.registry();
    let late_name = name("late");
    let mut waiting =
        Box::pin(registry.get_or_wait(&late_name, "VolumeDriver", Duration::from_secs(30)));
    // Polled once: the watch is up, the plugin is not there, so it waits.
    assert!((&mut waiting).now_or_never().is_none());
    let late = Counted::new("late", &["VolumeDriver"]);
    let _serving = late.serve(&dir, "late");
    let plugin = waiting.await.unwrap();
    assert_eq!(plugin.name(), "late");
    assert_eq!(late.activations(), 1);
}

#[tokio::test]
async fn a_stale_socket_fails_get_at_once_and_get_or_wait_rides_out_the_restart() {
    let dir = Dir::new();
    // A plugin that stopped: its socket is there, nobody listens.
    drop(std::os::unix::net::UnixListener::bind(dir.socket("restarting")).unwrap());
    let registry = dir.registry();
    let started = Instant::now();
    let err = registry
        .get(&name("restarting"), "VolumeDriver")
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_connect() && err.is_nothing_listening(), "{err:?}");
    // Default settings: no retry on a refused unix socket (Docker: ~15 s; our
    // TCP retry alone would sleep 250 ms first).
    assert!(took < Duration::from_millis(250), "{took:?}");
    eprintln!("get on a stale socket, default settings: {took:?}");

    let restarting = name("restarting");
    let mut waiting =
        Box::pin(registry.get_or_wait(&restarting, "VolumeDriver", Duration::from_secs(30)));
    // Given time to try the stale socket (about 0.5 ms), it keeps waiting
    // rather than returning the refusal, as it did before.
    assert!(
        tokio::time::timeout(Duration::from_millis(50), &mut waiting)
            .await
            .is_err(),
        "get_or_wait gave up on a plugin that is restarting"
    );
    let back = Counted::new("restarting", &["VolumeDriver"]);
    let _serving = back.serve(&dir, "restarting");
    let served = Instant::now();
    let plugin = waiting.await.unwrap();
    eprintln!(
        "get_or_wait returned {:?} after the socket was made",
        served.elapsed()
    );
    assert_eq!(plugin.name(), "restarting");
    assert_eq!(back.activations(), 1);
}

#[tokio::test]
async fn get_or_wait_gives_up_after_its_timeout() {
    let dir = Dir::new();
    let err = dir
        .registry()
        .get_or_wait(&name("never"), "VolumeDriver", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::WaitTimeout { .. }) && err.is_timeout(),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "plugin \"never\" did not appear within 200ms"
    );
}

#[tokio::test]
async fn get_or_wait_returns_at_once_for_a_plugin_that_is_there() {
    let dir = Dir::new();
    let vol = Counted::new("vol", &["VolumeDriver"]);
    let _serving = vol.serve(&dir, "vol");
    let plugin = dir
        .registry()
        .get_or_wait(&name("vol"), "VolumeDriver", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(plugin.name(), "vol");
}

/// `get_all(iface)` on a registry of `dir`, run on a runtime of its own in
/// its own thread: `None` if it has not answered within `deadline` (a stuck
/// thread is left behind rather than hanging the test run).
#[cfg(feature = "tls")]
fn get_all_within(
    dir: &Dir,
    iface: &'static str,
    deadline: Duration,
) -> Option<(plugin_registry::GetAll, Duration)> {
    let registry = dir.registry();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        let all = runtime.block_on(registry.get_all(iface));
        let _ = sender.send((all, started.elapsed()));
    });
    receiver.recv_timeout(deadline).ok()
}

#[cfg(feature = "tls")]
#[test]
fn a_plugin_whose_ca_file_is_a_fifo_fails_alone_and_the_healthy_one_is_returned() {
    let dir = Dir::new();
    let live = Counted::new("live", &["VolumeDriver"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _live = runtime.block_on(async { live.serve(&dir, "live") });
    // Its FIFO elsewhere, with no writer: opening it for reading blocked in
    // open(2) for ever, on the runtime's only thread.
    let files = tempfile::tempdir().unwrap();
    let fifo = files.path().join("ca.pem");
    plugin_test_support::files::fifo(&fifo);
    std::fs::write(
        dir.dir.path().join("fifo.json"),
        format!(
            r#"{{"Addr": "https://127.0.0.1:1", "TLSConfig": {{"CAFile": "{}"}}}}"#,
            fifo.display()
        ),
    )
    .unwrap();
    let (all, took) = get_all_within(&dir, "VolumeDriver", Duration::from_secs(10))
        .expect("get_all answers although one plugin's CAFile is a FIFO");
    let names: Vec<&str> = all.plugins.iter().map(|p| p.name().as_str()).collect();
    assert_eq!(names, ["live"]);
    assert_eq!(all.failures.len(), 1);
    let failure = &all.failures[0];
    assert!(
        matches!(failure, RegistryError::Setup { name, .. } if name.as_str() == "fifo"),
        "{failure:?}"
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "plugin \"fifo\" at https://127.0.0.1:1: cannot use TLSConfig.CAFile {}: it is a FIFO, not a regular file; TLS files must be regular files",
            fifo.display()
        )
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(live.activations(), 1);
}
