//! A caching registry of Docker plugins for a host: one activation per plugin
//! however many callers race, handlers run after each activation, stale
//! plugins re-activated, and failure in milliseconds.
//!
//! A [`Registry`] is built from a [`Discovery`]
//! and client settings (timeouts, retries, transport, and an optional tower
//! layer over every plugin's transport). It is a value the host owns: no
//! global state, cheap to clone, and clones share it.
//!
//! ```no_run
//! use std::time::Duration;
//! use plugin_discovery::Discovery;
//! use plugin_registry::Registry;
//! use plugin_spec::PluginName;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Registry::new(Discovery::docker_defaults());
//! registry
//!     .handle("VolumeDriver", |name, _client| async move {
//!         println!("volume plugin {name} is up");
//!     })
//!     .await;
//!
//! let sshfs = registry.get(&PluginName::new("sshfs")?, "VolumeDriver").await?;
//! let later = registry.get_or_wait(&PluginName::new("late")?, "VolumeDriver", Duration::from_secs(5)).await;
//! let all = registry.get_all("VolumeDriver").await;
//! for failure in &all.failures {
//!     eprintln!("{failure}");
//! }
//! # Ok(()) }
//! ```
//!
//! Where it differs from Docker ([the registry][registry], [retries and
//! timeouts][retries]): an unknown name is
//! `NotFound` at once (Docker retries ~15 s); waiting is opt-in and driven by
//! file events; a dead unix socket fails `get` and `get_all` in under a
//! millisecond with default settings (Docker stalls 15 s), `get_all` returns failures instead of
//! swallowing them; a failed activation is never cached and every waiter gets
//! its error; handlers never run under a lock (Docker's lock-order inversion,
//! moby 40905); a restarted plugin is re-activated (Docker needs a daemon
//! restart).
//!
//! [registry]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#the-registry
//! [retries]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#retries-and-timeouts
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tls` | on | `https://` plugins, through plugin-client's `tls` feature. Without it, activating an `https://` plugin fails with a transport error saying TLS is not compiled in. |

#![cfg_attr(docsrs, feature(doc_cfg))]
mod error;
mod handlers;
mod plugin;
mod registry;
mod service;

pub use error::RegistryError;
pub use plugin::Plugin;
pub use plugin_client::{Client, ClientConfig, Manifest, RetryPolicy};
pub use plugin_discovery::Discovery;
pub use registry::{GetAll, Registry, RegistryBuilder};
pub use service::{PluginFuture, PluginService};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
