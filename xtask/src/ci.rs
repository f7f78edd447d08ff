//! `cargo xtask ci`: the checks `.ci/run` runs, in order, stopping at the first
//! failure.

use std::path::Path;
use std::process::Command;

use crate::command::{output, step};

/// The README's test command.
pub(crate) const TEST_COMMAND: &[&str] = &["test", "--workspace", "--locked"];

/// Crates with optional features, checked with them off too.
const NO_DEFAULT_FEATURES: &[&str] = &[
    "plugin-subsystems",
    "plugin-client",
    "plugin-discovery",
    "plugin-registry",
    "plugin-server",
    "plugin-transport",
];

/// Crates (with extra `cargo tree` arguments) that must not depend on these
/// (DESIGN.md, "must not know about"): checked on the normal (non-dev)
/// dependency tree.
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    (
        "plugin-spec",
        &[],
        &[
            "tokio",
            "hyper",
            "hyper-util",
            "rustls",
            "tokio-rustls",
            "tower",
            "notify",
        ],
    ),
    (
        "plugin-discovery",
        &[],
        &[
            "hyper",
            "hyper-util",
            "http",
            "rustls",
            "tokio-rustls",
            "tower",
        ],
    ),
    // The transport moves bytes; JSON and method names are the client's
    // (directly: plugin-spec parses JSON descriptors underneath).
    (
        "plugin-transport",
        &["--depth", "1"],
        &["serde_json", "serde", "notify", "plugin-discovery"],
    ),
    (
        "plugin-transport",
        &["--no-default-features"],
        &["rustls", "tokio-rustls", "ring"],
    ),
    // The plugin side knows nothing of discovery or of the host's client.
    (
        "plugin-server",
        &[],
        &[
            "plugin-discovery",
            "plugin-transport",
            "plugin-client",
            "plugin-registry",
        ],
    ),
    (
        "plugin-server",
        &["--no-default-features"],
        &["rustls", "tokio-rustls", "ring"],
    ),
    // The client calls; finding and caching plugins are the registry's.
    (
        "plugin-client",
        &[],
        &["plugin-discovery", "plugin-registry", "notify"],
    ),
    (
        "plugin-client",
        &["--no-default-features"],
        &["rustls", "tokio-rustls", "ring"],
    ),
    // The registry owns caching and concurrency, not how bytes move.
    (
        "plugin-registry",
        &["--depth", "1"],
        &[
            "hyper",
            "hyper-util",
            "rustls",
            "tokio-rustls",
            "notify",
            "serde_json",
        ],
    ),
    // Typed subsystems know nothing of discovery, caching or how bytes move.
    (
        "plugin-subsystems",
        &["--depth", "1"],
        &[
            "plugin-discovery",
            "plugin-registry",
            "plugin-transport",
            "hyper",
            "hyper-util",
            "rustls",
            "tokio",
        ],
    ),
    // Without `client` and `server`, plugin-subsystems is just the types.
    (
        "plugin-subsystems",
        &["--no-default-features"],
        &["plugin-client", "plugin-server", "hyper", "tokio"],
    ),
    // lookup and scan are plain sync code: no runtime without the `watch` feature.
    (
        "plugin-discovery",
        &["--no-default-features"],
        &["tokio", "notify", "futures-core"],
    ),
];

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
    for krate in NO_DEFAULT_FEATURES {
        step(
            &format!("clippy {krate} --no-default-features"),
            root,
            cargo(&[
                "clippy",
                "--locked",
                "-p",
                krate,
                "--no-default-features",
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }
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
    for (krate, extra, forbidden) in LAYERS {
        let mut args = vec![
            "tree", "--locked", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}",
        ];
        args.extend_from_slice(extra);
        let tree = output(root, cargo(&args))?;
        let found: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|dep| forbidden.contains(dep))
            .collect();
        let label = format!("{krate} {}", extra.join(" ")).trim_end().to_owned();
        if !found.is_empty() {
            return Err(format!(
                "layers: {label} depends on {} (DESIGN.md forbids it: `cargo tree -p {krate} -e normal -i <dep>` shows the path)",
                found.join(", ")
            ));
        }
        println!("    {label}: none of {}", forbidden.join(", "));
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
