//! `cargo xtask engine [--require]`: the demo plugins driven by real engines.
//!
//! Serves `pluginctl demo serve` in a temporary directory, links its sockets
//! into `/run/docker/plugins` under names unique to the run, starts a private
//! dockerd (its own data root, exec root and socket, vfs storage, no iptables,
//! no default bridge, demo-authz as its authorization plugin), imports a
//! busybox image from Debian's busybox-static (nothing is pulled), and runs
//! each case through the `docker` command line; then the same volume cases
//! through Podman with a private `containers.conf`, root and runroot. One row
//! per case. Whatever happens (an error, Ctrl-C, SIGTERM), the engines are
//! stopped, what they mounted is unmounted, and the links and the temporary
//! directory are removed; nothing of a system daemon is touched.

mod authz;
mod docker;
mod logs;
mod managed;
mod network;
mod plugins;
mod podman;
mod teardown;
mod volume;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use self::docker::{Docker, docker_cases, start_dockerd};
use self::plugins::serve_plugins;
use self::podman::podman_cases;
use self::teardown::{Teardown, with};
use crate::command::{apt_install, output, step};

/// The Debian packages the suite uses.
const PACKAGES: &[&str] = &[
    "docker.io",
    "containerd",
    "runc",
    "busybox-static",
    "podman",
    "iproute2",
];

/// Where engines look for legacy plugins (the only directory they all
/// search that is writable here).
const PLUGIN_DIR: &str = "/run/docker/plugins";

/// How long an engine may take to start.
pub(super) const START_WAIT: Duration = Duration::from_secs(60);

/// The demo plugins linked for the engines, by their demo name.
const LINKED: &[&str] = &["volume", "ipam", "net", "authz", "log"];

/// One row of the table.
pub(super) struct Row {
    case: String,
    engine: &'static str,
    result: Result<String, String>,
    skipped: bool,
    millis: u128,
}

pub(crate) fn run(root: &Path, require: bool) -> Result<(), String> {
    let unavailable = |reason: String| -> Result<(), String> {
        print_table(&[Row {
            case: "engine suite".to_owned(),
            engine: "-",
            result: Err(reason.clone()),
            skipped: true,
            millis: 0,
        }]);
        if require {
            Err(format!("engine: required, but cannot run: {reason}"))
        } else {
            Ok(())
        }
    };
    if !is_root(root) {
        return unavailable(
            "the engines need root (a private dockerd, /run/docker/plugins): run it as root"
                .to_owned(),
        );
    }
    ensure_packages(root)?;
    step(
        "build pluginctl",
        root,
        crate::ci::cargo(&["build", "--locked", "-p", "pluginctl"]),
    )?;
    let pluginctl = crate::interop::target_dir(root)?.join("debug/pluginctl");

    let teardown = Arc::new(Mutex::new(Teardown::default()));
    {
        let teardown = Arc::clone(&teardown);
        ctrlc::set_handler(move || {
            eprintln!("engine: stopped by a signal; cleaning up");
            with(&teardown, Teardown::run);
            std::process::exit(130);
        })
        .map_err(|e| format!("engine: cannot handle Ctrl-C: {e}"))?;
    }
    let outcome = suite(root, &pluginctl, &teardown);
    with(&teardown, Teardown::run);
    let rows = outcome?;
    print_table(&rows);
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.result.is_err() && !r.skipped)
        .map(|r| r.case.as_str())
        .collect();
    let skipped = rows.iter().filter(|r| r.skipped).count();
    if !failed.is_empty() {
        return Err(format!(
            "engine: {} case(s) failed: {}",
            failed.len(),
            failed.join("; ")
        ));
    }
    if require && skipped > 0 {
        return Err(format!(
            "engine: required, but {skipped} case(s) were skipped"
        ));
    }
    println!("engine: all {} cases passed", rows.len() - skipped);
    Ok(())
}

/// The run's names and paths.
pub(super) struct Run {
    /// A prefix unique to the run, for the plugin links.
    pub(super) id: String,
    dir: PathBuf,
}

impl Run {
    pub(super) fn plugin(&self, demo: &str) -> String {
        format!("{}-{demo}", self.id)
    }

    pub(super) fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

fn suite(root: &Path, pluginctl: &Path, teardown: &Mutex<Teardown>) -> Result<Vec<Row>, String> {
    let dir = tempfile::Builder::new()
        .prefix("xtask-engine-")
        .tempdir()
        .map_err(|e| format!("engine: cannot make a temporary directory: {e}"))?;
    let run = Run {
        id: format!("xe{}", std::process::id()),
        dir: dir.path().to_owned(),
    };
    with(teardown, |t| t.run_dir = Some(dir));

    let plugins = serve_plugins(pluginctl, &run)?;
    with(teardown, |t| {
        t.children
            .push(("pluginctl demo serve".to_owned(), plugins))
    });
    std::fs::create_dir_all(PLUGIN_DIR)
        .map_err(|e| format!("engine: cannot make {PLUGIN_DIR}: {e}"))?;
    for demo in LINKED {
        let link = Path::new(PLUGIN_DIR).join(format!("{}.sock", run.plugin(demo)));
        let target = run.path(&format!("plugins/demo-{demo}.sock"));
        std::os::unix::fs::symlink(&target, &link)
            .map_err(|e| format!("engine: cannot link {}: {e}", link.display()))?;
        with(teardown, |t| t.links.push(link));
    }

    let mut rows = Vec::new();
    match start_dockerd(&run) {
        Ok(dockerd) => {
            with(teardown, |t| {
                t.children.push(("dockerd".to_owned(), dockerd))
            });
            let docker = Docker {
                host: format!("unix://{}", run.path("docker.sock").display()),
            };
            match docker.wait_ready() {
                Ok(()) => docker_cases(root, pluginctl, &run, &docker, teardown, &mut rows)?,
                Err(e) => rows.push(skip("docker cases", "docker", e)),
            }
        }
        Err(e) => rows.push(skip("docker cases", "docker", e)),
    }
    podman_cases(&run, &mut rows);
    Ok(rows)
}

pub(super) fn skip(case: &str, engine: &'static str, reason: String) -> Row {
    Row {
        case: case.to_owned(),
        engine,
        result: Err(reason),
        skipped: true,
        millis: 0,
    }
}

/// Times `f` as one row.
pub(super) fn case(
    rows: &mut Vec<Row>,
    engine: &'static str,
    name: &str,
    f: impl FnOnce() -> Result<String, String>,
) {
    let started = Instant::now();
    let result = f();
    let millis = started.elapsed().as_millis();
    match &result {
        Ok(seen) => println!("    ok    {engine:<7} {name}: {seen} ({millis} ms)"),
        Err(e) => println!("    FAIL  {engine:<7} {name}: {e} ({millis} ms)"),
    }
    rows.push(Row {
        case: name.to_owned(),
        engine,
        result,
        skipped: false,
        millis,
    });
}

/// `Err` unless `cond`, with what was seen.
pub(super) fn expect(cond: bool, seen: String) -> Result<String, String> {
    if cond { Ok(seen) } else { Err(seen) }
}

/// Makes the busybox image from Debian's busybox-static: a root with the
/// binary and its applets as links, imported (nothing is pulled).
pub(super) fn import_image(
    run: &Run,
    tag: &str,
    import: impl FnOnce(&Path) -> Result<String, String>,
) -> Result<String, String> {
    let rootfs = run.path(&format!("image-{tag}"));
    let bin = rootfs.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("cannot make {}: {e}", bin.display()))?;
    std::fs::copy("/bin/busybox", bin.join("busybox"))
        .map_err(|e| format!("cannot copy /bin/busybox: {e}"))?;
    for applet in [
        "sh", "cat", "echo", "ls", "ip", "ping", "sleep", "wc", "mkdir",
    ] {
        std::os::unix::fs::symlink("busybox", bin.join(applet))
            .map_err(|e| format!("cannot link {applet}: {e}"))?;
    }
    let tarball = run.path(&format!("image-{tag}.tar"));
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar failed: {status}"));
    }
    import(&tarball)
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| case | engine | result | seen | ms |");
    println!("| --- | --- | --- | --- | --- |");
    for row in rows {
        let (result, seen) = match (&row.result, row.skipped) {
            (Ok(seen), _) => ("ok", seen.as_str()),
            (Err(reason), true) => ("SKIP", reason.as_str()),
            (Err(reason), false) => ("FAIL", reason.as_str()),
        };
        println!(
            "| {} | {} | {result} | {} | {} |",
            row.case,
            row.engine,
            seen.replace('|', "/").replace('\n', " "),
            row.millis
        );
    }
}

fn is_root(root: &Path) -> bool {
    output(root, {
        let mut id = Command::new("id");
        id.arg("-u");
        id
    })
    .is_ok_and(|uid| uid.trim() == "0")
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ensure_packages(root: &Path) -> Result<(), String> {
    let present = ["dockerd", "containerd", "runc", "podman", "ip", "tar"]
        .iter()
        .all(|p| have(p))
        && Path::new("/bin/busybox").is_file();
    if present {
        return Ok(());
    }
    apt_install(root, PACKAGES, "the engine suite")
}
