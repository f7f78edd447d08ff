//! The managed (v2) plugin cases through dockerd: demo-volume and
//! demo-metrics packaged by `pluginctl demo package`, created, enabled, used,
//! disabled and removed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::docker::Docker;
use super::{Row, Run, case, expect};

/// `pluginctl demo package [--metrics] --out DIR`, then `docker plugin
/// create PLUGIN DIR` and `docker plugin enable PLUGIN`.
fn package_and_enable(
    pluginctl: &Path,
    docker: &Docker,
    dir: &Path,
    plugin: &str,
    metrics: bool,
) -> Result<(), String> {
    let mut command = Command::new(pluginctl);
    command.args(["demo", "package"]);
    if metrics {
        command.arg("--metrics");
    }
    let out = command
        .arg("--out")
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run pluginctl: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    docker.run(&["plugin", "create", plugin, &dir.to_string_lossy()])?;
    docker.run(&["plugin", "enable", plugin]).map(drop)
}

/// The demo volume driver as a managed plugin: packaged by `pluginctl demo
/// package`, created, enabled and used by the engine, then disabled and
/// removed.
pub(super) fn managed_cases(
    pluginctl: &Path,
    run: &Run,
    docker: &Docker,
    image: &str,
    rows: &mut Vec<Row>,
) {
    let plugin = format!("{}-managed:latest", run.id);
    let dir = run.path("managed-plugin");
    case(
        rows,
        "docker",
        "managed plugin: pluginctl demo package, docker plugin create, enable",
        || {
            package_and_enable(pluginctl, docker, &dir, &plugin, false)?;
            let listed = docker.run(&["plugin", "ls", "--format", "{{.Name}} {{.Enabled}}"])?;
            expect(
                listed.lines().any(|l| l == format!("{plugin} true")),
                format!("plugin ls: [{}]", listed.replace('\n', ", ")),
            )
        },
    );
    case(
        rows,
        "docker",
        "managed demo-volume: a container writes into its volume, a second reads it",
        || {
            docker.run(&["volume", "create", "-d", &plugin, "managed-1"])?;
            docker.run(&[
                "run",
                "--rm",
                "--network",
                "none",
                "-v",
                "managed-1:/data",
                image,
                "sh",
                "-c",
                "echo from-managed > /data/file",
            ])?;
            let read = docker.run(&[
                "run",
                "--rm",
                "--network",
                "none",
                "-v",
                "managed-1:/data",
                image,
                "cat",
                "/data/file",
            ])?;
            let mountpoint =
                docker.run(&["volume", "inspect", "-f", "{{.Mountpoint}}", "managed-1"])?;
            docker.run(&["volume", "rm", "managed-1"])?;
            expect(
                read == "from-managed",
                format!(
                    "second container read {read:?}; inspect shows the plugin's path {mountpoint}, which the engine maps into the plugin's rootfs"
                ),
            )
        },
    );
    case(
        rows,
        "docker",
        "managed plugin: docker plugin disable, rm",
        || {
            docker.run(&["plugin", "disable", &plugin])?;
            docker.run(&["plugin", "rm", &plugin])?;
            let listed = docker.run(&["plugin", "ls", "-q"])?;
            expect(
                listed.is_empty(),
                format!("disabled and removed; plugin ls: [{listed}]"),
            )
        },
    );
}

/// demo-metrics as a managed MetricsCollector: the engine calls its
/// StartMetrics when it is enabled, and it scrapes the engine's metrics
/// socket, which the engine mounts into it.
pub(super) fn metrics_case(pluginctl: &Path, run: &Run, docker: &Docker, rows: &mut Vec<Row>) {
    let plugin = format!("{}-metrics:latest", run.id);
    let dir = run.path("metrics-plugin");
    case(
        rows,
        "docker",
        "managed MetricsCollector: the engine starts metrics for it, and it scrapes them",
        || {
            package_and_enable(pluginctl, docker, &dir, &plugin, true)?;
            let id = docker.run(&["plugin", "inspect", "-f", "{{.Id}}", &plugin])?;
            // The plugin's rootfs, as the engine unpacked it.
            let kept = run.path(&format!("docker/plugins/{id}/rootfs/state/metrics.txt"));
            let started = Instant::now();
            let mut scraped = None;
            while started.elapsed() < Duration::from_secs(20) {
                if let Ok(text) = std::fs::read_to_string(&kept) {
                    scraped = Some(text);
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            docker.run(&["plugin", "disable", &plugin])?;
            docker.run(&["plugin", "rm", &plugin])?;
            let scraped = scraped.ok_or_else(|| format!("{} never appeared", kept.display()))?;
            let sample = scraped
                .lines()
                .find(|l| !l.starts_with('#') && !l.is_empty())
                .unwrap_or("")
                .to_owned();
            expect(
                scraped.contains("engine_daemon"),
                format!(
                    "{} lines of the engine's metrics, e.g. {sample:?}",
                    scraped.lines().count()
                ),
            )
        },
    );
}
