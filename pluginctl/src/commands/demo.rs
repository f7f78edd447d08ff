//! `pluginctl demo`: the self-contained tour. Serves the bundled plugins in a
//! temporary directory (unix sockets, TCP with a `.spec`, TLS with a `.json`
//! and a CA made on the spot), then discovers, activates, calls, shows an
//! error, a not-found and a restart, and cleans up. One line per step, with
//! its timing.

use std::path::Path;
use std::time::{Duration, Instant};

use plugin_client::{ClientConfig, RetryPolicy};
use plugin_discovery::Discovery;
use plugin_registry::{PluginService, Registry};
use plugin_server::Serving;
use plugin_spec::PluginName;
use plugin_subsystems::ipam::{self, IpamDriverClient, RequestAddressRequest, RequestPoolRequest};
use plugin_subsystems::volume::{self, VolumeDriverClient};

use super::Failure;
use crate::plugins::{self, DEMO_IPAM, DEMO_VOLUME, ECHO_TCP, ECHO_TLS, Served};

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
    let mut served = Served::start(&plugin_dir, &dir.path().join("tls"))?;
    steps.done(format!(
        "served {DEMO_VOLUME}, {DEMO_IPAM} and echo (unix sockets), {ECHO_TCP} (TCP, .spec) and {ECHO_TLS} (TLS, .json, CA made just now) in {}",
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

    let config = ClientConfig::default().retry(RetryPolicy::none());
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
    volumes.remove("demo-data").await?;
    steps.done("VolumeDriver.Remove demo-data");

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

    volumes.create("left-behind", None).await?;
    served.volume = restart(served.volume, &plugin_dir).await?;
    let after = registry
        .get(DEMO_VOLUME, volume::IMPLEMENTS)
        .await?
        .typed::<VolumeDriverClient<PluginService>>()
        .list()
        .await?;
    steps.done(format!(
        "restarted {DEMO_VOLUME} (the old instance held 1 volume): the registry saw the new socket and activated the new instance, which holds {}",
        after.len()
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

/// Stops the volume plugin and starts a fresh instance on the same socket.
async fn restart(old: Serving, plugin_dir: &Path) -> Result<Serving, Failure> {
    old.shutdown().await;
    Ok(plugins::demo_volume()?.serve_unix(plugin_dir.join(format!("{DEMO_VOLUME}.sock")))?)
}
