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

/// One registry event as a line: `kind name details`, or a JSON object.
fn event_line(event: &RegistryEvent, json: bool) -> String {
    let name = event.name().map_or("-", |n| n.as_str());
    let mut fields = serde_json::Map::new();
    let text = match event {
        RegistryEvent::Discovered { spec } => {
            fields.insert("address".into(), spec.address().to_string().into());
            spec.address().to_string()
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
            fields.insert("generation".into(), (*generation).into());
            fields.insert("implements".into(), json!(manifest.implements()));
            format!("#{generation} implements {}", list(manifest.implements()))
        }
        RegistryEvent::ActivationFailed { error, .. } => {
            let error = crate::output::one_line(error);
            fields.insert("error".into(), error.clone().into());
            error
        }
        RegistryEvent::Stale { reason, .. } => {
            fields.insert("reason".into(), reason.as_str().into());
            reason.to_string()
        }
        RegistryEvent::HealthChanged { health, .. } => {
            fields.insert("health".into(), health.as_str().into());
            health.to_string()
        }
        RegistryEvent::Missed { count } => {
            fields.insert("count".into(), (*count).into());
            format!("{count} events (this watch fell behind)")
        }
        _ => String::new(),
    };
    let kind = match event {
        RegistryEvent::HealthChanged { .. } => "health",
        other => other.kind(),
    };
    if json {
        let mut object = serde_json::Map::new();
        object.insert("event".into(), kind.into());
        object.insert(
            "name".into(),
            event.name().map_or(Value::Null, |n| n.as_str().into()),
        );
        object.extend(fields);
        Value::Object(object).to_string()
    } else if text.is_empty() {
        format!("{kind:<17} {name}")
    } else {
        format!("{kind:<17} {name}  {text}")
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
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
    let (kind, name, address) = match event {
        WatchEvent::Added(spec) => (
            "added",
            spec.name().as_str(),
            Some(spec.address().to_string()),
        ),
        WatchEvent::Changed(spec) => (
            "changed",
            spec.name().as_str(),
            Some(spec.address().to_string()),
        ),
        WatchEvent::Removed(name) => ("removed", name.as_str(), None),
        _ => ("unknown", "", None),
    };
    if json {
        json!({"event": kind, "name": name, "address": address.map_or(Value::Null, Value::String)})
            .to_string()
    } else {
        match address {
            Some(address) => format!("{kind:<8} {name}  {address}"),
            None => format!("{kind:<8} {name}"),
        }
    }
}
