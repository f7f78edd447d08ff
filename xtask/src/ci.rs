//! `cargo xtask ci`: the checks `.ci/run` runs, in order, stopping at the first
//! failure. `--only STEP` runs some of them (`cargo xtask ci --help` lists them).
//!
//! Every step that concerns "each crate" takes the crates from `cargo metadata`
//! (through `--workspace` or cargo-hack), so a crate added later is covered
//! without an edit here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;
use serde_json::Value;
use toml_edit::{DocumentMut, Item};

use crate::command::{output, step};

/// The README's test command: every feature on, so the metrics tests run.
pub(crate) const TEST_COMMAND: &[&str] = &["test", "--workspace", "--all-features", "--locked"];

/// The cargo-hack that `features` installs when none is on PATH.
const CARGO_HACK_VERSION: &str = "0.6.46";

/// Most features cargo-hack turns on together. cargo-hack counts `default`
/// as a feature (even an empty one) and adds an `--all-features` run, so for
/// every crate of ours (at most three features of its own) this is the whole
/// powerset; for a crate with more, it bounds the number of runs.
const POWERSET_DEPTH: &str = "3";

/// The checks of `cargo xtask ci`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Step {
    /// `cargo fmt --check`, on the workspace and on `fuzz/`.
    Format,
    /// Clippy on the whole workspace, every feature on, warnings denied.
    Clippy,
    /// Every fuzz target in `fuzz/` (a workspace of its own) compiles against
    /// today's API, warnings denied.
    Fuzz,
    /// No locked dependency needs a newer Rust than our `rust-version`.
    Msrv,
    /// Clippy on each publishable crate for every combination of its features
    /// (cargo-hack's powerset).
    Features,
    /// rustdoc, as we build it and as docs.rs does.
    Docs,
    /// docs/architecture.md's layering, on the dependency tree.
    Layers,
    /// No tracked file points outside the repository.
    StandsAlone,
    /// The README's test command.
    Tests,
    /// The tests that only mean something without TLS.
    NoTls,
    /// The newcomer examples, run as a user would.
    Examples,
    /// The workspace on the newest compatible dependencies, warnings denied.
    Newest,
}

impl Step {
    const ALL: &[Step] = &[
        Step::Format,
        Step::Clippy,
        Step::Fuzz,
        Step::Msrv,
        Step::Features,
        Step::Docs,
        Step::Layers,
        Step::StandsAlone,
        Step::Tests,
        Step::NoTls,
        Step::Examples,
        Step::Newest,
    ];
}

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

/// Runs `only`'s steps (every step when it is empty), in [`Step::ALL`]'s order.
pub(crate) fn run(root: &Path, only: &[Step]) -> Result<(), String> {
    for &which in Step::ALL {
        if only.is_empty() || only.contains(&which) {
            run_step(root, which)?;
        }
    }
    if only.is_empty() {
        println!("ci: all checks passed");
    } else {
        println!("ci: the steps asked for passed");
    }
    Ok(())
}

fn run_step(root: &Path, which: Step) -> Result<(), String> {
    match which {
        Step::Format => {
            step("format", root, cargo(&["fmt", "--all", "--check"]))?;
            // fuzz/ is a workspace of its own, which `--all` does not reach.
            step(
                "format: fuzz targets",
                root,
                cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"]),
            )
        }
        Step::Clippy => step(
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
        ),
        Step::Fuzz => fuzz(root),
        Step::Msrv => msrv(root),
        Step::Features => features(root),
        Step::Docs => {
            step("docs", root, {
                let mut doc = cargo(&["doc", "--workspace", "--no-deps", "--locked"]);
                doc.env("RUSTDOCFLAGS", "-D warnings");
                doc
            })?;
            docs_rs(root)
        }
        Step::Layers => layers(root),
        Step::StandsAlone => stands_alone(root),
        Step::Tests => step("tests", root, cargo(TEST_COMMAND)),
        // Without `tls` (the default), an https:// descriptor must fail with
        // an error that says which feature to turn on. The workspace test run
        // has every feature on, so this file runs here, on its own.
        Step::NoTls => step(
            "tests without TLS",
            root,
            cargo(&[
                "test",
                "--locked",
                "-p",
                "plugin-transport",
                "--no-default-features",
                "--test",
                "tls_missing",
            ]),
        ),
        Step::Examples => crate::examples::run(root),
        Step::Newest => newest(root),
    }
}

/// Every fuzz target compiles, warnings denied: `fuzz/` is a workspace of its
/// own (it needs nightly and libFuzzer to run), so no other step builds it,
/// and an API change that breaks a target would go unnoticed until someone
/// fuzzes. A `cargo check` of its binaries on this stable toolchain
/// type-checks exactly the Rust that `cargo fuzz build` compiles, at a
/// fraction of the cost (no sanitizer, no optimised code, no libFuzzer: the
/// crate's default `libfuzzer` feature only compiles and links libFuzzer's
/// C++, so it is off here). `cargo xtask fuzz` runs the real thing. First
/// checks that each file in `fuzz/fuzz_targets` is a `[[bin]]` of the crate,
/// so a target nobody declared is not silently left out, and that
/// `fuzz/Cargo.lock` locks no version of a package the root `Cargo.lock`
/// holds at other versions only, so the targets build against what the
/// crates are tested with. Builds in `<target>/fuzz`, with `fuzz/Cargo.lock`
/// as committed.
fn fuzz(root: &Path) -> Result<(), String> {
    let manifest = "fuzz/Cargo.toml";
    let metadata = metadata(
        root,
        &["--no-deps", "--locked", "--manifest-path", manifest],
    )?;
    let files = crate::fuzz::targets(&root.join("fuzz"))?;
    let missing = undeclared(&files, &bins(&metadata));
    if !missing.is_empty() {
        return Err(format!(
            "fuzz: these files in fuzz/fuzz_targets are not a [[bin]] in {manifest}, so nothing builds them: {} \
             (add a [[bin]] section for each, as `cargo fuzz add` does)",
            missing.join(", ")
        ));
    }
    let read = |file: &str| {
        std::fs::read_to_string(root.join(file)).map_err(|e| format!("cannot read {file}: {e}"))
    };
    let drift = drifted(
        &lock_versions(&read("fuzz/Cargo.lock")?)?,
        &lock_versions(&read("Cargo.lock")?)?,
    );
    if !drift.is_empty() {
        return Err(format!(
            "fuzz: fuzz/Cargo.lock locks versions the workspace's Cargo.lock does not: {}. \
             Lock the workspace's (`cargo update --manifest-path {manifest} -p NAME --precise VERSION`), \
             so the targets build against what the crates are tested with",
            drift.join("; ")
        ));
    }
    let target = crate::interop::target_dir(root)?.join("fuzz");
    let target = target.to_string_lossy();
    step(
        &format!("fuzz: every target compiles ({})", files.join(", ")),
        root,
        {
            let mut check = cargo(&[
                "check",
                "--manifest-path",
                manifest,
                "--bins",
                "--no-default-features",
                "--locked",
                "--target-dir",
                &target,
            ]);
            check.env("RUSTFLAGS", "-D warnings");
            check
        },
    )
}

/// The names of the binary targets `cargo metadata` lists.
fn bins(metadata: &Value) -> Vec<String> {
    metadata
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|package| package.get("targets")?.as_array())
        .flatten()
        .filter(|target| {
            target
                .get("kind")
                .and_then(Value::as_array)
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .filter_map(|target| Some(target.get("name")?.as_str()?.to_owned()))
        .collect()
}

/// The fuzz target files with no binary target of that name.
fn undeclared(files: &[String], bins: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|file| !bins.contains(file))
        .cloned()
        .collect()
}

/// The versions a `Cargo.lock` holds of each registry package.
fn lock_versions(text: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let lock: DocumentMut = text
        .parse()
        .map_err(|e| format!("a Cargo.lock is not TOML: {e}"))?;
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let Some(packages) = lock.get("package").and_then(Item::as_array_of_tables) else {
        return Ok(versions);
    };
    for package in packages {
        let field = |key: &str| package.get(key).and_then(Item::as_str);
        if !field("source").is_some_and(|s| s.starts_with("registry+")) {
            continue;
        }
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            versions
                .entry(name.to_owned())
                .or_default()
                .insert(version.to_owned());
        }
    }
    Ok(versions)
}

/// The packages both lockfiles hold where `fuzz` locks a version `root` does
/// not, as `name version (the workspace: versions)`.
fn drifted(
    fuzz: &BTreeMap<String, BTreeSet<String>>,
    root: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    fuzz.iter()
        .filter_map(|(name, versions)| {
            let theirs = root.get(name)?;
            let extra: Vec<&str> = versions.difference(theirs).map(String::as_str).collect();
            (!extra.is_empty()).then(|| {
                let theirs: Vec<&str> = theirs.iter().map(String::as_str).collect();
                format!(
                    "{name} {} (the workspace: {})",
                    extra.join(", "),
                    theirs.join(", ")
                )
            })
        })
        .collect()
}

/// The workspace's declared `rust-version` is honest about its dependencies:
/// no package of the lockfile (for this platform, dev and build dependencies
/// included) declares a newer one. Clippy's `incompatible_msrv` (on in the
/// workspace lints, for tests too in clippy.toml) checks our own use of the
/// standard library against it; neither checks language features.
fn msrv(root: &Path) -> Result<(), String> {
    println!("==> msrv: no locked dependency needs a newer Rust than ours");
    let host = output(root, {
        let mut rustc = Command::new("rustc");
        rustc.arg("-vV");
        rustc
    })?;
    let host = host
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .ok_or("rustc -vV named no host")?
        .to_owned();
    let metadata = metadata(root, &["--locked", "--filter-platform", &host])?;
    let (ours, newer) = newer_than_ours(&metadata)?;
    if !newer.is_empty() {
        return Err(format!(
            "msrv: the workspace declares rust-version {ours}, but these locked dependencies need more: {}. \
             Raise `rust-version` in Cargo.toml, or lock versions that build on {ours} \
             (`cargo update -p NAME --precise VERSION`)",
            newer.join(", ")
        ));
    }
    println!("<== msrv: ok, every locked dependency builds on {ours}");
    Ok(())
}

/// The workspace's `rust-version` (the highest its members declare), and the
/// packages that are not members and declare a higher one, as `name version
/// (rust-version)`.
fn newer_than_ours(metadata: &Value) -> Result<(semver::Version, Vec<String>), String> {
    let members: Vec<&str> = metadata
        .get("workspace_members")
        .and_then(Value::as_array)
        .ok_or("cargo metadata listed no workspace members")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = metadata
        .get("packages")
        .and_then(Value::as_array)
        .ok_or("cargo metadata listed no packages")?;
    let rust_version = |package: &Value| -> Option<semver::Version> {
        let text = package.get("rust_version")?.as_str()?;
        // `1.85` is `1.85.0`.
        let full = if text.matches('.').count() == 1 {
            format!("{text}.0")
        } else {
            text.to_owned()
        };
        semver::Version::parse(&full).ok()
    };
    let is_member = |package: &Value| {
        package
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| members.contains(&id))
    };
    let ours = packages
        .iter()
        .filter(|p| is_member(p))
        .filter_map(rust_version)
        .max()
        .ok_or("no workspace member declares a rust-version")?;
    let mut newer: Vec<String> = packages
        .iter()
        .filter(|p| !is_member(p))
        .filter_map(|p| {
            let needs = rust_version(p)?;
            (needs > ours).then(|| {
                let field = |key: &str| p.get(key).and_then(Value::as_str).unwrap_or("?");
                format!(
                    "{} {} (rust-version {needs})",
                    field("name"),
                    field("version")
                )
            })
        })
        .collect();
    newer.sort();
    Ok((ours, newer))
}

/// Every publishable crate builds, warning-free, with each combination of its
/// features (up to [`POWERSET_DEPTH`] at once), `--no-default-features`
/// included: a crate that compiles only because the workspace build turns
/// on a feature fails here. Library and binary targets only: what a
/// dependent compiles. `publish = false` crates are built with the
/// workspace's features alone, so they are skipped. Installs cargo-hack when
/// it is missing (once per machine: `cargo install` keeps it in
/// `~/.cargo/bin`).
fn features(root: &Path) -> Result<(), String> {
    let installed = cargo(&["hack", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        step(
            "install cargo-hack",
            root,
            cargo(&[
                "install",
                "cargo-hack",
                "--locked",
                "--version",
                CARGO_HACK_VERSION,
            ]),
        )?;
    }
    step(
        "features: each publishable crate, every combination of its features",
        root,
        cargo(&[
            "hack",
            "clippy",
            "--workspace",
            "--ignore-private",
            "--feature-powerset",
            "--depth",
            POWERSET_DEPTH,
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )
}

/// The workspace on the newest versions its requirements allow, as a user's
/// fresh lockfile resolves them (`--ignore-rust-version`: whatever the newest
/// toolchain takes), checked with warnings denied: a deprecation in a
/// dependency's new release fails here, where the pinned Cargo.lock hides it.
/// Works on a copy of the tracked files (and untracked ones not ignored)
/// under `<target>/newest/workspace`, so the repository's Cargo.lock is never
/// touched, with its own target directory beside it, so the main build's
/// cache stays valid (and this one is kept for the next run).
fn newest(root: &Path) -> Result<(), String> {
    let base = crate::interop::target_dir(root)?.join("newest");
    let copy = base.join("workspace");
    copy_workspace(root, &copy)?;
    step(
        "newest: cargo update in a scratch copy",
        &copy,
        cargo(&["update", "--ignore-rust-version"]),
    )?;
    let target = base.join("target");
    let target = target.to_string_lossy();
    step("newest: check with warnings denied", &copy, {
        let mut check = cargo(&[
            "check",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--target-dir",
            &target,
        ]);
        check.env("RUSTFLAGS", "-D warnings");
        check
    })
}

/// Copies the files git knows of (tracked, or untracked and not ignored) from
/// `root` to a fresh `dest`.
fn copy_workspace(root: &Path, dest: &Path) -> Result<(), String> {
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .map_err(|e| format!("cannot remove the old copy {}: {e}", dest.display()))?;
    }
    let files = output(root, {
        let mut git = Command::new("git");
        git.args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ]);
        git
    })?;
    let mut copied = 0_usize;
    for file in files.split('\0').filter(|f| !f.is_empty()) {
        let from = root.join(file);
        // A tracked file deleted in the work tree is not part of it.
        if !from.is_file() {
            continue;
        }
        let to: PathBuf = dest.join(file);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::copy(&from, &to)
            .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
        copied += 1;
    }
    println!("    copied {copied} files to {}", dest.display());
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

/// `cargo metadata --format-version 1 ARGS` in `dir`, parsed.
pub(crate) fn metadata(dir: &Path, args: &[&str]) -> Result<Value, String> {
    let mut all = vec!["metadata", "--format-version", "1"];
    all.extend_from_slice(args);
    let text = output(dir, cargo(&all))?;
    serde_json::from_str(&text).map_err(|e| format!("cargo metadata printed no JSON: {e}"))
}

/// `cargo ARGS`, with the cargo that runs xtask.
pub(crate) fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.args(args);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo metadata` for `packages` (name, version, rust-version), of which
    /// `members` (package ids, `name version`) are the workspace's.
    fn metadata(packages: &[(&str, &str, Option<&str>)], members: &[&str]) -> Value {
        let packages: Vec<Value> = packages
            .iter()
            .map(|(name, version, rust)| {
                serde_json::json!({
                    "id": format!("{name} {version}"),
                    "name": name,
                    "version": version,
                    "rust_version": rust,
                })
            })
            .collect();
        serde_json::json!({ "packages": packages, "workspace_members": members })
    }

    #[test]
    fn a_dependency_that_needs_a_newer_rust_is_named() {
        let m = metadata(
            &[
                ("ours", "0.1.0", Some("1.85")),
                ("old", "1.0.0", Some("1.70")),
                ("same", "2.0.0", Some("1.85.0")),
                ("silent", "0.3.0", None),
                ("newer", "8.2.2", Some("1.88")),
            ],
            &["ours 0.1.0"],
        );
        let (ours, newer) = newer_than_ours(&m).unwrap();
        assert_eq!(ours, semver::Version::new(1, 85, 0));
        assert_eq!(newer, vec!["newer 8.2.2 (rust-version 1.88.0)".to_owned()]);
    }

    #[test]
    fn a_member_may_declare_more_than_a_dependency() {
        let m = metadata(
            &[
                ("ours", "0.1.0", Some("1.88")),
                ("dep", "1.0.0", Some("1.86")),
            ],
            &["ours 0.1.0"],
        );
        assert_eq!(newer_than_ours(&m).unwrap().1, Vec::<String>::new());
    }

    #[test]
    fn a_workspace_without_rust_version_is_an_error() {
        let m = metadata(&[("ours", "0.1.0", None)], &["ours 0.1.0"]);
        assert!(newer_than_ours(&m).unwrap_err().contains("rust-version"));
    }

    #[test]
    fn a_fuzz_target_file_without_a_bin_is_named() {
        let metadata = serde_json::json!({
            "packages": [{
                "name": "plugin-fuzz",
                "targets": [
                    { "name": "spec_text", "kind": ["bin"] },
                    { "name": "build-script-build", "kind": ["custom-build"] },
                    { "name": "json_text", "kind": ["bin"] },
                ],
            }],
        });
        let bins = bins(&metadata);
        assert_eq!(bins, vec!["spec_text".to_owned(), "json_text".to_owned()]);
        let files = ["json_text", "new_target", "spec_text"].map(str::to_owned);
        assert_eq!(undeclared(&files, &bins), vec!["new_target".to_owned()]);
        assert_eq!(undeclared(&files[..1], &bins), Vec::<String>::new());
    }

    #[test]
    fn a_version_the_workspace_does_not_lock_is_named() {
        let registry = "registry+https://github.com/rust-lang/crates.io-index";
        let lock = |packages: &[(&str, &str)]| {
            let mut text = String::from("version = 4\n");
            for (name, version) in packages {
                text.push_str(&format!(
                    "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"{registry}\"\n"
                ));
            }
            text
        };
        let root = lock_versions(&lock(&[
            ("uuid", "1.26.1"),
            ("getrandom", "0.2.17"),
            ("getrandom", "0.3.4"),
        ]))
        .unwrap();
        let mut fuzz_text = lock(&[
            ("uuid", "1.29.3"),
            ("getrandom", "0.2.17"),
            ("libfuzzer-sys", "0.4.13"),
        ]);
        // Path packages (ours) carry no source and are not compared.
        fuzz_text.push_str("\n[[package]]\nname = \"getrandom\"\nversion = \"9.9.9\"\n");
        let fuzz = lock_versions(&fuzz_text).unwrap();
        assert_eq!(
            drifted(&fuzz, &root),
            vec!["uuid 1.29.3 (the workspace: 1.26.1)".to_owned()]
        );
        assert_eq!(drifted(&root, &root), Vec::<String>::new());
        assert!(lock_versions("[[package]").is_err());
    }

    #[test]
    fn every_step_runs_once_in_order() {
        let names: Vec<String> = Step::ALL
            .iter()
            .map(|s| s.to_possible_value().unwrap().get_name().to_owned())
            .collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique);
        assert_eq!(names.len(), Step::value_variants().len());
        assert_eq!(names.first().map(String::as_str), Some("format"));
        assert_eq!(names.last().map(String::as_str), Some("newest"));
    }
}
