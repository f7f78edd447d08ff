//! Activation (docs/protocol.md, "The registry"): one activation however many callers race, failures not
//! cached and shared with every waiter, unknown names answered at once.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use plugin_registry::RegistryError;
use plugin_server::{HandlerError, PluginServer};
use support::{Counted, Dir, name};
use tokio::sync::Notify;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_gets_activate_once() {
    let dir = Dir::new();
    let plugin = Counted::new("vol", &["VolumeDriver"]);
    let _serving = plugin.serve(&dir, "vol");
    let registry = dir.registry();
    let gets = (0..1000).map(|_| {
        let registry = registry.clone();
        tokio::spawn(async move { registry.get(&name("vol"), "VolumeDriver").await })
    });
    for get in futures_util::future::join_all(gets).await {
        let plugin = get.unwrap().unwrap();
        assert_eq!(plugin.manifest().implements(), ["VolumeDriver"]);
    }
    assert_eq!(plugin.activations(), 1);
}

#[tokio::test]
async fn a_cached_plugin_is_returned_without_another_activation() {
    let dir = Dir::new();
    let plugin = Counted::new("vol", &["VolumeDriver"]);
    let _serving = plugin.serve(&dir, "vol");
    let registry = dir.registry();
    let first = registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    let again = registry
        .clone()
        .get(&name("vol"), "VolumeDriver")
        .await
        .unwrap();
    assert_eq!(plugin.activations(), 1);
    assert_eq!(first.spec(), again.spec());
    let echoed = again.client().call_raw("Echo.Echo", "hi").await.unwrap();
    assert_eq!(echoed, "hi");
}

/// A plugin whose first activation fails (after `gate` is opened) and whose
/// later ones succeed.
fn flaky(attempts: Arc<AtomicUsize>, gate: Arc<Notify>) -> PluginServer {
    PluginServer::new(name("flaky")).handle("Plugin.Activate", move |(): ()| {
        let (attempts, gate) = (Arc::clone(&attempts), Arc::clone(&gate));
        async move {
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                gate.notified().await;
                return Err(HandlerError::new("still starting up"));
            }
            Ok(serde_json::json!({"Implements": ["VolumeDriver"]}))
        }
    })
}

// One thread: the 50 callers are polled (and waiting) before the activation
// task they started has even connected.
#[tokio::test]
async fn a_failed_activation_reaches_every_waiter_and_is_not_cached() {
    let dir = Dir::new();
    let (attempts, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let _serving = flaky(Arc::clone(&attempts), Arc::clone(&gate))
        .serve_unix(dir.socket("flaky"))
        .unwrap();
    let registry = dir.registry();
    let waiters: Vec<_> = (0..50)
        .map(|_| {
            let registry = registry.clone();
            tokio::spawn(async move { registry.get(&name("flaky"), "VolumeDriver").await })
        })
        .collect();
    // The first activation is held at the gate; all 50 callers wait on it.
    while attempts.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    for waiter in waiters {
        let err = waiter.await.unwrap().unwrap_err();
        assert!(matches!(err, RegistryError::Activation { .. }), "{err:?}");
        assert_eq!(
            support::chain(&err),
            "activating plugin \"flaky\" failed: Plugin.Activate: still starting up (plugin \"flaky\", HTTP 500)"
        );
    }
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "one activation, shared by all 50"
    );
    // Not cached: the next get tries again, and succeeds.
    let plugin = registry.get(&name("flaky"), "VolumeDriver").await.unwrap();
    assert_eq!(plugin.name(), "flaky");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unknown_name_is_not_found_at_once() {
    let dir = Dir::new();
    let registry = dir.registry();
    let started = Instant::now();
    let err = registry
        .get(&name("ghost"), "VolumeDriver")
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("plugin \"ghost\" not found in "),
        "{err}"
    );
    // Docker's Get retries this for about 15 s; the first backoff alone is 1 s.
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn not_implementing_names_the_plugin_the_iface_and_what_it_implements() {
    let dir = Dir::new();
    let plugin = Counted::new("net", &["NetworkDriver", "IpamDriver"]);
    let _serving = plugin.serve(&dir, "net");
    let err = dir
        .registry()
        .get(&name("net"), "VolumeDriver")
        .await
        .unwrap_err();
    assert!(err.is_subsystem_missing());
    assert_eq!(
        err.to_string(),
        "plugin \"net\" does not implement VolumeDriver (it implements: NetworkDriver, IpamDriver)"
    );
}

#[tokio::test]
async fn a_bad_descriptor_is_a_descriptor_error() {
    let dir = Dir::new();
    std::fs::write(dir.dir.path().join("bad.spec"), "ftp://nowhere").unwrap();
    let err = dir
        .registry()
        .get(&name("bad"), "VolumeDriver")
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Descriptor { .. }), "{err:?}");
    // Transparent: it reads as discovery's sentence, and its source is the
    // descriptor's error.
    assert_eq!(
        err.to_string(),
        "cannot use the descriptor of plugin \"bad\""
    );
    let chain = support::chain(&err);
    assert!(chain.contains("unknown scheme `ftp`"), "{chain}");
}

#[tokio::test]
async fn a_layer_wraps_every_plugins_transport() {
    let dir = Dir::new();
    let plugin = Counted::new("vol", &["VolumeDriver"]);
    let _serving = plugin.serve(&dir, "vol");
    let requests = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&requests);
    let registry = plugin_registry::Registry::builder(dir.discovery())
        .layer(tower::util::MapRequestLayer::new(
            move |request: http::Request<plugin_client::RequestBody>| {
                count.fetch_add(1, Ordering::SeqCst);
                request
            },
        ))
        .build();
    let plugin = registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    plugin.client().call_raw("Echo.Echo", "x").await.unwrap();
    assert_eq!(
        requests.load(Ordering::SeqCst),
        2,
        "Plugin.Activate and Echo.Echo went through the layer"
    );
}
