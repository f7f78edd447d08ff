//! Registry events: what happens to plugins, in order, as a subscriber sees it;
//! real plugins on unix sockets in a temp dir, and discovery's real watch.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use plugin_registry::{ClientConfig, Health, Registry, RegistryEvent, RegistryEvents, RetryConfig};
use support::{Counted, Dir, name};

/// The next event, or a failure naming what was awaited (a bound so that a
/// broken build fails instead of hanging; never a synchronisation).
async fn next(events: &mut RegistryEvents, awaited: &str) -> RegistryEvent {
    tokio::time::timeout(Duration::from_secs(20), events.next_event())
        .await
        .unwrap_or_else(|_| panic!("no event came; awaited {awaited}"))
        .expect("the registry is alive")
}

/// The event's kind, plugin and details that tell one from another.
fn describe(event: &RegistryEvent) -> String {
    let name = event.name().map_or("-", |n| n.as_str());
    match event {
        RegistryEvent::Activated {
            manifest,
            generation,
            ..
        }
        | RegistryEvent::Reactivated {
            manifest,
            generation,
            ..
        } => {
            format!(
                "{} {name} #{generation} {:?}",
                event.kind(),
                manifest.implements()
            )
        }
        RegistryEvent::Stale { reason, .. } => format!("stale {name} {reason}"),
        RegistryEvent::HealthChanged { health, .. } => format!("health {name} {health}"),
        RegistryEvent::Missed { count } => format!("missed {count}"),
        _ => format!("{} {name}", event.kind()),
    }
}

#[tokio::test]
async fn a_plugin_killed_and_restarted_is_stale_then_reactivated() {
    let dir = Dir::new();
    let registry: Registry = dir.registry();
    let first = Counted::new("vol", &["VolumeDriver"]);
    let serving = first.serve(&dir, "vol");
    let mut events = registry.events().unwrap();
    assert_eq!(
        describe(&next(&mut events, "discovered").await),
        "discovered vol"
    );

    registry.get("vol", "VolumeDriver").await.unwrap();
    assert_eq!(
        describe(&next(&mut events, "activated").await),
        r#"activated vol #1 ["VolumeDriver"]"#
    );

    // Killed: its socket goes, and the watch tells at once.
    serving.shutdown().await;
    assert_eq!(
        describe(&next(&mut events, "stale").await),
        "stale vol removed"
    );
    assert_eq!(describe(&next(&mut events, "removed").await), "removed vol");

    // Restarted, implementing more: found again, and activated again.
    let second = Counted::new("vol", &["VolumeDriver", "IpamDriver"]);
    let _serving = second.serve(&dir, "vol");
    assert_eq!(
        describe(&next(&mut events, "discovered again").await),
        "discovered vol"
    );
    let plugin = registry.get("vol", "IpamDriver").await.unwrap();
    assert_eq!(
        describe(&next(&mut events, "reactivated").await),
        r#"reactivated vol #2 ["VolumeDriver", "IpamDriver"]"#
    );
    assert_eq!((first.activations(), second.activations()), (1, 1));
    assert!(!plugin.is_stale());
    assert!(events.try_next().is_none(), "no other event");
}

#[tokio::test]
async fn a_failed_call_marks_the_plugin_stale_once_and_a_failed_activation_is_told() {
    let dir = Dir::new();
    // No retries: a TCP refusal is otherwise retried for about 2 s.
    let registry = Registry::builder(dir.discovery())
        .client_config(ClientConfig::new().retry(RetryConfig::none()))
        .build();
    // A TCP plugin behind a descriptor the test owns: stopping the plugin
    // leaves the descriptor as it is, so only the failed call can tell.
    let elsewhere = tempfile::tempdir().unwrap();
    let plugin = Counted::new("vol", &["VolumeDriver"]);
    let serving = plugin
        .server
        .serve_tcp("127.0.0.1:0", elsewhere.path())
        .unwrap();
    std::fs::write(
        dir.dir.path().join("vol.spec"),
        format!("{}\n", serving.address()),
    )
    .unwrap();
    let mut events = registry.events().unwrap();
    assert_eq!(
        describe(&next(&mut events, "discovered").await),
        "discovered vol"
    );
    let active = registry.get("vol", "VolumeDriver").await.unwrap();
    assert_eq!(
        describe(&next(&mut events, "activated").await),
        r#"activated vol #1 ["VolumeDriver"]"#
    );

    serving.shutdown().await;
    let client = active.client();
    client.call_raw("Echo.Echo", "x").await.unwrap_err();
    client.call_raw("Echo.Echo", "x").await.unwrap_err();
    assert_eq!(
        describe(&next(&mut events, "stale").await),
        "stale vol connection"
    );

    // Nothing listens: the activation fails, and says so.
    let failed = registry.get("vol", "VolumeDriver").await.unwrap_err();
    let told = next(&mut events, "activation failed").await;
    assert_eq!(describe(&told), "activation_failed vol");
    let RegistryEvent::ActivationFailed { error, .. } = told else {
        unreachable!()
    };
    assert_eq!(error.to_string(), failed.to_string());
    assert!(
        events.try_next().is_none(),
        "the second failed call told nothing"
    );
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_how_many_it_missed() {
    let dir = Dir::new();
    let registry = plugin_registry::Registry::builder(dir.discovery())
        .event_capacity(2)
        .build();
    let mut events = registry.events().unwrap();
    // Five plugins that are not there, nobody reading: three events are
    // dropped.
    for plugin in ["a", "b", "c", "d", "e"] {
        assert!(registry.activate(plugin).await.unwrap_err().is_not_found());
    }
    let seen: Vec<String> = [
        next(&mut events, "missed").await,
        next(&mut events, "d").await,
        next(&mut events, "e").await,
    ]
    .iter()
    .map(describe)
    .collect();
    assert_eq!(
        seen,
        ["missed 3", "activation_failed d", "activation_failed e"]
    );
    // The registry itself was never held up, and still answers.
    assert!(registry.activate(name("a")).await.is_err());
}

#[tokio::test]
async fn an_event_capacity_too_large_is_clamped_not_a_panic() {
    let dir = Dir::new();
    let registry = plugin_registry::Registry::builder(dir.discovery())
        .event_capacity(usize::MAX)
        .build();
    let mut events = registry.events().unwrap();
    assert!(registry.activate("gone").await.is_err());
    assert_eq!(
        describe(&next(&mut events, "failed").await),
        "activation_failed gone"
    );
}

#[test]
fn events_outside_a_runtime_is_an_error_not_a_panic() {
    let dir = Dir::new();
    let registry = plugin_registry::Registry::new(dir.discovery());
    let error = registry.events().unwrap_err();
    assert_eq!(
        support::chain(&error),
        "cannot watch the plugin directories for events: Discovery::watch needs a tokio runtime; call it from within one"
    );
}

#[tokio::test]
async fn events_display_as_one_line_each_as_pluginctl_prints_them() {
    let dir = Dir::new();
    let registry = dir.registry();
    let plugin = Counted::new("vol", &["VolumeDriver", "IpamDriver"]);
    let serving = plugin.serve(&dir, "vol");
    let mut events = registry.events().unwrap();
    let discovered = |name: &str| {
        let socket = dir.socket(name);
        format!("discovered        {name}  unix://{}", socket.display())
    };
    let mut lines = Vec::new();
    lines.push(next(&mut events, "discovered").await.to_string());
    registry.get("vol", "VolumeDriver").await.unwrap();
    lines.push(next(&mut events, "activated").await.to_string());
    serving.shutdown().await;
    lines.push(next(&mut events, "stale").await.to_string());
    lines.push(next(&mut events, "removed").await.to_string());
    // Nothing listens on this socket: its failure tells the error and each
    // of its causes.
    drop(std::os::unix::net::UnixListener::bind(dir.socket("dead")).unwrap());
    lines.push(next(&mut events, "discovered dead").await.to_string());
    let failed = registry.activate("dead").await.unwrap_err();
    lines.push(next(&mut events, "activation failed").await.to_string());
    let _again = plugin.serve(&dir, "vol");
    lines.push(next(&mut events, "discovered again").await.to_string());
    registry.get("vol", "VolumeDriver").await.unwrap();
    lines.push(next(&mut events, "reactivated").await.to_string());
    assert_eq!(
        lines,
        [
            discovered("vol"),
            "activated         vol  #1 implements VolumeDriver, IpamDriver".to_owned(),
            "stale             vol  removed".to_owned(),
            "removed           vol".to_owned(),
            discovered("dead"),
            format!("activation_failed dead  {}", support::chain(&failed)),
            discovered("vol"),
            // #2 was dead's activation: the number is the registry's.
            "reactivated       vol  #3 implements VolumeDriver, IpamDriver".to_owned(),
        ]
    );
    assert!(
        lines[5].starts_with(
            "activation_failed dead  activating plugin \"dead\" failed: Plugin.Activate: "
        ),
        "{}",
        lines[5]
    );
    // Made here: a probe's verdict, and a subscriber that fell behind.
    let health = RegistryEvent::HealthChanged {
        name: name("vol"),
        health: Health::Unhealthy,
    };
    assert_eq!(health.to_string(), "health            vol  unhealthy");
    let missed = RegistryEvent::Missed { count: 3 };
    assert_eq!(
        missed.to_string(),
        "missed            -  3 events (this watch fell behind)"
    );
}

#[tokio::test]
async fn the_events_are_a_stream() {
    let dir = Dir::new();
    let registry = dir.registry();
    let events = registry.events().unwrap();
    for plugin in ["a", "b", "c"] {
        assert!(registry.activate(plugin).await.unwrap_err().is_not_found());
    }
    // `StreamExt` combinators, and `next_event` and `try_next` on what is
    // left of the same subscription.
    let mut events = events;
    let names: Vec<String> = tokio::time::timeout(
        Duration::from_secs(20),
        events
            .by_ref()
            .take(2)
            .map(|event| format!("{} {}", event.kind(), event.name().unwrap()))
            .collect::<Vec<_>>(),
    )
    .await
    .expect("two events within 20 s");
    assert_eq!(names, ["activation_failed a", "activation_failed b"]);
    assert_eq!(
        describe(&next(&mut events, "c").await),
        "activation_failed c"
    );
    assert!(events.try_next().is_none(), "nothing else is waiting");
    // A receive left pending by `try_next` loses nothing.
    assert!(registry.activate("d").await.is_err());
    assert_eq!(
        describe(&StreamExt::next(&mut events).await.unwrap()),
        "activation_failed d"
    );
}

/// A subscription ends when the registry is dropped, though nothing in the
/// plugin directories changes: the watch task used to hold the events' sender
/// until the next change there, so the subscriber waited for one.
#[tokio::test]
async fn a_subscription_ends_when_the_registry_is_dropped() {
    let dir = Dir::new();
    let registry: Registry = dir.registry();
    let mut events = registry.events().unwrap();
    // On this test's one thread, the watch task runs now, up to its wait for
    // the next change: it holds the events' sender while it waits.
    tokio::task::yield_now().await;
    drop(registry);
    let end = tokio::time::timeout(Duration::from_secs(20), events.next_event())
        .await
        .expect("the subscription outlived its registry");
    assert!(end.is_none(), "{end:?}");
}
