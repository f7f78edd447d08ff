//! `cargo xtask release [CRATE...] [--execute]` and `cargo xtask bump CRATE
//! LEVEL`: the per-crate release flow (docs/architecture.md, "Versioning and releases": independent versions, tags
//! `<crate>-v<version>`, a `## Unreleased` section in each CHANGELOG).
//!
//! The dry run (the default) finds the crates changed since their last tag,
//! checks each (a version above the tag, a non-empty Unreleased section,
//! dependents whose requirements admit the new version), orders them by
//! dependency, asks crates.io whether each name is free, already ours or
//! someone else's (refusing the last), runs `cargo semver-checks` where
//! installed and `cargo publish --dry-run` for all of them at once, then
//! unpacks each package and runs that crate's own tests from it, and prints
//! the plan and each package's result. `--execute` then dates the changelogs,
//! commits, tags and publishes.

mod bump;
mod changelog;
mod names;
mod package_tests;
mod plan;
#[cfg(test)]
mod tests;
mod workspace;

use std::path::Path;
use std::process::Command;

pub(crate) use bump::Level;

use crate::ci::cargo;
use crate::command::{output, step};

/// `cargo xtask release`.
pub(crate) fn run(root: &Path, only: &[String], execute: bool) -> Result<(), String> {
    let mut plan = plan::plan(root, only)?;
    name_checks(root, &mut plan, execute)?;
    println!("release plan{}:", if execute { "" } else { " (dry run)" });
    print!("{}", plan.render());
    if !plan.refusals.is_empty() {
        return Err(format!(
            "release refused: {} check(s) failed (see `refused:` above)",
            plan.refusals.len()
        ));
    }
    if plan.releases.is_empty() {
        return Ok(());
    }
    semver_checks(root, &plan)?;
    let mut args = vec!["publish", "--locked"];
    if !execute {
        args.push("--dry-run");
    }
    for release in &plan.releases {
        args.extend(["-p", release.name.as_str()]);
    }
    if !execute {
        // The verification builds our crates as registry packages, which cargo
        // takes as immutable for a version: a second dry run at the same
        // version would reuse the first run's unpacked sources and compiled
        // crates. Start from none of either.
        let packaged = package_tests::target_dir(root).join("package");
        match std::fs::remove_dir_all(&packaged) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot clear {}: {e}", packaged.display()));
            }
            _ => {}
        }
        let mut clean = vec!["clean", "--locked"];
        for release in &plan.releases {
            clean.extend(["-p", release.name.as_str()]);
        }
        step("cargo clean (the crates to verify)", root, cargo(&clean))?;
        forget_unpacked_overlay(&plan.releases)?;
        step("cargo publish --dry-run", root, cargo(&args))?;
        let target = package_tests::target_dir(root);
        let outcomes = package_tests::run(root, &target, &plan.releases)?;
        println!("tests of each package, run from the unpacked .crate:");
        print!("{}", package_tests::render(&outcomes));
        let failed: Vec<&str> = outcomes
            .iter()
            .filter(|o| o.result.is_err())
            .map(|o| o.name.as_str())
            .collect();
        if !failed.is_empty() {
            return Err(format!(
                "the packaged tests of {} failed: a user of that package would get a crate whose own tests fail (see above)",
                failed.join(", ")
            ));
        }
        println!(
            "dry run: nothing was changed. `cargo xtask release{} --execute` dates the changelogs, commits, tags and publishes.",
            only.iter().map(|n| format!(" {n}")).collect::<String>()
        );
        return Ok(());
    }
    let dirty = git(root, &["status", "--porcelain"])?;
    if !dirty.trim().is_empty() {
        return Err(format!(
            "the working tree has uncommitted changes; commit or stash them first:\n{dirty}"
        ));
    }
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let date = date.get(..10).unwrap_or(&date);
    let crates = workspace::load(root)?;
    let mut changelogs = Vec::new();
    for release in &plan.releases {
        let krate = crates
            .iter()
            .find(|c| c.name == release.name)
            .ok_or_else(|| format!("{} vanished from the workspace", release.name))?;
        let path = krate.changelog();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let dated = changelog::release(&text, &release.version, date)
            .ok_or_else(|| format!("{} lost its Unreleased section", path.display()))?;
        std::fs::write(&path, dated)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        changelogs.push(format!("{}/CHANGELOG.md", krate.rel));
    }
    let mut add = vec!["add", "--"];
    add.extend(changelogs.iter().map(String::as_str));
    git(root, &add)?;
    let list: Vec<String> = plan
        .releases
        .iter()
        .map(|r| format!("{} {}", r.name, r.version))
        .collect();
    git(
        root,
        &["commit", "-m", &format!("release: {}", list.join(", "))],
    )?;
    for release in &plan.releases {
        let message = format!(
            "{} {}\n\n{}",
            release.name,
            release.version,
            release.notes.join("\n")
        );
        git(root, &["tag", "-a", &release.tag, "-m", &message])?;
    }
    step("cargo publish", root, cargo(&args))?;
    println!(
        "released {}; push with `git push --follow-tags`",
        list.join(", ")
    );
    Ok(())
}

/// `cargo xtask bump CRATE LEVEL`.
/// Removes the sources cargo unpacked from its temporary registry (the one
/// `cargo publish --dry-run` builds our packages from) into
/// `$CARGO_HOME/registry/src/`: cargo reuses an unpacked package of the same
/// version there, so a later dry run would build the earlier run's code.
/// crates.io's own unpacked sources are left alone.
fn forget_unpacked_overlay(releases: &[plan::Release]) -> Result<(), String> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => std::path::PathBuf::from(home),
        None => match std::env::var_os("HOME") {
            Some(home) => std::path::PathBuf::from(home).join(".cargo"),
            None => return Ok(()),
        },
    };
    let Ok(registries) = std::fs::read_dir(home.join("registry/src")) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if registry
            .file_name()
            .to_string_lossy()
            .starts_with("index.crates.io")
        {
            continue;
        }
        for release in releases {
            let unpacked = registry
                .path()
                .join(format!("{}-{}", release.name, release.version));
            match std::fs::remove_dir_all(&unpacked) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(format!("cannot clear {}: {e}", unpacked.display()));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

pub(crate) fn bump(root: &Path, name: &str, level: Level) -> Result<(), String> {
    for line in bump::bump(root, name, level)? {
        println!("{line}");
    }
    // The lock file records the workspace's own versions too.
    step(
        "cargo update --workspace",
        root,
        cargo(&["update", "--workspace", "--offline"]),
    )
}

/// Asks crates.io about each release's name; a name that is someone else's
/// is a refusal, and so is one that could not be checked before a real
/// publish.
fn name_checks(root: &Path, plan: &mut plan::Plan, execute: bool) -> Result<(), String> {
    let crates = workspace::load(root)?;
    for release in &plan.releases {
        let ours = crates
            .iter()
            .find(|c| c.name == release.name)
            .and_then(|c| c.repository.as_deref());
        let status = names::status(root, &release.name, ours);
        match &status {
            names::NameStatus::Taken(_) => plan.refusals.push(format!(
                "{}: the name is {} on crates.io: rename the crate (folder and package) before publishing",
                release.name,
                status.describe()
            )),
            names::NameStatus::Unknown(_) if execute => plan.refusals.push(format!(
                "{}: cannot tell whether the name is free on crates.io ({}): publish only once it can be checked",
                release.name,
                status.describe()
            )),
            _ => {}
        }
        plan.names.push((release.name.clone(), status));
    }
    Ok(())
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new("git");
    cmd.args(args);
    output(root, cmd)
}

/// `cargo semver-checks` against each crate's last tag, when installed.
fn semver_checks(root: &Path, plan: &plan::Plan) -> Result<(), String> {
    let installed = cargo(&["semver-checks", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        println!(
            "semver: cargo-semver-checks is not installed, so no crate was checked for breaking changes (cargo install cargo-semver-checks --locked)"
        );
        return Ok(());
    }
    for release in &plan.releases {
        let Some(last) = &release.last else {
            println!(
                "semver: {} was never released; nothing to compare",
                release.name
            );
            continue;
        };
        let tag = format!("{}-v{last}", release.name);
        step(
            &format!("semver-checks {}", release.name),
            root,
            cargo(&[
                "semver-checks",
                "check-release",
                "-p",
                &release.name,
                "--baseline-rev",
                &tag,
            ]),
        )?;
    }
    Ok(())
}
