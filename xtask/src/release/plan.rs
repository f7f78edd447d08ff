//! The release plan: which crates changed since their last tag, the checks
//! each must pass, and the order to publish them in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use semver::Version;

use super::changelog;
use super::workspace::{self, Crate};
use crate::command::output;

/// One crate to release.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Release {
    pub(crate) name: String,
    /// Its last tagged version; `None` if never tagged.
    pub(crate) last: Option<Version>,
    pub(crate) version: Version,
    /// The lines under `## Unreleased`.
    pub(crate) notes: Vec<String>,
    pub(crate) tag: String,
}

/// What `cargo xtask release` would do.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// The crates to release, dependencies first.
    pub(crate) releases: Vec<Release>,
    /// Publishable crates with no change since their last tag, with it.
    pub(crate) unchanged: Vec<(String, String)>,
    /// What crates.io says of each release's name.
    pub(crate) names: Vec<(String, super::names::NameStatus)>,
    /// Each failed check, saying what to do.
    pub(crate) refusals: Vec<String>,
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new("git");
    cmd.args(args);
    output(root, cmd)
}

/// The highest tagged version of each crate, from `<crate>-v<version>` tags.
fn last_tags(root: &Path, crates: &[Crate]) -> Result<BTreeMap<String, Version>, String> {
    let tags = git(root, &["tag", "--list"])?;
    let mut last: BTreeMap<String, Version> = BTreeMap::new();
    for tag in tags.lines() {
        for krate in crates {
            let version = tag
                .strip_prefix(krate.name.as_str())
                .and_then(|rest| rest.strip_prefix("-v"))
                .and_then(|v| Version::parse(v).ok());
            if let Some(version) = version {
                let entry = last.entry(krate.name.clone()).or_insert(version.clone());
                if version > *entry {
                    *entry = version;
                }
            }
        }
    }
    Ok(last)
}

/// Works out the plan for the workspace at `root` (all changed crates, or
/// only those named in `only`).
pub(crate) fn plan(root: &Path, only: &[String]) -> Result<Plan, String> {
    let crates = workspace::load(root)?;
    for name in only {
        match crates.iter().find(|c| &c.name == name) {
            None => return Err(format!("{name} is not a crate of this workspace")),
            Some(c) if !c.publish => {
                return Err(format!("{name} is not published (publish = false)"));
            }
            Some(_) => {}
        }
    }
    let tags = last_tags(root, &crates)?;
    let mut plan = Plan::default();
    let mut releases = Vec::new();
    for krate in crates.iter().filter(|c| c.publish) {
        if !only.is_empty() && !only.contains(&krate.name) {
            continue;
        }
        let last = tags.get(&krate.name).cloned();
        if let Some(last) = &last {
            let tag = krate.tag(last);
            let changed = git(
                root,
                &["diff", "--name-only", &tag, "HEAD", "--", &krate.rel],
            )?;
            if changed.trim().is_empty() {
                if only.contains(&krate.name) {
                    plan.refusals.push(format!(
                        "{}: nothing changed since {tag}; nothing to release",
                        krate.name
                    ));
                }
                plan.unchanged.push((krate.name.clone(), tag));
                continue;
            }
            if krate.version <= *last {
                plan.refusals.push(format!(
                    "{}: version {} is not above its last tag {tag}, and it changed since: run `cargo xtask bump {} patch` (or minor, major)",
                    krate.name, krate.version, krate.name
                ));
            }
        }
        let notes = match std::fs::read_to_string(krate.changelog()) {
            Ok(text) => match changelog::unreleased(&text) {
                Some(notes) if !notes.is_empty() => notes,
                Some(_) => {
                    plan.refusals.push(format!(
                        "{}: the `## Unreleased` section of {}/CHANGELOG.md is empty: add a line saying what changed",
                        krate.name, krate.rel
                    ));
                    Vec::new()
                }
                None => {
                    plan.refusals.push(format!(
                        "{}: {}/CHANGELOG.md has no `## Unreleased` section: add one, with a line saying what changed",
                        krate.name, krate.rel
                    ));
                    Vec::new()
                }
            },
            Err(e) => {
                plan.refusals.push(format!(
                    "{}: cannot read {}/CHANGELOG.md ({e}): every crate keeps one",
                    krate.name, krate.rel
                ));
                Vec::new()
            }
        };
        releases.push(Release {
            name: krate.name.clone(),
            last,
            version: krate.version.clone(),
            notes,
            tag: krate.tag(&krate.version),
        });
    }
    for release in &releases {
        for dependent in &crates {
            for dep in dependent.deps.iter().filter(|d| d.name == release.name) {
                if !dep.req.matches(&release.version) {
                    plan.refusals.push(format!(
                        "{}: its {} dependency on {} asks for `{}`, which {} {} does not meet: run `cargo xtask bump {} ...` to move both, or edit {}/Cargo.toml",
                        dependent.name,
                        dep.kind,
                        release.name,
                        dep.req,
                        release.name,
                        release.version,
                        release.name,
                        dependent.rel
                    ));
                }
            }
        }
    }
    plan.releases = in_dependency_order(releases, &crates)?;
    Ok(plan)
}

/// `releases` with every crate after the crates it depends on, of every kind:
/// a dev-dependency with a version (plugin-test-support) stays in the
/// published manifest, so it must be on crates.io first. (The workspace has
/// no dev-dependency cycles; `cargo publish` needs that too.) Ties by name.
fn in_dependency_order(releases: Vec<Release>, crates: &[Crate]) -> Result<Vec<Release>, String> {
    let names: BTreeSet<&str> = releases.iter().map(|r| r.name.as_str()).collect();
    let needs: BTreeMap<&str, BTreeSet<&str>> = crates
        .iter()
        .filter(|c| names.contains(c.name.as_str()))
        .map(|c| {
            let deps = c
                .deps
                .iter()
                .filter(|d| names.contains(d.name.as_str()))
                .map(|d| d.name.as_str())
                .collect();
            (c.name.as_str(), deps)
        })
        .collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    while done.len() < names.len() {
        let ready: Vec<&str> = names
            .iter()
            .filter(|n| !done.contains(*n))
            .filter(|n| needs.get(*n).is_none_or(|deps| deps.is_subset(&done)))
            .copied()
            .collect();
        if ready.is_empty() {
            let left: Vec<&str> = names.difference(&done).copied().collect();
            return Err(format!(
                "these crates depend on each other in a cycle: {}",
                left.join(", ")
            ));
        }
        order.extend(ready.iter().map(|n| (*n).to_owned()));
        done.extend(ready);
    }
    let mut by_name: BTreeMap<String, Release> =
        releases.into_iter().map(|r| (r.name.clone(), r)).collect();
    Ok(order
        .into_iter()
        .filter_map(|n| by_name.remove(&n))
        .collect())
}

impl Plan {
    /// The plan as text: one block per crate, then the unchanged ones and the
    /// refusals.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if self.releases.is_empty() {
            out.push_str("nothing to release\n");
        }
        for (i, r) in self.releases.iter().enumerate() {
            let from = r
                .last
                .as_ref()
                .map_or_else(|| "(never tagged)".to_owned(), Version::to_string);
            let _ = writeln!(
                out,
                "{}. {}  {from} -> {}  tag {}",
                i + 1,
                r.name,
                r.version,
                r.tag
            );
            for line in &r.notes {
                let _ = writeln!(out, "       {line}");
            }
        }
        if !self.unchanged.is_empty() {
            let list: Vec<String> = self
                .unchanged
                .iter()
                .map(|(name, tag)| format!("{name} (at {tag})"))
                .collect();
            let _ = writeln!(out, "unchanged: {}", list.join(", "));
        }
        for (name, status) in &self.names {
            let _ = writeln!(out, "name on crates.io: {name} {}", status.describe());
        }
        for refusal in &self.refusals {
            let _ = writeln!(out, "refused: {refusal}");
        }
        out
    }
}
