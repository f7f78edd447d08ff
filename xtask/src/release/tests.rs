//! The release planner against a temporary git repository holding a tiny
//! workspace: alpha; beta, which depends on alpha; gamma; and tool, which is
//! not published and depends on beta.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use semver::Version;

use super::bump::{self, Level};
use super::plan::{self, Plan};

struct Repo {
    dir: tempfile::TempDir,
}

fn manifest(name: &str, version: &str, deps: &[(&str, &str)], publish: bool) -> String {
    let mut text =
        format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n");
    if !publish {
        text.push_str("publish = false\n");
    }
    text.push_str("\n[dependencies]\n");
    for (dep, req) in deps {
        text.push_str(&format!(
            "{dep} = {{ version = \"{req}\", path = \"../{dep}\" }}\n"
        ));
    }
    text
}

const RELEASED: &str =
    "# Changelog\n\n## Unreleased\n\n## 0.1.0 - 2026-01-01\n\n- First release.\n";

impl Repo {
    /// The workspace, committed, nothing tagged.
    fn new() -> Self {
        let repo = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        repo.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"alpha\", \"beta\", \"gamma\", \"tool\"]\n",
        );
        for (name, deps, publish) in [
            ("alpha", &[][..], true),
            ("beta", &[("alpha", "0.1")][..], true),
            ("gamma", &[][..], true),
            ("tool", &[("beta", "0.1")][..], false),
        ] {
            repo.write(
                &format!("{name}/Cargo.toml"),
                &manifest(name, "0.1.0", deps, publish),
            );
            repo.write(&format!("{name}/src/lib.rs"), "//! A crate.\n");
            repo.write(
                &format!("{name}/CHANGELOG.md"),
                "# Changelog\n\n## Unreleased\n\n- First release.\n",
            );
        }
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "test@example.invalid"]);
        repo.git(&["config", "user.name", "Test"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["config", "tag.gpgsign", "false"]);
        repo.commit("initial");
        repo
    }

    /// The workspace with alpha, beta and gamma released as 0.1.0 and tagged.
    fn released() -> Self {
        let repo = Self::new();
        for name in ["alpha", "beta", "gamma", "tool"] {
            repo.write(&format!("{name}/CHANGELOG.md"), RELEASED);
        }
        repo.commit("release: alpha 0.1.0, beta 0.1.0, gamma 0.1.0");
        for name in ["alpha", "beta", "gamma"] {
            repo.git(&["tag", &format!("{name}-v0.1.0")]);
        }
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// A change to `name`'s code, with a changelog line and a new version.
    fn change(&self, name: &str, version: &str, deps: &[(&str, &str)]) {
        self.write(&format!("{name}/src/lib.rs"), "//! A crate, changed.\n");
        self.write(
            &format!("{name}/CHANGELOG.md"),
            &RELEASED.replace("## Unreleased\n", "## Unreleased\n\n- Changed.\n"),
        );
        self.write(
            &format!("{name}/Cargo.toml"),
            &manifest(name, version, deps, true),
        );
    }

    fn plan(&self, only: &[&str]) -> Plan {
        let only: Vec<String> = only.iter().map(|s| (*s).to_owned()).collect();
        plan::plan(self.path(), &only).unwrap()
    }
}

fn names(plan: &Plan) -> Vec<(String, String)> {
    plan.releases
        .iter()
        .map(|r| (r.name.clone(), r.version.to_string()))
        .collect()
}

#[test]
fn never_tagged_crates_are_all_planned_dependencies_first() {
    let repo = Repo::new();
    let plan = repo.plan(&[]);
    assert_eq!(plan.refusals, Vec::<String>::new());
    assert_eq!(
        names(&plan),
        [
            ("alpha".to_owned(), "0.1.0".to_owned()),
            ("gamma".to_owned(), "0.1.0".to_owned()),
            ("beta".to_owned(), "0.1.0".to_owned()),
        ]
    );
    assert_eq!(
        plan.render(),
        "1. alpha  (never tagged) -> 0.1.0  tag alpha-v0.1.0\n       - First release.\n\
         2. gamma  (never tagged) -> 0.1.0  tag gamma-v0.1.0\n       - First release.\n\
         3. beta  (never tagged) -> 0.1.0  tag beta-v0.1.0\n       - First release.\n"
    );
}

#[test]
fn crates_unchanged_since_their_tag_are_left_out() {
    let repo = Repo::released();
    let plan = repo.plan(&[]);
    assert!(plan.releases.is_empty());
    assert!(plan.refusals.is_empty());
    assert_eq!(
        plan.render(),
        "nothing to release\nunchanged: alpha (at alpha-v0.1.0), beta (at beta-v0.1.0), gamma (at gamma-v0.1.0)\n"
    );
}

#[test]
fn a_changed_crate_with_a_new_version_and_notes_is_planned() {
    let repo = Repo::released();
    repo.change("gamma", "0.1.1", &[]);
    repo.commit("gamma: a fix");
    let plan = repo.plan(&[]);
    assert!(plan.refusals.is_empty(), "{:?}", plan.refusals);
    assert_eq!(plan.releases.len(), 1);
    let release = &plan.releases[0];
    assert_eq!(
        (
            release.name.as_str(),
            release.last.clone(),
            release.version.clone(),
            release.notes.clone(),
            release.tag.as_str()
        ),
        (
            "gamma",
            Some(Version::new(0, 1, 0)),
            Version::new(0, 1, 1),
            vec!["- Changed.".to_owned()],
            "gamma-v0.1.1"
        )
    );
    assert!(plan.render().starts_with(
        "1. gamma  0.1.0 -> 0.1.1  tag gamma-v0.1.1\n       - Changed.\nunchanged: alpha"
    ));
}

#[test]
fn a_change_without_a_version_bump_or_a_changelog_line_is_refused() {
    let repo = Repo::released();
    repo.write("gamma/src/lib.rs", "//! Changed, quietly.\n");
    repo.commit("gamma: a quiet change");
    let plan = repo.plan(&[]);
    assert_eq!(
        plan.refusals,
        [
            "gamma: version 0.1.0 is not above its last tag gamma-v0.1.0, and it changed since: run `cargo xtask bump gamma patch` (or minor, major)",
            "gamma: the `## Unreleased` section of gamma/CHANGELOG.md is empty: add a line saying what changed",
        ]
    );
}

#[test]
fn a_missing_changelog_is_refused() {
    let repo = Repo::released();
    repo.change("gamma", "0.1.1", &[]);
    std::fs::remove_file(repo.path().join("gamma/CHANGELOG.md")).unwrap();
    repo.commit("gamma: no changelog");
    let plan = repo.plan(&[]);
    assert_eq!(plan.refusals.len(), 1);
    assert!(
        plan.refusals[0].starts_with("gamma: cannot read gamma/CHANGELOG.md ("),
        "{:?}",
        plan.refusals
    );
}

#[test]
fn a_dependent_whose_requirement_excludes_the_new_version_is_refused() {
    let repo = Repo::released();
    repo.change("alpha", "0.2.0", &[]);
    repo.commit("alpha: a breaking change");
    let plan = repo.plan(&[]);
    assert_eq!(
        plan.refusals,
        [
            "beta: its normal dependency on alpha asks for `^0.1`, which alpha 0.2.0 does not meet: run `cargo xtask bump alpha ...` to move both, or edit beta/Cargo.toml"
        ]
    );
}

#[test]
fn bump_moves_dependents_and_the_plan_orders_them() {
    let repo = Repo::released();
    repo.write("alpha/src/lib.rs", "//! Breaking.\n");
    repo.write(
        "alpha/CHANGELOG.md",
        &RELEASED.replace("## Unreleased\n", "## Unreleased\n\n- Breaking.\n"),
    );
    let changed = bump::bump(repo.path(), "alpha", Level::Minor).unwrap();
    assert_eq!(
        changed,
        [
            "alpha: 0.1.0 -> 0.2.0",
            "beta: requires alpha = \"0.2\" (Cargo.toml and CHANGELOG.md)"
        ]
    );
    let beta = std::fs::read_to_string(repo.path().join("beta/Cargo.toml")).unwrap();
    assert!(
        beta.contains("alpha = { version = \"0.2\", path = \"../alpha\" }"),
        "{beta}"
    );
    // beta changed (its requirement), so it needs a version of its own.
    repo.commit("alpha 0.2");
    let plan = repo.plan(&[]);
    assert_eq!(
        plan.refusals,
        [
            "beta: version 0.1.0 is not above its last tag beta-v0.1.0, and it changed since: run `cargo xtask bump beta patch` (or minor, major)"
        ]
    );
    bump::bump(repo.path(), "beta", Level::Patch).unwrap();
    repo.commit("beta 0.1.1");
    let plan = repo.plan(&[]);
    assert!(plan.refusals.is_empty(), "{:?}", plan.refusals);
    assert_eq!(
        names(&plan),
        [
            ("alpha".to_owned(), "0.2.0".to_owned()),
            ("beta".to_owned(), "0.1.1".to_owned()),
        ]
    );
    assert_eq!(plan.releases[1].notes, ["- Requires `alpha` 0.2 (0.2.0)."]);
}

#[test]
fn only_the_named_crates_are_planned() {
    let repo = Repo::released();
    repo.change("alpha", "0.1.1", &[]);
    repo.change("gamma", "0.1.1", &[]);
    repo.commit("two changes");
    assert_eq!(
        names(&repo.plan(&["gamma"])),
        [("gamma".to_owned(), "0.1.1".to_owned())]
    );
    let plan = repo.plan(&["beta"]);
    assert_eq!(
        plan.refusals,
        ["beta: nothing changed since beta-v0.1.0; nothing to release"]
    );
    let only = |name: &str| plan::plan(repo.path(), &[name.to_owned()]).unwrap_err();
    assert_eq!(only("delta"), "delta is not a crate of this workspace");
    assert_eq!(only("tool"), "tool is not published (publish = false)");
}

#[test]
fn a_name_is_free_ours_taken_or_unknown_as_cargo_info_says() {
    use super::names::{NameStatus, judge};
    let ours = Some("https://github.com/docker-plugins-rs/docker-plugins");
    let missing = "error: could not find `plugin-spec` in registry `crates-io`\n";
    assert_eq!(judge(ours, "", missing, false), NameStatus::Free);
    let found = |repo: &str| format!("plugin_api\nversion: 1.0.0\nrepository: {repo}\n");
    assert_eq!(
        judge(
            ours,
            &found("https://github.com/docker-plugins-rs/docker-plugins/"),
            "",
            true
        ),
        NameStatus::Ours
    );
    assert_eq!(
        judge(ours, &found("https://github.com/someone/else"), "", true),
        NameStatus::Taken("https://github.com/someone/else".to_owned())
    );
    assert_eq!(
        judge(ours, "plugin_x\nversion: 1.0.0\n", "", true),
        NameStatus::Taken("no repository given".to_owned())
    );
    assert_eq!(
        judge(
            ours,
            "",
            "error: failed to query the index\n  network down\n",
            false
        ),
        NameStatus::Unknown("network down".to_owned())
    );
}
