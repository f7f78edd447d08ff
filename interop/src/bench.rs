//! `interop bench`: our client against Docker's Go client, and our server
//! against the Go plugin, on unix sockets, in one run. Contenders alternate
//! (A B A B ..., 5 rounds) and each figure is the median of its
//! rounds, printed beside the other contender's as a ratio. CPU time per call
//! comes from `/proc`: the client's own over its measured calls, the server's
//! from `/proc/PID/stat` around each round.
//!
//! Prints a human line per figure and a `BENCH {json}` line in the shape
//! `cargo xtask bench` collects.

use std::path::Path;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::procs::{GoPlugin, OurPlugins, cpu_time};
use crate::{Failure, Programs};

/// The request body: about the size of a volume call's.
const BODY: &str = r#"{"Name":"bench-volume","ID":"4f1c2a9e7b3d4c5e8f60718293a4b5c6"}"#;
/// Rounds per contender: medians of five ride out a noisy neighbour.
const ROUNDS: usize = 5;

/// A client program that calls a plugin.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    /// `pluginctl bench` on this many runtime threads.
    Ours {
        threads: u16,
    },
    Docker,
}

impl Caller {
    fn label(self) -> String {
        match self {
            Self::Ours { threads: 1 } => "our client (1 thread)".to_owned(),
            Self::Ours { threads } => format!("our client ({threads} threads)"),
            Self::Docker => "Docker's client".to_owned(),
        }
    }
}

/// A server to call.
#[derive(Debug)]
struct Target<'a> {
    label: &'static str,
    /// For `pluginctl --plugin-dir`.
    dir: &'a Path,
    name: &'a str,
    /// For `dockerhost -addr`.
    address: String,
    pid: u32,
}

/// One run of a client against a server.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    calls_per_s: f64,
    p99_us: f64,
    client_cpu_us_per_call: f64,
    server_cpu_us_per_call: f64,
}

async fn run_once(
    programs: &Programs,
    caller: Caller,
    target: &Target<'_>,
    calls: u64,
    concurrency: u64,
) -> Result<Run, Failure> {
    let (calls_text, concurrency_text) = (calls.to_string(), concurrency.to_string());
    let mut command = match caller {
        Caller::Ours { threads } => {
            let mut command = Command::new(&programs.pluginctl);
            command
                .arg("--plugin-dir")
                .arg(target.dir)
                .args(["--json", "bench", target.name, "Echo.Echo", BODY])
                .args(["-n", &calls_text, "-c", &concurrency_text])
                .args(["--warmup", "200", "--threads", &threads.to_string()]);
            command
        }
        Caller::Docker => {
            let mut command = Command::new(programs.dockerhost());
            command
                .args(["bench", "-addr", &target.address, "-method", "Echo.Echo"])
                .args(["-body", BODY, "-n", &calls_text, "-c", &concurrency_text])
                .args(["-warmup", "200"]);
            command
        }
    };
    let before = cpu_time(target.pid)?;
    let out = command
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", caller.label()))?;
    let after = cpu_time(target.pid)?;
    if !out.status.success() {
        return Err(format!(
            "{} against {} failed: {}",
            caller.label(),
            target.label,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let figures: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "{} printed no JSON ({e}): {}",
            caller.label(),
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let number = |key: &str| {
        figures
            .get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{} printed no {key}: {figures}", caller.label()))
    };
    if number("errors")? != 0.0 {
        return Err(format!("{} saw errors: {figures}", caller.label()));
    }
    let done = number("calls")?.max(1.0);
    // The server's CPU covers the warm-up and activation too: a few hundred
    // calls in tens of thousands.
    let served = done + 201.0;
    Ok(Run {
        calls_per_s: number("calls_per_s")?,
        p99_us: number("p99_us")?,
        client_cpu_us_per_call: number("cpu_us")? / done,
        server_cpu_us_per_call: after.saturating_sub(before).as_secs_f64() * 1e6 / served,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Medians of each figure over the rounds, for contenders A and B run
/// alternately.
async fn alternate(
    programs: &Programs,
    a: (Caller, &Target<'_>),
    b: (Caller, &Target<'_>),
    calls: u64,
    concurrency: u64,
) -> Result<(Run, Run), Failure> {
    let (mut runs_a, mut runs_b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        runs_a.push(run_once(programs, a.0, a.1, calls, concurrency).await?);
        runs_b.push(run_once(programs, b.0, b.1, calls, concurrency).await?);
    }
    let medians = |runs: &[Run]| Run {
        calls_per_s: median(runs.iter().map(|r| r.calls_per_s).collect()),
        p99_us: median(runs.iter().map(|r| r.p99_us).collect()),
        client_cpu_us_per_call: median(runs.iter().map(|r| r.client_cpu_us_per_call).collect()),
        server_cpu_us_per_call: median(runs.iter().map(|r| r.server_cpu_us_per_call).collect()),
    };
    Ok((medians(&runs_a), medians(&runs_b)))
}

/// A goal on a ratio: at least or at most this.
#[derive(Debug, Clone, Copy)]
enum Goal {
    AtLeast(f64),
    AtMost(f64),
    None,
}

struct Figure<'a> {
    what: String,
    unit: &'a str,
    ours: f64,
    baseline: &'a str,
    baseline_value: f64,
    goal: Goal,
}

impl Figure<'_> {
    fn emit(&self, json: bool) {
        let ratio = self.ours / self.baseline_value;
        let (target, met) = match self.goal {
            Goal::AtLeast(goal) => (format!(">= {goal}x"), Some(ratio >= goal)),
            Goal::AtMost(goal) => (format!("<= {goal}x"), Some(ratio <= goal)),
            Goal::None => ("-".to_owned(), None),
        };
        if !json {
            println!(
                "{}: ours {:.1} {unit}, {} {:.1} {unit}, ratio {ratio:.2} {target}",
                self.what,
                self.ours,
                self.baseline,
                self.baseline_value,
                unit = self.unit,
            );
        }
        let line = json!({
            "bench": "interop", "what": self.what, "unit": self.unit, "ours": self.ours,
            "baseline": self.baseline, "baseline_value": self.baseline_value,
            "ratio": ratio, "target": target, "met": met,
        });
        println!("BENCH {line}");
    }
}

pub(crate) async fn run(programs: &Programs, quick: bool, json: bool) -> Result<(), Failure> {
    let work = tempfile::Builder::new()
        .prefix("interop-bench-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let ours_dir = work.path().join("ours");
    let go_dir = work.path().join("go");
    std::fs::create_dir_all(&go_dir)
        .map_err(|e| format!("cannot create {}: {e}", go_dir.display()))?;
    let our_plugins = OurPlugins::start(programs, &ours_dir).await?;
    let go_plugin = GoPlugin::unix(programs, &go_dir.join("go-echo.sock")).await?;
    let ours = Target {
        label: "our server",
        dir: &ours_dir,
        name: "echo",
        address: our_plugins.address("echo")?.to_owned(),
        pid: our_plugins.pid()?,
    };
    let go = Target {
        label: "the Go plugin",
        dir: &go_dir,
        name: "go-echo",
        address: go_plugin.address.clone(),
        pid: go_plugin.pid()?,
    };
    let scale = if quick { 10 } else { 1 };

    for (concurrency, calls) in [(16, 40_000 / scale), (1, 10_000 / scale)] {
        let (mine, docker) = alternate(
            programs,
            (Caller::Ours { threads: 1 }, &go),
            (Caller::Docker, &go),
            calls,
            concurrency,
        )
        .await?;
        let on = format!("client -> Go plugin, {concurrency} caller(s)");
        Figure {
            what: format!("{on}: calls/s"),
            unit: "calls/s",
            ours: mine.calls_per_s,
            baseline: "Docker's Go client",
            baseline_value: docker.calls_per_s,
            goal: Goal::AtLeast(1.6),
        }
        .emit(json);
        Figure {
            what: format!("{on}: p99"),
            unit: "us",
            ours: mine.p99_us,
            baseline: "Docker's Go client",
            baseline_value: docker.p99_us,
            goal: Goal::AtMost(0.6),
        }
        .emit(json);
        Figure {
            what: format!("{on}: client CPU per call"),
            unit: "us",
            ours: mine.client_cpu_us_per_call,
            baseline: "Docker's Go client",
            baseline_value: docker.client_cpu_us_per_call,
            goal: Goal::None,
        }
        .emit(json);
    }

    let concurrency = 16;
    let calls = 40_000 / scale;
    // Our client drives the servers on both cores here: on one thread it
    // tops out near what our server can do, and would measure itself.
    for (caller, goals) in [
        (
            Caller::Ours { threads: 2 },
            (Goal::AtLeast(1.3), Goal::AtMost(0.75)),
        ),
        (Caller::Docker, (Goal::None, Goal::None)),
    ] {
        let (mine, go_side) =
            alternate(programs, (caller, &ours), (caller, &go), calls, concurrency).await?;
        let on = format!(
            "server, driven by {}, {concurrency} callers",
            caller.label()
        );
        Figure {
            what: format!("{on}: calls/s"),
            unit: "calls/s",
            ours: mine.calls_per_s,
            baseline: "the Go plugin (net/http)",
            baseline_value: go_side.calls_per_s,
            goal: goals.0,
        }
        .emit(json);
        Figure {
            what: format!("{on}: server CPU per call"),
            unit: "us",
            ours: mine.server_cpu_us_per_call,
            baseline: "the Go plugin (net/http)",
            baseline_value: go_side.server_cpu_us_per_call,
            goal: goals.1,
        }
        .emit(json);
    }
    our_plugins.stop().await?;
    drop(go_plugin);
    Ok(())
}
