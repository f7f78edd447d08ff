//! The demo plugins: `pluginctl demo serve` started for the run, and called
//! as a host other than the engine.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::Run;
use crate::command::describe;

/// Starts `pluginctl demo serve` and waits until it says every plugin is
/// served.
pub(super) fn serve_plugins(pluginctl: &Path, run: &Run) -> Result<Child, String> {
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

/// `pluginctl call demo-volume METHOD BODY` on the run's plugins: a host of
/// the plugin other than the engine. The answer, or the error's text.
pub(super) fn call_volume(
    pluginctl: &Path,
    run: &Run,
    method: &str,
    body: &str,
) -> Result<String, String> {
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
