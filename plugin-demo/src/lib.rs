//! The demo plugins of the docker-plugins crates: one plugin per Docker
//! subsystem, each a small but real driver built on plugin-subsystems and
//! plugin-server, served side by side by `pluginctl demo` and `pluginctl
//! demo serve` and driven by real engines in the engine suite.
//!
//! | name | what | served by [`Served`] on |
//! | --- | --- | --- |
//! | `demo-volume` ([`demo_volume`]) | a VolumeDriver: each volume a directory under `STATE/volumes/`, kept across restarts | a unix socket |
//! | `demo-ipam` ([`demo_ipam`]) | an in-memory IpamDriver (IPv4) | a unix socket |
//! | `demo-net` ([`demo_net`]) | a NetworkDriver: a host bridge per network, a veth pair per endpoint (rtnetlink; needs root) | a unix socket |
//! | `demo-authz` ([`demo_authz`]) | an authorization plugin: denies deleting `locked-` objects | a unix socket |
//! | `demo-log` ([`demo_log`]) | a LogDriver: keeps each container's lines in `STATE/logs/`, rotated at `max-size` (10 MiB) with `max-file` (3) files kept, as Docker's `json-file`; reads them back | a unix socket |
//! | `echo` ([`echo`]) | `Echo.Echo` answers its request body | a unix socket |
//! | `echo-tcp` | the same | TCP, with a `.spec` |
//! | `echo-tls` | the same | TLS, with a `.json` naming a CA made on the spot ([`demo_tls`]) |
//! | `demo-metrics` ([`demo_metrics`]) | a MetricsCollector (managed plugins only): scrapes the engine's metrics | not by [`Served`]: `pluginctl demo metrics` |
//!
//! Each function builds a [`PluginServer`]; serve it with `serve_unix`,
//! `serve_tcp`, `serve_tls` or `serve_managed`, or call it in memory, as a
//! tower service. This crate is the plugin side only, as a plugin author
//! writes one: it depends on plugin-subsystems alone (features `server` and
//! `tls`), never on the host's crates.
//!
//! ```
//! use http_body_util::{BodyExt, Full};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let state = tempfile::tempdir()?;
//! let volumes = plugin_demo::demo_volume(state.path())?;
//! // In memory: no socket, no engine.
//! let create = http::Request::post("/VolumeDriver.Create")
//!     .body(Full::new(bytes::Bytes::from(r#"{"Name": "data"}"#)))?;
//! let answer = volumes.clone().oneshot(create).await?;
//! assert_eq!(answer.status(), 200);
//! let list = http::Request::post("/VolumeDriver.List").body(Full::new(bytes::Bytes::new()))?;
//! let answer = volumes.oneshot(list).await?.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
//! let answer: serde_json::Value = serde_json::from_slice(&answer)?;
//! assert_eq!(answer["Volumes"][0]["Name"], "data");
//! // Each volume is a directory under STATE/volumes.
//! assert!(state.path().join("volumes/data").is_dir());
//! # Ok(()) }
//! ```
//!
//! `cargo run -p pluginctl -- demo` serves them all in a temporary directory
//! and calls each; `pluginctl demo serve --dir DIR` serves them until
//! stopped.
//!
//! # Public dependencies
//!
//! No third-party type appears in this crate's public API: its functions
//! hand back plugin-server's `PluginServer`, `Serving` and `TlsFiles`, whose
//! own public dependencies plugin-server's docs list.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Library code never panics on input and never prints: only pluginctl and xtask
// print. (Set here rather than workspace-wide, so tests, examples and benches
// need no exemptions.)
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::print_stdout,
        clippy::print_stderr
    )
)]

mod authz;
mod error;
mod ipam;
mod logs;
mod metrics;
mod net;
mod volume;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use plugin_subsystems::{
    HandlerError, PluginName, PluginServer, PluginServerExt, Serving, TlsFiles,
};

pub use crate::authz::DENIED as AUTHZ_DENIED;
pub use crate::error::DemoError;

/// `O_NOFOLLOW`, for `OpenOptionsExt::custom_flags`: a link planted at a
/// file's path in a state directory fails the open (`ELOOP`), never followed.
pub(crate) fn no_follow() -> i32 {
    // The flag's bits fit an i32 (open(2)'s flags argument).
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

/// The volume plugin's name.
pub const DEMO_VOLUME: &str = "demo-volume";
/// The IPAM plugin's name.
pub const DEMO_IPAM: &str = "demo-ipam";
/// The network plugin's name.
pub const DEMO_NET: &str = "demo-net";
/// The authorization plugin's name.
pub const DEMO_AUTHZ: &str = "demo-authz";
/// The log plugin's name.
pub const DEMO_LOG: &str = "demo-log";
/// The metrics collector's name.
pub const DEMO_METRICS: &str = "demo-metrics";
/// The echo plugin on a unix socket.
pub const ECHO: &str = "echo";
/// The echo plugin on TCP.
pub const ECHO_TCP: &str = "echo-tcp";
/// The echo plugin on TLS.
pub const ECHO_TLS: &str = "echo-tls";

/// `name` as a plugin name (each demo name is one; an `echo` name is the
/// caller's).
fn name(name: &str) -> Result<PluginName, DemoError> {
    PluginName::new(name).map_err(|source| DemoError::Name {
        name: name.to_owned(),
        source,
    })
}

/// `demo-volume`: a VolumeDriver whose volumes are directories under
/// `state/volumes/`, their options, creation times and mounts kept in
/// `state/volumes.json`, so that a restarted plugin still has them. `state`
/// is made if missing.
///
/// As Docker's `local` driver, `Create` of a volume that exists succeeds and
/// keeps the volume as it is (its options too); `Remove` of a mounted volume
/// fails.
///
/// One demo-volume per STATE: it holds an exclusive `flock` on
/// `state/demo-volume.lock` for as long as the returned server (and what
/// serves it) lives, so a second one, in this process or another, is refused
/// rather than rewriting the table from its own and losing the first one's
/// volumes. Links planted in STATE are refused, never followed: the table is
/// written to a new file (`O_EXCL`, `O_NOFOLLOW`) renamed over the old, and
/// a volume's path that is a symbolic link is never made, adopted or
/// answered as a mountpoint.
///
/// # Errors
///
/// [`DemoError::StateLocked`] if another demo-volume holds `state`,
/// [`DemoError::State`] if `state` cannot be made or read,
/// [`DemoError::NotFollowed`] if `state/volumes` is a link or not a
/// directory, [`DemoError::VolumeTable`] if `state/volumes.json` is not a
/// volume table (it is left as it is).
pub fn demo_volume(state: &Path) -> Result<PluginServer, DemoError> {
    let volumes = volume::Directories::open(state)?;
    Ok(PluginServer::new(name(DEMO_VOLUME)?).volume_driver(volumes))
}

/// `demo-net`: a NetworkDriver that makes a host bridge per network and a
/// veth pair per endpoint, with rtnetlink (needs `CAP_NET_ADMIN`; without
/// it, the network calls fail and say why).
///
/// # Errors
///
/// None in practice: the result keeps the signature of the others.
pub fn demo_net() -> Result<PluginServer, DemoError> {
    Ok(PluginServer::new(name(DEMO_NET)?).network_driver(net::Bridges::new(net::Netlink)))
}

/// `demo-authz`: an authorization plugin that allows everything but deleting
/// `locked-` objects (a `DELETE` whose path contains `locked-`), denied with
/// [`AUTHZ_DENIED`].
///
/// # Errors
///
/// None in practice: the result keeps the signature of the others.
pub fn demo_authz() -> Result<PluginServer, DemoError> {
    Ok(PluginServer::new(name(DEMO_AUTHZ)?).authz(authz::LockedObjects))
}

/// `demo-metrics`: a MetricsCollector for managed packaging (`pluginctl
/// demo package --metrics`): at `StartMetrics` it scrapes the engine's
/// metrics socket once into `state/metrics.txt`.
///
/// # Errors
///
/// None in practice: the result keeps the signature of the others.
pub fn demo_metrics(state: &Path) -> Result<PluginServer, DemoError> {
    Ok(PluginServer::new(name(DEMO_METRICS)?).metrics_collector(metrics::Scraper::new(state)))
}

/// `demo-log`: a LogDriver that keeps each container's lines in
/// `state/logs/` (the engine's own frames) and reads them back, honouring
/// `Tail` and `Follow`. `state/logs` is made if missing.
///
/// What is kept is bounded as Docker's `json-file` driver bounds it: a
/// container's `ID.frames` is rotated to `ID.frames.1` (and `.1` to `.2`, and
/// so on) when the next entry would take it past `max-size`, and at most
/// `max-file` files are kept, the oldest dropped. The defaults are
/// `max-size` 10 MiB and `max-file` 3 (30 MiB a container; a single entry,
/// at most 1 MiB, bigger than `max-size` gets a file of its own); a
/// container sets its own with `--log-opt max-size=64k --log-opt
/// max-file=5` (`max-size` in bytes or with `k`, `m`, `g`, powers of 1024;
/// `max-file` from 1 to 100), which the engine passes in `StartLogging`'s
/// `Info.Config`; an invalid one fails `StartLogging`, naming it. `Tail: N`
/// reads the newest file first, skipping over the frames it does not
/// return, and holds only the N entries it answers.
///
/// # Errors
///
/// [`DemoError::State`] if `state/logs` cannot be made.
pub fn demo_log(state: &Path) -> Result<PluginServer, DemoError> {
    let frames = logs::Frames::open(state)?;
    Ok(PluginServer::new(name(DEMO_LOG)?).log_driver(frames))
}

/// `demo-ipam`: an IpamDriver handing out IPv4 pools (by default
/// `10.77.N.0/24`) and the addresses in them, kept in memory.
///
/// # Errors
///
/// None in practice: the result keeps the signature of the others.
pub fn demo_ipam() -> Result<PluginServer, DemoError> {
    Ok(PluginServer::new(name(DEMO_IPAM)?).ipam_driver(ipam::Pools::default()))
}

/// An echo plugin named `plugin`: implements `Echo`; `Echo.Echo` answers its
/// request body.
///
/// # Errors
///
/// [`DemoError::Name`] if `plugin` is not a valid plugin name.
pub fn echo(plugin: &str) -> Result<PluginServer, DemoError> {
    Ok(PluginServer::new(name(plugin)?)
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        }))
}

/// Every plugin [`Served::start`] serves, serving.
#[derive(Debug)]
pub struct Served {
    /// `demo-volume`'s serving: shut it down and serve [`demo_volume`] on the
    /// same socket and state to restart it.
    pub volume: Serving,
    ipam: Serving,
    net: Serving,
    authz: Serving,
    log: Serving,
    echo: Serving,
    echo_tcp: Serving,
    echo_tls: Serving,
    tls_dir: PathBuf,
}

impl Served {
    /// Serves every plugin of the table but `demo-metrics`: the unix
    /// sockets (`NAME.sock`) and the TCP and TLS descriptors in
    /// `plugin_dir`, what the plugins keep in `state`, the TLS CA,
    /// certificate and key ([`demo_tls`]) in `tls_dir` (each made if
    /// missing). TCP and TLS listen on 127.0.0.1, on ports the system picks.
    ///
    /// # Errors
    ///
    /// [`DemoError::Tls`] if the TLS files cannot be made,
    /// [`DemoError::State`] or [`DemoError::VolumeTable`] as
    /// [`demo_volume`] and [`demo_log`], [`DemoError::Serve`] if a plugin
    /// cannot be served (its socket in use, say). What was already serving
    /// is stopped.
    pub fn start(plugin_dir: &Path, state: &Path, tls_dir: &Path) -> Result<Self, DemoError> {
        let tls = demo_tls(tls_dir)?;
        let socket = |name: &str| plugin_dir.join(format!("{name}.sock"));
        let serve = |plugin: &str, served: Result<Serving, plugin_subsystems::ServerError>| {
            served.map_err(|source| DemoError::Serve {
                plugin: plugin.to_owned(),
                source: Box::new(source),
            })
        };
        Ok(Self {
            volume: serve(
                DEMO_VOLUME,
                demo_volume(state)?.serve_unix(socket(DEMO_VOLUME)),
            )?,
            ipam: serve(DEMO_IPAM, demo_ipam()?.serve_unix(socket(DEMO_IPAM)))?,
            net: serve(DEMO_NET, demo_net()?.serve_unix(socket(DEMO_NET)))?,
            authz: serve(DEMO_AUTHZ, demo_authz()?.serve_unix(socket(DEMO_AUTHZ)))?,
            log: serve(DEMO_LOG, demo_log(state)?.serve_unix(socket(DEMO_LOG)))?,
            echo: serve(ECHO, echo(ECHO)?.serve_unix(socket(ECHO)))?,
            echo_tcp: serve(
                ECHO_TCP,
                echo(ECHO_TCP)?.serve_tcp("127.0.0.1:0", plugin_dir),
            )?,
            echo_tls: serve(
                ECHO_TLS,
                echo(ECHO_TLS)?.serve_tls("127.0.0.1:0", &tls, plugin_dir),
            )?,
            tls_dir: tls_dir.to_owned(),
        })
    }

    /// Each plugin's name and where it serves, in the table's order.
    pub fn list(&self) -> [(&'static str, &Serving); 8] {
        [
            (DEMO_VOLUME, &self.volume),
            (DEMO_IPAM, &self.ipam),
            (DEMO_NET, &self.net),
            (DEMO_AUTHZ, &self.authz),
            (DEMO_LOG, &self.log),
            (ECHO, &self.echo),
            (ECHO_TCP, &self.echo_tcp),
            (ECHO_TLS, &self.echo_tls),
        ]
    }

    /// Stops every plugin (removing its socket or descriptor) and removes the
    /// TLS files; `state` is kept.
    ///
    /// # Errors
    ///
    /// [`DemoError::RemoveTls`] if the TLS directory cannot be removed.
    pub async fn shutdown(self) -> Result<(), DemoError> {
        futures_util::future::join_all([
            self.volume.shutdown(),
            self.ipam.shutdown(),
            self.net.shutdown(),
            self.authz.shutdown(),
            self.log.shutdown(),
            self.echo.shutdown(),
            self.echo_tcp.shutdown(),
            self.echo_tls.shutdown(),
        ])
        .await;
        match std::fs::remove_dir_all(&self.tls_dir) {
            Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                Err(DemoError::RemoveTls {
                    dir: self.tls_dir,
                    source,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Makes a CA (`ca.pem`) and a certificate it signed for `localhost` and
/// 127.0.0.1 (`cert.pem`, its key `key.pem`) in `dir` (made if missing),
/// with rcgen; returns them as the [`TlsFiles`] to serve `echo-tls` with
/// (host `localhost`, so that the descriptor a host reads names the CA).
///
/// The key is its owner's alone: `key.pem` is created with mode 0600 (a
/// `key.pem` already there is replaced, not rewritten in place, so an old
/// file's wider mode is not kept); the certificates are public, 0644 (both
/// less the umask).
///
/// # Errors
///
/// [`DemoError::Tls`] if a key or certificate cannot be made or a file
/// cannot be written.
pub fn demo_tls(dir: &Path) -> Result<TlsFiles, DemoError> {
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| DemoError::Tls {
        dir: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(e.into()))?;
    let (ca, cert, key) = certificates().map_err(|e| failed(e.into()))?;
    let (ca_file, cert_file, key_file) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    for (file, pem, mode) in [
        (&ca_file, ca, 0o644),
        (&cert_file, cert, 0o644),
        (&key_file, key, 0o600),
    ] {
        write_new(file, pem.as_bytes(), mode).map_err(|e| failed(e.into()))?;
    }
    Ok(TlsFiles::new(cert_file, key_file)
        .ca_file(ca_file)
        .host("localhost"))
}

/// Writes `bytes` to `file` as a new file created with `mode` (less the
/// umask): a file left there before is removed first, so the mode is the one
/// the file is born with, never one changed after the bytes are in it, and
/// `O_EXCL` refuses a link planted in its place between the two steps.
fn write_new(file: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(file)?;
    out.write_all(bytes)?;
    out.sync_all()
}

/// A CA, a certificate it signed for `localhost` and 127.0.0.1, and the
/// certificate's key, in PEM.
fn certificates() -> Result<(String, String, String), rcgen::Error> {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "pluginctl demo CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate()?)?;
    let key = rcgen::KeyPair::generate()?;
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?
        .signed_by(&key, &ca)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
