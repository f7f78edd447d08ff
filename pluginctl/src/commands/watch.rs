//! `pluginctl watch [--activate [--probe D]]`: a line per event, flushed at
//! once, until interrupted.

use std::io::Write;
use std::time::Duration;

use plugin_discovery::WatchEvent;
use plugin_registry::{HealthProbe, Registry, RegistryEvent, StaleReason};
use plugin_spec::PluginSpec;
use serde_json::{Value, json};

use super::{Context, Failure};

/// Resolves at SIGINT, SIGTERM or the deadline.
async fn until_stopped(timeout: Option<Duration>) {
    let stop = crate::signals::terminated();
    let deadline = async {
        match timeout {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = stop => {}
        () = deadline => {}
    }
}

/// `watch --activate`: the registry's events, with each plugin activated as
/// it is discovered or goes stale.
pub(crate) async fn run_registry(
    ctx: &Context,
    probe: Option<Duration>,
    timeout: Option<Duration>,
) -> Result<(), Failure> {
    let mut builder = Registry::builder(ctx.discovery.clone()).client_config(ctx.client_config());
    if let Some(interval) = probe {
        builder = builder.health_probe(HealthProbe::every(interval));
    }
    let registry = builder.build();
    let mut events = registry.events()?;
    tracing::info!("watching the registry's events");
    let stop = until_stopped(timeout);
    tokio::pin!(stop);
    loop {
        let event = tokio::select! {
            event = events.next_event() => event,
            () = &mut stop => return Ok(()),
        };
        let Some(event) = event else {
            return Err("the registry's events stopped".into());
        };
        let activate = match &event {
            RegistryEvent::Discovered { spec } => Some(spec.name().clone()),
            RegistryEvent::Stale { name, reason } if *reason != StaleReason::Removed => {
                Some(name.clone())
            }
            _ => None,
        };
        if let Some(name) = activate {
            // In the background: the events keep coming meanwhile, and the
            // activation tells its own outcome as an event.
            let registry = registry.clone();
            tokio::spawn(async move {
                let _ = registry.activate(name).await;
            });
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", event_line(&event, ctx.json))?;
        out.flush()?;
    }
}

/// One registry event as a line: its `Display` (`kind name details`), or a
/// JSON object.
fn event_line(event: &RegistryEvent, json: bool) -> String {
    if !json {
        return event.to_string();
    }
    let mut object = serde_json::Map::new();
    let kind = match event {
        RegistryEvent::HealthChanged { .. } => "health",
        other => other.kind(),
    };
    object.insert("event".into(), kind.into());
    object.insert(
        "name".into(),
        event.name().map_or(Value::Null, |n| n.as_str().into()),
    );
    match event {
        RegistryEvent::Discovered { spec } => {
            object.insert("address".into(), spec.address().to_string().into());
        }
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
            object.insert("generation".into(), (*generation).into());
            object.insert("implements".into(), json!(manifest.implements()));
        }
        RegistryEvent::ActivationFailed { error, .. } => {
            object.insert("error".into(), crate::output::one_line(error).into());
        }
        RegistryEvent::Stale { reason, .. } => {
            object.insert("reason".into(), reason.as_str().into());
        }
        RegistryEvent::HealthChanged { health, .. } => {
            object.insert("health".into(), health.as_str().into());
        }
        RegistryEvent::Missed { count } => {
            object.insert("count".into(), (*count).into());
        }
        _ => {}
    }
    Value::Object(object).to_string()
}

pub(crate) async fn run(
    ctx: &Context,
    initial: bool,
    timeout: Option<Duration>,
) -> Result<(), Failure> {
    let mut watch = ctx.discovery.watch()?;
    if initial {
        // What the watch starts from: every event after these is a change.
        let mut present: Vec<&PluginSpec> = watch.snapshot().iter().collect();
        present.sort_by(|a, b| a.name().cmp(b.name()));
        let mut out = std::io::stdout().lock();
        for spec in present {
            writeln!(out, "{}", spec_line("present", spec, ctx.json))?;
        }
        out.flush()?;
    }
    let dirs = ctx.discovery.socket_dirs().len() + ctx.discovery.spec_dirs().len();
    tracing::info!(
        directories = dirs,
        plugins = watch.snapshot().len(),
        "watching for plugins"
    );
    let stop = until_stopped(timeout);
    tokio::pin!(stop);
    loop {
        let event = tokio::select! {
            event = watch.next_event() => event,
            () = &mut stop => return Ok(()),
        };
        let Some(event) = event else {
            return Err("the watch of the plugin directories stopped".into());
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", line(&event, ctx.json))?;
        out.flush()?;
    }
}

fn spec_line(kind: &str, spec: &PluginSpec, json: bool) -> String {
    let (name, address) = (spec.name().as_str(), spec.address().to_string());
    if json {
        json!({"event": kind, "name": name, "address": address}).to_string()
    } else {
        format!("{kind:<8} {name}  {address}")
    }
}

fn line(event: &WatchEvent, json: bool) -> String {
    if !json {
        return event.to_string();
    }
    let address = match event {
        WatchEvent::Added(spec) | WatchEvent::Changed(spec) => {
            Value::String(spec.address().to_string())
        }
        _ => Value::Null,
    };
    json!({"event": event.kind(), "name": event.name().as_str(), "address": address}).to_string()
}
