//! `cargo xtask ci`: the checks `.ci/run` runs, in order, stopping at the first
//! failure.

use std::path::Path;
use std::process::Command;

use crate::command::{output, step};

/// The README's test command.
pub(crate) const TEST_COMMAND: &[&str] = &["test", "--workspace", "--locked"];

/// Crates that must not depend on these (DESIGN.md, "must not know about"):
/// checked on the normal (non-dev) dependency tree.
const LAYERS: &[(&str, &[&str])] = &[(
    "plugin-spec",
    &[
        "tokio",
        "hyper",
        "hyper-util",
        "rustls",
        "tokio-rustls",
        "tower",
        "notify",
    ],
)];

pub(crate) fn run(root: &Path) -> Result<(), String> {
    step("format", root, cargo(&["fmt", "--all", "--check"]))?;
    step(
        "clippy",
        root,
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    step("docs", root, {
        let mut doc = cargo(&["doc", "--workspace", "--no-deps", "--locked"]);
        doc.env("RUSTDOCFLAGS", "-D warnings");
        doc
    })?;
    layers(root)?;
    step("tests", root, cargo(TEST_COMMAND))?;
    println!("ci: all checks passed");
    Ok(())
}

/// Checks that no crate reaches a dependency its layer must not know about.
fn layers(root: &Path) -> Result<(), String> {
    println!("==> layers: normal dependencies of each crate");
    for (krate, forbidden) in LAYERS {
        let tree = output(
            root,
            cargo(&[
                "tree", "--locked", "-p", krate, "-e", "normal", "--prefix", "none", "--format",
                "{p}",
            ]),
        )?;
        let found: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|dep| forbidden.contains(dep))
            .collect();
        if !found.is_empty() {
            return Err(format!(
                "layers: {krate} depends on {} (DESIGN.md forbids it: `cargo tree -p {krate} -e normal -i <dep>` shows the path)",
                found.join(", ")
            ));
        }
        println!("    {krate}: none of {}", forbidden.join(", "));
    }
    println!("<== layers: ok");
    Ok(())
}

/// `cargo ARGS`, with the cargo that runs xtask.
pub(crate) fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.args(args);
    cmd
}
