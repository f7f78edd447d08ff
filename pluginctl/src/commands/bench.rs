//! `pluginctl bench NAME METHOD [BODY] [-n N] [-c C] [--warmup W] [--threads T]`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Context, Failure, body};
use crate::cli::BenchArgs;

pub(crate) async fn run(ctx: &Context, args: &BenchArgs) -> Result<(), Failure> {
    if args.concurrency == 0 {
        return Err("-c must be at least 1".into());
    }
    let body = body(args.body.as_deref()).await?;
    let spec = ctx.lookup(&args.name)?;
    let client = ctx.client(&spec)?;
    client.activate().await?;
    for _ in 0..args.warmup {
        client.call_raw(&args.method, body.clone()).await?;
    }
    let progress = if std::io::stderr().is_terminal() && !ctx.json {
        indicatif::ProgressBar::new(args.calls)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let cpu_before = process_cpu();
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, body, method) = (client.clone(), body.clone(), args.method.clone());
            let (next, errors, progress, calls) = (
                Arc::clone(&next),
                Arc::clone(&errors),
                progress.clone(),
                args.calls,
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < calls {
                    let t0 = Instant::now();
                    if client.call_raw(&method, body.clone()).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    latencies.push(t0.elapsed());
                    progress.inc(1);
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    let elapsed = started.elapsed();
    let cpu_us = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before).as_micros());
    progress.finish_and_clear();
    latencies.sort_unstable();
    let micros =
        |d: Option<&Duration>| d.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let percentile =
        |p: usize| micros(latencies.get((latencies.len().saturating_sub(1)) * p / 100));
    let calls = latencies.len();
    let per_s = calls as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let (p50, p99, max) = (percentile(50), percentile(99), micros(latencies.last()));
    let errors = errors.load(Ordering::Relaxed);
    let mut out = std::io::stdout().lock();
    if ctx.json {
        let line = json!({
            "calls": calls, "concurrency": args.concurrency, "calls_per_s": whole(per_s),
            "p50_us": p50, "p99_us": p99, "max_us": max, "errors": errors, "cpu_us": cpu_us,
        });
        writeln!(out, "{line}")?;
    } else {
        let cpu = cpu_us.map_or_else(|| "?".to_owned(), |us| us.to_string());
        writeln!(
            out,
            "calls_per_s={per_s:.0} p50_us={p50} p99_us={p99} max_us={max} errors={errors} cpu_us={cpu}"
        )?;
    }
    if errors > 0 {
        return Err(format!("{errors} of {calls} calls failed").into());
    }
    Ok(())
}

/// A rate as a whole number of calls per second (JSON consumers expect an
/// integer, not `41213.0`).
fn whole(per_s: f64) -> u64 {
    // A float-to-integer `as` saturates (NaN is 0): no overflow possible.
    per_s.round() as u64
}

/// This process's CPU time, user and system, from `/proc/self/stat` (Linux;
/// `None` elsewhere). Its resolution is the kernel's USER_HZ tick, 10 ms.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may
    // hold spaces: state is field 3, utime 14 and stime 15.
    let (_, fields) = stat.rsplit_once(')')?;
    let mut fields = fields.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}
