//! The bundled example plugins, served side by side by `pluginctl demo` and
//! `pluginctl demo serve`:
//!
//! | name | what | served on |
//! | --- | --- | --- |
//! | `demo-volume` | a VolumeDriver: each volume a directory under `STATE/volumes/`, kept across restarts | a unix socket |
//! | `demo-ipam` | an in-memory IpamDriver (IPv4) | a unix socket |
//! | `demo-net` | a NetworkDriver: a host bridge per network, a veth pair per endpoint (rtnetlink; needs root) | a unix socket |
//! | `demo-authz` | an authorization plugin: denies deleting `locked-` objects | a unix socket |
//! | `demo-log` | a LogDriver: keeps each container's lines in `STATE/logs/`, reads them back | a unix socket |
//! | `echo` | `Echo.Echo` answers its request body | a unix socket |
//! | `echo-tcp` | the same | TCP, with a `.spec` |
//! | `echo-tls` | the same | TLS, with a `.json` naming a CA made on the spot |

pub(crate) mod authz;
mod ipam;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod net;
#[cfg(test)]
mod tests;
pub(crate) mod volume;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use plugin_server::{HandlerError, PluginName, PluginServer, Serving, TlsFiles};
use plugin_spec::SpecError;
use plugin_subsystems::PluginServerExt;

use crate::commands::Failure;

/// The volume plugin's name.
pub(crate) const DEMO_VOLUME: &str = "demo-volume";
/// The IPAM plugin's name.
pub(crate) const DEMO_IPAM: &str = "demo-ipam";
/// The network plugin's name.
pub(crate) const DEMO_NET: &str = "demo-net";
/// The authorization plugin's name.
pub(crate) const DEMO_AUTHZ: &str = "demo-authz";
/// The log plugin's name.
pub(crate) const DEMO_LOG: &str = "demo-log";
/// The echo plugin on a unix socket.
pub(crate) const ECHO: &str = "echo";
/// The echo plugin on TCP.
pub(crate) const ECHO_TCP: &str = "echo-tcp";
/// The echo plugin on TLS.
pub(crate) const ECHO_TLS: &str = "echo-tls";

/// `demo-volume`: volumes as directories under `state/volumes/`, their table
/// in `state/volumes.json`.
pub(crate) fn demo_volume(state: &Path) -> Result<PluginServer, Failure> {
    let volumes = volume::Directories::open(state)?;
    Ok(PluginServer::new(PluginName::new(DEMO_VOLUME)?).volume_driver(volumes))
}

/// `demo-net`: a bridge per network, a veth pair per endpoint.
pub(crate) fn demo_net() -> Result<PluginServer, SpecError> {
    Ok(PluginServer::new(PluginName::new(DEMO_NET)?)
        .network_driver(net::Bridges::new(net::Netlink)))
}

/// `demo-authz`: allows everything but deleting `locked-` objects.
pub(crate) fn demo_authz() -> Result<PluginServer, SpecError> {
    Ok(PluginServer::new(PluginName::new(DEMO_AUTHZ)?).authz(authz::LockedObjects))
}

/// `demo-metrics`: a MetricsCollector for managed packaging (`demo
/// package --metrics`), keeping the engine's metrics in `state/metrics.txt`.
pub(crate) fn demo_metrics(state: &Path) -> Result<PluginServer, SpecError> {
    Ok(PluginServer::new(PluginName::new("demo-metrics")?)
        .metrics_collector(metrics::Scraper::new(state)))
}

/// `demo-log`: each container's lines in `state/logs/`.
pub(crate) fn demo_log(state: &Path) -> Result<PluginServer, Failure> {
    let frames = logs::Frames::open(state)?;
    Ok(PluginServer::new(PluginName::new(DEMO_LOG)?).log_driver(frames))
}

/// `demo-ipam`: IPv4 pools and addresses kept in memory.
pub(crate) fn demo_ipam() -> Result<PluginServer, SpecError> {
    Ok(PluginServer::new(PluginName::new(DEMO_IPAM)?).ipam_driver(ipam::Pools::default()))
}

/// An echo plugin named `plugin`: implements `Echo`; `Echo.Echo` answers its
/// request body.
pub(crate) fn echo(plugin: &str) -> Result<PluginServer, SpecError> {
    Ok(PluginServer::new(PluginName::new(plugin)?)
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        }))
}

/// Every bundled plugin, serving.
#[derive(Debug)]
pub(crate) struct Served {
    /// `demo-volume`.
    pub(crate) volume: Serving,
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
    /// Serves every bundled plugin: sockets and descriptors in `plugin_dir`,
    /// what the plugins keep in `state`, the TLS CA, certificate and key in
    /// `tls_dir` (each created if missing).
    pub(crate) fn start(plugin_dir: &Path, state: &Path, tls_dir: &Path) -> Result<Self, Failure> {
        let tls = make_tls(tls_dir)?;
        let socket = |name: &str| plugin_dir.join(format!("{name}.sock"));
        Ok(Self {
            volume: demo_volume(state)?.serve_unix(socket(DEMO_VOLUME))?,
            ipam: demo_ipam()?.serve_unix(socket(DEMO_IPAM))?,
            net: demo_net()?.serve_unix(socket(DEMO_NET))?,
            authz: demo_authz()?.serve_unix(socket(DEMO_AUTHZ))?,
            log: demo_log(state)?.serve_unix(socket(DEMO_LOG))?,
            echo: echo(ECHO)?.serve_unix(socket(ECHO))?,
            echo_tcp: echo(ECHO_TCP)?.serve_tcp("127.0.0.1:0", plugin_dir)?,
            echo_tls: echo(ECHO_TLS)?.serve_tls("127.0.0.1:0", &tls, plugin_dir)?,
            tls_dir: tls_dir.to_owned(),
        })
    }

    /// Each plugin's name and where it serves, in the table's order.
    pub(crate) fn list(&self) -> [(&'static str, &Serving); 8] {
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
    /// TLS files.
    pub(crate) async fn shutdown(self) -> std::io::Result<()> {
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
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// A CA, and a certificate it signed for `localhost` and 127.0.0.1, as files
/// in `dir`.
fn make_tls(dir: &Path) -> Result<TlsFiles, Failure> {
    std::fs::create_dir_all(dir)?;
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
    let (ca_file, cert_file, key_file) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_file, ca.pem())?;
    std::fs::write(&cert_file, cert.pem())?;
    std::fs::write(&key_file, key.serialize_pem())?;
    Ok(TlsFiles::new(cert_file, key_file)
        .ca_file(ca_file)
        .host("localhost"))
}
