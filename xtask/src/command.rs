//! Running a step: a command with a heading, its time, and a clear failure.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Runs `cmd` in `dir` as the step `title`, streaming its output.
pub(crate) fn step(title: &str, dir: &Path, mut cmd: Command) -> Result<(), String> {
    println!("==> {title}: {}", describe(&cmd));
    let started = Instant::now();
    let status = cmd
        .current_dir(dir)
        .status()
        .map_err(|e| format!("{title}: cannot start `{}`: {e}", describe(&cmd)))?;
    let took = started.elapsed().as_secs_f64();
    if status.success() {
        println!("<== {title}: ok in {took:.1}s");
        Ok(())
    } else {
        Err(format!(
            "{title} failed ({status}) after {took:.1}s: `{}`",
            describe(&cmd)
        ))
    }
}

/// Runs `cmd` in `dir` and returns its standard output.
pub(crate) fn output(dir: &Path, mut cmd: Command) -> Result<String, String> {
    let out = cmd
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(&cmd)))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{}` failed ({}): {}",
            describe(&cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The command line, for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let program = program.file_name().unwrap_or(program.as_os_str());
    let mut words = vec![program.to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    let env: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    if env.is_empty() {
        words.join(" ")
    } else {
        format!("{} {}", env.join(" "), words.join(" "))
    }
}

/// Installs Debian `packages` with apt-get (after `apt-get update`), for
/// `purpose` in the error.
pub(crate) fn apt_install(root: &Path, packages: &[&str], purpose: &str) -> Result<(), String> {
    let mut update = Command::new("apt-get");
    update
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive");
    step("apt-get update", root, update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    step("apt-get install", root, install).map_err(|e| {
        format!(
            "{e}; {purpose} needs the Debian packages {}",
            packages.join(" ")
        )
    })
}
