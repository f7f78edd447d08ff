//! `scan()` of 10,000 descriptors against a bare `read_dir` + `metadata` walk of
//! the same tree, in the same run, alternating. Run by `cargo xtask bench`.
//!
//! Prints a human line per figure, and a `BENCH {json}` line that xtask reads.
//! `--quick` runs fewer rounds.

use std::fs;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use plugin_discovery::Discovery;

const PLUGINS: usize = 10_000;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 5 } else { 31 };
    let root = tempfile::tempdir().expect("temp dir");
    let (socket_dir, spec_dir) = (root.path().join("sock"), root.path().join("spec"));
    build_tree(&socket_dir, &spec_dir);
    let discovery = Discovery::builder()
        .socket_dir(&socket_dir)
        .spec_dir(&spec_dir)
        .build();

    // Warm up (page cache, dentries) and check the scan sees everything.
    let scan = discovery.scan();
    assert_eq!(scan.plugins().len(), PLUGINS);
    assert!(scan.skipped().is_empty());
    assert_eq!(bare_walk(root.path()), PLUGINS);

    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        let n = discovery.scan().plugins().len();
        ours.push(started.elapsed());
        assert_eq!(n, PLUGINS);
        let started = Instant::now();
        let n = bare_walk(root.path());
        bare.push(started.elapsed());
        assert_eq!(n, PLUGINS);
    }
    let (ours, bare) = (median(ours), median(bare));
    let ratio = ours.as_secs_f64() / bare.as_secs_f64();
    println!(
        "scan of {PLUGINS} descriptors: {:.2} ms; bare read_dir + metadata walk: {:.2} ms; ratio {ratio:.2} (target <= 1.5; median of {rounds})",
        ms(ours),
        ms(bare)
    );
    let figure = serde_json::json!({
        "bench": "discovery.scan",
        "what": format!("scan() of {PLUGINS} descriptors (sockets, .spec, .json; flat and nested)"),
        "unit": "ms",
        "ours": ms(ours),
        "baseline": "read_dir + metadata walk of the same tree",
        "baseline_value": ms(bare),
        "ratio": ratio,
        "target": "<= 1.5",
        "met": ratio <= 1.5,
        "rounds": rounds,
    });
    println!("BENCH {figure}");
}

/// A sixth of the plugins in each layout: sockets, `.spec` and `.json`, each
/// flat (`NAME.x`) and nested (`NAME/NAME.x`).
fn build_tree(socket_dir: &Path, spec_dir: &Path) {
    fs::create_dir_all(socket_dir).unwrap();
    fs::create_dir_all(spec_dir).unwrap();
    for i in 0..PLUGINS {
        let name = format!("plugin-{i:05}");
        let (dir, file) = match i % 6 {
            0 => (socket_dir.to_owned(), format!("{name}.sock")),
            1 => (socket_dir.join(&name), format!("{name}.sock")),
            2 => (spec_dir.to_owned(), format!("{name}.spec")),
            3 => (spec_dir.join(&name), format!("{name}.spec")),
            4 => (spec_dir.to_owned(), format!("{name}.json")),
            _ => (spec_dir.join(&name), format!("{name}.json")),
        };
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&file);
        if file.ends_with(".sock") {
            // The socket file stays after the listener closes.
            drop(UnixListener::bind(&path).unwrap());
        } else if file.ends_with(".spec") {
            fs::write(&path, format!("tcp://127.0.0.1:{}\n", 1 + i % 60_000)).unwrap();
        } else {
            let json = format!(
                r#"{{"Name": "{name}", "Addr": "https://127.0.0.1:{}", "TLSConfig": {{"CAFile": "/etc/ssl/ca.pem"}}}}"#,
                1 + i % 60_000
            );
            fs::write(&path, json).unwrap();
        }
    }
}

/// What any scan must do at least: list each directory and stat each entry,
/// descending into subdirectories. Returns the number of non-directories.
fn bare_walk(dir: &Path) -> usize {
    let mut files = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            files += bare_walk(&entry.path());
        } else {
            files += 1;
        }
    }
    files
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
