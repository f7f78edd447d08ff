//! Each packaged crate's own tests, run from the package as a user gets it:
//! the `.crate` file unpacked outside the workspace, its siblings in the plan
//! patched in from their own packages (they are not on crates.io yet), and
//! nothing else of the repository in reach.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::plan::Release;
use crate::ci::cargo;
use crate::command::step;

/// One crate's result.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) name: String,
    /// `Ok(seconds)` or `Err(what failed)`.
    pub(crate) result: Result<f64, String>,
}

/// Packages every release (`cargo package`, into `target/package/`), unpacks
/// each `.crate` and runs `cargo test` in it; the outcome of each.
pub(crate) fn run(
    root: &Path,
    target: &Path,
    releases: &[Release],
) -> Result<Vec<Outcome>, String> {
    // Verified already by `cargo publish --dry-run`; this only writes the files.
    let mut args = vec!["package", "--locked", "--no-verify"];
    for release in releases {
        args.extend(["-p", release.name.as_str()]);
    }
    step("cargo package", root, cargo(&args))?;
    let unpacked = tempfile::Builder::new()
        .prefix("xtask-packages-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let mut dirs = Vec::new();
    for release in releases {
        let file = target
            .join("package")
            .join(format!("{}-{}.crate", release.name, release.version));
        let mut tar = Command::new("tar");
        tar.arg("-xzf").arg(&file).arg("-C").arg(unpacked.path());
        let out = tar
            .output()
            .map_err(|e| format!("cannot run tar for {}: {e}", file.display()))?;
        if !out.status.success() {
            return Err(format!(
                "cannot unpack {}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let dir = unpacked
            .path()
            .join(format!("{}-{}", release.name, release.version));
        // The workspace's lock file, so the package builds with the versions
        // we tested; cargo adjusts it where the package needs another.
        let _ = std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"));
        dirs.push((release.name.clone(), dir));
    }
    let patches: Vec<String> = dirs
        .iter()
        .map(|(name, dir)| {
            format!(
                "patch.crates-io.{name}.path={:?}",
                dir.display().to_string()
            )
        })
        .collect();
    let tests_target = target.join("package-tests");
    forget_builds(&tests_target, releases)?;
    let mut outcomes = Vec::new();
    for (name, dir) in &dirs {
        println!("==> package tests: {name} (from {})", dir.display());
        let started = Instant::now();
        let result =
            test_one(dir, &tests_target, &patches).map(|()| started.elapsed().as_secs_f64());
        match &result {
            Ok(took) => println!("<== package tests: {name} passed in {took:.1}s"),
            Err(e) => println!("<== package tests: {name} FAILED: {e}"),
        }
        outcomes.push(Outcome {
            name: name.clone(),
            result,
        });
    }
    Ok(outcomes)
}

/// Removes what earlier runs built of these crates in `target` (the rest, the
/// dependencies, is kept). At an unchanged version cargo could take an
/// earlier build of a package as current: a package's files come out of the
/// `.crate` with the tarball's times, not the edit's.
///
/// Test and example executables go too, whatever their names: each run
/// unpacks into a new directory, so each run's executables get new hashes,
/// and kept they grew this directory by gigabytes a run.
fn forget_builds(target: &Path, releases: &[Release]) -> Result<(), String> {
    let debug = target.join("debug");
    for dir in ["examples", "incremental"] {
        let dir = debug.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
        }
    }
    if let Ok(entries) = std::fs::read_dir(debug.join("deps")) {
        for entry in entries.flatten() {
            let path = entry.path();
            let executable =
                path.extension().is_none() && entry.file_type().is_ok_and(|kind| kind.is_file());
            if executable {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            }
        }
    }
    let ours = |file: &str| {
        releases.iter().any(|release| {
            let dashed = format!("{}-", release.name);
            let snake = format!("{}-", release.name.replace('-', "_"));
            file.starts_with(&dashed)
                || file.starts_with(&snake)
                || file.starts_with(&format!("lib{snake}"))
        })
    };
    for dir in ["deps", ".fingerprint", "build"] {
        let dir = target.join("debug").join(dir);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !ours(&name) {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn test_one(dir: &Path, target: &Path, patches: &[String]) -> Result<(), String> {
    let mut test = cargo(&["test", "--manifest-path"]);
    // Every run builds these packages afresh (see `forget_builds`), so an
    // incremental cache would only take disk.
    test.arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .env("CARGO_INCREMENTAL", "0");
    for patch in patches {
        test.arg("--config").arg(patch);
    }
    let status = test
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test {status}"))
    }
}

/// The table printed after the runs: one line per crate.
pub(crate) fn render(outcomes: &[Outcome]) -> String {
    let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(0);
    outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(took) => format!("  {:width$}  passed  ({took:.0}s)\n", o.name),
            Err(e) => format!("  {:width$}  FAILED  {e}\n", o.name),
        })
        .collect()
}

/// The workspace's target directory.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn earlier_runs_leave_dependencies_only() {
        let target = tempfile::tempdir().unwrap();
        let debug = target.path().join("debug");
        for dir in [
            "deps",
            "examples",
            "incremental/alpha-1",
            ".fingerprint/alpha-1",
        ] {
            std::fs::create_dir_all(debug.join(dir)).unwrap();
        }
        for file in [
            "deps/libtokio-1.rlib",
            "deps/tokio-1.d",
            "deps/libalpha-1.rlib",
            "deps/alpha-1.d",
            "deps/handlers-2",
            "examples/demo-3",
            ".fingerprint/alpha-1/lib-alpha",
        ] {
            std::fs::write(debug.join(file), b"").unwrap();
        }
        let alpha = Release {
            name: "alpha".to_owned(),
            last: None,
            version: semver::Version::new(0, 1, 0),
            notes: Vec::new(),
            tag: "alpha-v0.1.0".to_owned(),
        };
        forget_builds(target.path(), &[alpha]).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&debug)
            .unwrap()
            .flat_map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap())
            .map(|entry| {
                let path = entry.unwrap().path();
                path.strip_prefix(&debug).unwrap().display().to_string()
            })
            .collect();
        left.sort();
        assert_eq!(left, ["deps/libtokio-1.rlib", "deps/tokio-1.d"]);
    }
}
