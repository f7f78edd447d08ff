//! `cargo xtask bench`: every benchmark, each figure beside its in-run baseline.
//!
//! Each benchmark is a `harness = false` bench target of the `benches` crate
//! (`benches/`, one file per topic) that prints human lines
//! and one `BENCH {json}` line per figure, with `ours`, `baseline_value`,
//! `ratio` and `target`; this collects them into one table (or JSON array).
//! With `--interop`, the one benchmark run is the interop one (our client and
//! server against Docker's Go client and a Go plugin; see interop/README.md).

use std::path::Path;

use serde_json::Value;

use crate::ci::cargo;
use crate::command::output;

/// The bench targets of the `benches` crate (one per topic), in the order
/// they run.
const BENCHES: &[&str] = &[
    "scan",
    "activation",
    "calls",
    "server",
    "memory",
    "instructions",
    "metrics",
];

pub(crate) fn run(root: &Path, quick: bool, json: bool, interop: bool) -> Result<(), String> {
    let mut figures = Vec::new();
    if interop {
        if !json {
            println!("==> interop");
        }
        let out = crate::interop::bench(root, quick)?;
        collect(&out, "interop", json, &mut figures)?;
    } else {
        for bench in BENCHES {
            if !json {
                println!("==> benches / {bench}");
            }
            let mut args = vec!["bench", "--locked", "-p", "benches", "--bench", bench, "--"];
            if quick {
                args.push("--quick");
            }
            let out = output(root, cargo(&args))?;
            collect(&out, &format!("benches/{bench}"), json, &mut figures)?;
        }
    }
    table(&figures, json)
}

/// The `BENCH {json}` lines of a benchmark's output; the other lines are
/// echoed unless printing JSON.
fn collect(out: &str, source: &str, json: bool, figures: &mut Vec<Value>) -> Result<(), String> {
    for line in out.lines() {
        match line.strip_prefix("BENCH ") {
            Some(figure) => figures.push(
                serde_json::from_str::<Value>(figure)
                    .map_err(|e| format!("{source} printed a bad BENCH line ({e}): {figure}"))?,
            ),
            None if !json => println!("    {line}"),
            None => {}
        }
    }
    Ok(())
}

/// The figures as a table (or one JSON array); an error naming the missed
/// targets.
fn table(figures: &[Value], json: bool) -> Result<(), String> {
    if json {
        println!("{}", Value::Array(figures.to_vec()));
        return Ok(());
    }
    println!();
    let mut missed = Vec::new();
    for figure in figures {
        let text = |key: &str| {
            figure
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let number = |key: &str| figure.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
        let met = figure.get("met").and_then(Value::as_bool);
        println!("{}: {}", text("bench"), text("what"));
        println!(
            "    ours {:.2} {unit}, {} {:.2} {unit}: ratio {:.2}, target {}, met {}",
            number("ours"),
            text("baseline"),
            number("baseline_value"),
            number("ratio"),
            text("target"),
            match met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            },
            unit = text("unit"),
        );
        if met == Some(false) {
            missed.push(format!("{}: {}", text("bench"), text("what")));
        }
    }
    if missed.is_empty() {
        Ok(())
    } else {
        Err(format!("targets missed: {}", missed.join("; ")))
    }
}
