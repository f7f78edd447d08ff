//! Health probes: a real plugin on a unix socket that stops answering turns
//! unhealthy within `interval × failures + deadline`, and healthy again after
//! one answer. The clock is tokio's paused clock, advanced only when every
//! task waits, so the bounds are exact and the test takes no wall time.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use plugin_registry::{Health, HealthProbe, Registry, RegistryEvent, RegistryEvents};
use plugin_server::{HandlerError, PluginServer};
use support::{Dir, name};
use tokio::time::Instant;

/// A plugin whose `Plugin.Activate` hangs while `hung` is set.
fn hanging(hung: &Arc<AtomicBool>, activations: &Arc<AtomicUsize>) -> PluginServer {
    let (hung, activations) = (Arc::clone(hung), Arc::clone(activations));
    PluginServer::new(name("vol")).handle("Plugin.Activate", move |(): ()| {
        activations.fetch_add(1, Ordering::SeqCst);
        let hung = hung.load(Ordering::SeqCst);
        async move {
            if hung {
                std::future::pending::<()>().await;
            }
            Ok::<_, HandlerError>(serde_json::json!({ "Implements": ["VolumeDriver"] }))
        }
    })
}

async fn health_change(events: &mut RegistryEvents) -> Health {
    loop {
        match events.next_event().await.expect("the registry is alive") {
            RegistryEvent::HealthChanged { health, .. } => return health,
            _ => continue,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_hung_plugin_is_unhealthy_within_interval_times_failures_plus_deadline() {
    let (interval, deadline, failures) = (Duration::from_secs(1), Duration::from_millis(200), 3);
    let dir = Dir::new();
    let (hung, activations) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let _serving = hanging(&hung, &activations)
        .serve_unix(dir.socket("vol"))
        .unwrap();
    let registry = Registry::builder(dir.discovery())
        .health_probe(
            HealthProbe::every(interval)
                .deadline(deadline)
                .failures(failures)
                .jitter(0.5),
        )
        .build();
    let mut events = registry.events().unwrap();
    let plugin = registry.get("vol", "VolumeDriver").await.unwrap();
    assert_eq!(plugin.health(), Health::Healthy);

    // Healthy for a while: the probes answer, and nothing changes.
    tokio::time::sleep(interval * 5).await;
    let probed = activations.load(Ordering::SeqCst) - 1;
    assert!((4..=6).contains(&probed), "{probed} probes in 5 intervals");
    assert!(
        events
            .try_next()
            .is_none_or(|e| !matches!(e, RegistryEvent::HealthChanged { .. }))
    );

    hung.store(true, Ordering::SeqCst);
    let hung_at = Instant::now();
    assert_eq!(health_change(&mut events).await, Health::Unhealthy);
    let took = hung_at.elapsed();
    eprintln!("unhealthy {took:?} after the plugin hung");
    assert!(
        took <= interval * failures + deadline && took >= interval * (failures - 1) + deadline,
        "unhealthy after {took:?}"
    );
    assert_eq!(plugin.health(), Health::Unhealthy);
    // Health is reported, not acted on: the plugin is still the registry's.
    assert_eq!(
        registry.get("vol", "VolumeDriver").await.unwrap().health(),
        Health::Unhealthy
    );

    // One answer makes it healthy again, at the next probe.
    hung.store(false, Ordering::SeqCst);
    let answered_at = Instant::now();
    assert_eq!(health_change(&mut events).await, Health::Healthy);
    assert!(
        answered_at.elapsed() <= interval,
        "{:?}",
        answered_at.elapsed()
    );
    assert_eq!(plugin.health(), Health::Healthy);
}

#[tokio::test]
async fn without_a_probe_plugins_are_unprobed() {
    let dir = Dir::new();
    let counted = support::Counted::new("vol", &["VolumeDriver"]);
    let _serving = counted.serve(&dir, "vol");
    let plugin = dir.registry().get("vol", "VolumeDriver").await.unwrap();
    assert_eq!(plugin.health(), Health::Unprobed);
    assert_eq!(counted.activations(), 1);
}
