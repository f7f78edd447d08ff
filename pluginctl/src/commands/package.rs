//! `pluginctl package` and `pluginctl validate`: plugin-managed's packager
//! and check of a managed (v2) plugin directory, on the command line.

use std::path::Path;
use std::process::Command;

use plugin_managed::{InterfaceType, Packager, PluginConfig};
use plugin_spec::SocketName;

use super::Failure;

/// The config from flags: `--type` (volumedriver, ...), `--socket`,
/// `--description`, `--propagated-mount`, `--capability`, `--network`, and
/// the arguments after the binary. The socket is asked once: without
/// `--socket`, it is the one the arguments name (`--managed p.sock`), else
/// BINARY.sock; given both, they must agree ([`PluginConfig::validate`]).
pub(crate) fn config_from_flags(
    binary: &Path,
    flags: &crate::cli::PackageFlags,
) -> Result<PluginConfig, Failure> {
    let name = binary
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no usable file name", binary.display()))?;
    let kind = flags
        .kind
        .as_deref()
        .ok_or("give --config FILE, or --type (volumedriver, networkdriver, ipamdriver, authz, logdriver, metricscollector, secretprovider)")?;
    let entrypoint: Vec<String> = std::iter::once(format!("/{name}"))
        .chain(flags.args.iter().cloned())
        .collect();
    let mut config = PluginConfig::new(
        flags
            .description
            .clone()
            .unwrap_or_else(|| format!("{name}, packaged by pluginctl")),
        entrypoint,
        InterfaceType::parse(&format!("docker.{kind}/1.0"))?,
        SocketName::new(format!("{}.sock", name.trim_end_matches(".sock")))?,
    );
    config.interface.socket = match &flags.socket {
        Some(socket) => SocketName::new(socket)?.to_string(),
        None => config
            .entrypoint_socket()
            .map_or(config.interface.socket.clone(), str::to_owned),
    };
    if let Some(path) = &flags.propagated_mount {
        config = config.propagated_mount(path.clone());
    }
    config.linux.capabilities = flags.capabilities.clone();
    config.network.kind = flags.network.clone().unwrap_or_default();
    Ok(config)
}

/// `pluginctl package`.
pub(crate) fn run(packager: &Packager, out: &Path, create: Option<&str>) -> Result<(), Failure> {
    let packaged = packager.build(out)?;
    let config = packager.config();
    let libraries: Vec<String> = packaged
        .libraries()
        .iter()
        .map(|l| l.display().to_string())
        .collect();
    println!(
        "packaged {} as {} ({} on {}): rootfs/{} with {}; {} bytes in rootfs/",
        packager.binary().display(),
        out.display(),
        config
            .interface
            .types
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        config.socket_path().display(),
        config
            .entrypoint
            .first()
            .map_or("", |e| e.trim_start_matches('/')),
        if packaged.is_static() {
            "no shared libraries (static)".to_owned()
        } else {
            format!(
                "{} shared libraries ({})",
                libraries.len(),
                libraries.join(", ")
            )
        },
        packaged.rootfs_bytes()
    );
    if let Some(name) = create {
        create_plugin(name, out)?;
        println!("created plugin {name} (docker plugin enable {name} starts it)");
    }
    Ok(())
}

/// `docker plugin create NAME DIR`, with the caller's `DOCKER_HOST`.
fn create_plugin(name: &str, dir: &Path) -> Result<(), Failure> {
    let out = Command::new("docker")
        .args(["plugin", "create", name])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run docker (is the docker CLI installed?): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "docker plugin create {name} {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into())
    }
}

/// `pluginctl validate DIR`: `config.json` read and checked, and the rootfs
/// holding the entrypoint, the libraries it loads and the socket directory.
pub(crate) fn validate(dir: &Path) -> Result<(), Failure> {
    let config = plugin_managed::check_dir(dir)?;
    let kinds: Vec<String> = config
        .interface
        .types
        .iter()
        .map(ToString::to_string)
        .collect();
    println!(
        "{}: a valid plugin directory: {} on {}, entrypoint {}",
        dir.display(),
        kinds.join(", "),
        config.socket_path().display(),
        config.entrypoint.join(" ")
    );
    Ok(())
}

/// `pluginctl demo package --out DIR [--metrics]`: this pluginctl as the
/// managed demo-volume plugin, its volumes under the propagated mount
/// `/data`; or as demo-metrics.
#[cfg(feature = "demo")]
pub(crate) fn demo(out: &Path, metrics: bool, create: Option<&str>) -> Result<(), Failure> {
    let binary =
        std::env::current_exe().map_err(|e| format!("cannot find this program's binary: {e}"))?;
    let (name, kind, description) = if metrics {
        (
            "demo-metrics",
            InterfaceType::MetricsCollector,
            "pluginctl's demo-metrics: scrapes the engine's metrics at StartMetrics",
        )
    } else {
        (
            "demo-volume",
            InterfaceType::VolumeDriver,
            "pluginctl's demo-volume: volumes as directories under the propagated mount",
        )
    };
    let socket = SocketName::new(format!("{name}.sock"))?;
    let (command, state) = if metrics {
        ("metrics", "/state")
    } else {
        ("volume", "/data")
    };
    // The binary keeps its name in the rootfs: `/pluginctl`.
    let entrypoint = [
        "/pluginctl",
        "demo",
        command,
        "--managed",
        socket.as_str(),
        "--state",
        state,
    ];
    let mut config = PluginConfig::new(description, entrypoint, kind, socket.clone());
    if !metrics {
        config = config.propagated_mount("/data");
    }
    config.documentation =
        "https://github.com/docker-plugins-rs/docker-plugins/tree/main/pluginctl".to_owned();
    run(&Packager::new(binary, config), out, create)
}
