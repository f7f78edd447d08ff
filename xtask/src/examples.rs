//! The newcomer paths, run as a user runs them (part of `cargo xtask ci`):
//! `dir_volume` serving in a temporary directory, `host` using it through the
//! registry and then failing once it is gone, `layered`, `custom_connector`,
//! and `prometheus` scraped once.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::ci::cargo;
use crate::command::{describe, step};

pub(crate) fn run(root: &Path) -> Result<(), String> {
    step(
        "build examples",
        root,
        cargo(&[
            "build",
            "--locked",
            "--examples",
            "-p",
            "plugin-subsystems",
            "-p",
            "plugin-registry",
            "--features",
            "plugin-registry/metrics",
        ]),
    )?;
    println!("==> examples: dir_volume, host, layered, custom_connector, prometheus");
    let started = Instant::now();
    let bin = crate::interop::target_dir(root)?.join("debug/examples");
    let tmp = tempfile::tempdir().map_err(|e| format!("examples: no temp dir: {e}"))?;
    let (plugins, socket) = (
        tmp.path().join("plugins"),
        tmp.path().join("plugins/dirvol.sock"),
    );

    let mut volume = Command::new(bin.join("dir_volume"));
    volume
        .arg("--root")
        .arg(tmp.path().join("volumes"))
        .arg("--socket")
        .arg(&socket)
        .stdout(Stdio::piped());
    // Killed however this ends; the temp dir goes with `tmp`.
    let mut serving =
        Running(Some(volume.spawn().map_err(|e| {
            format!("examples: cannot start `{}`: {e}", describe(&volume))
        })?));
    let child = serving.0.as_mut().ok_or("dir_volume is not running")?;
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().ok_or("dir_volume has no stdout")?).lines();
    let first = lines.next().transpose().map_err(|e| e.to_string())?;
    expect(
        first
            .as_deref()
            .is_some_and(|l| l.starts_with("dirvol serving on unix://")),
        format!("dir_volume said {first:?}"),
    )?;

    let host = |plugins: &Path| {
        let mut cmd = Command::new(bin.join("host"));
        cmd.arg("--plugin-dir").arg(plugins).arg("dirvol");
        cmd.output()
            .map_err(|e| format!("examples: cannot start `{}`: {e}", describe(&cmd)))
    };
    let out = host(&plugins)?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let steps: Vec<&str> = said
        .lines()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    expect(
        out.status.success()
            && steps
                == [
                    "got",
                    "created",
                    "mounted",
                    "wrote",
                    "listed",
                    "unmounted",
                    "removed",
                ],
        format!(
            "host against dir_volume: {}\n{said}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    )?;
    print!("{said}");

    let stopped = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map_err(|e| format!("examples: cannot run kill: {e}"))?;
    let mut child = serving.0.take().ok_or("dir_volume is not running")?;
    let exit = child.wait().map_err(|e| e.to_string())?;
    expect(
        stopped.success() && exit.success() && !socket.exists(),
        format!(
            "dir_volume on SIGTERM: {exit}, socket left: {}",
            socket.exists()
        ),
    )?;

    // Gone: host fails, saying why once.
    let out = host(&plugins)?;
    let error = String::from_utf8_lossy(&out.stderr).into_owned();
    expect(
        out.status.code() == Some(1)
            && error
                == format!(
                    "error: plugin \"dirvol\" not found in {}\n",
                    plugins.display()
                ),
        format!("host without the plugin: {}: {error}", out.status),
    )?;
    print!("host after dir_volume stopped: {error}");

    // A socket left by a killed plugin: fails at once, each cause once.
    let stale = plugins.join("stale.sock");
    drop(
        std::os::unix::net::UnixListener::bind(&stale)
            .map_err(|e| format!("examples: cannot make {}: {e}", stale.display()))?,
    );
    let mut cmd = Command::new(bin.join("host"));
    cmd.arg("--plugin-dir").arg(&plugins).arg("stale");
    let out = cmd
        .output()
        .map_err(|e| format!("examples: cannot start `{}`: {e}", describe(&cmd)))?;
    let error = String::from_utf8_lossy(&out.stderr).into_owned();
    let expected = format!(
        "error: activating plugin \"stale\" failed\n  caused by: Plugin.Activate: calling plugin \"stale\" failed\n  caused by: cannot connect to plugin \"stale\" at unix://{}\n  caused by: Connection refused (os error 111)\n",
        stale.display()
    );
    expect(
        out.status.code() == Some(1) && error == expected,
        format!("host on a stale socket: {}: {error}", out.status),
    )?;
    print!("host on a stale socket:\n{error}");

    run_example(&bin, "layered", |_| true)?;
    // A registry whose plugins are reached through a connector of its own.
    run_example(&bin, "custom_connector", |said| {
        said.ends_with("3 calls answered over 1 connection(s) the connector opened\n")
    })?;

    // A host's plugin metrics, scraped once as Prometheus scrapes them.
    let mut prometheus = Command::new(bin.join("prometheus"));
    prometheus.args(["--listen", "127.0.0.1:0", "--once"]);
    let out = prometheus
        .output()
        .map_err(|e| format!("examples: cannot start `{}`: {e}", describe(&prometheus)))?;
    let scraped = String::from_utf8_lossy(&out.stdout).into_owned();
    let wanted = [
        "# HELP plugin_host_calls_total",
        "plugin_host_calls_total{plugin=\"echo\",method=\"Echo.Echo\",outcome=\"ok\"} 1",
        "plugin_host_activations_total{plugin=\"echo\",outcome=\"ok\"} 1",
        "plugin_host_call_duration_seconds_bucket{plugin=\"echo\",method=\"Echo.Echo\",outcome=\"ok\",le=\"+Inf\"} 1",
    ];
    expect(
        out.status.success() && wanted.iter().all(|line| scraped.contains(line)),
        format!(
            "prometheus --once: {}\n{scraped}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    )?;
    println!(
        "prometheus --once: scraped {} lines, among them:\n  {}",
        scraped.lines().count(),
        wanted[1]
    );
    println!(
        "<== examples: ok in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the example `name`, which must succeed and say what `said_ok`
/// accepts; prints what it said.
fn run_example(bin: &Path, name: &str, said_ok: impl Fn(&str) -> bool) -> Result<(), String> {
    let mut example = Command::new(bin.join(name));
    let out = example
        .output()
        .map_err(|e| format!("examples: cannot start `{}`: {e}", describe(&example)))?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    expect(
        out.status.success() && said_ok(&said),
        format!(
            "{name}: {}\n{said}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    )?;
    print!("{said}");
    Ok(())
}

fn expect(ok: bool, otherwise: String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("examples: {otherwise}"))
    }
}

/// A child killed when dropped, unless it was taken out to be waited for.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
