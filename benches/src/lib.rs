//! What the benchmarks share: the echo plugin, the bare hyper baselines,
//! the load loop, the per-round series and the `BENCH {json}` figure line.
//!
//! The benchmarks are `harness = false` bench targets of this crate, one per
//! topic, each figure beside a baseline measured in the same run:
//!
//! - `scan`: `scan()` of 10,000 descriptors against a bare walk;
//! - `activation`: an activation storm, and a stale socket (`get` failing,
//!   `get_or_wait` woken);
//! - `calls`: calls through Registry -> Client -> Transport against a bare
//!   hyper-util client and the physical floor, where the time goes, and what
//!   the tracing spans cost;
//! - `server`: plugin-server against a minimal bare hyper server;
//! - `memory`: the resident set over 1,000,000 calls (`cargo xtask soak`);
//! - `instructions`: instructions per call, under callgrind;
//! - `metrics`: what recording call metrics costs.
//!
//! Each prints a human line per figure and a `BENCH {json}` line that `cargo
//! xtask bench` reads; `--quick` runs short rounds. `cargo bench -p benches
//! --bench TOPIC` runs one; `cargo xtask bench` runs them all.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use plugin_registry::{Discovery, Registry};
use plugin_server::{HandlerError, PluginName, PluginServer};
use serde_json::json;

/// The request body of every echo call.
pub const BODY: &str = r#"{"Name":"volume-1"}"#;

/// How long each figure measures: `rounds` rounds (after one warm-up round
/// not counted) of `round` each.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Counted rounds.
    pub rounds: usize,
    /// Each round's length.
    pub round: Duration,
}

impl Settings {
    /// 5 rounds of 1 s; 2 of 300 ms with `quick`.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                rounds: 2,
                round: Duration::from_millis(300),
            }
        } else {
            Self {
                rounds: 5,
                round: Duration::from_secs(1),
            }
        }
    }
}

/// Whether `--quick` was given: short rounds, for a smoke run.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
}

/// Runs `--instructions-run full|bare|metered N [one-thread]` if given (the
/// process callgrind counts, started by [`counted_on`]) and returns true;
/// false otherwise.
pub fn instructions_run_if_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == "--instructions-run") else {
        return false;
    };
    let stack = args[at + 1].clone();
    let calls: usize = args[at + 2].parse().unwrap();
    let one_thread = args.get(at + 3).is_some_and(|a| a == "one-thread");
    instructions_run(&stack, calls, one_thread);
    true
}

/// A registry over `dir` that records no call metrics: the stack as it is
/// without the `metrics` feature, for every figure but the metrics ones.
pub fn plain_registry(dir: &Path) -> Registry {
    Registry::builder(Discovery::builder().plugin_dir(dir).build())
        .call_metrics(false)
        .build()
}

/// A registry over `dir` that records every call.
pub fn metered_registry(dir: &Path) -> Registry {
    Registry::builder(Discovery::builder().plugin_dir(dir).build())
        .call_metrics(true)
        .build()
}

/// The runtime of the metrics figures: one thread for the plugin and its
/// caller. On two workers a one-task figure moves between runs by where the
/// tasks land (p50 20 or 28 us, calls/s by 7%), more than the cost measured.
pub fn one_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The runtime every other figure is measured on: two workers, as CI's two
/// cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// N sequential echo calls through `stack` (`full`: Registry -> Client ->
/// Transport; `bare`: a hyper-util client), after one warm-up call, against
/// our echo plugin; the process callgrind counts.
pub fn instructions_run(stack: &str, calls: usize, one_thread: bool) {
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

/// Instructions the whole process ran for `--instructions-run STACK CALLS
/// FLAVOR`, under callgrind (`None` without valgrind), on a runtime of
/// `flavor` (`two-workers`, or (`one-thread`: one thread for the
/// plugin and its callers, so that no count depends on how threads met).
pub fn counted_on(stack: &str, calls: usize, flavor: &str) -> Option<u64> {
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

/// One measured figure beside its baseline, printed for `cargo xtask bench`.
#[derive(Debug)]
pub struct Figure<'a> {
    /// The figure's name (`registry.calls.1`).
    pub bench: &'a str,
    /// What was measured.
    pub what: String,
    /// The unit of `ours` and `baseline_value`.
    pub unit: &'a str,
    /// Our figure.
    pub ours: f64,
    /// What the baseline is.
    pub baseline: &'a str,
    /// The baseline, measured in the same run.
    pub baseline_value: f64,
    /// The target, in words.
    pub target: &'a str,
    /// Whether the target was met.
    pub met: bool,
}

impl Figure<'_> {
    /// Prints the `BENCH {json}` line `cargo xtask bench` reads.
    pub fn print(&self) {
        let line = json!({
            "bench": self.bench, "what": self.what, "unit": self.unit, "ours": self.ours,
            "baseline": self.baseline, "baseline_value": self.baseline_value,
            "ratio": self.ours / self.baseline_value, "target": self.target, "met": self.met,
        });
        println!("BENCH {line}");
    }
}

/// A plugin named `name` that implements VolumeDriver, counts its
/// activations in `activations`, and answers `Echo.Echo` with its request
/// body.
pub fn echo_plugin(name: &str, activations: Arc<AtomicUsize>) -> PluginServer {
    PluginServer::new(PluginName::new(name).unwrap())
        .handle("Plugin.Activate", move |(): ()| {
            activations.fetch_add(1, Ordering::Relaxed);
            async { Ok::<_, HandlerError>(json!({"Implements": ["VolumeDriver"]})) }
        })
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
}

/// The median of `samples` (zero if none).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Per-call latencies (microseconds) of `tasks` tasks calling for `round`.
pub async fn load<F, Fut>(tasks: usize, round: Duration, call: F) -> (f64, Vec<u64>)
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

/// Per-round figures of one stack: calls per second and latencies (us).
#[derive(Debug, Default)]
pub struct Series {
    /// Calls per second, per round.
    pub per_s: Vec<f64>,
    /// Median latency, per round.
    pub p50: Vec<u64>,
    /// 99th-percentile latency, per round.
    pub p99: Vec<u64>,
    /// Slowest call, per round.
    pub max: Vec<u64>,
}

impl Series {
    /// Adds a round's result, as [`load`] returns it.
    pub fn add(&mut self, (per_s, sorted): (f64, Vec<u64>)) {
        self.per_s.push(per_s);
        self.p50.push(pct(&sorted, 0.5));
        self.p99.push(pct(&sorted, 0.99));
        self.max.push(*sorted.last().unwrap());
    }

    /// The median round's calls per second.
    pub fn median_per_s(&self) -> f64 {
        let mut v = self.per_s.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    /// The median of `values`.
    pub fn median(values: &[u64]) -> u64 {
        let mut v = values.to_vec();
        v.sort_unstable();
        v[v.len() / 2]
    }

    /// One line: calls/s, p50, p99 and max.
    pub fn summary(&self) -> String {
        format!(
            "{:.0} calls/s, p50 {} us, p99 {} us, max {} us",
            self.median_per_s(),
            Self::median(&self.p50),
            Self::median(&self.p99),
            self.max.iter().max().unwrap()
        )
    }
}

/// A bare hyper-util client over a unix socket: the baseline.
pub type Bare = HyperClient<BareConnector, Full<Bytes>>;

/// `Echo.Echo` with [`BODY`], headers as our client sends them, to `uri`.
pub fn echo_request(uri: &str) -> http::Request<Full<Bytes>> {
    http::Request::post(uri)
        .header("accept", "application/vnd.docker.plugins.v1.2+json")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .unwrap()
}

/// Connects a [`Bare`] client to one unix socket.
#[derive(Debug, Clone)]
pub struct BareConnector(Arc<PathBuf>);

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
pub fn bare_client(socket: &Path) -> Bare {
    HyperClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(32)
        .build(BareConnector(Arc::new(socket.to_owned())))
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A minimal bare hyper server answering every request with its body, as
/// the echo plugin does, on `socket`.
pub fn serve_bare(socket: &Path) {
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
