//! The command line (the README, "Commands"): global options, then a command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use plugin_discovery::Discovery;

/// Find, inspect, call, watch and benchmark Docker-style plugins.
#[derive(Debug, Parser)]
#[command(name = "pluginctl", version, propagate_version = true)]
// The package's description names the demo; without it, the help does not.
#[cfg_attr(feature = "demo", command(about))]
#[cfg_attr(
    not(feature = "demo"),
    command(
        about = "Find, inspect, call, watch and benchmark Docker-style plugins; package managed ones"
    )
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options that apply to every command.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Use DIR as both a socket dir and a spec dir (repeatable).
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    pub(crate) plugin_dirs: Vec<PathBuf>,
    /// Look for sockets in DIR (repeatable).
    #[arg(long = "socket-dir", value_name = "DIR", global = true)]
    pub(crate) socket_dirs: Vec<PathBuf>,
    /// Look for .spec and .json descriptors in DIR (repeatable).
    #[arg(long = "spec-dir", value_name = "DIR", global = true)]
    pub(crate) spec_dirs: Vec<PathBuf>,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Deadline for the whole command (e.g. 500ms, 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub(crate) timeout: Option<Duration>,
    /// More logging on stderr (-v: info, -vv: debug, -vvv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (write e.g. 500ms, 10s, 2m)"))
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the plugins found, one row each.
    Ls {
        /// Also activate each and show what it implements, or why it failed;
        /// exit 1 if any failed (a health check).
        #[arg(long)]
        activate: bool,
    },
    /// Show a plugin's descriptor and activation result; exit 1 if it does
    /// not activate.
    Inspect {
        /// The plugin's name.
        name: String,
    },
    /// Activate a plugin and call METHOD with a JSON body; print the answer.
    Call {
        /// The plugin's name.
        name: String,
        /// The method, e.g. VolumeDriver.List.
        method: String,
        /// The JSON body, or - to read it from stdin (default: no body).
        body: Option<String>,
    },
    /// Print plugins added, removed and changed, as it happens.
    ///
    /// With --activate, print what a host's registry sees instead: each
    /// plugin discovered (those present first) is activated, and every
    /// registry event is a line: discovered, activated (with its number and
    /// what it implements), activation_failed, stale (connection, changed,
    /// removed), reactivated, removed, health (with --probe) and missed.
    Watch {
        /// First print a `present` line for each plugin already there.
        #[arg(long, conflicts_with = "activate")]
        initial: bool,
        /// Activate each plugin as it is discovered (and again when it goes
        /// stale), and print the registry's events.
        #[arg(long)]
        activate: bool,
        /// With --activate, probe each active plugin's health this often (a
        /// new connection and Plugin.Activate; unhealthy after 3 failures).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "activate")]
        probe: Option<Duration>,
    },
    /// Call METHOD N times from C tasks sharing one client; print one line.
    ///
    /// The line's fields: calls_per_s, the calls completed per second of
    /// wall time; p50_us, p99_us and max_us, the median, 99th-percentile and
    /// slowest call in microseconds; errors, the calls that failed (exit 1 if
    /// any); cpu_us, the CPU time (user and system) this process used for the
    /// calls, in microseconds, to the kernel's 10 ms tick (Linux; `?`
    /// elsewhere).
    Bench(BenchArgs),
    /// Build a managed (v2) plugin directory from a binary: rootfs/ with the
    /// binary, the shared libraries it loads (none for a static binary; a
    /// symlink stays a symlink) and /run/docker/plugins and /tmp, and
    /// config.json (from --config, or from the flags). Built beside --out and
    /// moved there when complete.
    Package(PackageArgs),
    /// Check a managed plugin directory: config.json (every field known and
    /// valid) and rootfs/ (the entrypoint, the libraries it loads, the socket
    /// directory).
    Validate {
        /// The plugin directory (config.json and rootfs/).
        dir: PathBuf,
    },
    /// A self-contained tour (no Docker, no root).
    #[cfg(feature = "demo")]
    Demo {
        #[command(subcommand)]
        command: Option<DemoCommand>,
    },
    /// Print a shell completion script.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The plugin's name.
    pub(crate) name: String,
    /// The method.
    pub(crate) method: String,
    /// The JSON body (default: no body).
    pub(crate) body: Option<String>,
    /// Calls to make.
    #[arg(short = 'n', default_value_t = 10_000)]
    pub(crate) calls: u64,
    /// Concurrent tasks.
    #[arg(short = 'c', default_value_t = 8)]
    pub(crate) concurrency: u64,
    /// Calls before measuring.
    #[arg(long, default_value_t = 100)]
    pub(crate) warmup: u64,
    /// Runtime worker threads: 1 runs every task on one thread (the default,
    /// as for every client command); more spread them over that many.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: u16,
    /// Also print how the call times spread: calls per power-of-two bucket of
    /// microseconds (with --json, a "histogram" array of {"le_us", "calls"}).
    #[arg(long)]
    pub(crate) histogram: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PackageArgs {
    /// The plugin's binary.
    #[arg(long, value_name = "PATH")]
    pub(crate) binary: PathBuf,
    /// The plugin directory to make (must not exist).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// The config.json to use (checked; the binary is copied to its
    /// entrypoint's path). Without it, the flags below make one, with the
    /// binary at /FILE-NAME.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Also run `docker plugin create NAME OUT` (honours DOCKER_HOST).
    #[arg(long, value_name = "NAME")]
    pub(crate) create: Option<String>,
    /// Strip the binary and the libraries copied into the rootfs (with
    /// `strip` from binutils, which must be on PATH; the originals are left
    /// alone).
    #[arg(long)]
    pub(crate) strip: bool,
    #[command(flatten)]
    pub(crate) flags: PackageFlags,
}

/// The common config.json fields, for `package` without `--config`.
#[derive(Debug, Args)]
pub(crate) struct PackageFlags {
    /// What the plugin is: volumedriver, networkdriver, ipamdriver, authz,
    /// logdriver, metricscollector or secretprovider.
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) kind: Option<String>,
    /// The socket's file name in /run/docker/plugins (default: the one the
    /// ARGS name, e.g. `--managed p.sock`, else BINARY.sock; given with ARGS
    /// naming another, an error).
    #[arg(long, value_name = "NAME")]
    pub(crate) socket: Option<String>,
    /// The Description.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// A volume driver's PropagatedMount (where its volumes live).
    #[arg(long, value_name = "PATH")]
    pub(crate) propagated_mount: Option<String>,
    /// A Linux capability the plugin needs, e.g. CAP_SYS_ADMIN (repeatable).
    #[arg(long = "capability", value_name = "CAP")]
    pub(crate) capabilities: Vec<String>,
    /// Network.Type: none (default), host or bridge.
    #[arg(long, value_name = "TYPE")]
    pub(crate) network: Option<String>,
    /// Arguments after the binary in the entrypoint.
    #[arg(last = true, value_name = "ARGS")]
    pub(crate) args: Vec<String>,
}

#[cfg(feature = "demo")]
#[derive(Debug, Subcommand)]
pub(crate) enum DemoCommand {
    /// Serve the demo plugins in DIR until SIGINT, SIGTERM or --timeout, on
    /// unix sockets: demo-volume (VolumeDriver: directories under
    /// STATE/volumes, kept across restarts), demo-ipam (IpamDriver),
    /// demo-net (NetworkDriver: a bridge per network, a veth pair per
    /// endpoint; needs root), demo-authz (authz: denies deleting locked-
    /// objects), demo-log (LogDriver: lines kept in STATE/logs) and echo;
    /// echo-tcp on TCP with a .spec, echo-tls on TLS with a .json and a CA
    /// made on the spot (in DIR/tls). Sockets, descriptors and DIR/tls are
    /// removed on the way out; STATE is kept.
    Serve {
        /// Where to put their sockets.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// What the plugins keep (volumes, logs); default DIR/state.
        #[arg(long, value_name = "STATE")]
        state: Option<PathBuf>,
    },
    /// Serve demo-volume alone until SIGINT or SIGTERM: on --socket PATH, or
    /// as a managed plugin on --managed NAME (in /run/docker/plugins), its
    /// volumes under STATE/volumes.
    Volume {
        /// The socket's path.
        #[arg(
            long,
            value_name = "PATH",
            conflicts_with = "managed",
            required_unless_present = "managed"
        )]
        socket: Option<PathBuf>,
        /// As a managed plugin: the socket's file name in /run/docker/plugins.
        #[arg(long, value_name = "NAME")]
        managed: Option<String>,
        /// Where the volumes live.
        #[arg(long, value_name = "STATE")]
        state: PathBuf,
    },
    /// Serve demo-metrics (a MetricsCollector) alone until SIGINT or
    /// SIGTERM, as a managed plugin on --managed NAME: at StartMetrics it
    /// scrapes the engine's metrics socket into STATE/metrics.txt.
    Metrics {
        /// The socket's file name in /run/docker/plugins.
        #[arg(long, value_name = "NAME")]
        managed: String,
        /// Where the scraped metrics go.
        #[arg(long, value_name = "STATE")]
        state: PathBuf,
    },
    /// Package this pluginctl as the managed demo-volume plugin (its volumes
    /// under the propagated mount /data), as `package` does; with --metrics,
    /// as the managed demo-metrics plugin instead.
    Package {
        /// The plugin directory to make (must not exist).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Package demo-metrics (docker.metricscollector/1.0) instead.
        #[arg(long)]
        metrics: bool,
        /// Also run `docker plugin create NAME DIR`.
        #[arg(long, value_name = "NAME")]
        create: Option<String>,
    },
}

/// The directories to search: the flags if any, else `PLUGINCTL_SOCKET_DIRS`
/// and `PLUGINCTL_SPEC_DIRS` (colon-separated), else Docker's defaults.
pub(crate) fn discovery(global: &Global, env: &impl Fn(&str) -> Option<OsString>) -> Discovery {
    let (sockets, specs): (Vec<PathBuf>, Vec<PathBuf>) = if global.plugin_dirs.is_empty()
        && global.socket_dirs.is_empty()
        && global.spec_dirs.is_empty()
    {
        let defaults = Discovery::docker_defaults_from(|key| std::env::var_os(key));
        let list = |key: &str, default: &[PathBuf]| -> Vec<PathBuf> {
            match env(key) {
                Some(value) => std::env::split_paths(&value)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect(),
                None => default.to_vec(),
            }
        };
        (
            list("PLUGINCTL_SOCKET_DIRS", defaults.socket_dirs()),
            list("PLUGINCTL_SPEC_DIRS", defaults.spec_dirs()),
        )
    } else {
        let both = global.plugin_dirs.iter();
        (
            both.clone().chain(&global.socket_dirs).cloned().collect(),
            both.chain(&global.spec_dirs).cloned().collect(),
        )
    };
    let builder = sockets
        .into_iter()
        .fold(Discovery::builder(), |builder, dir| builder.socket_dir(dir));
    specs
        .into_iter()
        .fold(builder, |builder, dir| builder.spec_dir(dir))
        .build()
}
