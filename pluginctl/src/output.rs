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

/// `error: <message>`, then each cause whose text the line before does not
/// already say.
pub(crate) fn error_report(error: &(dyn Error + 'static)) -> String {
    let mut report = format!("error: {error}");
    let mut said = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !said.contains(&text) {
            report.push_str(&format!("\n  caused by: {text}"));
            said = text;
        }
        source = cause.source();
    }
    report
}
