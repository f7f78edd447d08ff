//! `cargo xtask bench`: every benchmark, each figure beside its in-run baseline.
//!
//! Each benchmark is a `harness = false` bench target that prints human lines
//! and one `BENCH {json}` line per figure, with `ours`, `baseline_value`,
//! `ratio` and `target`; this collects them into one table (or JSON array).

use std::path::Path;

use serde_json::Value;

use crate::ci::cargo;
use crate::command::output;

/// (package, bench target), in the order they run.
const BENCHES: &[(&str, &str)] = &[
    ("plugin-discovery", "scan"),
    ("plugin-registry", "registry"),
];

pub(crate) fn run(root: &Path, quick: bool, json: bool) -> Result<(), String> {
    let mut figures = Vec::new();
    for (package, bench) in BENCHES {
        if !json {
            println!("==> {package} / {bench}");
        }
        let mut args = vec!["bench", "--locked", "-p", package, "--bench", bench, "--"];
        if quick {
            args.push("--quick");
        }
        let out = output(root, cargo(&args))?;
        for line in out.lines() {
            match line.strip_prefix("BENCH ") {
                Some(figure) => {
                    figures.push(serde_json::from_str::<Value>(figure).map_err(|e| {
                        format!("{package}/{bench} printed a bad BENCH line ({e}): {figure}")
                    })?)
                }
                None if !json => println!("    {line}"),
                None => {}
            }
        }
    }
    if json {
        println!("{}", Value::Array(figures));
        return Ok(());
    }
    println!();
    println!(
        "{:<20} {:>20} {:>20} {:>6}  {:<16} {:<4} baseline",
        "benchmark", "ours", "baseline", "ratio", "target", "met"
    );
    let mut missed = Vec::new();
    for figure in &figures {
        let text = |key: &str| {
            figure
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let number = |key: &str| figure.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
        let with_unit = |key: &str| format!("{:.2} {}", number(key), text("unit"));
        let met = figure.get("met").and_then(Value::as_bool) != Some(false);
        println!(
            "{:<20} {:>20} {:>20} {:>6.2}  {:<16} {:<4} {}",
            text("bench"),
            with_unit("ours"),
            with_unit("baseline_value"),
            number("ratio"),
            text("target"),
            if met { "yes" } else { "NO" },
            text("baseline"),
        );
        if !met {
            missed.push(text("bench"));
        }
    }
    if missed.is_empty() {
        Ok(())
    } else {
        Err(format!("targets missed: {}", missed.join(", ")))
    }
}
