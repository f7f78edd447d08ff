//! `cargo xtask`: the workspace's automation, one command per job.
//!
//! - `cargo xtask ci [--only STEP]`: exactly what `.ci/run` checks (format,
//!   lints, every fuzz target compiled, the MSRV, every feature combination,
//!   docs, layering, the test suite, the newest dependencies).
//! - `cargo xtask fuzz [--seconds N] [TARGET...]`: runs the cargo-fuzz targets in
//!   `fuzz/` for a bounded time each.
//! - `cargo xtask bench [--quick] [--json] [--interop]`: every benchmark, each
//!   figure beside its in-run baseline as a ratio; `--interop` runs the one
//!   against Docker's Go client and a Go plugin instead.
//! - `cargo xtask interop [--record]`: our crates against Docker's own plugin
//!   code, both ways, and the wire fixtures against what Docker's client sends
//!   (installs Debian's Go and Docker packages when missing); `--record`
//!   rewrites the fixtures instead.
//! - `cargo xtask engine [--require]`: the demo plugins driven by real
//!   engines (a private dockerd, and Podman), every subsystem they use;
//!   installs Debian's docker.io, podman and busybox-static when missing.
//! - `cargo xtask soak [--seconds N]`: the long runs kept out of CI (a plugin
//!   restarting under load for N seconds; 1,000,000 calls with the resident
//!   set sampled).
//! - `cargo xtask release [CRATE...] [--execute]`: the per-crate release plan
//!   (a dry run by default); `cargo xtask bump CRATE major|minor|patch`.

// Never panics on input; printing is this program's job.
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod bench;
mod ci;
mod command;
mod engine;
mod examples;
mod fuzz;
mod interop;
mod release;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Workspace automation for the Docker plugin crates.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every CI check: fmt, clippy, the fuzz targets compiled, MSRV,
    /// feature combinations, docs, layering, tests, examples, the newest
    /// dependencies (what .ci/run runs).
    Ci {
        /// Run only these steps (repeatable), in CI's order.
        #[arg(long, value_enum)]
        only: Vec<ci::Step>,
    },
    /// Run the newcomer examples as a user would: dir_volume serving, host
    /// using it through the registry, layered (part of `ci`).
    Examples,
    /// Run every benchmark; print each figure beside its in-run baseline.
    Bench {
        /// Fewer rounds: a smoke run, not a measurement.
        #[arg(long)]
        quick: bool,
        /// Print the figures as one JSON array on stdout.
        #[arg(long)]
        json: bool,
        /// Instead, benchmark our client and server against Docker's Go client
        /// and a Go plugin (needs what `interop` needs).
        #[arg(long)]
        interop: bool,
    },
    /// Run our crates against Docker's own plugin code, both ways, and check
    /// the wire fixtures are current; print the table.
    Interop {
        /// Rewrite the wire fixtures (each crate's `tests/fixtures/wire/`)
        /// from what Docker's client sends, instead of running the cases.
        #[arg(long)]
        record: bool,
    },
    /// Drive the demo plugins with real engines (a private dockerd, and
    /// Podman): volumes under containers, IPAM, a network driver, authz, a log
    /// driver; print one row per case. Needs root; installs what is missing.
    Engine {
        /// Fail (exit 1) when an engine cannot run here, instead of skipping.
        #[arg(long)]
        require: bool,
    },
    /// Plan a release of the crates changed since their last tag (a dry run
    /// unless --execute).
    Release {
        /// Only these crates (default: every changed one).
        crates: Vec<String>,
        /// Date the changelogs, commit, tag and publish (needs a crates.io token).
        #[arg(long)]
        execute: bool,
    },
    /// The long runs kept out of CI: restart under load, and the memory soak.
    Soak {
        /// Seconds of restarting under load.
        #[arg(long, default_value_t = 120)]
        seconds: u64,
    },
    /// Raise a crate's version, and its workspace dependents' requirements.
    Bump {
        /// The crate.
        krate: String,
        /// major, minor or patch.
        level: release::Level,
    },
    /// Run the cargo-fuzz targets in fuzz/ for a bounded time each.
    Fuzz {
        /// Seconds to fuzz each target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Targets to run (default: all of them).
        targets: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::Ci { only } => ci::run(&root, &only),
        Command::Examples => examples::run(&root),
        Command::Bench {
            quick,
            json,
            interop,
        } => bench::run(&root, quick, json, interop),
        Command::Interop { record } => interop::check(&root, record),
        Command::Engine { require } => engine::run(&root, require),
        Command::Release { crates, execute } => release::run(&root, &crates, execute),
        Command::Bump { krate, level } => release::bump(&root, &krate, level),
        Command::Soak { seconds } => soak::run(&root, seconds),
        Command::Fuzz { seconds, targets } => fuzz::run(&root, seconds, &targets),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or(manifest_dir.clone(), PathBuf::from)
}
