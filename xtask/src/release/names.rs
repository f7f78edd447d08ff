//! Whether each crate's name is free on crates.io, already ours, or someone
//! else's: a release must never publish over an unrelated crate.
//!
//! Asked with `cargo info NAME --registry crates-io`, which follows the
//! registry's own name rules (`plugin-api` and `plugin_api` are one name).
//! "Ours" means the published crate names our repository.

use std::path::Path;

use crate::ci::cargo;

/// What the registry says of one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameStatus {
    /// No crate has this name.
    Free,
    /// A crate of this name names our repository.
    Ours,
    /// A crate of this name belongs to another project (its repository, or
    /// "none given").
    Taken(String),
    /// The registry could not be asked (offline, say): the reason.
    Unknown(String),
}

impl NameStatus {
    /// The status as the plan prints it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Free => "free".to_owned(),
            Self::Ours => "already ours".to_owned(),
            Self::Taken(by) => format!("taken by another project ({by})"),
            Self::Unknown(why) => format!("unknown ({why})"),
        }
    }
}

/// Reads `cargo info`'s answer: its standard output and error, and whether it
/// succeeded.
pub(crate) fn judge(ours: Option<&str>, stdout: &str, stderr: &str, success: bool) -> NameStatus {
    if stderr.contains("could not find") {
        return NameStatus::Free;
    }
    if !success {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("cargo info failed");
        return NameStatus::Unknown(last.trim().to_owned());
    }
    let theirs = stdout
        .lines()
        .find_map(|line| line.strip_prefix("repository:"))
        .map(|r| r.trim().trim_end_matches('/').trim_end_matches(".git"));
    let ours = ours.map(|r| r.trim_end_matches('/').trim_end_matches(".git"));
    match (theirs, ours) {
        (Some(theirs), Some(ours)) if theirs.eq_ignore_ascii_case(ours) => NameStatus::Ours,
        (Some(theirs), _) => NameStatus::Taken(theirs.to_owned()),
        (None, _) => NameStatus::Taken("no repository given".to_owned()),
    }
}

/// Asks the registry about `name`, whose crate names `ours` as its repository.
pub(crate) fn status(root: &Path, name: &str, ours: Option<&str>) -> NameStatus {
    let mut info = cargo(&["info", name, "--registry", "crates-io", "--quiet"]);
    match info.current_dir(root).output() {
        Ok(out) => judge(
            ours,
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
            out.status.success(),
        ),
        Err(e) => NameStatus::Unknown(format!("cannot run cargo info: {e}")),
    }
}
