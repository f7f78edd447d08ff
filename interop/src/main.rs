//! `interop`: our crates against Docker's own plugin code, both ways. Run it
//! through `cargo xtask interop` (which installs Debian's Go and Docker
//! packages and builds the Go programs in `go/`) or `cargo xtask bench
//! --interop`.
//!
//! - `interop check`: (a) Docker's client (`pkg/plugins`, as the engine uses
//!   it) against our plugins, served by `pluginctl demo serve`; (b) our
//!   registry, client and `pluginctl` against a Go plugin written as
//!   go-plugins-helpers writes them. One table row per case; exit 1 if any
//!   failed. It also captures Docker's client's request bytes again and
//!   fails a case for each wire fixture that is no longer what it sends, and
//!   one if Go's answers for repeated keys (`go/gojson`) are no longer what
//!   plugin-spec's fixture holds.
//! - `interop record`: rewrites those fixtures from a fresh capture.
//! - `interop bench`: our client against Docker's client, and our server
//!   against the Go plugin, alternating contenders; medians and ratios.

// Never panics on input; printing is this program's job.
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod bench;
mod docker_to_ours;
mod dockerhost;
mod ours_to_go;
mod procs;
mod record;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Interop with Docker's own plugin code.
#[derive(Debug, Parser)]
#[command(name = "interop")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every interop case, both directions, and check that the wire
    /// fixtures are what Docker's client sends; print the table.
    Check(Programs),
    /// Capture Docker's client's request bytes again and rewrite the wire
    /// fixtures under each crate's `tests/fixtures/wire/`, and Go's answers
    /// for repeated keys in plugin-spec's `tests/fixtures/go-json/`.
    Record(Programs),
    /// Benchmark our client and server against Docker's client and the Go plugin.
    Bench {
        #[command(flatten)]
        programs: Programs,
        /// Fewer calls per round: a smoke run, not a measurement.
        #[arg(long)]
        quick: bool,
        /// Print the figures as one JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Where the programs under test are.
#[derive(Debug, Clone, Args)]
pub(crate) struct Programs {
    /// The directory holding the built Go programs `dockerhost`, `goplugin` and `gojson`.
    #[arg(long, value_name = "DIR")]
    pub(crate) go_bin: PathBuf,
    /// The `pluginctl` binary.
    #[arg(long, value_name = "PATH")]
    pub(crate) pluginctl: PathBuf,
}

impl Programs {
    pub(crate) fn dockerhost(&self) -> PathBuf {
        self.go_bin.join("dockerhost")
    }

    pub(crate) fn goplugin(&self) -> PathBuf {
        self.go_bin.join("goplugin")
    }

    pub(crate) fn gojson(&self) -> PathBuf {
        self.go_bin.join("gojson")
    }
}

/// A failure of the harness itself (a program missing, a plugin that did not
/// start), as opposed to a failed case.
pub(crate) type Failure = String;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Check(programs) => check(&programs).await,
            Command::Record(programs) => record::write(&programs).await,
            Command::Bench {
                programs,
                quick,
                json,
            } => bench::run(&programs, quick, json).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn check(programs: &Programs) -> Result<(), Failure> {
    let mut report = report::Report::default();
    let work = tempfile::Builder::new()
        .prefix("interop-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let ours = procs::OurPlugins::start(programs, &work.path().join("ours")).await?;
    docker_to_ours::run(&mut report, programs, &ours).await?;
    ours_to_go::run(&mut report, programs, &ours, &work.path().join("go")).await?;
    ours.stop().await?;
    record::check(&mut report, programs).await?;
    report.print();
    match report.failed() {
        0 => Ok(()),
        n => Err(format!("{n} interop case(s) failed")),
    }
}
