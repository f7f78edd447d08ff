//! Faults under load: a plugin that keeps restarting while 32 callers call it
//! through the registry. Every call succeeds or fails with an error naming
//! the plugin; none outlives its timeout; each new instance is activated.
//! `FAULTS_SECONDS` sets how long it runs (10 s by default; `cargo xtask soak`
//! runs it longer).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use plugin_client::ClientConfig;
use plugin_registry::Registry;
use support::{Counted, Dir, name};

const CALLERS: usize = 32;
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
const ACTIVATION_TIMEOUT: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Tally {
    ok: usize,
    not_found: usize,
    connect: usize,
    other: Vec<String>,
    longest_get: Duration,
    longest_call: Duration,
}

impl Tally {
    /// A failed get or call: its message must name the plugin.
    fn failed(&mut self, text: String, is_connect: bool) {
        assert!(
            text.contains("\"flaky\""),
            "an error that does not name the plugin: {text}"
        );
        if is_connect {
            self.connect += 1;
        } else {
            self.other.push(text);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_restarting_under_load_never_hangs_a_caller_and_is_reactivated_each_time() {
    let seconds: u64 = std::env::var("FAULTS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = Dir::new();
    let registry = Registry::builder(dir.discovery())
        .client_config(
            ClientConfig::default()
                .call_timeout(CALL_TIMEOUT)
                .activation_timeout(ACTIVATION_TIMEOUT),
        )
        .build();
    let plugin = Counted::new("flaky", &["Echo"]);
    let activations = Arc::clone(&plugin.activations);
    let mut serving = Some(plugin.serve(&dir, "flaky"));
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));

    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            let (registry, stop, calls) = (registry.clone(), Arc::clone(&stop), Arc::clone(&calls));
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let body = format!("{{\"caller\":{i}}}");
                while !stop.load(Ordering::Relaxed) {
                    calls.fetch_add(1, Ordering::Relaxed);
                    let t0 = Instant::now();
                    let got = registry.get(&name("flaky"), "Echo").await;
                    tally.longest_get = tally.longest_get.max(t0.elapsed());
                    let plugin = match got {
                        Ok(plugin) => plugin,
                        Err(e) if e.is_not_found() => {
                            // Between one instance and the next the socket is gone.
                            tally.not_found += 1;
                            tokio::task::yield_now().await;
                            continue;
                        }
                        Err(e) => {
                            tally.failed(support::chain(&e), e.is_connect());
                            continue;
                        }
                    };
                    let t1 = Instant::now();
                    let answer = plugin.client().call_raw("Echo.Echo", body.clone()).await;
                    tally.longest_call = tally.longest_call.max(t1.elapsed());
                    match answer {
                        Ok(answer) => {
                            assert_eq!(
                                answer,
                                body.as_bytes(),
                                "an answer meant for another caller"
                            );
                            tally.ok += 1;
                        }
                        Err(e) => tally.failed(support::chain(&e), e.is_connect()),
                    }
                }
                tally
            })
        })
        .collect();

    // Restart the plugin every 100 ms: gracefully, then abruptly (dropped,
    // its connections cut), in turn.
    let started = Instant::now();
    let mut restarts = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let old = serving.take().unwrap();
        if restarts % 2 == 0 {
            old.shutdown().await;
        } else {
            drop(old);
        }
        serving = Some(plugin.serve(&dir, "flaky"));
        restarts += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    for caller in callers {
        let tally = tokio::time::timeout(CALL_TIMEOUT + ACTIVATION_TIMEOUT + SLACK, caller)
            .await
            .expect("a caller hung")
            .unwrap();
        total.ok += tally.ok;
        total.not_found += tally.not_found;
        total.connect += tally.connect;
        total.other.extend(tally.other);
        total.longest_get = total.longest_get.max(tally.longest_get);
        total.longest_call = total.longest_call.max(tally.longest_call);
    }
    let activated = activations.load(Ordering::SeqCst);
    eprintln!(
        "restart under load: {seconds} s, {CALLERS} callers, {restarts} restarts, {activated} activations; {} calls: {} answered, {} not found (between instances), {} connection errors, {} other errors; longest get {:?}, longest call {:?}",
        calls.load(Ordering::Relaxed),
        total.ok,
        total.not_found,
        total.connect,
        total.other.len(),
        total.longest_get,
        total.longest_call,
    );
    let mut kinds: Vec<String> = total
        .other
        .iter()
        .map(|text| text.rsplit("failed: ").next().unwrap_or(text).to_owned())
        .collect();
    kinds.sort();
    kinds.dedup();
    for kind in &kinds {
        eprintln!("  error seen: ...{kind}");
    }
    assert!(
        total.longest_get <= ACTIVATION_TIMEOUT + SLACK,
        "a get took {:?}",
        total.longest_get
    );
    assert!(
        total.longest_call <= CALL_TIMEOUT + SLACK,
        "a call took {:?}",
        total.longest_call
    );
    assert!(total.ok > restarts, "too few calls answered: {}", total.ok);
    // Each instance that was up while callers called was activated again.
    assert!(
        activated >= restarts / 2,
        "{activated} activations for {restarts} restarts"
    );
    // A call cut by a restart also marks the plugin stale, so one instance
    // may be activated more than once, never more than once per failure.
    let failures = total.connect + total.other.len();
    assert!(
        activated <= restarts + 1 + failures,
        "{activated} activations for {restarts} restarts and {failures} failed calls"
    );
    drop(serving);
}
