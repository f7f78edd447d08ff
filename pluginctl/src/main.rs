//! `pluginctl`: find, inspect, call, watch and benchmark Docker-style plugins,
//! and a self-contained demo. See the README for every command.
//!
//! Exit codes: 0 success, 1 failure (`error: ...` on stderr, with its causes),
//! 2 usage error.

// Never panics on input; printing is this program's job.
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli;
mod commands;
mod output;
mod signals;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tracing_subscriber::EnvFilter;

#[cfg(feature = "demo")]
use crate::cli::DemoCommand;
use crate::cli::{Cli, Command};
use crate::commands::{Context, Failure};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    // A client does its waiting on one thread: no hand-offs between worker
    // threads on every call. Serving plugins is a server's job: all cores.
    let mut builder = match &cli.command {
        #[cfg(feature = "demo")]
        Command::Demo {
            command:
                Some(
                    DemoCommand::Serve { .. }
                    | DemoCommand::Volume { .. }
                    | DemoCommand::Metrics { .. },
                ),
        } => tokio::runtime::Builder::new_multi_thread(),
        Command::Bench(args) if args.threads > 1 => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(usize::from(args.threads));
            builder
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // Whoever read the output stopped (`pluginctl watch | head`): done.
        Err(error) if output::broken_pipe(error.as_ref()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", output::error_report(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// `RUST_LOG` if set, else warnings, info with `-v`, debug with `-vv`, trace
/// beyond; on stderr.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Context {
        discovery: cli::discovery(&cli.global, &|key| std::env::var_os(key)),
        json: cli.global.json,
    };
    // `watch` and `demo serve` run until stopped: `--timeout` stops them
    // cleanly; anything else ran out of time.
    let runs_until_stopped = match &cli.command {
        Command::Watch { .. } => true,
        #[cfg(feature = "demo")]
        Command::Demo {
            command: Some(DemoCommand::Serve { .. }),
        } => true,
        _ => false,
    };
    let timeout = cli.global.timeout;
    let command = dispatch(ctx, cli.command, timeout);
    match timeout {
        None => command.await,
        // They stop themselves at the deadline, cleaning up.
        Some(_) if runs_until_stopped => command.await,
        Some(after) => match tokio::time::timeout(after, command).await {
            Ok(result) => result,
            Err(_) => Err(format!("timed out after {}", humantime::format_duration(after)).into()),
        },
    }
}

async fn dispatch(
    ctx: Context,
    command: Command,
    timeout: Option<std::time::Duration>,
) -> Result<(), Failure> {
    match command {
        Command::Ls { activate } => commands::ls::run(&ctx, activate).await,
        Command::Inspect { name } => commands::inspect::run(&ctx, &name).await,
        Command::Call { name, method, body } => {
            commands::call::run(&ctx, &name, &method, body.as_deref()).await
        }
        Command::Watch {
            activate: true,
            probe,
            ..
        } => commands::watch::run_registry(&ctx, probe, timeout).await,
        Command::Watch { initial, .. } => commands::watch::run(&ctx, initial, timeout).await,
        Command::Bench(args) => commands::bench::run(&ctx, &args).await,
        #[cfg(feature = "demo")]
        Command::Demo { command: None } => commands::demo::run().await,
        #[cfg(feature = "demo")]
        Command::Demo {
            command: Some(DemoCommand::Serve { dir, state }),
        } => {
            let state = state.unwrap_or_else(|| dir.join("state"));
            commands::serve::run(&dir, &state, timeout).await
        }
        #[cfg(feature = "demo")]
        Command::Demo {
            command:
                Some(DemoCommand::Volume {
                    socket,
                    managed,
                    state,
                }),
        } => commands::serve::volume(socket.as_deref(), managed.as_deref(), &state).await,
        #[cfg(feature = "demo")]
        Command::Demo {
            command: Some(DemoCommand::Metrics { managed, state }),
        } => commands::serve::metrics(&managed, &state).await,
        #[cfg(feature = "demo")]
        Command::Demo {
            command:
                Some(DemoCommand::Package {
                    out,
                    metrics,
                    create,
                }),
        } => commands::package::demo(&out, metrics, create.as_deref()),
        Command::Package(args) => {
            let config = match &args.config {
                Some(file) => plugin_managed::PluginConfig::read(file)?,
                None => commands::package::config_from_flags(&args.binary, &args.flags)?,
            };
            let packager = plugin_managed::Packager::new(args.binary, config).strip(args.strip);
            commands::package::run(&packager, &args.out, args.create.as_deref())
        }
        Command::Validate { dir } => commands::package::validate(&dir),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics on a failed write (a
            // closed pipe, as `pluginctl completions bash | head` makes).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "pluginctl", &mut script);
            match std::io::Write::write_all(&mut std::io::stdout().lock(), &script) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => Ok(other?),
            }
        }
    }
}
