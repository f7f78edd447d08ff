//! `pluginctl demo`: the self-contained tour. Serves the demo plugins (plugin-demo) in a
//! temporary directory (unix sockets, TCP with a `.spec`, TLS with a `.json`
//! and a CA made on the spot), then discovers, activates, calls, shows an
//! error, a not-found and a restart, and cleans up. One line per step, with
//! its timing.

use std::path::Path;
use std::time::{Duration, Instant};

use plugin_client::{ClientConfig, RetryConfig};
use plugin_discovery::Discovery;
use plugin_registry::{PluginService, Registry};
use plugin_server::Serving;
use plugin_spec::PluginName;
use plugin_subsystems::authz::{self, AuthzClient, AuthzRequest};
use plugin_subsystems::ipam::{self, IpamDriverClient, RequestAddressRequest, RequestPoolRequest};
use plugin_subsystems::logdriver::{self, LogDriverClient};
use plugin_subsystems::network::{self, NetworkDriverClient};
use plugin_subsystems::volume::{self, VolumeDriverClient};

use plugin_demo::{
    DEMO_AUTHZ, DEMO_IPAM, DEMO_LOG, DEMO_NET, DEMO_VOLUME, ECHO_TCP, ECHO_TLS, Served,
};

use super::Failure;

/// Prints each step's line with the time it took.
struct Steps {
    last: Instant,
    started: Instant,
}

impl Steps {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            last: now,
            started: now,
        }
    }

    fn done(&mut self, what: impl AsRef<str>) {
        let now = Instant::now();
        println!(
            "{:>10}  {}",
            format_duration(now - self.last),
            what.as_ref()
        );
        self.last = now;
    }
}

fn format_duration(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} us", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

pub(crate) async fn run() -> Result<(), Failure> {
    println!("pluginctl demo: Docker-style plugins found, activated and called, no Docker needed");
    let mut steps = Steps::new();
    let dir = tempfile::Builder::new()
        .prefix("pluginctl-demo-")
        .tempdir()?;
    let plugin_dir = dir.path().join("plugins");
    let state = dir.path().join("state");
    let mut served = Served::start(&plugin_dir, &state, &dir.path().join("tls"))?;
    steps.done(format!(
        "served {DEMO_VOLUME}, {DEMO_IPAM}, {DEMO_NET}, {DEMO_AUTHZ}, {DEMO_LOG} and echo (unix sockets), {ECHO_TCP} (TCP, .spec) and {ECHO_TLS} (TLS, .json, CA made just now) in {}",
        plugin_dir.display()
    ));

    let discovery = Discovery::builder().plugin_dir(&plugin_dir).build();
    let scan = discovery.scan();
    let found: Vec<String> = scan
        .plugins()
        .iter()
        .map(|p| format!("{} ({} {})", p.name(), p.source().kind(), p.address()))
        .collect();
    steps.done(format!(
        "discovered {} plugins: {}",
        found.len(),
        found.join(", ")
    ));

    let config = ClientConfig::default().retry(RetryConfig::none());
    let registry = Registry::builder(discovery).client_config(config).build();
    for (name, iface) in [
        (DEMO_VOLUME, volume::IMPLEMENTS),
        (DEMO_IPAM, ipam::IMPLEMENTS),
        (ECHO_TCP, "Echo"),
        (ECHO_TLS, "Echo"),
    ] {
        let plugin = registry.get(name, iface).await?;
        steps.done(format!(
            "activated {name}: implements {}",
            plugin.manifest().implements().join(", ")
        ));
    }
    let secure = registry.get(ECHO_TLS, "Echo").await?;
    let answer = secure
        .client()
        .call_raw("Echo.Echo", r#"{"over":"TLS"}"#)
        .await?;
    steps.done(format!(
        "called Echo.Echo on {ECHO_TLS}, its certificate verified against the demo CA: {}",
        String::from_utf8_lossy(&answer)
    ));

    let volumes: VolumeDriverClient<PluginService> =
        registry.get(DEMO_VOLUME, volume::IMPLEMENTS).await?.typed();
    volumes
        .create(
            "demo-data",
            Some([("size".to_owned(), "1G".to_owned())].into()),
        )
        .await?;
    steps.done("VolumeDriver.Create demo-data (size=1G)");
    let mountpoint = volumes.mount("demo-data", "container-1").await?;
    steps.done(format!("VolumeDriver.Mount demo-data -> {mountpoint}"));
    let listed: Vec<String> = volumes.list().await?.into_iter().map(|v| v.name).collect();
    steps.done(format!("VolumeDriver.List -> [{}]", listed.join(", ")));
    match volumes.remove("demo-data").await {
        Err(error) => steps.done(format!(
            "VolumeDriver.Remove demo-data while mounted, refused: {}",
            crate::output::one_line(&error)
        )),
        Ok(()) => return Err("a mounted volume was removed".into()),
    }
    volumes.unmount("demo-data", "container-1").await?;
    volumes.remove("demo-data").await?;
    steps.done("VolumeDriver.Unmount, then Remove demo-data (its directory deleted)");

    match volumes.remove("no-such-volume").await {
        Err(error) => steps.done(format!(
            "an error decoded from the plugin: {}",
            crate::output::one_line(&error)
        )),
        Ok(()) => return Err("removing a volume that does not exist succeeded".into()),
    }

    let ghost = PluginName::new("not-there")?;
    let started = Instant::now();
    match registry.get(&ghost, volume::IMPLEMENTS).await {
        Err(error) if error.is_not_found() => steps.done(format!(
            "not-there: not found, answered in {} (Docker retries for about 15 s)",
            format_duration(started.elapsed())
        )),
        Err(error) => return Err(error.into()),
        Ok(_) => return Err("a plugin that does not exist was found".into()),
    }

    let ipam: IpamDriverClient<PluginService> =
        registry.get(DEMO_IPAM, ipam::IMPLEMENTS).await?.typed();
    let pool = ipam
        .request_pool(&RequestPoolRequest {
            address_space: "LocalDefault".to_owned(),
            ..RequestPoolRequest::default()
        })
        .await?;
    let address = ipam
        .request_address(&RequestAddressRequest {
            pool_id: pool.pool_id,
            ..RequestAddressRequest::default()
        })
        .await?;
    steps.done(format!(
        "IpamDriver.RequestPool -> {}, RequestAddress -> {}",
        pool.pool, address.address
    ));

    let network: NetworkDriverClient<PluginService> =
        registry.get(DEMO_NET, network::IMPLEMENTS).await?.typed();
    let capabilities = network.capabilities().await?;
    steps.done(format!(
        "{DEMO_NET}: NetworkDriver.GetCapabilities -> scope {} (networks become host bridges, endpoints veth pairs; `pluginctl demo serve` as root)",
        capabilities.scope
    ));

    let authz: AuthzClient<PluginService> =
        registry.get(DEMO_AUTHZ, authz::IMPLEMENTS).await?.typed();
    let ask = |method: &str, uri: &str| AuthzRequest {
        request_method: method.to_owned(),
        request_uri: uri.to_owned(),
        ..AuthzRequest::default()
    };
    let denied = authz
        .authz_request(&ask("DELETE", "/v1.41/volumes/locked-1"))
        .await?;
    let allowed = authz
        .authz_request(&ask("DELETE", "/v1.41/volumes/free-1"))
        .await?;
    steps.done(format!(
        "{DEMO_AUTHZ}: DELETE locked-1 {} ({}), DELETE free-1 {}",
        if denied.allow { "allowed" } else { "denied" },
        denied.msg,
        if allowed.allow { "allowed" } else { "denied" },
    ));

    let logs: LogDriverClient<PluginService> =
        registry.get(DEMO_LOG, logdriver::IMPLEMENTS).await?.typed();
    let capabilities = logs.capabilities().await?;
    steps.done(format!(
        "{DEMO_LOG}: LogDriver.Capabilities -> ReadLogs {} (lines kept in {})",
        capabilities.cap.read_logs,
        state.join("logs").display()
    ));

    volumes.create("left-behind", None).await?;
    served.volume = restart(served.volume, &plugin_dir, &state).await?;
    let after = registry
        .get(DEMO_VOLUME, volume::IMPLEMENTS)
        .await?
        .typed::<VolumeDriverClient<PluginService>>()
        .list()
        .await?;
    steps.done(format!(
        "restarted {DEMO_VOLUME}: the registry saw the new socket and activated the new instance, which kept its {} volume ({}) in {}",
        after.len(),
        after.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "),
        state.display()
    ));

    served.shutdown().await?;
    let path = dir.path().to_owned();
    dir.close()?;
    steps.done(format!(
        "stopped the plugins and removed {}",
        path.display()
    ));
    println!(
        "done in {}; try `pluginctl demo serve --dir DIR` and `pluginctl --plugin-dir DIR ls --activate`",
        format_duration(steps.started.elapsed())
    );
    Ok(())
}

/// Stops the volume plugin and starts a fresh instance on the same socket
/// and the same state.
async fn restart(old: Serving, plugin_dir: &Path, state: &Path) -> Result<Serving, Failure> {
    old.shutdown().await;
    Ok(plugin_demo::demo_volume(state)?
        .serve_unix(plugin_dir.join(format!("{DEMO_VOLUME}.sock")))?)
}
