//! `cargo xtask release [CRATE...] [--execute]` and `cargo xtask bump CRATE
//! LEVEL`: the per-crate release flow (STYLE.md 2: independent versions, tags
//! `<crate>-v<version>`, a `## Unreleased` section in each CHANGELOG).
//!
//! The dry run (the default) finds the crates changed since their last tag,
//! checks each (a version above the tag, a non-empty Unreleased section,
//! dependents whose requirements admit the new version), orders them by
//! dependency, runs `cargo semver-checks` where installed and `cargo publish
//! --dry-run` for all of them at once, and prints the plan. `--execute` then
//! dates the changelogs, commits, tags and publishes.

mod bump;
mod changelog;
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
    let plan = plan::plan(root, only)?;
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
        step("cargo publish --dry-run", root, cargo(&args))?;
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
