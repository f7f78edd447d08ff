//! Printing: aligned tables for people, the JSON shapes of the README for scripts,
//! and errors with their causes.

use std::error::Error;
use std::io::Write;

use plugin_spec::PluginSpec;
use serde_json::{Value, json};

/// Writes `rows` under `headers`, each column as wide as its widest cell.
pub(crate) fn table(
    out: &mut impl Write,
    headers: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line =
        |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            let mut text = String::new();
            for (i, (cell, width)) in cells.zip(&widths).enumerate() {
                if i + 1 == widths.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            writeln!(out, "{}", text.trim_end())
        };
    line(out, &mut headers.iter().copied())?;
    for row in rows {
        line(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// The README's plugin object: `{"name", "address", "source": {"kind", "path"}}`.
pub(crate) fn plugin_json(spec: &PluginSpec) -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    p.insert("name".into(), json!(spec.name().as_str()));
    p.insert("address".into(), json!(spec.address().to_string()));
    p.insert(
        "source".into(),
        json!({"kind": spec.source().kind().to_string(), "path": spec.source().path().to_string_lossy()}),
    );
    p
}

/// `sock /run/docker/plugins/x.sock`.
pub(crate) fn source(spec: &PluginSpec) -> String {
    spec.source().to_string()
}

/// The error and its causes, outermost first. The libraries' errors say each
/// cause once (a layer's `Display` leaves its source out), so none repeats.
fn causes<'e>(error: &'e (dyn Error + 'static)) -> impl Iterator<Item = &'e (dyn Error + 'static)> {
    std::iter::successors(Some(error), |e: &&'e (dyn Error + 'static)| (*e).source())
}

/// Whether `error`, or an error under it, is a write to a pipe nobody reads
/// any more.
pub(crate) fn broken_pipe(error: &(dyn Error + 'static)) -> bool {
    causes(error).any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, `message: cause: cause`, for tables
/// and JSON.
pub(crate) fn one_line(error: &(dyn Error + 'static)) -> String {
    causes(error)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// `error: <message>`, then `caused by:` for each cause, then a hint where a
/// person can act on one.
pub(crate) fn error_report(error: &(dyn Error + 'static)) -> String {
    let mut report = format!("error: {error}");
    for cause in causes(error).skip(1) {
        report.push_str(&format!("\n  caused by: {cause}"));
    }
    if let Some(hint) = hint(error) {
        report.push_str(&format!("\n  hint: {hint}"));
    }
    report
}

/// Advice for the failures a person can do something about; it belongs here,
/// not in the libraries' messages.
fn hint(error: &(dyn Error + 'static)) -> Option<&'static str> {
    causes(error).find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<plugin_client::TransportError>() {
            if e.is_nothing_listening() {
                return Some("is the plugin running? Nothing listens on its socket.");
            }
            if e.is_connect() && !e.is_tls() {
                return Some("is the plugin up, and its address reachable from here?");
            }
        }
        if let Some(e) = cause.downcast_ref::<plugin_discovery::DiscoveryError>() {
            if e.is_not_found() {
                return Some(
                    "check the name, and that the plugin has written its socket or descriptor in one of those directories (pluginctl ls lists what is there)",
                );
            }
        }
        None
    })
}
