//! Find Docker plugins by name in socket and descriptor directories, list them
//! all, and watch them come and go.
//!
//! A [`Discovery`] holds ordered socket directories and spec (descriptor)
//! directories; [`Discovery::docker_defaults`] gives Docker's, rootless Docker
//! included ([the directories and the lookup order][discovery]).
//!
//! [discovery]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#discovery
//!
//! - [`Discovery::lookup`] finds one plugin in Docker's exact precedence, and
//!   answers "not found" at once.
//! - [`Discovery::scan`] lists every plugin once (the entry `lookup` would
//!   pick), with every entry it skipped and why: nothing is dropped silently.
//! - `Discovery::watch` (feature `watch`, on by default) streams
//!   `WatchEvent`s: `Added`, `Removed`, `Changed`, each one line as `Display`.
//!
//! `lookup` and `scan` are plain synchronous functions; only `watch` needs
//! tokio.
//!
//! ```
//! use std::os::unix::net::UnixListener;
//! use plugin_discovery::{Discovery, PluginName};
//!
//! let dir = tempfile::tempdir()?;
//! let _listener = UnixListener::bind(dir.path().join("sshfs.sock"))?;
//! std::fs::write(dir.path().join("vault.spec"), "tcp://127.0.0.1:9000\n")?;
//!
//! let discovery = Discovery::builder().plugin_dir(dir.path()).build();
//! let spec = discovery.lookup(&PluginName::new("sshfs")?)?;
//! assert_eq!(spec.address().scheme(), "unix");
//!
//! let scan = discovery.scan();
//! let names: Vec<&str> = scan.plugins().iter().map(|p| p.name().as_str()).collect();
//! assert_eq!(names, ["sshfs", "vault"]);
//! assert!(scan.skipped().is_empty());
//!
//! let missing = discovery.lookup(&PluginName::new("nope")?).unwrap_err();
//! assert!(missing.is_not_found());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `watch` | on | `Discovery::watch`, [`Watch`], [`WatchEvent`] and [`WatchOptions`]: a stream of added, removed and changed plugins, from file-system events (the `notify` crate) on tokio. Without it the crate has no async dependency. |
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `futures-core` 0.3 | [`Watch`] is a `futures_core::Stream` (feature `watch`) |
//! | `tokio` 1 | no type, but `Discovery::watch` runs on the tokio runtime it is called from |
//!
//! None of them is re-exported: name them through your own dependency, at the same major version.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Library code never panics on input and never prints: only pluginctl and xtask
// print. (Set here rather than workspace-wide, so tests, examples and benches
// need no exemptions.)
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::print_stdout,
        clippy::print_stderr
    )
)]
mod discovery;
mod error;
mod lookup;
mod scan;
mod skipped;
#[cfg(feature = "watch")]
mod watch;

pub use discovery::{DOCKER_SPEC_DIRS, Discovery, DiscoveryBuilder};
pub use error::DiscoveryError;
/// Docker's unix socket directory (rootless Docker uses it too); defined in
/// plugin-spec, with the rule for a socket's name there.
pub use plugin_spec::DOCKER_SOCKET_DIR;
pub use plugin_spec::{PluginName, PluginSpec};
pub use scan::Scan;
pub use skipped::{SkipReason, Skipped};
#[cfg(feature = "watch")]
pub use watch::{Watch, WatchEvent, WatchOptions};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
