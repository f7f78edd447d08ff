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

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::command::{apt_install, describe, output, step};

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
const START_WAIT: Duration = Duration::from_secs(60);

/// The demo plugins linked for the engines, by their demo name.
const LINKED: &[&str] = &["volume", "ipam", "net", "authz", "log"];

/// One row of the table.
struct Row {
    case: String,
    engine: &'static str,
    result: Result<String, String>,
    skipped: bool,
    millis: u128,
}

/// What must be undone, whatever ends the run. Shared with the signal
/// handler, which runs it and exits.
#[derive(Default)]
struct Teardown {
    links: Vec<PathBuf>,
    children: Vec<(String, Child)>,
    run_dir: Option<tempfile::TempDir>,
    done: bool,
}

impl Teardown {
    fn run(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // Engines first (they hold mounts and call the plugins), the
        // plugins last.
        for (name, child) in self.children.iter_mut().rev() {
            stop(name, child);
        }
        for link in &self.links {
            let _ = std::fs::remove_file(link);
        }
        if let Some(dir) = &self.run_dir {
            // dockerd's own containerd, in case dockerd had to be killed.
            stop_pid_file(
                &dir.path().join("exec/containerd/containerd.pid"),
                "containerd",
            );
        }
        if let Some(dir) = self.run_dir.take() {
            unmount_under(dir.path());
            let path = dir.path().to_owned();
            if let Err(e) = dir.close() {
                eprintln!("engine: cannot remove {}: {e}", path.display());
            }
        }
    }
}

/// SIGTERM, then SIGKILL after 10 s.
fn stop(name: &str, child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("engine: {name} did not stop within 10 s; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

/// Stops the process whose pid `file` holds, if it is still `name`.
fn stop_pid_file(file: &Path, name: &str) {
    let Some(pid) = std::fs::read_to_string(file)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
    else {
        return;
    };
    let alive = |pid: u32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(name))
    };
    if !alive(pid) {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// Unmounts everything mounted below `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|point| point.replace("\\040", " "))
        .filter(|point| point.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = Command::new("umount").args(["-l", &point]).status();
    }
}

/// `f` with the teardown, poison or not.
fn with<T>(teardown: &Mutex<Teardown>, f: impl FnOnce(&mut Teardown) -> T) -> T {
    f(&mut teardown.lock().unwrap_or_else(PoisonError::into_inner))
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
struct Run {
    /// A prefix unique to the run, for the plugin links.
    id: String,
    dir: PathBuf,
}

impl Run {
    fn plugin(&self, demo: &str) -> String {
        format!("{}-{demo}", self.id)
    }

    fn path(&self, rel: &str) -> PathBuf {
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

fn skip(case: &str, engine: &'static str, reason: String) -> Row {
    Row {
        case: case.to_owned(),
        engine,
        result: Err(reason),
        skipped: true,
        millis: 0,
    }
}

/// Starts `pluginctl demo serve` and waits until it says every plugin is
/// served.
fn serve_plugins(pluginctl: &Path, run: &Run) -> Result<Child, String> {
    let mut command = Command::new(pluginctl);
    command
        .args(["demo", "serve", "--dir"])
        .arg(run.path("plugins"))
        .arg("--state")
        .arg(run.path("state"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(run.path("plugins.log"))
                .map_err(|e| format!("engine: cannot make the plugins' log: {e}"))?,
        ));
    let mut child = command
        .spawn()
        .map_err(|e| format!("engine: cannot start `{}`: {e}", describe(&command)))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| "engine: no stdout from pluginctl".to_owned())?;
    let mut lines = BufReader::new(stdout).lines();
    let mut serving = 0;
    while let Some(line) = lines.next() {
        let line = line.map_err(|e| format!("engine: reading pluginctl's output: {e}"))?;
        if line.starts_with("serving ") {
            serving += 1;
        }
        if serving == 8 {
            // Read what it says later, so that it never writes to a closed
            // pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok(child);
        }
    }
    let _ = child.kill();
    Err(format!(
        "engine: `pluginctl demo serve` ended before serving its plugins (see {})",
        run.path("plugins.log").display()
    ))
}

fn start_dockerd(run: &Run) -> Result<Child, String> {
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
struct Docker {
    host: String,
}

impl Docker {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("docker");
        command.args(args).env("DOCKER_HOST", &self.host);
        command
    }

    /// Runs `docker ARGS`; its stdout, or its stderr as the error.
    fn run(&self, args: &[&str]) -> Result<String, String> {
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

    fn wait_ready(&self) -> Result<(), String> {
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

/// Times `f` as one row.
fn case(
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
fn expect(cond: bool, seen: String) -> Result<String, String> {
    if cond { Ok(seen) } else { Err(seen) }
}

/// Makes the busybox image from Debian's busybox-static: a root with the
/// binary and its applets as links, imported (nothing is pulled).
fn import_image(
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

fn docker_cases(
    root: &Path,
    pluginctl: &Path,
    run: &Run,
    docker: &Docker,
    teardown: &Mutex<Teardown>,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let image = format!("{}-busybox:1", run.id);
    let volume_driver = run.plugin("volume");
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

    case(
        rows,
        "docker",
        "volume create/ls/inspect/rm with options",
        || {
            docker.run(&[
                "volume",
                "create",
                "-d",
                &volume_driver,
                "-o",
                "size=1G",
                "-o",
                "tier=fast",
                "opts-1",
            ])?;
            let listed = docker.run(&["volume", "ls", "--format", "{{.Driver}} {{.Name}}"])?;
            let status = docker.run(&["volume", "inspect", "-f", "{{json .Status}}", "opts-1"])?;
            docker.run(&["volume", "rm", "opts-1"])?;
            let after = docker.run(&["volume", "ls", "-q"])?;
            expect(
                listed.contains(&format!("{volume_driver} opts-1"))
                    && status == r#"{"size":"1G","tier":"fast"}"#
                    && !after.lines().any(|l| l == "opts-1"),
                format!("listed [{listed}], status {status}, gone after rm"),
            )
        },
    );

    case(
        rows,
        "docker",
        "a container writes into a volume, a second reads it",
        || {
            docker.run(&["volume", "create", "-d", &volume_driver, "data-1"])?;
            docker.run(&[
                "run",
                "--rm",
                "--network",
                "none",
                "-v",
                "data-1:/data",
                &image,
                "sh",
                "-c",
                "echo written-by-first > /data/file",
            ])?;
            let read = read_data(docker, &image)?;
            expect(
                read == "written-by-first",
                format!("second container read {read:?}"),
            )
        },
    );

    case(rows, "docker", "volume rm of a volume in use fails", || {
        let id = docker.run(&[
            "run",
            "-d",
            "--network",
            "none",
            "-v",
            "data-1:/data",
            &image,
            "sleep",
            "600",
        ])?;
        let engine = docker
            .run(&["volume", "rm", "data-1"])
            .err()
            .unwrap_or_default();
        docker.run(&["rm", "-f", &id])?;
        // Held mounted by another host of the plugin, which the engine
        // cannot know: the plugin's own refusal comes through.
        call_volume(
            pluginctl,
            run,
            "VolumeDriver.Mount",
            r#"{"Name":"data-1","ID":"outside-the-engine"}"#,
        )
        .map_err(|e| format!("pluginctl could not mount: {e}"))?;
        let plugin = docker
            .run(&["volume", "rm", "data-1"])
            .err()
            .unwrap_or_default();
        let released = call_volume(
            pluginctl,
            run,
            "VolumeDriver.Unmount",
            r#"{"Name":"data-1","ID":"outside-the-engine"}"#,
        );
        expect(
            engine.contains("volume is in use")
                && plugin.contains("demo-volume: volume data-1 is in use (1 mount)")
                && released.is_ok(),
            format!("engine: {engine:?}; plugin: {plugin:?}"),
        )
    });

    case(
        rows,
        "docker",
        "plugin restarted with the same STATE keeps the volume and its data",
        || {
            let restarted = with(teardown, |t| -> Result<(), String> {
                let index = t
                    .children
                    .iter()
                    .position(|(name, _)| name == "pluginctl demo serve")
                    .ok_or_else(|| "the plugins are not running".to_owned())?;
                let (name, mut old) = t.children.remove(index);
                stop(&name, &mut old);
                let new = serve_plugins(pluginctl, run)?;
                t.children.insert(index, (name, new));
                Ok(())
            });
            restarted?;
            let listed = docker.run(&["volume", "ls", "-q"])?;
            let read = read_data(docker, &image)?;
            docker.run(&["volume", "rm", "data-1"])?;
            expect(
                listed.lines().any(|l| l == "data-1") && read == "written-by-first",
                format!(
                    "after the restart: volumes [{}], file {read:?}",
                    listed.replace('\n', ", ")
                ),
            )
        },
    );

    let net_driver = run.plugin("net");
    let ipam_driver = run.plugin("ipam");
    case(
        rows,
        "docker",
        "network with --ipam-driver demo-ipam: a container gets the pool's address",
        || {
            let network = docker.run(&[
                "network",
                "create",
                "-d",
                &net_driver,
                "--ipam-driver",
                &ipam_driver,
                "ipam-1",
            ])?;
            let subnet = docker.run(&[
                "network",
                "inspect",
                "-f",
                "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                "ipam-1",
            ])?;
            let address = docker.run(&[
                "run",
                "--rm",
                "--network",
                "ipam-1",
                &image,
                "ip",
                "-4",
                "-o",
                "addr",
                "show",
                "eth0",
            ])?;
            docker.run(&["network", "rm", "ipam-1"])?;
            // Released: a new network is given the same pool.
            docker.run(&[
                "network",
                "create",
                "-d",
                &net_driver,
                "--ipam-driver",
                &ipam_driver,
                "ipam-2",
            ])?;
            let again = docker.run(&[
                "network",
                "inspect",
                "-f",
                "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                "ipam-2",
            ])?;
            docker.run(&["network", "rm", "ipam-2"])?;
            let prefix = subnet
                .rsplit_once('.')
                .map(|(p, _)| p.to_owned())
                .unwrap_or_default();
            expect(
                !network.is_empty()
                    && subnet == "10.77.0.0/24"
                    && address.contains(&format!("inet {prefix}."))
                    && again == subnet,
                format!(
                    "pool {subnet}, container {}, pool again after rm: {again}",
                    address.split_whitespace().nth(3).unwrap_or("?")
                ),
            )
        },
    );

    case(
        rows,
        "docker",
        "demo-net network: two containers, one reaches the other",
        || {
            docker.run(&[
                "network",
                "create",
                "-d",
                &net_driver,
                "--subnet",
                "10.91.0.0/24",
                "net-1",
            ])?;
            let first = docker.run(&[
                "run",
                "-d",
                "--network",
                "net-1",
                "--ip",
                "10.91.0.10",
                &image,
                "sleep",
                "600",
            ])?;
            let bridge = docker
                .run(&["network", "inspect", "-f", "{{.ID}}", "net-1"])
                .map(|id| format!("dpn{}", id.get(..12).unwrap_or_default()))?;
            let ping = docker.run(&[
                "run",
                "--rm",
                "--network",
                "net-1",
                &image,
                "ping",
                "-c",
                "1",
                "-W",
                "5",
                "10.91.0.10",
            ]);
            docker.run(&["rm", "-f", &first])?;
            let links_before = output(root, ip_link(&bridge)).unwrap_or_default();
            docker.run(&["network", "rm", "net-1"])?;
            let links_after = output(root, ip_link(&bridge)).unwrap_or_default();
            let ping = ping?;
            expect(
                ping.contains("1 packets received")
                    && links_before.contains(&bridge)
                    && links_after.is_empty(),
                format!(
                    "ping 10.91.0.10: {}; bridge {bridge} {} and removed with the network",
                    ping.lines().find(|l| l.contains("received")).unwrap_or("?"),
                    if links_before.contains(&bridge) {
                        "was there"
                    } else {
                        "was missing"
                    }
                ),
            )
        },
    );

    case(
        rows,
        "docker",
        "authz: volume rm locked-1 denied, other commands pass",
        || {
            docker.run(&["volume", "create", "-d", &volume_driver, "locked-1"])?;
            let denied = docker
                .run(&["volume", "rm", "locked-1"])
                .err()
                .unwrap_or_default();
            let listed = docker.run(&["volume", "ls", "-q"])?;
            let log = std::fs::read_to_string(run.path("plugins.log")).unwrap_or_default();
            // Let it go, through the plugin directly (the engine never may).
            let removed = call_volume(
                pluginctl,
                run,
                "VolumeDriver.Remove",
                r#"{"Name":"locked-1"}"#,
            );
            expect(
                denied.contains("authorization denied by plugin")
                    && denied.contains("demo-authz: deleting locked- objects is not allowed")
                    && listed.lines().any(|l| l == "locked-1")
                    && log.contains("demo-authz decision")
                    && removed.is_ok(),
                format!("denied: {denied:?}"),
            )
        },
    );

    let log_driver = run.plugin("log");
    case(
        rows,
        "docker",
        "docker logs of a --log-driver demo-log container, and --tail 1",
        || {
            docker.run(&[
                "run",
                "--name",
                "logged-1",
                "--network",
                "none",
                "--log-driver",
                &log_driver,
                &image,
                "sh",
                "-c",
                "echo first; echo second; echo third",
            ])?;
            let all = docker.run(&["logs", "logged-1"])?;
            let tail = docker.run(&["logs", "--tail", "1", "logged-1"])?;
            docker.run(&["rm", "logged-1"])?;
            expect(
                all == "first\nsecond\nthird" && tail == "third",
                format!("logs {:?}, --tail 1 {tail:?}", all.replace('\n', "|")),
            )
        },
    );

    managed_cases(pluginctl, run, docker, &image, rows);
    metrics_case(pluginctl, run, docker, rows);

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

/// `pluginctl call demo-volume METHOD BODY` on the run's plugins: a host of
/// the plugin other than the engine. The answer, or the error's text.
fn call_volume(pluginctl: &Path, run: &Run, method: &str, body: &str) -> Result<String, String> {
    let out = Command::new(pluginctl)
        .arg("--plugin-dir")
        .arg(run.path("plugins"))
        .args(["call", "demo-volume", method, body])
        .output()
        .map_err(|e| format!("cannot run pluginctl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

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
fn managed_cases(pluginctl: &Path, run: &Run, docker: &Docker, image: &str, rows: &mut Vec<Row>) {
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
fn metrics_case(pluginctl: &Path, run: &Run, docker: &Docker, rows: &mut Vec<Row>) {
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

/// What a new container sees in `/data/file` of volume `data-1`.
fn read_data(docker: &Docker, image: &str) -> Result<String, String> {
    docker.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "data-1:/data",
        image,
        "cat",
        "/data/file",
    ])
}

fn ip_link(name: &str) -> Command {
    let mut command = Command::new("ip");
    command.args(["-o", "link", "show", "dev", name]);
    command.stderr(Stdio::null());
    command
}

/// The same volume cases through Podman, with its own configuration, root
/// and runroot under the run directory.
fn podman_cases(run: &Run, rows: &mut Vec<Row>) {
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
