//! `cargo xtask fuzz`: each cargo-fuzz target in `fuzz/` for a bounded time.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::command::{describe, output};

pub(crate) fn run(root: &Path, seconds: u64, only: &[String]) -> Result<(), String> {
    let fuzz_dir = root.join("fuzz");
    let targets = targets(&fuzz_dir)?;
    let unknown: Vec<&String> = only.iter().filter(|t| !targets.contains(t)).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "no fuzz target named {unknown:?}; the targets are: {}",
            targets.join(", ")
        ));
    }
    preflight(root)?;
    let chosen: Vec<&String> = targets
        .iter()
        .filter(|t| only.is_empty() || only.contains(t))
        .collect();
    println!(
        "{:<14} {:>8} {:>12} {:>10}  result",
        "target", "seconds", "runs", "runs/s"
    );
    for target in chosen {
        fuzz_one(&fuzz_dir, target, seconds)?;
    }
    Ok(())
}

/// The target names: the file stems in `fuzz/fuzz_targets`.
pub(crate) fn targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz_dir.join("fuzz_targets");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Says plainly what is missing when cargo-fuzz cannot run here.
fn preflight(root: &Path) -> Result<(), String> {
    let mut missing = Vec::new();
    if output(root, rustup_nightly(&["rustc", "--version"])).is_err() {
        missing.push("the nightly toolchain (`rustup toolchain install nightly`): cargo-fuzz needs -Zsanitizer");
    }
    let mut fuzz = Command::new("cargo-fuzz");
    fuzz.arg("--version");
    if output(root, fuzz).is_err() {
        missing.push("cargo-fuzz (`cargo install cargo-fuzz`)");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("cannot fuzz here; missing: {}", missing.join("; ")))
    }
}

fn fuzz_one(fuzz_dir: &Path, target: &str, seconds: u64) -> Result<(), String> {
    // New inputs go to the first corpus dir (not committed); the committed seeds
    // are read as a second one.
    let corpus = fuzz_dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut cmd = rustup_nightly(&["cargo", "fuzz", "run", target]);
    cmd.arg(&corpus);
    let seeds = fuzz_dir.join("seeds").join(target);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .current_dir(fuzz_dir);
    let started = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(&cmd)))?;
    let took = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&out.stderr);
    let runs = log.lines().rev().find_map(|line| {
        line.strip_prefix("Done ")?
            .split_whitespace()
            .next()?
            .parse::<u64>()
            .ok()
    });
    let rate = runs.map_or(0.0, |r| r as f64 / (seconds.max(1) as f64));
    let runs_text = runs.map_or("?".to_owned(), |r| r.to_string());
    if out.status.success() {
        println!("{target:<14} {took:>8.0} {runs_text:>12} {rate:>10.0}  no finding");
        Ok(())
    } else {
        // The panic message, if any, then the end of the log.
        let lines: Vec<&str> = log.lines().collect();
        let panic = lines
            .iter()
            .position(|line| line.contains("panicked at"))
            .map(|at| {
                lines
                    .iter()
                    .skip(at)
                    .take(3)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        let tail: Vec<&str> = lines.iter().rev().take(40).rev().copied().collect();
        println!("{target:<14} {took:>8.0} {runs_text:>12} {rate:>10.0}  FAILED");
        Err(format!(
            "fuzz target {target} failed ({}); the crashing input is under fuzz/artifacts/{target}/.\n{}Last output:\n{}",
            out.status,
            panic.map(|p| format!("{p}\n")).unwrap_or_default(),
            tail.join("\n")
        ))
    }
}

fn rustup_nightly(args: &[&str]) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", "nightly"]).args(args);
    cmd
}
