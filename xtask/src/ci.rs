//! `cargo xtask ci`: the checks `.ci/run` runs, in order, stopping at the first
//! failure.

use std::path::Path;
use std::process::Command;

use crate::command::{output, step};

/// The README's test command: every feature on, so the metrics tests run.
pub(crate) const TEST_COMMAND: &[&str] = &["test", "--workspace", "--all-features", "--locked"];

/// Crates with optional features, checked with them off too.
const NO_DEFAULT_FEATURES: &[&str] = &[
    "plugin-subsystems",
    "plugin-client",
    "plugin-discovery",
    "plugin-managed",
    "plugin-registry",
    "plugin-server",
    "plugin-transport",
    "pluginctl",
];

/// Crates (with extra `cargo tree` arguments) that must not depend on these
/// (docs/architecture.md, "What each crate owns"): checked on the normal (non-dev)
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
    // A managed plugin's config.json and its packaging are files and ELF: no
    // networking, and nothing of the host or plugin side.
    (
        "plugin-managed",
        &[],
        &[
            "tokio",
            "hyper",
            "hyper-util",
            "http",
            "rustls",
            "tokio-rustls",
            "tower",
            "plugin-server",
            "plugin-client",
            "plugin-subsystems",
        ],
    ),
    // Without `package`, plugin-managed is the config.json model alone.
    (
        "plugin-managed",
        &["--no-default-features"],
        &["goblin", "tempfile"],
    ),
    // lookup and scan are plain sync code: no runtime without the `watch` feature.
    (
        "plugin-discovery",
        &["--no-default-features"],
        &["tokio", "notify", "futures-core"],
    ),
    // Test support is for tests only: no crate ships with it, and it depends on
    // none of ours, so every crate's tests can use it without a cycle.
    (
        "plugin-test-support",
        &[],
        &[
            "plugin-spec",
            "plugin-discovery",
            "plugin-transport",
            "plugin-client",
            "plugin-registry",
            "plugin-server",
            "plugin-subsystems",
            "plugin-managed",
            "plugin-demo",
        ],
    ),
    ("pluginctl", &[], &["plugin-test-support"]),
    // The demo plugins are the plugin side only: nothing of the host's.
    (
        "plugin-demo",
        &[],
        &[
            "plugin-client",
            "plugin-registry",
            "plugin-discovery",
            "plugin-transport",
        ],
    ),
    // pluginctl without `demo` (ls, call, inspect, watch, package): no demo
    // plugins, so no netlink and no certificate generation.
    (
        "pluginctl",
        &["--no-default-features"],
        &["plugin-demo", "rtnetlink", "rcgen"],
    ),
    // plugin-spec returns warnings; logging them is the caller's.
    ("plugin-spec", &[], &["tracing"]),
    // The relay waker both sides share is std only: no runtime, no crate of ours.
    (
        "plugin-relay",
        &[],
        &[
            "tokio",
            "futures-core",
            "futures-util",
            "hyper",
            "plugin-spec",
        ],
    ),
    // Both sides without `tls`: no rustls.
    (
        "plugin-subsystems",
        &["--no-default-features", "--features", "client,server"],
        &["rustls", "tokio-rustls", "ring"],
    ),
    // pluginctl depends on what it uses.
    (
        "pluginctl",
        &["--depth", "1"],
        &["plugin-transport", "thiserror"],
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
            "--all-features",
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
    docs_rs(root)?;
    layers(root)?;
    stands_alone(root)?;
    step("tests", root, cargo(TEST_COMMAND))?;
    crate::examples::run(root)?;
    println!("ci: all checks passed");
    Ok(())
}

/// The published crates, documented as docs.rs documents them: every feature
/// on and `--cfg docsrs`, so feature-gated items carry their badge. docs.rs
/// uses nightly for `doc_cfg`; `RUSTC_BOOTSTRAP` lets this stable toolchain
/// take the same gate. A separate target dir keeps the normal build's cache.
fn docs_rs(root: &Path) -> Result<(), String> {
    step("docs as docs.rs builds them", root, {
        let mut doc = cargo(&[
            "doc",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "interop",
            "--exclude",
            "benches",
            "--no-deps",
            "--all-features",
            "--locked",
            "--target-dir",
            "target/docsrs",
        ]);
        doc.env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
            .env("RUSTC_BOOTSTRAP", "1");
        doc
    })?;
    // One item each crate gates behind a feature must show the badge.
    for page in [
        "plugin_discovery/struct.Watch.html",
        "plugin_server/struct.TlsFiles.html",
        "plugin_subsystems/trait.PluginServerExt.html",
        "plugin_registry/metrics/index.html",
    ] {
        let path = root.join("target/docsrs/doc").join(page);
        let html = std::fs::read_to_string(&path)
            .map_err(|e| format!("docs.rs: cannot read {}: {e}", path.display()))?;
        if !html.contains("Available on <strong>crate feature") {
            return Err(format!(
                "docs.rs: {page} has no feature badge: is `#![cfg_attr(docsrs, feature(doc_cfg))]` at the crate root?"
            ));
        }
    }
    println!("    feature badges present");
    Ok(())
}

/// The words that would point a reader outside the repository: the team's
/// private notes, which no clone or package has. Spelled in pieces so that
/// this list does not match itself.
const OUTSIDE: &[&str] = &[
    concat!("..", "/shared"),
    concat!("shared", "/wire"),
    concat!("PROTOCOL", ".md"),
    concat!("DESIGN", ".md"),
    concat!("STYLE", ".md"),
];

/// Checks that no tracked file reads or cites anything outside the
/// repository, so a clone, or one crate's package, stands alone.
fn stands_alone(root: &Path) -> Result<(), String> {
    println!("==> stands alone: no tracked file points outside the repository");
    let files = output(root, {
        let mut git = Command::new("git");
        git.args(["ls-files", "-z"]);
        git
    })?;
    let mut found = Vec::new();
    for file in files.split('\0').filter(|f| !f.is_empty()) {
        // Files that are not UTF-8 text hold no references to read.
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if let Some(word) = OUTSIDE.iter().find(|w| line.contains(**w)) {
                found.push(format!("{file}:{}: {word}", number + 1));
            }
        }
    }
    if !found.is_empty() {
        return Err(format!(
            "stands alone: these point outside the repository; write the fact into docs/ or the crate's tests/fixtures/ instead:\n  {}",
            found.join("\n  ")
        ));
    }
    println!("<== stands alone: ok");
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
                "layers: {label} depends on {} (docs/architecture.md forbids it: `cargo tree -p {krate} -e normal -i <dep>` shows the path)",
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
