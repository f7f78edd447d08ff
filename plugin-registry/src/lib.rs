//! A caching registry of Docker plugins for a host: one activation per plugin
//! however many callers race, handlers run after each activation, stale
//! plugins re-activated, and failure in milliseconds.
//!
//! A [`Registry`] is built from a [`Discovery`]
//! and client settings (timeouts, retries, transport, and tower layers over
//! every plugin's transport, [`RegistryBuilder::layer`]). It is a value the
//! host owns: no global state, cheap to clone, and clones share it.
//!
//! A host needs this crate only: it re-exports what a host's code names from
//! the crates under it ([`ClientError`], [`ErrorField`], [`ClientService`],
//! [`RetryConfig`], [`PluginName`], [`TransportError`], ...), and its docs
//! name them here.
//!
//! ```
//! # use plugin_server::{HandlerError, PluginServer};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A volume plugin in a temporary directory, for the example to find.
//! # let dir = tempfile::tempdir()?;
//! # let _sshfs = PluginServer::new("sshfs".parse()?)
//! #     .implements("VolumeDriver")
//! #     .handle_raw("VolumeDriver.Create", |_| async { Ok::<_, HandlerError>("{}".into()) })
//! #     .serve_unix(dir.path().join("sshfs.sock"))?;
//! use plugin_registry::{Discovery, PluginService, Registry};
//! use plugin_subsystems::volume::{self, VolumeDriverClient};
//!
//! // Docker's directories would be Discovery::docker_defaults().
//! let registry = Registry::new(Discovery::builder().plugin_dir(dir.path()).build());
//! registry
//!     .on_activate(volume::IMPLEMENTS, |name, _client| async move { println!("{name} is up") })
//!     .await;
//!
//! // The main path: get a plugin by name, as the typed client of its subsystem.
//! let volumes: VolumeDriverClient<PluginService> =
//!     registry.get("sshfs", volume::IMPLEMENTS).await?.typed();
//! volumes.create("data", None).await?;
//!
//! // Every volume plugin there is, with the failures beside them.
//! let all = registry.get_all(volume::IMPLEMENTS).await;
//! assert_eq!(all.plugins.len(), 1);
//! # Ok(()) }
//! ```
//!
//! [`Plugin::typed`] gives any typed client of plugin-subsystems;
//! [`get_or_wait`](Registry::get_or_wait) waits for a plugin that is not there
//! yet, or is restarting.
//!
//! A host sees its plugins without reading logs ([observability]):
//! [`Registry::events`] is a [`Stream`](futures_core::Stream) of what happens
//! to them ([`RegistryEvent`]: discovered, activated, failed, stale,
//! re-activated, removed, health changed; one line each as `Display`), opt-in
//! [`HealthProbe`]s tell a plugin that stopped answering, and the `metrics`
//! feature records calls, activations, staleness and connections through the
//! [`metrics`](https://docs.rs/metrics) facade (the `metrics` module).
//!
//! [observability]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/observability.md
//!
//! Plugins that are not at an address of this host (in microVMs reached over
//! vsock, behind an SSH tunnel, in another mount namespace, in memory in a
//! test) are still found by their descriptors and reached through
//! [`RegistryBuilder::connector`]: one [`Connect`]or, a tower
//! `Service<Target>` answering a byte stream, for every plugin the registry
//! activates and probes; the pool, HTTP, TLS for `https://`, timeouts,
//! retries and errors stay the same (`cargo run -p plugin-registry --example
//! custom_connector`).
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
//! | `tls` | off | `https://` plugins, through plugin-client's `tls` feature. Without it, activating an `https://` plugin fails with a transport error that says to turn the feature on. |
//! | `metrics` | off | the `metrics` module: every call, activation, stale mark, re-activation, probe and open connection recorded through the [`metrics`](https://docs.rs/metrics) facade, per plugin. |
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `http` 1, `http-body` 1 | a [`PluginService`] takes an `http::Request` and answers an `http::Response` whose body is an `http_body::Body` |
//! | `tower` 0.5 (`tower-service` 0.3, `tower-layer` 0.3) | [`RegistryBuilder::layer`] takes a `tower::Layer`; a [`PluginService`] is a `tower::Service`; [`BoxTransport`] is a `tower::util::BoxCloneSyncService`; errors box as `tower::BoxError` |
//! | `futures-core` 0.3 | [`RegistryEvents`] streams as a `futures_core::Stream` |
//! | `tokio` 1 | no type, but the registry runs on tokio: its watch and health probes are tokio tasks |
//! | `metrics` 0.24 | no type; with feature `metrics` figures reach the recorder installed through `metrics` 0.24, and no other |
//!
//! None of them is re-exported: name them through your own dependency, at the same major version. Our own crates' types that a host needs are re-exported here.

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
mod error;
mod events;
mod handlers;
mod health;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
mod plugin;
mod record;
mod registry;
mod sentinel;
mod service;

pub use error::RegistryError;
pub use events::{RegistryEvent, RegistryEvents, StaleReason};
pub use health::{Health, HealthProbe};
pub use plugin::Plugin;
// What a host's code names, so that a host needs this crate only.
pub use plugin_client::{
    BoxError, Client, ClientConfig, ClientError, ClientService, ErrorField, Manifest, RequestBody,
    RetryConfig, RetryPolicy,
};
pub use plugin_discovery::{Discovery, DiscoveryBuilder, DiscoveryError, SkipReason, Skipped};
pub use plugin_spec::{AsPluginName, PluginName, PluginSpec, SpecError};
pub use plugin_transport::{Connect, ResponseBody, Target, TransportConfig, TransportError};
pub use registry::{GetAll, Registry, RegistryBuilder};
pub use service::{BoxTransport, PluginBody, PluginFuture, PluginService};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
