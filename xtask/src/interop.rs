//! `cargo xtask interop` and `cargo xtask bench --interop`: our crates against
//! Docker's own plugin code. Needs Debian's `golang-go` and
//! `golang-github-docker-docker-dev` (Docker 20.10's `pkg/plugins`, built in
//! GOPATH mode), and `openssl` (for a certificate made as users make them);
//! installs them with apt-get when missing and running as root.
//! Builds the Go programs in `interop/go/` and runs the `interop` crate's
//! binary (see interop/README.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::ci::cargo;
use crate::command::{apt_install, output, step};

/// Debian's GOPATH, where `golang-github-docker-docker-dev` puts its sources.
const GOPATH: &str = "/usr/share/gocode";
/// A file the Docker package must have put there.
const DOCKER_PLUGINS: &str = "/usr/share/gocode/src/github.com/docker/docker/pkg/plugins/client.go";
const PACKAGES: &[&str] = &["golang-go", "golang-github-docker-docker-dev", "openssl"];
/// The Go programs, each a directory under `interop/go/`.
const GO_PROGRAMS: &[&str] = &["dockerhost", "goplugin", "gojson"];

/// `cargo xtask interop`: every interop case, both directions, and the wire
/// fixtures; with `record`, rewrites the fixtures instead.
pub(crate) fn check(root: &Path, record: bool) -> Result<(), String> {
    let programs = prepare(root, false)?;
    let mut run = Command::new(&programs.interop);
    run.arg(if record { "record" } else { "check" });
    programs.add_args(&mut run);
    step("interop", root, run)
}

/// `cargo xtask bench --interop`: the interop benchmark's output, for the
/// bench table.
pub(crate) fn bench(root: &Path, quick: bool) -> Result<String, String> {
    let programs = prepare(root, true)?;
    let mut run = Command::new(&programs.interop);
    run.arg("bench");
    programs.add_args(&mut run);
    if quick {
        run.arg("--quick");
    }
    output(root, run)
}

/// The built programs.
struct Programs {
    go_bin: PathBuf,
    interop: PathBuf,
    pluginctl: PathBuf,
}

impl Programs {
    fn add_args(&self, cmd: &mut Command) {
        cmd.arg("--go-bin")
            .arg(&self.go_bin)
            .arg("--pluginctl")
            .arg(&self.pluginctl);
    }
}

/// Installs the packages if needed, builds the Go programs and our binaries.
fn prepare(root: &Path, release: bool) -> Result<Programs, String> {
    ensure_packages(root)?;
    let target = target_dir(root)?;
    let go_bin = target.join("interop").join("bin");
    let go_cache = target.join("interop").join("go-cache");
    let unformatted = output(root, {
        let mut gofmt = Command::new("gofmt");
        gofmt.args(["-l", "interop/go"]);
        gofmt
    })?;
    if !unformatted.trim().is_empty() {
        return Err(format!(
            "gofmt: these need formatting (run gofmt -w interop/go): {}",
            unformatted.trim()
        ));
    }
    for program in GO_PROGRAMS {
        let mut build = Command::new("go");
        build
            .env("GOPATH", GOPATH)
            .env("GO111MODULE", "off")
            .env("GOFLAGS", "")
            .env("GOCACHE", &go_cache)
            .arg("build")
            .arg("-o")
            .arg(go_bin.join(program))
            .arg(format!("./interop/go/{program}"));
        step(&format!("go build {program}"), root, build)?;
    }
    let mut args = vec!["build", "--locked", "-p", "interop", "-p", "pluginctl"];
    if release {
        args.push("--release");
    }
    step("cargo build", root, cargo(&args))?;
    let profile = target.join(if release { "release" } else { "debug" });
    Ok(Programs {
        go_bin,
        interop: profile.join("interop"),
        pluginctl: profile.join("pluginctl"),
    })
}

/// The workspace's target directory, as cargo sees it.
pub(crate) fn target_dir(root: &Path) -> Result<PathBuf, String> {
    crate::ci::metadata(root, &["--no-deps", "--locked"])?
        .get("target_directory")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata gave no target_directory".to_owned())
}

fn have_packages() -> bool {
    let go = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|out| out.status.success());
    let openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|out| out.status.success());
    go && openssl && Path::new(DOCKER_PLUGINS).is_file()
}

fn ensure_packages(root: &Path) -> Result<(), String> {
    if have_packages() {
        return Ok(());
    }
    let is_root = output(root, {
        let mut id = Command::new("id");
        id.arg("-u");
        id
    })
    .is_ok_and(|uid| uid.trim() == "0");
    if !is_root {
        return Err(format!(
            "interop needs Go and Docker's Go sources: install them with `sudo apt-get install {}` (or run this as root to have it done)",
            PACKAGES.join(" ")
        ));
    }
    apt_install(root, PACKAGES, "interop")?;
    if have_packages() {
        Ok(())
    } else {
        Err(format!(
            "after installing {}, `go` or {DOCKER_PLUGINS} is still missing",
            PACKAGES.join(" ")
        ))
    }
}
