//! What recording call metrics costs: calls recording call metrics into a
//! Prometheus recorder against the same calls recording none
//! (`registry.metrics.1`), on one thread; and in instructions, into a
//! recorder on the same atomic storage (`registry.metrics.instructions.1`,
//! skipped without valgrind).
//!
//! Prints a human line per figure and a `BENCH {json}` line that `cargo xtask
//! bench` reads. `--quick` runs short rounds.

#![allow(missing_docs)]

use std::sync::Arc;

use benches::{
    BODY, Figure, Series, Settings, counted_on, echo_plugin, load, metered_registry, plain_registry,
};
use plugin_server::PluginName;

fn main() {
    if benches::instructions_run_if_asked() {
        return;
    }
    let quick = benches::quick();
    benches::one_thread().block_on(metered(&Settings::new(quick)));
    metered_instructions(if quick { 500 } else { 2_000 });
}

/// Installs a Prometheus recorder (metrics-exporter-prometheus, no HTTP
/// listener) as the process's recorder, for good (this bench is a process
/// of its own, so no other figure records into it).
fn install_prometheus() -> metrics_exporter_prometheus::PrometheusHandle {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).unwrap();
    handle
}

/// Calls through a registry recording call metrics into a Prometheus
/// recorder, against the same calls through one recording none, 1 task on
/// one thread, alternating rounds (`registry.metrics.1`).
async fn metered(settings: &Settings) {
    let handle = install_prometheus();
    let dir = tempfile::tempdir().unwrap();
    let _serving = echo_plugin("bench", Arc::default())
        .serve_unix(dir.path().join("bench.sock"))
        .unwrap();
    let name = PluginName::new("bench").unwrap();
    let (plain, metered) = (plain_registry(dir.path()), metered_registry(dir.path()));
    let (mut without, mut with) = (Series::default(), Series::default());
    for round in 0..=settings.rounds {
        // Which goes first alternates, so that neither always follows the other.
        let mut pair = [(&plain, &mut without), (&metered, &mut with)];
        if round % 2 == 1 {
            pair.reverse();
        }
        for (registry, series) in pair {
            let (registry, name) = (registry.clone(), name.clone());
            let result = load(1, settings.round, move |_| {
                let (registry, name) = (registry.clone(), name.clone());
                async move {
                    let plugin = registry.get(&name, "VolumeDriver").await.unwrap();
                    plugin.client().call_raw("Echo.Echo", BODY).await.unwrap();
                }
            })
            .await;
            if round > 0 {
                series.add(result);
            }
        }
    }
    println!(" 1 task(s): no call metrics       {}", without.summary());
    println!(" 1 task(s): call metrics (Prom.)  {}", with.summary());
    let rendered = handle.render();
    assert!(
        rendered.contains(
            "plugin_host_calls_total{plugin=\"bench\",method=\"Echo.Echo\",outcome=\"ok\"}"
        ),
        "{rendered}"
    );
    let ratio = with.median_per_s() / without.median_per_s();
    Figure {
        bench: "registry.metrics.1",
        what: "calls/s through the full stack recording call metrics into a Prometheus recorder, 1 task on one thread".to_owned(),
        unit: "calls/s",
        ours: with.median_per_s(),
        baseline: "the same stack recording no call metrics",
        baseline_value: without.median_per_s(),
        target: ">= 0.952 (time <= 1.05x)",
        met: ratio >= 1.0 / 1.05,
    }
    .print();
}

/// Instructions per call with call metrics recorded into a recorder on
/// metrics-util's atomic storage (what the Prometheus recorder keeps them in),
/// against the same stack recording none: (2N calls - N calls) / N,
/// so that what is done once (the recorder's clock calibration, the first
/// registration of each metric) is left out of both; on one thread, where
/// the count does not depend on how the threads met (on two workers it
/// moved by more than the metrics cost).
fn metered_instructions(calls: usize) {
    let per_call = |stack: &str| -> Option<f64> {
        let twice = counted_on(stack, 2 * calls, "one-thread")?;
        let once = counted_on(stack, calls, "one-thread")?;
        Some(twice.saturating_sub(once) as f64 / calls as f64)
    };
    let (Some(plain), Some(metered)) = (per_call("full"), per_call("metered")) else {
        println!(
            "registry.metrics.instructions.1: skipped (valgrind is not installed, or failed under it)"
        );
        return;
    };
    println!(
        " 1 task(s): {metered:.0} instructions per call recording call metrics (atomic storage), {plain:.0} recording none (callgrind, one thread, calls {calls} to {})",
        2 * calls
    );
    Figure {
        bench: "registry.metrics.instructions.1",
        what: "instructions per call through the full stack recording call metrics (metrics-util atomic storage, as the Prometheus recorder's), 1 task on one thread, server included".to_owned(),
        unit: "instructions",
        ours: metered,
        baseline: "the same stack recording no call metrics",
        baseline_value: plain,
        target: "reported",
        met: true,
    }
    .print();
}
