//! `pluginctl watch`: a line per event, flushed at once, until interrupted.

use std::io::Write;
use std::time::Duration;

use plugin_discovery::WatchEvent;
use plugin_spec::PluginSpec;
use serde_json::{Value, json};

use super::{Context, Failure};

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
    let stop = crate::signals::terminated();
    tokio::pin!(stop);
    let deadline = async {
        match timeout {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    loop {
        let event = tokio::select! {
            event = watch.next_event() => event,
            () = &mut stop => return Ok(()),
            () = &mut deadline => return Ok(()),
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
