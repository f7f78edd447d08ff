//! Memory: the resident set sampled every 100,000 of 1,000,000 calls
//! through the registry, its peak against the resident set before them
//! (after a warm-up) (`registry.memory`). `cargo xtask soak` and `cargo
//! xtask bench` run it; `--quick` makes 100,000 calls.
//!
//! Prints a human line per figure and a `BENCH {json}` line that `cargo xtask
//! bench` reads.

#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use benches::{BODY, Figure, echo_plugin, plain_registry};
use plugin_server::PluginName;
use plugin_test_support::memory::resident_mib;

fn main() {
    let calls = if benches::quick() { 100_000 } else { 1_000_000 };
    benches::runtime().block_on(memory(calls));
}

/// `calls` calls through the registry (a cached `get`, then the call), 16
/// tasks; the resident set after them against the resident set before.
async fn memory(calls: usize) {
    let dir = tempfile::tempdir().unwrap();
    let _serving = echo_plugin("soak", Arc::default())
        .serve_unix(dir.path().join("soak.sock"))
        .unwrap();
    let registry = plain_registry(dir.path());
    let name = PluginName::new("soak").unwrap();
    let run = |count: usize| {
        let (registry, name) = (registry.clone(), name.clone());
        let next = Arc::new(AtomicUsize::new(0));
        async move {
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let (registry, name, next) =
                        (registry.clone(), name.clone(), Arc::clone(&next));
                    tokio::spawn(async move {
                        while next.fetch_add(1, Ordering::Relaxed) < count {
                            let plugin = registry.get(&name, "VolumeDriver").await.unwrap();
                            let answer = plugin.client().call_raw("Echo.Echo", BODY).await.unwrap();
                            assert_eq!(answer.len(), BODY.len());
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        }
    };
    run(10_000).await;
    let before = resident_mib();
    let started = Instant::now();
    let mut samples = Vec::new();
    for _ in 0..10 {
        run(calls / 10).await;
        samples.push(resident_mib());
    }
    let took = started.elapsed();
    let peak = samples.iter().copied().fold(before, f64::max);
    let series: Vec<String> = samples.iter().map(|mib| format!("{mib:.1}")).collect();
    println!(
        "memory: {calls} calls in {:.1} s; resident {before:.1} MiB before, then every {} calls: {} MiB; peak {:+.2} MiB",
        took.as_secs_f64(),
        calls / 10,
        series.join(", "),
        peak - before
    );
    Figure {
        bench: "registry.memory",
        what: format!("peak resident set over {calls} calls through the registry (MiB)"),
        unit: "MiB",
        ours: peak,
        baseline: "resident set before them, after 10,000 warm-up calls",
        baseline_value: before,
        target: "<= 1.05",
        met: peak / before <= 1.05,
    }
    .print();
}
