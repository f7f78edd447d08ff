//! Instructions per call (valgrind's callgrind, which counts instructions,
//! not time, so the figure does not move with the machine's load): the
//! whole process, server included, for N sequential calls through the full
//! stack and through the bare hyper-util client, less the same run with no
//! calls, divided by N (`registry.instructions.1`). Skipped, saying so, when
//! valgrind is not installed.
//!
//! Prints a human line per figure and a `BENCH {json}` line that `cargo xtask
//! bench` reads. `--quick` counts 500 calls instead of 2,000.

#![allow(missing_docs)]

use benches::{Figure, counted_on};

fn main() {
    if benches::instructions_run_if_asked() {
        return;
    }
    instructions(if benches::quick() { 500 } else { 2_000 });
}

/// Instructions the whole process ran for `--instructions-run STACK CALLS`,
/// under callgrind.
fn counted(stack: &str, calls: usize) -> Option<u64> {
    counted_on(stack, calls, "two-workers")
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
