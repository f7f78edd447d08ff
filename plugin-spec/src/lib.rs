//! The contract a Docker plugin host and a plugin share: plugin names, the
//! `.sock`, `.spec` and `.json` files that announce a plugin, and the wire
//! vocabulary both sides speak ([`wire`]: the handshake and its [`wire::Manifest`],
//! the media types, and bodies decoded with Go's `encoding/json` rules).
//!
//! A Docker-style host finds a plugin named `NAME` through one of three files
//! ([discovery] and [descriptors] in the protocol notes):
//!
//! [discovery]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#discovery
//! [descriptors]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#descriptors
//!
//! | file | holds | parsed by |
//! | --- | --- | --- |
//! | `NAME.sock` | the plugin's unix socket itself | [`PluginSpec::from_socket`] |
//! | `NAME.spec` | one URL: `unix:///path.sock`, `tcp://host:port`, `https://host:port` | [`PluginSpec::from_spec_text`], [`PluginSpec::from_file`] |
//! | `NAME.json` | `{"Addr": URL, "TLSConfig": {...}}` | [`PluginSpec::from_json_text`], [`PluginSpec::from_file`] |
//!
//! This crate turns those into a [`PluginSpec`]: a validated [`PluginName`], an
//! [`Address`], optional [`TlsOptions`], the [`Source`] it came from, and any
//! [`Warning`]s. It matches Docker wherever Docker is right and is stricter where
//! Docker is unsafe: names that could escape the plugin directories, relative
//! `unix://` paths, unknown URL schemes and oversized files are errors here.
//! Every error is a [`SpecError`] that names the file and says what to do.
//!
//! Sockets live in [`DOCKER_SOCKET_DIR`] (`/run/docker/plugins`), on the host
//! for a legacy plugin and inside its rootfs for a managed one; a
//! [`SocketName`] is a plain file name there (`Interface.Socket` of a managed
//! plugin's `config.json`).
//!
//! It has no async code and does no I/O beyond reading a descriptor file.
//!
//! ```
//! use plugin_spec::{Address, PluginName, PluginSpec, SourceKind};
//!
//! let name = PluginName::new("sshfs")?;
//! let spec = PluginSpec::from_spec_text(name, " tcp://10.0.0.7:8080\n", "/etc/docker/plugins/sshfs.spec")?;
//! assert_eq!(spec.address().to_string(), "tcp://10.0.0.7:8080");
//! assert_eq!(spec.source().kind(), SourceKind::Spec);
//!
//! let name = PluginName::new("vault")?;
//! let json = r#"{"addr": "https://vault.local:8443", "TLSConfig": {"CAFile": "/etc/ssl/ca.pem"}}"#;
//! let spec = PluginSpec::from_json_text(name, json, "/etc/docker/plugins/vault.json")?;
//! assert!(matches!(spec.address(), Address::Tls(hp) if hp.port() == 8443));
//! assert_eq!(spec.tls().and_then(|t| t.ca_file()).and_then(|p| p.to_str()), Some("/etc/ssl/ca.pem"));
//!
//! let err = Address::parse("ftp://x").unwrap_err();
//! assert!(err.to_string().contains("unknown scheme `ftp`"));
//! # Ok::<(), plugin_spec::SpecError>(())
//! ```
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `serde` 1 | the wire types of `wire` implement `Serialize` and `Deserialize`; `wire::from_body` decodes into any `DeserializeOwned` |
//!
//! None of them is re-exported: name them through your own dependency, at the same major version.

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

mod address;
mod descriptor;
mod error;
mod file;
mod json;
mod name;
mod socket;
mod spec;
mod tls;
mod url;
mod warning;
pub mod wire;

pub use address::{Address, AddressProblem, HostPort, MAX_UNIX_PATH_LEN, UnixPath};
pub use descriptor::Descriptor;
pub use error::SpecError;
pub use file::MAX_DESCRIPTOR_LEN;
pub use name::{AsPluginName, MAX_NAME_LEN, NameRule, PluginName};
pub use socket::{DOCKER_SOCKET_DIR, SocketName, SocketNameRule};
pub use spec::{PluginSpec, Source, SourceKind};
pub use tls::TlsOptions;
pub use warning::Warning;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
