//! The private dockerd: started with its own roots and socket, driven
//! through the `docker` command line, and the order of its cases.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::teardown::Teardown;
use super::{Row, Run, START_WAIT, case, expect, import_image};

pub(super) fn start_dockerd(run: &Run) -> Result<Child, String> {
    let log = std::fs::File::create(run.path("dockerd.log"))
        .map_err(|e| format!("engine: cannot make dockerd's log: {e}"))?;
    let mut command = Command::new("dockerd");
    command
        .arg("--data-root")
        .arg(run.path("docker"))
        .arg("--exec-root")
        .arg(run.path("exec"))
        .arg("--pidfile")
        .arg(run.path("docker.pid"))
        .arg("--host")
        .arg(format!("unix://{}", run.path("docker.sock").display()))
        .args([
            "--storage-driver",
            "vfs",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
            "--authorization-plugin",
            &run.plugin("authz"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::from(log));
    command
        .spawn()
        .map_err(|e| format!("cannot start dockerd: {e}"))
}

/// The `docker` command line against the private dockerd.
pub(super) struct Docker {
    pub(super) host: String,
}

impl Docker {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("docker");
        command.args(args).env("DOCKER_HOST", &self.host);
        command
    }

    /// Runs `docker ARGS`; its stdout, or its stderr as the error.
    pub(super) fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .command(args)
            .output()
            .map_err(|e| format!("cannot run docker: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    pub(super) fn wait_ready(&self) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < START_WAIT {
            match self.run(&["version", "--format", "{{.Server.Version}}"]) {
                Ok(_) => return Ok(()),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "dockerd did not answer within {START_WAIT:?}: {last}"
        ))
    }
}

/// The cases through the private dockerd: the image, then volumes,
/// networks and IPAM, authz, logs, managed plugins and an unknown driver, in
/// that order.
pub(super) fn docker_cases(
    root: &Path,
    pluginctl: &Path,
    run: &Run,
    docker: &Docker,
    teardown: &Mutex<Teardown>,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let image = format!("{}-busybox:1", run.id);
    case(
        rows,
        "docker",
        "image from busybox-static (docker import)",
        || {
            import_image(run, "docker", |tarball| {
                docker.run(&["import", &tarball.to_string_lossy(), &image])
            })
            .map(|id| format!("imported {image} ({})", id.get(..19).unwrap_or(&id)))
        },
    );

    super::volume::cases(pluginctl, run, docker, &image, teardown, rows);
    super::network::cases(root, run, docker, &image, rows);
    super::authz::cases(pluginctl, run, docker, rows);
    super::logs::cases(run, docker, &image, rows);
    super::managed::managed_cases(pluginctl, run, docker, &image, rows);
    super::managed::metrics_case(pluginctl, run, docker, rows);

    let ghost = run.plugin("no-such-driver");
    case(
        rows,
        "docker",
        "an unknown volume driver: the engine's error, and how long it took",
        || {
            let started = Instant::now();
            let err = docker
                .run(&["volume", "create", "-d", &ghost, "ghost-1"])
                .err()
                .unwrap_or_default();
            let took = started.elapsed();
            expect(
                err.contains(&ghost) && err.contains("not found"),
                format!(
                    "{err:?} after {:.1} s (Docker's plugin lookup retries; ours answers in microseconds)",
                    took.as_secs_f64()
                ),
            )
        },
    );
    Ok(())
}
