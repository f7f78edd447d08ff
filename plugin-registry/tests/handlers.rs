//! Handlers (docs/protocol.md, "The registry"): order, late registration, re-entrancy, and
//! re-activation of a restarted plugin.

mod support;

use std::sync::{Arc, Mutex};

use support::{Counted, Dir, name};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::default()
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[tokio::test]
async fn handlers_run_after_activation_in_registration_order() {
    let dir = Dir::new();
    let vol = Counted::new("vol", &["VolumeDriver", "Echo"]);
    let _serving = vol.serve(&dir, "vol");
    let registry = dir.registry();
    let seen = log();
    for tag in ["first", "second"] {
        let seen = Arc::clone(&seen);
        registry
            .on_activate("VolumeDriver", move |name, _client| {
                let seen = Arc::clone(&seen);
                async move { seen.lock().unwrap().push(format!("{tag} {name}")) }
            })
            .await;
    }
    let echo_seen = Arc::clone(&seen);
    registry
        .on_activate("Echo", move |name, _| {
            let seen = Arc::clone(&echo_seen);
            async move { seen.lock().unwrap().push(format!("echo {name}")) }
        })
        .await;
    let unrelated = Arc::clone(&seen);
    registry
        .on_activate("NetworkDriver", move |name, _| {
            let seen = Arc::clone(&unrelated);
            async move { seen.lock().unwrap().push(format!("network {name}")) }
        })
        .await;
    assert!(entries(&seen).is_empty(), "nothing is active yet");
    registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    // Manifest order (VolumeDriver, Echo), then registration order.
    assert_eq!(entries(&seen), ["first vol", "second vol", "echo vol"]);
    // A second get of an active plugin runs nothing again.
    registry.get(&name("vol"), "Echo").await.unwrap();
    assert_eq!(entries(&seen).len(), 3);
}

#[tokio::test]
async fn a_handler_registered_late_runs_at_once_for_active_plugins() {
    let dir = Dir::new();
    let vol = Counted::new("vol", &["VolumeDriver"]);
    let _serving = vol.serve(&dir, "vol");
    let registry = dir.registry();
    registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    let seen = log();
    let late = Arc::clone(&seen);
    registry
        .on_activate("VolumeDriver", move |name, client| {
            let seen = Arc::clone(&late);
            async move {
                let echoed = client.call_raw("Echo.Echo", "late").await.unwrap();
                seen.lock()
                    .unwrap()
                    .push(format!("{name} {}", String::from_utf8_lossy(&echoed)));
            }
        })
        .await;
    assert_eq!(entries(&seen), ["vol late"]);
    assert_eq!(vol.activations(), 1);
}

#[tokio::test]
async fn a_handler_may_call_the_registry_itself() {
    let dir = Dir::new();
    let (vol, other) = (
        Counted::new("vol", &["VolumeDriver"]),
        Counted::new("other", &["Echo"]),
    );
    let (_a, _b) = (vol.serve(&dir, "vol"), other.serve(&dir, "other"));
    let registry = dir.registry();
    let seen = log();
    let (inner_registry, inner_seen) = (registry.clone(), Arc::clone(&seen));
    registry
        .on_activate("VolumeDriver", move |name, _| {
            let (registry, seen) = (inner_registry.clone(), Arc::clone(&inner_seen));
            async move {
                // The plugin being handled, and another one: neither deadlocks.
                let same = registry.get(&name, "VolumeDriver").await.unwrap();
                let other = registry.get(&support::name("other"), "Echo").await.unwrap();
                seen.lock()
                    .unwrap()
                    .push(format!("{} {}", same.name(), other.name()));
            }
        })
        .await;
    let got = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        registry.get(&name("vol"), "VolumeDriver"),
    )
    .await
    .expect("a re-entrant handler deadlocked the registry");
    got.unwrap();
    assert_eq!(entries(&seen), ["vol other"]);
    assert_eq!((vol.activations(), other.activations()), (1, 1));
}

#[tokio::test]
async fn a_restarted_plugin_is_activated_again_with_its_new_manifest() {
    let dir = Dir::new();
    let registry = dir.registry();
    let seen = log();
    let runs = Arc::clone(&seen);
    registry
        .on_activate("VolumeDriver", move |name, _| {
            let seen = Arc::clone(&runs);
            async move { seen.lock().unwrap().push(name.to_string()) }
        })
        .await;
    let v1 = Counted::new("vol", &["VolumeDriver"]);
    let serving = v1.serve(&dir, "vol");
    let plugin = registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    assert_eq!(plugin.manifest().implements(), ["VolumeDriver"]);
    // Stop it; start a new version on the same path.
    serving.shutdown().await;
    let v2 = Counted::new("vol", &["VolumeDriver", "IpamDriver"]);
    let _serving = v2.serve(&dir, "vol");
    assert!(plugin.is_stale(), "the socket was re-created");
    let plugin = registry.get(&name("vol"), "IpamDriver").await.unwrap();
    assert_eq!(
        plugin.manifest().implements(),
        ["VolumeDriver", "IpamDriver"]
    );
    assert_eq!((v1.activations(), v2.activations()), (1, 1));
    assert_eq!(
        entries(&seen),
        ["vol", "vol"],
        "the handler ran for each activation"
    );
}

#[tokio::test]
async fn a_call_whose_connection_fails_marks_the_plugin_stale() {
    let dir = Dir::new();
    let registry = dir.registry();
    // A TCP plugin whose descriptor the test owns: stopping the plugin leaves
    // it untouched, so only the failed call can tell.
    let elsewhere = tempfile::tempdir().unwrap();
    let v1 = Counted::new("vol", &["VolumeDriver"]);
    let serving = v1
        .server
        .serve_tcp("127.0.0.1:0", elsewhere.path())
        .unwrap();
    let descriptor = dir.dir.path().join("vol.spec");
    std::fs::write(&descriptor, format!("{}\n", serving.address())).unwrap();
    let plugin = registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    assert!(!plugin.is_stale());
    serving.shutdown().await;
    let client = plugin.client();
    let no_retries = client
        .config()
        .clone()
        .retry(plugin_registry::RetryConfig::none());
    let failed = client
        .clone()
        .with_config(no_retries)
        .call_raw("Echo.Echo", "x")
        .await;
    let err = failed.unwrap_err();
    assert!(
        matches!(err, plugin_registry::ClientError::Transport { .. }),
        "{err:?}"
    );
    assert!(
        plugin.is_stale(),
        "a failed connection marks the plugin stale"
    );
    // The plugin comes back (elsewhere): the next get activates it again.
    let v2 = Counted::new("vol", &["VolumeDriver"]);
    let serving = v2
        .server
        .serve_tcp("127.0.0.1:0", elsewhere.path())
        .unwrap();
    std::fs::write(&descriptor, format!("{}\n", serving.address())).unwrap();
    registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    assert_eq!((v1.activations(), v2.activations()), (1, 1));
}

#[tokio::test]
async fn a_removed_plugin_is_gone_on_the_next_get() {
    let dir = Dir::new();
    let registry = dir.registry();
    let vol = Counted::new("vol", &["VolumeDriver"]);
    let serving = vol.serve(&dir, "vol");
    registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    drop(serving);
    let err = registry
        .get(&name("vol"), "VolumeDriver")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}
