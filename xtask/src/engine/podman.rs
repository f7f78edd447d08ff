//! The volume cases through Podman, with its own `containers.conf`, root
//! and runroot.

use std::path::PathBuf;
use std::process::Command;

use super::{Row, Run, case, expect, import_image, skip};

/// The same volume cases through Podman, with its own configuration, root
/// and runroot under the run directory.
pub(super) fn podman_cases(run: &Run, rows: &mut Vec<Row>) {
    let conf = run.path("podman/containers.conf");
    let volume = run.plugin("volume");
    let socket = run.path("plugins/demo-volume.sock");
    let written = std::fs::create_dir_all(run.path("podman")).and_then(|()| {
        std::fs::write(
            &conf,
            format!(
                "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n\n[engine.volume_plugins]\n{volume} = \"{}\"\n",
                socket.display()
            ),
        )
    });
    if let Err(e) = written {
        rows.push(skip(
            "podman cases",
            "podman",
            format!("cannot write {}: {e}", conf.display()),
        ));
        return;
    }
    let podman = Podman {
        conf,
        root: run.path("podman/root"),
        runroot: run.path("podman/runroot"),
    };
    if let Err(e) = podman.run(&["info", "--format", "{{.Host.OCIRuntime.Name}}"]) {
        rows.push(skip(
            "podman cases",
            "podman",
            format!("podman does not start: {e}"),
        ));
        return;
    }
    case(rows, "podman", "volume create/ls/inspect/rm", || {
        podman.run(&[
            "volume", "create", "--driver", &volume, "-o", "size=1G", "pvol-1",
        ])?;
        let listed = podman.run(&["volume", "ls", "--format", "{{.Driver}} {{.Name}}"])?;
        let mountpoint = podman.run(&["volume", "inspect", "-f", "{{.Mountpoint}}", "pvol-1"])?;
        podman.run(&["volume", "rm", "pvol-1"])?;
        let after = podman.run(&["volume", "ls", "-q"])?;
        expect(
            listed.contains(&format!("{volume} pvol-1")) && !after.lines().any(|l| l == "pvol-1"),
            format!(
                "listed [{listed}], mountpoint {}, gone after rm",
                if mountpoint.is_empty() {
                    "none until mounted"
                } else {
                    mountpoint.as_str()
                }
            ),
        )
    });
    let image = format!("localhost/{}-busybox:1", run.id);
    let imported = import_image(run, "podman", |tarball| {
        podman.run(&["import", &tarball.to_string_lossy(), &image])
    });
    if let Err(e) = imported {
        rows.push(skip(
            "podman: a container writes into a volume, a second reads it",
            "podman",
            format!("cannot import the image: {e}"),
        ));
        return;
    }
    // Podman asks its OCI runtime to raise the open-files and process limits
    // to its defaults, which takes CAP_SYS_RESOURCE; without it (a sandbox)
    // the container fails to start unless it asks for limits it may set.
    let limited = !has_sys_resource();
    let limits: &[&str] = if limited {
        &[
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
        ]
    } else {
        &[]
    };
    let note = if limited {
        " (no CAP_SYS_RESOURCE here: run with --ulimit nofile and nproc that need none)"
    } else {
        ""
    };
    let run_with = |args: &[&str]| -> Vec<String> {
        ["run", "--rm", "--network", "none"]
            .iter()
            .chain(limits)
            .chain(args)
            .map(|a| (*a).to_owned())
            .collect()
    };
    case(
        rows,
        "podman",
        "a container writes into a volume, a second reads it",
        || {
            podman.run(&["volume", "create", "--driver", &volume, "pdata-1"])?;
            let write = run_with(&[
                "-v",
                "pdata-1:/data",
                &image,
                "sh",
                "-c",
                "echo from-podman > /data/file",
            ]);
            let write: Vec<&str> = write.iter().map(String::as_str).collect();
            podman.run(&write).map_err(|e| rlimit_hint(&e))?;
            let read = run_with(&["-v", "pdata-1:/data", &image, "cat", "/data/file"]);
            let read: Vec<&str> = read.iter().map(String::as_str).collect();
            let read = podman.run(&read).map_err(|e| rlimit_hint(&e))?;
            podman.run(&["volume", "rm", "pdata-1"])?;
            expect(
                read == "from-podman",
                format!("second container read {read:?}{note}"),
            )
        },
    );
}

/// Whether this process has CAP_SYS_RESOURCE (bit 24 of its effective
/// capabilities).
fn has_sys_resource() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << 24) != 0)
}

/// Says so when the runtime failed on resource limits.
fn rlimit_hint(error: &str) -> String {
    if error.contains("rlimit") || error.contains("RLIMIT") {
        format!("{error} (raising rlimits needs CAP_SYS_RESOURCE)")
    } else {
        error.to_owned()
    }
}

struct Podman {
    conf: PathBuf,
    root: PathBuf,
    runroot: PathBuf,
}

impl Podman {
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("podman")
            .arg("--root")
            .arg(&self.root)
            .arg("--runroot")
            .arg(&self.runroot)
            .args(["--storage-driver", "vfs"])
            .args(args)
            .env("CONTAINERS_CONF", &self.conf)
            .output()
            .map_err(|e| format!("cannot run podman: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}
