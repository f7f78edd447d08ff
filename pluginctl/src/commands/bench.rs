//! `pluginctl bench NAME METHOD [BODY] [-n N] [-c C] [--warmup W] [--threads T] [--histogram]`.

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
    let client = ctx.client(&spec).await?;
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
    let buckets = args.histogram.then(|| histogram(&latencies));
    let mut out = std::io::stdout().lock();
    if ctx.json {
        let mut line = json!({
            "calls": calls, "concurrency": args.concurrency, "calls_per_s": whole(per_s),
            "p50_us": p50, "p99_us": p99, "max_us": max, "errors": errors, "cpu_us": cpu_us,
        });
        if let (Some(buckets), Some(object)) = (&buckets, line.as_object_mut()) {
            let buckets: Vec<_> = buckets
                .iter()
                .map(|(le_us, calls)| json!({"le_us": le_us, "calls": calls}))
                .collect();
            object.insert("histogram".into(), buckets.into());
        }
        writeln!(out, "{line}")?;
    } else {
        let cpu = cpu_us.map_or_else(|| "?".to_owned(), |us| us.to_string());
        writeln!(
            out,
            "calls_per_s={per_s:.0} p50_us={p50} p99_us={p99} max_us={max} errors={errors} cpu_us={cpu}"
        )?;
        if let Some(buckets) = &buckets {
            let most = buckets.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
            for (le_us, n) in buckets {
                // A bar of up to 40 characters; any calls at all show one.
                let width = (n * 40).div_ceil(most);
                writeln!(
                    out,
                    "{:>10} {n:>9}  {}",
                    format!("<={le_us}us"),
                    "#".repeat(width as usize)
                )?;
            }
        }
    }
    if errors > 0 {
        return Err(format!("{errors} of {calls} calls failed").into());
    }
    Ok(())
}

/// Calls per bucket of microseconds, each bucket's upper bound a power of
/// two (`le_us`), from the fastest call's bucket to the slowest's, empty ones
/// between included. `sorted` is in ascending order.
fn histogram(sorted: &[Duration]) -> Vec<(u64, u64)> {
    let bucket = |d: &Duration| {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        us.checked_next_power_of_two().unwrap_or(u64::MAX)
    };
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let mut buckets = Vec::new();
    let mut le = bucket(first);
    let mut rest = sorted;
    loop {
        let within = rest.partition_point(|d| bucket(d) <= le);
        buckets.push((le, within as u64));
        rest = rest.get(within..).unwrap_or_default();
        if le >= bucket(last) || le == u64::MAX {
            return buckets;
        }
        le = le.saturating_mul(2);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_fall_in_power_of_two_buckets_with_empty_ones_kept() {
        let us = |n: u64| Duration::from_micros(n);
        let sorted = [us(0), us(3), us(4), us(5), us(40)];
        assert_eq!(
            histogram(&sorted),
            [(1, 1), (2, 0), (4, 2), (8, 1), (16, 0), (32, 0), (64, 1)]
        );
        assert!(histogram(&[]).is_empty());
    }
}
