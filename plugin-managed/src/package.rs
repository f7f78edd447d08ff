//! `pluginctl package` and `pluginctl validate`: a managed (v2) plugin
//! directory (`config.json` and `rootfs/`) from a binary, and the check of
//! one.
//!
//! The rootfs holds the binary, the shared libraries it loads (found from the
//! ELF's interpreter and `DT_NEEDED` entries, then theirs; none for a static
//! binary) at the paths the loader looks in, and the directories the engine
//! expects (`/run/docker/plugins`, `/tmp`). The directory is built beside
//! `--out` and renamed into place only when complete, so a failed run leaves
//! nothing behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use plugin_subsystems::managed::{InterfaceType, PluginConfig, SOCKET_DIR};

use super::Failure;

/// Where the loader looks for libraries without a `RUNPATH` (Debian's
/// multiarch directories first).
const LIBRARY_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// What goes into a plugin directory.
#[derive(Debug)]
pub(crate) struct Package {
    /// The plugin's binary, on this machine.
    pub(crate) binary: PathBuf,
    /// Its `config.json`; the binary is copied to its entrypoint's path in
    /// the rootfs.
    pub(crate) config: PluginConfig,
    /// The plugin directory to make (must not exist).
    pub(crate) out: PathBuf,
}

/// The config from flags: `--type` (volumedriver, ...), `--socket`,
/// `--description`, `--propagated-mount`, `--capability`, `--network`, and
/// the arguments after the binary.
pub(crate) fn config_from_flags(
    binary: &Path,
    flags: &crate::cli::PackageFlags,
) -> Result<PluginConfig, Failure> {
    let name = file_name(binary)?;
    let kind = flags
        .kind
        .as_deref()
        .ok_or("give --config FILE, or --type (volumedriver, networkdriver, ipamdriver, authz, logdriver, metricscollector, secretprovider) and --socket")?;
    let socket = flags
        .socket
        .clone()
        .unwrap_or_else(|| format!("{}.sock", name.trim_end_matches(".sock")));
    let entrypoint = std::iter::once(format!("/{name}")).chain(flags.args.iter().cloned());
    let mut config = PluginConfig::new(
        flags
            .description
            .clone()
            .unwrap_or_else(|| format!("{name}, packaged by pluginctl")),
        entrypoint,
        &format!("docker.{kind}/1.0"),
        socket,
    );
    if let Some(path) = &flags.propagated_mount {
        config = config.propagated_mount(path.clone());
    }
    config.linux.capabilities = flags.capabilities.clone();
    config.network.kind = flags.network.clone().unwrap_or_default();
    Ok(config)
}

fn file_name(path: &Path) -> Result<String, Failure> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{} has no usable file name", path.display()).into())
}

/// Builds the plugin directory; the libraries copied (absolute paths in the
/// rootfs).
pub(crate) fn build(package: &Package) -> Result<Vec<String>, Failure> {
    let out = &package.out;
    if out.exists() {
        return Err(format!(
            "{} already exists; remove it or give another --out",
            out.display()
        )
        .into());
    }
    let meta = std::fs::metadata(&package.binary)
        .map_err(|e| format!("cannot use the binary {}: {e}", package.binary.display()))?;
    if !meta.is_file() {
        return Err(format!("the binary {} is not a file", package.binary.display()).into());
    }
    package.config.validate()?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
    // Built beside OUT, renamed into place when complete: a failure (or
    // Ctrl-C) leaves no half-built OUT.
    let partial = tempfile::Builder::new()
        .prefix(".pluginctl-package-")
        .tempdir_in(&parent)
        .map_err(|e| format!("cannot make a directory in {}: {e}", parent.display()))?;
    let rootfs = partial.path().join("rootfs");
    for dir in [SOCKET_DIR, "/tmp"] {
        let path = inside(&rootfs, Path::new(dir));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot make {}: {e}", path.display()))?;
    }
    set_mode(&inside(&rootfs, Path::new("/tmp")), 0o1777)?;
    if !package.config.propagated_mount.is_empty() {
        // Where the engine mounts the propagated directory.
        let path = inside(&rootfs, Path::new(&package.config.propagated_mount));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot make {}: {e}", path.display()))?;
    }
    let entry = package
        .config
        .entrypoint
        .first()
        .cloned()
        .unwrap_or_default();
    let target = inside(&rootfs, Path::new(&entry));
    copy_file(&package.binary, &target)?;
    set_mode(&target, 0o755)?;
    let libraries = needed_libraries(&package.binary)?;
    for library in &libraries {
        let copy = inside(&rootfs, Path::new(library));
        copy_file(Path::new(library), &copy)?;
    }
    package.config.validate_rootfs(&rootfs)?;
    let config = partial.path().join("config.json");
    std::fs::write(&config, package.config.to_json())
        .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let built = partial.keep();
    std::fs::rename(&built, out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&built);
        format!("cannot move the plugin directory to {}: {e}", out.display())
    })?;
    Ok(libraries)
}

/// `path` (absolute, in the plugin) under `rootfs`.
fn inside(rootfs: &Path, path: &Path) -> PathBuf {
    let mut out = rootfs.to_owned();
    for component in path.components() {
        if let std::path::Component::Normal(part) = component {
            out.push(part);
        }
    }
    out
}

fn set_mode(path: &Path, mode: u32) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()).into())
}

fn copy_file(from: &Path, to: &Path) -> Result<(), Failure> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()).into())
}

/// The interpreter and every shared library `binary` loads, directly or
/// through another library, as absolute paths on this machine (where the
/// loader finds them, so the same paths in the rootfs work); empty for a
/// static binary.
pub(crate) fn needed_libraries(binary: &Path) -> Result<Vec<String>, Failure> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut queue = vec![binary.to_owned()];
    let mut seen_names: BTreeSet<String> = BTreeSet::new();
    while let Some(object) = queue.pop() {
        let bytes =
            std::fs::read(&object).map_err(|e| format!("cannot read {}: {e}", object.display()))?;
        let elf = goblin::elf::Elf::parse(&bytes)
            .map_err(|e| format!("{} is not an ELF binary: {e}", object.display()))?;
        if let Some(interpreter) = elf.interpreter {
            found.insert(interpreter.to_owned());
        }
        let search: Vec<PathBuf> = elf
            .runpaths
            .iter()
            .chain(&elf.rpaths)
            .flat_map(|p| p.split(':'))
            .filter(|p| p.starts_with('/'))
            .map(PathBuf::from)
            .chain(LIBRARY_DIRS.iter().map(PathBuf::from))
            .collect();
        for library in &elf.libraries {
            if !seen_names.insert((*library).to_owned()) {
                continue;
            }
            let path = if library.contains('/') {
                Some(PathBuf::from(library))
            } else {
                search
                    .iter()
                    .map(|dir| dir.join(library))
                    .find(|p| p.is_file())
            }
            .ok_or_else(|| {
                format!(
                    "{} needs {library}, which is not in {}",
                    object.display(),
                    LIBRARY_DIRS.join(", ")
                )
            })?;
            found.insert(path.display().to_string());
            queue.push(path);
        }
    }
    Ok(found.into_iter().collect())
}

/// `pluginctl package`.
pub(crate) fn run(package: &Package, create: Option<&str>) -> Result<(), Failure> {
    let libraries = build(package)?;
    println!(
        "packaged {} as {} ({} on {}): rootfs/{} with {}",
        package.binary.display(),
        package.out.display(),
        package
            .config
            .interface
            .types
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        package.config.socket_path().display(),
        package
            .config
            .entrypoint
            .first()
            .map_or("", |e| e.trim_start_matches('/')),
        if libraries.is_empty() {
            "no shared libraries (static)".to_owned()
        } else {
            format!(
                "{} shared libraries ({})",
                libraries.len(),
                libraries.join(", ")
            )
        }
    );
    if let Some(name) = create {
        create_plugin(name, &package.out)?;
        println!("created plugin {name} (docker plugin enable {name} starts it)");
    }
    Ok(())
}

/// `docker plugin create NAME DIR`, with the caller's `DOCKER_HOST`.
pub(crate) fn create_plugin(name: &str, dir: &Path) -> Result<(), Failure> {
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
    let config_path = dir.join("config.json");
    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("cannot read {}: {e}", config_path.display()))?;
    let config =
        PluginConfig::from_json(&text).map_err(|e| format!("{}: {}", config_path.display(), e))?;
    let rootfs = dir.join("rootfs");
    config
        .validate_rootfs(&rootfs)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let entry = inside(
        &rootfs,
        Path::new(config.entrypoint.first().map_or("", String::as_str)),
    );
    let missing: Vec<String> = loaded_in(&rootfs, &entry)?;
    if !missing.is_empty() {
        return Err(format!(
            "{}: the entrypoint needs {}, missing from rootfs/",
            dir.display(),
            missing.join(", ")
        )
        .into());
    }
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

/// The libraries (and interpreter) `binary` in `rootfs` needs that the rootfs
/// does not hold.
fn loaded_in(rootfs: &Path, binary: &Path) -> Result<Vec<String>, Failure> {
    let bytes =
        std::fs::read(binary).map_err(|e| format!("cannot read {}: {e}", binary.display()))?;
    let Ok(elf) = goblin::elf::Elf::parse(&bytes) else {
        // A script, say: its interpreter's needs are its own.
        return Ok(Vec::new());
    };
    let mut missing = Vec::new();
    if let Some(interpreter) = elf.interpreter {
        if !inside(rootfs, Path::new(interpreter)).is_file() {
            missing.push(interpreter.to_owned());
        }
    }
    for library in &elf.libraries {
        let present = LIBRARY_DIRS
            .iter()
            .any(|dir| inside(rootfs, &Path::new(dir).join(library)).is_file());
        if !present {
            missing.push((*library).to_owned());
        }
    }
    Ok(missing)
}

/// `pluginctl demo package --out DIR [--metrics]`: this pluginctl as the
/// managed demo-volume plugin, its volumes under the propagated mount
/// `/data`; or as demo-metrics.
pub(crate) fn demo(out: &Path, metrics: bool, create: Option<&str>) -> Result<(), Failure> {
    let binary =
        std::env::current_exe().map_err(|e| format!("cannot find this program's binary: {e}"))?;
    let documentation =
        "https://github.com/docker-plugins-rs/docker-plugins/tree/main/pluginctl".to_owned();
    if metrics {
        let mut config = PluginConfig::new(
            "pluginctl's demo-metrics: scrapes the engine's metrics at StartMetrics",
            [
                "/pluginctl",
                "demo",
                "metrics",
                "--managed",
                "demo-metrics.sock",
                "--state",
                "/state",
            ],
            InterfaceType::METRICS_COLLECTOR,
            "demo-metrics.sock",
        );
        config.documentation = documentation;
        let package = Package {
            binary,
            config,
            out: out.to_owned(),
        };
        return run(&package, create);
    }
    let mut config = PluginConfig::new(
        "pluginctl's demo-volume: volumes as directories under the propagated mount",
        [
            "/pluginctl",
            "demo",
            "volume",
            "--managed",
            "demo-volume.sock",
            "--state",
            "/data",
        ],
        InterfaceType::VOLUME_DRIVER,
        "demo-volume.sock",
    )
    .propagated_mount("/data");
    config.documentation = documentation;
    // The binary keeps its name in the rootfs: `/pluginctl`.
    let named = Package {
        binary,
        config,
        out: out.to_owned(),
    };
    run(&named, create)
}
