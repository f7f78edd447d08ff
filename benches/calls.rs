//! Registry benchmarks, each figure beside a baseline measured in the same run:
//!
//! - an activation storm (1,000 concurrent `get`s over 100 plugins, each round a
//!   new registry) against 100 bare client activations, medians of 5 rounds;
//! - calls through the whole stack (Registry -> Client -> Transport, unix
//!   socket) against a bare hyper-util client on the same server, with 1 and 16
//!   tasks, alternating rounds;
//! - the same at 16 tasks against the physical floor: a raw unix-socket
//!   ping-pong of the same request and response bytes; and beside it a bare
//!   hyper-util client calling a bare hyper server against the same floor
//!   (`hyper.floor.16`), the ceiling hyper itself sets;
//! - our server (`plugin-server`) against a minimal bare hyper server, both
//!   driven by the same bare hyper-util client, 16 tasks;
//! - a stale socket (a plugin killed, its socket left behind), default
//!   settings: `Registry::get` failing, against a bare refused
//!   `UnixStream::connect` on the same path; and `get_or_wait` returning once
//!   the plugin serves again, against a `get` of a plugin already serving;
//! - memory: the resident set sampled every 100,000 of 1,000,000 calls
//!   through the registry, its peak against the resident set before them
//!   (after a warm-up). `--memory-only` runs just this (`cargo xtask soak`).
//!
//! - the client's calls with an info-level tracing subscriber against the same
//!   calls with none (`client.spans.1`): what the spans cost when on;
//! - instructions per call (valgrind's callgrind, which counts instructions,
//!   not time, so the figure does not move with the machine's load): the
//!   whole process, server included, for N sequential calls through the full
//!   stack and through the bare hyper-util client, less the same run with no
//!   calls, divided by N (`registry.instructions.1`). Skipped, saying so, when
//!   valgrind is not installed.
//!
//! - calls recording call metrics into a Prometheus recorder against the same
//!   calls recording none (`registry.metrics.1`; and in instructions, into a
//!   recorder on the same atomic storage, `registry.metrics.instructions.1`),
//!   on one thread; run last, as it
//!   installs the process's recorder. The other figures use a registry recording no call
//!   metrics: the stack as it is without the `metrics` feature.
//!
//! Prints a human line per figure and a `BENCH {json}` line that `cargo xtask
//! bench` reads. `--quick` runs short rounds.

#![allow(missing_docs)]

use plugin_test_support::memory::resident_mib;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use plugin_client::{Client, ClientConfig};
use plugin_registry::{Discovery, Registry};
use plugin_server::{HandlerError, PluginName, PluginServer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: &str = r#"{"Name":"volume-1"}"#;

struct Settings {
    rounds: usize,
    round: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--instructions-run full|bare N`: the process callgrind counts.
    if let Some(at) = args.iter().position(|a| a == "--instructions-run") {
        let stack = args[at + 1].clone();
        let calls: usize = args[at + 2].parse().unwrap();
        let one_thread = args.get(at + 3).is_some_and(|a| a == "one-thread");
        instructions_run(&stack, calls, one_thread);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo xtask soak`: the memory figure alone.
    let memory_only = std::env::args().any(|a| a == "--memory-only");
    let settings = if quick {
        Settings {
            rounds: 2,
            round: Duration::from_millis(300),
        }
    } else {
        Settings {
            rounds: 5,
            round: Duration::from_secs(1),
        }
    };
    // The metrics figures alone, for working on them.
    if std::env::args().any(|a| a == "--metrics-only") {
        one_thread().block_on(metered(&settings));
        metered_instructions(if quick { 500 } else { 2_000 });
        return;
    }
    let runtime = runtime();
    runtime.block_on(async {
        if !memory_only {
            storm().await;
            stale(if quick { 20 } else { 100 }, if quick { 3 } else { 9 }).await;
            calls(&settings).await;
            server(&settings).await;
        }
        memory(if quick { 100_000 } else { 1_000_000 }).await;
    });
    if !memory_only {
        instructions(if quick { 500 } else { 2_000 });
        // Last: it installs the process's metrics recorder for good.
        one_thread().block_on(metered(&settings));
        metered_instructions(if quick { 500 } else { 2_000 });
    }
}

/// A registry over `dir` that records no call metrics: the stack as it is
/// without the `metrics` feature, for every figure but the metrics ones.
fn plain_registry(dir: &Path) -> Registry {
    Registry::builder(Discovery::builder().plugin_dir(dir).build())
        .call_metrics(false)
        .build()
}

/// A registry over `dir` that records every call.
fn metered_registry(dir: &Path) -> Registry {
    Registry::builder(Discovery::builder().plugin_dir(dir).build())
        .call_metrics(true)
        .build()
}

/// Installs a Prometheus recorder (metrics-exporter-prometheus, no HTTP
/// listener) as the process's recorder, for good: the metrics figures run
/// last.
fn install_prometheus() -> metrics_exporter_prometheus::PrometheusHandle {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).unwrap();
    handle
}

/// The runtime of the metrics figures: one thread for the plugin and its
/// caller. On two workers a one-task figure moves between runs by where the
/// tasks land (p50 20 or 28 us, calls/s by 7%), more than the cost measured.
fn one_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The runtime every other figure is measured on: two workers, as CI's two
/// cores.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// N sequential echo calls through `stack` (`full`: Registry -> Client ->
/// Transport; `bare`: a hyper-util client), after one warm-up call, against
/// our echo plugin; the process callgrind counts.
fn instructions_run(stack: &str, calls: usize, one_thread: bool) {
    let runtime = if one_thread {
        self::one_thread()
    } else {
        runtime()
    };
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("bench.sock");
        let _serving = echo_plugin("bench", Arc::default())
            .serve_unix(&socket)
            .unwrap();
        let registry = if stack == "metered" {
            // Not the Prometheus recorder: its clock calibration runs a
            // varying number of instructions once per process, which moved
            // this figure by +-6,000 a call. This one keeps the same atomic
            // storage (metrics-util's registry) and costs the same per call.
            metrics::set_global_recorder(plugin_test_support::metrics::Recorder::new()).unwrap();
            metered_registry(dir.path())
        } else {
            plain_registry(dir.path())
        };
        let name = PluginName::new("bench").unwrap();
        let bare = bare_client(&socket);
        let stack = stack.to_owned();
        tokio::spawn(async move {
            for _ in 0..=calls {
                if stack == "full" || stack == "metered" {
                    let plugin = registry.get(&name, "VolumeDriver").await.unwrap();
                    let answer = plugin.client().call_raw("Echo.Echo", BODY).await.unwrap();
                    assert_eq!(answer.len(), BODY.len());
                } else {
                    let response = bare
                        .request(echo_request("http://plugin/Echo.Echo"))
                        .await
                        .unwrap();
                    let answer = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(answer.len(), BODY.len());
                }
            }
        })
        .await
        .unwrap();
    });
}

/// Instructions the whole process ran for `--instructions-run STACK CALLS`,
/// under callgrind.
fn counted(stack: &str, calls: usize) -> Option<u64> {
    counted_on(stack, calls, "two-workers")
}

/// As [`counted`], on a runtime of `flavor` (`one-thread`: one thread for the
/// plugin and its callers, so that no count depends on how threads met).
fn counted_on(stack: &str, calls: usize, flavor: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(&exe)
        .args(["--instructions-run", stack, &calls.to_string(), flavor])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    // `==PID== Collected : 123456789`
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
}

/// Instructions per call through each stack: (N calls - 0 calls) / N.
fn instructions(calls: usize) {
    let per_call = |stack: &str| -> Option<f64> {
        let with = counted(stack, calls)?;
        let without = counted(stack, 0)?;
        Some(with.saturating_sub(without) as f64 / calls as f64)
    };
    let (Some(ours), Some(bare)) = (per_call("full"), per_call("bare")) else {
        println!(
            "registry.instructions.1: skipped (valgrind is not installed, or failed under it)"
        );
        return;
    };
    println!(
        " 1 task(s): {ours:.0} instructions per call through the full stack, {bare:.0} through bare hyper-util (whole process, server included, callgrind, {calls} calls)"
    );
    Figure {
        bench: "registry.instructions.1",
        what: "instructions per call through the full stack, 1 task, server included".to_owned(),
        unit: "instructions",
        ours,
        baseline: "bare hyper-util client, same server",
        baseline_value: bare,
        target: "<= 1.15x",
        met: ours <= bare * 1.15,
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

/// One measured figure beside its baseline, printed for `cargo xtask bench`.
struct Figure<'a> {
    bench: &'a str,
    what: String,
    unit: &'a str,
    ours: f64,
    baseline: &'a str,
    baseline_value: f64,
    target: &'a str,
    met: bool,
}

impl Figure<'_> {
    fn print(&self) {
        let line = json!({
            "bench": self.bench, "what": self.what, "unit": self.unit, "ours": self.ours,
            "baseline": self.baseline, "baseline_value": self.baseline_value,
            "ratio": self.ours / self.baseline_value, "target": self.target, "met": self.met,
        });
        println!("BENCH {line}");
    }
}

fn echo_plugin(name: &str, activations: Arc<AtomicUsize>) -> PluginServer {
    PluginServer::new(PluginName::new(name).unwrap())
        .handle("Plugin.Activate", move |(): ()| {
            activations.fetch_add(1, Ordering::Relaxed);
            async { Ok::<_, HandlerError>(json!({"Implements": ["VolumeDriver"]})) }
        })
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
}

/// 1,000 concurrent `get`s over 100 plugins, against 100 direct activations.
async fn storm() {
    let dir = tempfile::tempdir().unwrap();
    let activations = Arc::new(AtomicUsize::new(0));
    let names: Vec<PluginName> = (0..100)
        .map(|i| PluginName::new(format!("p{i:03}")).unwrap())
        .collect();
    let servings: Vec<_> = names
        .iter()
        .map(|n| {
            echo_plugin(n.as_str(), Arc::clone(&activations))
                .serve_unix(dir.path().join(format!("{n}.sock")))
                .unwrap()
        })
        .collect();

    // Rounds alternate, the first of each not counted: a single cold round
    // moved by 10 ms with where the process's first-time costs fell.
    let (mut bare_rounds, mut storm_rounds) = (Vec::new(), Vec::new());
    // Activations each counted round saw: 100 in every one, or the first
    // that saw otherwise.
    let mut seen = 100;
    for round in 0..6 {
        // Baseline: each plugin activated once by a bare client, all at once.
        let clients: Vec<_> = servings
            .iter()
            .map(|s| Client::for_spec(s.spec(), &ClientConfig::default()).unwrap())
            .collect();
        let started = Instant::now();
        futures_util::future::join_all(
            clients
                .iter()
                .map(|c| async move { c.activate().await.unwrap() }),
        )
        .await;
        let bare = started.elapsed();
        activations.store(0, Ordering::Relaxed);

        let registry = plain_registry(dir.path());
        let started = Instant::now();
        let gets = (0..1000).map(|i| {
            let (registry, name) = (registry.clone(), names[i % 100].clone());
            tokio::spawn(async move { registry.get(&name, "VolumeDriver").await.unwrap() })
        });
        futures_util::future::join_all(gets).await;
        let storm = started.elapsed();
        if round > 0 {
            bare_rounds.push(bare);
            storm_rounds.push(storm);
            let count = activations.load(Ordering::Relaxed);
            if seen == 100 {
                seen = count;
            }
        }
    }
    let (bare, storm) = (median(bare_rounds), median(storm_rounds));
    println!(
        "activation storm: 1000 gets over 100 plugins in {:.2} ms, {seen} activations; 100 bare activations {:.2} ms; ratio {:.2}",
        ms(storm),
        ms(bare),
        storm.as_secs_f64() / bare.as_secs_f64()
    );
    Figure {
        bench: "registry.storm",
        what: format!("1000 concurrent get()s over 100 plugins ({seen} activations seen)"),
        unit: "ms",
        ours: ms(storm),
        baseline: "100 concurrent bare Client::activate()",
        baseline_value: ms(bare),
        target: "100 activations",
        met: seen == 100,
    }
    .print();
    drop(servings);
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// A socket file nobody listens on, as a killed plugin leaves it.
fn stale_socket(path: &Path) {
    drop(std::os::unix::net::UnixListener::bind(path).unwrap());
}

/// A stale socket with default settings: `get` fails at once (`gets` times, a
/// fresh registry each, so nothing is cached), and `get_or_wait` returns once
/// the plugin serves again (`restarts` times).
async fn stale(gets: usize, restarts: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.sock");
    stale_socket(&path);
    let name = PluginName::new("killed").unwrap();
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..gets {
        let registry = plain_registry(dir.path());
        let started = Instant::now();
        let err = registry.get(&name, "VolumeDriver").await.unwrap_err();
        ours.push(started.elapsed());
        assert!(err.is_nothing_listening(), "{err:?}");
        let started = Instant::now();
        tokio::net::UnixStream::connect(&path).await.unwrap_err();
        bare.push(started.elapsed());
    }
    let worst = ours.iter().max().copied().unwrap_or_default();
    let (ours, bare) = (median(ours), median(bare));
    println!(
        "stale socket, default settings: get fails in {:.3} ms (median of {gets}, worst {:.3} ms); a bare refused connect {:.3} ms",
        ms(ours),
        ms(worst),
        ms(bare)
    );
    Figure {
        bench: "registry.stale_get",
        what: format!("Registry::get on a stale socket, default settings (median of {gets})"),
        unit: "ms",
        ours: ms(ours),
        baseline: "a bare UnixStream::connect refused on the same socket",
        baseline_value: ms(bare),
        target: "under 50 ms (Docker: about 15 s)",
        met: ms(worst) < 50.0,
    }
    .print();

    let (mut woken, mut direct) = (Vec::new(), Vec::new());
    for round in 0..restarts {
        let path = dir.path().join(format!("restart{round}.sock"));
        stale_socket(&path);
        let name = PluginName::new(format!("restart{round}")).unwrap();
        let registry = plain_registry(dir.path());
        let waiting = {
            let (registry, name) = (registry.clone(), name.clone());
            tokio::spawn(async move {
                let plugin = registry
                    .get_or_wait(&name, "VolumeDriver", Duration::from_secs(30))
                    .await
                    .unwrap();
                (plugin, Instant::now())
            })
        };
        // Let it find the stale socket and start waiting. (A plugin back
        // within the watch's first 50 ms is seen about 30 ms later: the
        // watch's own start settles first.)
        tokio::time::sleep(Duration::from_millis(100)).await;
        let serving = echo_plugin(name.as_str(), Arc::default())
            .serve_unix(&path)
            .unwrap();
        let served = Instant::now();
        let (_plugin, returned) = waiting.await.unwrap();
        woken.push(returned - served);
        drop(serving);
        // Baseline: the same plugin serving, fetched by a fresh registry.
        let _serving = echo_plugin(name.as_str(), Arc::default())
            .serve_unix(&path)
            .unwrap();
        let registry = plain_registry(dir.path());
        let started = Instant::now();
        registry.get(&name, "VolumeDriver").await.unwrap();
        direct.push(started.elapsed());
    }
    let worst = woken.iter().max().copied().unwrap_or_default();
    let (woken, direct) = (median(woken), median(direct));
    println!(
        "restart: get_or_wait returned {:.2} ms after the plugin served again (median of {restarts}, worst {:.2} ms); a get of a serving plugin {:.2} ms",
        ms(woken),
        ms(worst),
        ms(direct)
    );
    Figure {
        bench: "registry.restart_wake",
        what: format!(
            "get_or_wait on a stale socket: from the plugin serving again to it returning (median of {restarts})"
        ),
        unit: "ms",
        ours: ms(woken),
        baseline: "Registry::get of a plugin already serving (activation)",
        baseline_value: ms(direct),
        target: "under 100 ms, woken by the socket (no sleep schedule)",
        met: ms(worst) < 100.0,
    }
    .print();
}

/// Per-call latencies (microseconds) of `tasks` tasks calling for `round`.
async fn load<F, Fut>(tasks: usize, round: Duration, call: F) -> (f64, Vec<u64>)
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let started = Instant::now();
    let deadline = started + round;
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    call(task).await;
                    latencies.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.unwrap());
    }
    let per_s = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort_unstable();
    (per_s, all)
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

#[derive(Default)]
struct Series {
    per_s: Vec<f64>,
    p50: Vec<u64>,
    p99: Vec<u64>,
    max: Vec<u64>,
}

impl Series {
    fn add(&mut self, (per_s, sorted): (f64, Vec<u64>)) {
        self.per_s.push(per_s);
        self.p50.push(pct(&sorted, 0.5));
        self.p99.push(pct(&sorted, 0.99));
        self.max.push(*sorted.last().unwrap());
    }

    fn median_per_s(&self) -> f64 {
        let mut v = self.per_s.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn median(values: &[u64]) -> u64 {
        let mut v = values.to_vec();
        v.sort_unstable();
        v[v.len() / 2]
    }

    fn summary(&self) -> String {
        format!(
            "{:.0} calls/s, p50 {} us, p99 {} us, max {} us",
            self.median_per_s(),
            Self::median(&self.p50),
            Self::median(&self.p99),
            self.max.iter().max().unwrap()
        )
    }
}

/// The exact bytes of one call through our stack and its answer (the date is
/// the same length every day), for the raw ping-pong floor.
fn wire_bytes() -> (Vec<u8>, Vec<u8>) {
    let request = format!(
        "POST /Echo.Echo HTTP/1.1\r\naccept: application/vnd.docker.plugins.v1.2+json\r\nuser-agent: {UA}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nhost: plugin.moby.localhost\r\n\r\n{BODY}",
        BODY.len(),
        UA = plugin_client::USER_AGENT,
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.docker.plugins.v1.1+json\r\ncontent-length: {}\r\ndate: Wed, 25 Nov 2026 08:41:28 GMT\r\n\r\n{BODY}",
        BODY.len()
    );
    (request.into_bytes(), response.into_bytes())
}

async fn calls(settings: &Settings) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bench.sock");
    let _serving = echo_plugin("bench", Arc::default())
        .serve_unix(&socket)
        .unwrap();
    let floor_socket = dir.path().join("floor.sock");
    let (request_bytes, response_bytes) = wire_bytes();
    serve_floor(&floor_socket, request_bytes.len(), response_bytes.clone());

    let registry = plain_registry(dir.path());
    let name = PluginName::new("bench").unwrap();
    registry.get(&name, "VolumeDriver").await.unwrap();
    let bare = bare_client(&socket);
    // hyper on both ends, for the ceiling it sets under the floor.
    let hyper_socket = dir.path().join("hyper.sock");
    serve_bare(&hyper_socket);
    let hyper_only = bare_client(&hyper_socket);

    breakdown(&registry, &name, settings).await;
    for tasks in [1usize, 16] {
        let (mut ours, mut theirs, mut floor, mut hyper) = (
            Series::default(),
            Series::default(),
            Series::default(),
            Series::default(),
        );
        // A warm-up round of each, not counted.
        for round in 0..=settings.rounds {
            let registry = registry.clone();
            let name = name.clone();
            let stack = load(tasks, settings.round, move |_| {
                let (registry, name) = (registry.clone(), name.clone());
                async move {
                    let plugin = registry.get(&name, "VolumeDriver").await.unwrap();
                    let answer = plugin.client().call_raw("Echo.Echo", BODY).await.unwrap();
                    assert_eq!(answer.len(), BODY.len());
                }
            })
            .await;
            let bare = bare.clone();
            let direct = load(tasks, settings.round, move |_| {
                let bare = bare.clone();
                async move {
                    let request = echo_request("http://plugin.moby.localhost/Echo.Echo");
                    let response = bare.request(request).await.unwrap();
                    let answer = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(answer.len(), BODY.len());
                }
            })
            .await;
            let raw = floor_round(
                &floor_socket,
                tasks,
                settings.round,
                &request_bytes,
                response_bytes.len(),
            )
            .await;
            let both_hyper = if tasks == 16 {
                let client = hyper_only.clone();
                Some(
                    load(tasks, settings.round, move |_| {
                        let client = client.clone();
                        async move {
                            let request = echo_request("http://plugin.moby.localhost/Echo.Echo");
                            let response = client.request(request).await.unwrap();
                            response.into_body().collect().await.unwrap();
                        }
                    })
                    .await,
                )
            } else {
                None
            };
            if round > 0 {
                ours.add(stack);
                theirs.add(direct);
                floor.add(raw);
                if let Some(both_hyper) = both_hyper {
                    hyper.add(both_hyper);
                }
            }
        }
        println!("{tasks:>2} task(s): full stack   {}", ours.summary());
        println!("{tasks:>2} task(s): bare hyper   {}", theirs.summary());
        println!("{tasks:>2} task(s): raw socket   {}", floor.summary());
        let ratio = ours.median_per_s() / theirs.median_per_s();
        Figure {
            bench: &format!("registry.calls.{tasks}"),
            what: format!("calls/s through Registry -> Client -> Transport, {tasks} task(s)"),
            unit: "calls/s",
            ours: ours.median_per_s(),
            baseline: "bare hyper-util client, same server",
            baseline_value: theirs.median_per_s(),
            target: ">= 0.9",
            met: ratio >= 0.9,
        }
        .print();
        if tasks == 1 {
            let (p50, bare_p50) = (Series::median(&ours.p50), Series::median(&theirs.p50));
            Figure {
                bench: "registry.p50.1",
                what: "p50 latency through the full stack, 1 task".to_owned(),
                unit: "us",
                ours: p50 as f64,
                baseline: "bare hyper-util client p50",
                baseline_value: bare_p50 as f64,
                target: "<= bare + 5 us",
                met: p50 <= bare_p50 + 5,
            }
            .print();
        }
        if tasks == 16 {
            println!("{tasks:>2} task(s): hyper to hyper {}", hyper.summary());
            Figure {
                bench: "hyper.floor.16",
                what: "calls/s from a bare hyper-util client to a bare hyper server, 16 tasks, against the physical floor: the ceiling hyper itself sets for registry.floor.16".to_owned(),
                unit: "calls/s",
                ours: hyper.median_per_s(),
                baseline: "raw unix-socket ping-pong of the same bytes",
                baseline_value: floor.median_per_s(),
                target: "reported",
                met: true,
            }
            .print();
            let ratio = ours.median_per_s() / floor.median_per_s();
            Figure {
                bench: "registry.floor.16",
                what: "calls/s through the full stack, 16 tasks, against the physical floor"
                    .to_owned(),
                unit: "calls/s",
                ours: ours.median_per_s(),
                baseline: "raw unix-socket ping-pong of the same bytes",
                baseline_value: floor.median_per_s(),
                target: ">= 0.6",
                met: ratio >= 0.6,
            }
            .print();
        }
    }
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

type Bare = HyperClient<BareConnector, Full<Bytes>>;

/// `Echo.Echo` with [`BODY`], headers as our client sends them, to `uri`.
fn echo_request(uri: &str) -> http::Request<Full<Bytes>> {
    http::Request::post(uri)
        .header("accept", "application/vnd.docker.plugins.v1.2+json")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .unwrap()
}

#[derive(Clone)]
struct BareConnector(Arc<PathBuf>);

impl tower::Service<http::Uri> for BareConnector {
    type Response = TokioIo<tokio::net::UnixStream>;
    type Error = std::io::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let path = Arc::clone(&self.0);
        Box::pin(async move {
            tokio::net::UnixStream::connect(&*path)
                .await
                .map(TokioIo::new)
        })
    }
}

/// The plain hyper-util client a user would write: pooled, HTTP/1.1, unix.
fn bare_client(socket: &Path) -> Bare {
    HyperClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(32)
        .build(BareConnector(Arc::new(socket.to_owned())))
}

/// A raw server: reads `request_len` bytes, answers `response`, forever, on
/// each connection.
fn serve_floor(socket: &Path, request_len: usize, response: Vec<u8>) {
    let listener = tokio::net::UnixListener::bind(socket).unwrap();
    let response = Arc::new(response);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let response = Arc::clone(&response);
            tokio::spawn(async move {
                let mut buf = vec![0u8; request_len];
                while stream.read_exact(&mut buf).await.is_ok() {
                    if stream.write_all(&response).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// `tasks` connections, each a ping-pong of the request and response bytes.
async fn floor_round(
    socket: &Path,
    tasks: usize,
    round: Duration,
    request: &[u8],
    response_len: usize,
) -> (f64, Vec<u64>) {
    let mut streams = Vec::new();
    for _ in 0..tasks {
        let stream = tokio::net::UnixStream::connect(socket).await.unwrap();
        streams.push(Arc::new(tokio::sync::Mutex::new((
            stream,
            vec![0u8; response_len],
        ))));
    }
    let request = Arc::new(request.to_vec());
    load(tasks, round, move |task| {
        let (connection, request) = (Arc::clone(&streams[task]), Arc::clone(&request));
        async move {
            let mut connection = connection.lock().await;
            let (stream, buf) = &mut *connection;
            stream.write_all(&request).await.unwrap();
            stream.read_exact(buf).await.unwrap();
        }
    })
    .await
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Where the time goes, one task: the transport alone, then with the client on
/// top, and the registry's cached `get` alone.
async fn breakdown(registry: &Registry, name: &PluginName, settings: &Settings) {
    use tower::ServiceExt;
    use tracing::instrument::WithSubscriber;
    let plugin = registry.get(name, "VolumeDriver").await.unwrap();
    let transport = plugin_transport::Transport::for_spec(
        plugin.spec(),
        &plugin_transport::TransportConfig::default(),
    )
    .unwrap();
    let mut series = Series::default();
    for _ in 0..=settings.rounds {
        let transport = transport.clone();
        series.add(
            load(1, settings.round, move |_| {
                let transport = transport.clone();
                async move {
                    let request = echo_request("/Echo.Echo");
                    let response = transport.oneshot(request).await.unwrap();
                    response.into_body().collect().await.unwrap();
                }
            })
            .await,
        );
    }
    println!(" 1 task(s): transport only          {}", series.summary());
    let client = plugin.client().clone();
    let mut series = Series::default();
    for _ in 0..=settings.rounds {
        let client = client.clone();
        series.add(
            load(1, settings.round, move |_| {
                let client = client.clone();
                async move {
                    client.call_raw("Echo.Echo", BODY).await.unwrap();
                }
            })
            .await,
        );
    }
    println!(" 1 task(s): client over transport   {}", series.summary());
    // The same calls with an info-level subscriber (fmt, writing to a sink),
    // installed for these calls only: what the client's and transport's spans
    // cost when they are on.
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::sink)
            .finish(),
    );
    let mut traced = Series::default();
    for _ in 0..=settings.rounds {
        let (client, dispatch) = (client.clone(), dispatch.clone());
        traced.add(
            load(1, settings.round, move |_| {
                let client = client.clone();
                async move {
                    client.call_raw("Echo.Echo", BODY).await.unwrap();
                }
                .with_subscriber(dispatch.clone())
            })
            .await,
        );
    }
    println!(" 1 task(s): client, info subscriber {}", traced.summary());
    Figure {
        bench: "client.spans.1",
        what: "calls/s through the client with an info-level tracing subscriber (fmt, to a sink), 1 task".to_owned(),
        unit: "calls/s",
        ours: traced.median_per_s(),
        baseline: "the same calls with no subscriber",
        baseline_value: series.median_per_s(),
        target: "reported (spans stay on every call)",
        met: true,
    }
    .print();

    let started = Instant::now();
    for _ in 0..100_000 {
        registry.get(name, "VolumeDriver").await.unwrap();
    }
    println!(
        " registry.get of an active plugin: {:.2} us",
        started.elapsed().as_secs_f64() * 1e6 / 100_000.0
    );
}

/// A minimal bare hyper server answering every request with its body, as
/// the echo plugin does, on `socket`.
fn serve_bare(socket: &Path) {
    use hyper::service::service_fn;
    let listener = tokio::net::UnixListener::bind(socket).unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service =
                    service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        let mut response = http::Response::new(Full::new(body));
                        response.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static(
                                "application/vnd.docker.plugins.v1.1+json",
                            ),
                        );
                        Ok::<_, hyper::Error>(response)
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// Our server against a bare hyper server, the same bare client driving
/// both, 16 tasks, alternating rounds.
async fn server(settings: &Settings) {
    let dir = tempfile::tempdir().unwrap();
    let (ours_socket, bare_socket) = (dir.path().join("ours.sock"), dir.path().join("bare.sock"));
    let _serving = echo_plugin("ours", Arc::default())
        .serve_unix(&ours_socket)
        .unwrap();
    serve_bare(&bare_socket);
    let (ours_client, bare_client_) = (bare_client(&ours_socket), bare_client(&bare_socket));
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for round in 0..=settings.rounds {
        let mut results = Vec::new();
        for client in [&ours_client, &bare_client_] {
            let client = client.clone();
            results.push(
                load(16, settings.round, move |_| {
                    let client = client.clone();
                    async move {
                        let request = echo_request("http://plugin.moby.localhost/Echo.Echo");
                        let response = client.request(request).await.unwrap();
                        let answer = response.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(answer.len(), BODY.len());
                    }
                })
                .await,
            );
        }
        if round > 0 {
            theirs.add(results.pop().unwrap());
            ours.add(results.pop().unwrap());
        }
    }
    println!("16 task(s): our server   {}", ours.summary());
    println!("16 task(s): bare hyper   {}", theirs.summary());
    let ratio = ours.median_per_s() / theirs.median_per_s();
    Figure {
        bench: "server.calls.16",
        what: "calls/s served by plugin-server, 16 tasks, same bare client".to_owned(),
        unit: "calls/s",
        ours: ours.median_per_s(),
        baseline: "minimal bare hyper server, same client",
        baseline_value: theirs.median_per_s(),
        target: ">= 0.95",
        met: ratio >= 0.95,
    }
    .print();
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
