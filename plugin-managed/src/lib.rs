//! Managed (v2) Docker plugins: the `config.json` the engine reads from a
//! plugin directory, as a typed model with the engine's field names and the
//! checks the engine would otherwise make only when the plugin is created or
//! enabled; and (feature `package`, on by default) the packager that builds
//! the plugin directory from a binary.
//!
//! A managed plugin is a directory with `config.json` and `rootfs/`, turned
//! into a plugin by `docker plugin create NAME DIR` and run by the engine in
//! a container of its own. The engine talks to it over the unix socket the
//! config names ([`SocketName`]), which the plugin
//! makes in [`DOCKER_SOCKET_DIR`]
//! (`/run/docker/plugins`) inside its rootfs (plugin-server's
//! `serve_managed`). The interface types ([`InterfaceType`]) decide what the
//! engine uses it for; the engine does not call `Plugin.Activate` to find
//! out. How managed plugins differ from legacy ones, and how to ship one:
//! [docs/shipping.md](https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/shipping.md).
//!
//! | item | what |
//! | --- | --- |
//! | [`PluginConfig`] | `config.json`: [`from_json`](PluginConfig::from_json) / [`read`](PluginConfig::read) (keys in any case, unknown keys refused), [`validate`](PluginConfig::validate), [`to_json`](PluginConfig::to_json) |
//! | [`InterfaceType`] | `docker.volumedriver/1.0`, ..., or one of your own |
//! | [`ConfigError`] | the field and what is wrong with it |
//! | [`Packager`] (`package`) | the plugin directory from a binary: the libraries it loads, symlinks kept, `strip` if asked; a static binary alone |
//! | [`check_dir`] (`package`) | a plugin directory checked: config, entrypoint, socket directory, libraries |
//!
//! This crate does no networking: it has no async code and no HTTP.
//!
//! A volume plugin's `config.json`, built and checked:
//!
//! ```
//! use plugin_managed::{InterfaceType, PluginConfig, SocketName};
//!
//! let mut config = PluginConfig::new(
//!     "a volume driver",
//!     ["/my-volume", "--socket", "my-volume.sock"],
//!     InterfaceType::VolumeDriver,
//!     SocketName::new("my-volume.sock")?,
//! )
//! .propagated_mount("/data");
//! config.linux.capabilities = vec!["CAP_SYS_ADMIN".into()];
//! config.validate()?;
//! let text = config.to_json();
//! assert_eq!(PluginConfig::from_json(&text)?, config);
//! assert_eq!(config.socket_path().to_str(), Some("/run/docker/plugins/my-volume.sock"));
//!
//! // Each rule names its field.
//! config.linux.capabilities = vec!["SYS_ADMIN".into()];
//! assert_eq!(
//!     config.validate().unwrap_err().to_string(),
//!     "Linux.Capabilities[0]: \"SYS_ADMIN\" is not a Linux capability the engine knows (write CAP_SYS_ADMIN)"
//! );
//! let err = PluginConfig::from_json(r#"{"Description": "x", "Entrypiont": ["/p"]}"#).unwrap_err();
//! assert_eq!(err.to_string(), "Entrypiont: unknown field (a typo? the engine would ignore it)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The packager ([`Packager`], feature `package`) turns a binary and its
//! config into the plugin directory; on a static binary
//! (`RUSTFLAGS="-C target-feature=+crt-static"`) the rootfs holds the one
//! file (and the socket directory and `/tmp`), and a binary linked against
//! glibc gets the loader and each library it loads, once each.
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `serde` 1 | the `config.json` types implement `Serialize` and `Deserialize` |
//!
//! It is not re-exported: name it through your own dependency, at the same major
//! version. (goblin, which the packager reads ELF files with, shows in no signature.)

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
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
#[cfg(feature = "package")]
mod package;

pub use config::{
    Args, ConfigError, Device, Env, HTTP_PROTOCOL, Interface, InterfaceType, LINUX_CAPABILITIES,
    Linux, Mount, Network, PluginConfig, ReadError, Rootfs, User,
};
// plugin-spec's socket vocabulary, re-exported so that a config can be written
// with this crate alone: the engine's socket directory, a socket's plain file
// name, and why a name is not one.
#[cfg(feature = "package")]
#[cfg_attr(docsrs, doc(cfg(feature = "package")))]
pub use package::{
    LIBRARY_DIRS, PackageError, Packaged, Packager, check_dir, is_static, needed_libraries,
};
pub use plugin_spec::{DOCKER_SOCKET_DIR, SocketName, SocketNameRule, SpecError};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
