//! Typed Docker plugin subsystems, for hosts and for plugin authors: what
//! go-plugins-helpers gives Go plugin authors, for both sides of the wire.
//!
//! | module | subsystem | host side (`client`) | plugin side (`server`) |
//! | --- | --- | --- | --- |
//! | [`volume`] | `VolumeDriver` | [`volume::VolumeDriverClient`] | [`volume::VolumeDriver`] |
//! | [`network`] | `NetworkDriver` | [`network::NetworkDriverClient`] | [`network::NetworkDriver`] |
//! | [`ipam`] | `IpamDriver` | [`ipam::IpamDriverClient`] | [`ipam::IpamDriver`] |
//! | [`authz`] | `authz` (`AuthZPlugin`) | [`authz::AuthzClient`], [`authz::AuthzGate`] (fails closed) | [`authz::Authorizer`] |
//! | [`logdriver`] | `LogDriver` | [`logdriver::LogDriverClient`] | [`logdriver::LogDriver`] |
//! | [`secrets`] | `secretprovider` | [`secrets::SecretProviderClient`] | [`secrets::SecretProvider`] |
//! | [`metrics`] | `MetricsCollector` | [`metrics::MetricsCollectorClient`] | [`metrics::MetricsCollector`] |
//!
//! A managed (v2) plugin's `config.json` and its packaging are the
//! plugin-managed crate's.
//!
//! Each module has the request and response types with Docker's exact field
//! names and its `omitempty`, null and empty behaviour (requests as the engine
//! writes them, answers as go-plugins-helpers writes them), and the method
//! names as constants. Decoding is Go's: keys in any case, unknown keys
//! ignored, `null` as the zero value, anything but an object refused. Base64 fields are bytes. The typed
//! clients apply the engine's rule that a 200 answer with an error field set
//! is a failure (`Err`; `Error` for IPAM; authz acts on `Allow` and `Msg`).
//! The features `client` and `server` (both default) bring the two sides.
//!
//! # Serving a plugin
//!
//! A plugin author needs this crate alone, with the feature `server`: it
//! re-exports what serving names, from plugin-server ([`PluginServer`],
//! [`HandlerError`], [`Serving`], [`ServerError`], [`shutdown_signal`] and
//! the rest) and from plugin-spec ([`PluginName`], [`SpecError`]). Implement
//! a subsystem's trait and mount it with [`PluginServerExt`].
//!
//! A volume plugin, served and called (the call is the host's side, through
//! plugin-client):
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Mutex;
//!
//! use plugin_subsystems::volume::{self, VolumeDriver, VolumeDriverClient};
//! use plugin_subsystems::{HandlerError, PluginName, PluginServer, PluginServerExt};
//! use plugin_client::{Client, ClientConfig};
//!
//! #[derive(Default)]
//! struct Memory(Mutex<BTreeMap<String, volume::Volume>>);
//!
//! impl VolumeDriver for Memory {
//!     async fn create(&self, r: volume::CreateRequest) -> Result<(), HandlerError> {
//!         let v = volume::Volume { name: r.name.clone(), ..Default::default() };
//!         self.0.lock().unwrap().insert(r.name, v);
//!         Ok(())
//!     }
//!     async fn remove(&self, r: volume::RemoveRequest) -> Result<(), HandlerError> {
//!         self.0.lock().unwrap().remove(&r.name).map(drop).ok_or_else(|| HandlerError::new("no such volume"))
//!     }
//!     async fn path(&self, _: volume::PathRequest) -> Result<volume::PathResponse, HandlerError> {
//!         Ok(volume::PathResponse::default())
//!     }
//!     async fn mount(&self, r: volume::MountRequest) -> Result<volume::MountResponse, HandlerError> {
//!         Ok(volume::MountResponse { mountpoint: format!("/mnt/{}", r.name) })
//!     }
//!     async fn unmount(&self, _: volume::UnmountRequest) -> Result<(), HandlerError> {
//!         Ok(())
//!     }
//!     async fn get(&self, r: volume::GetRequest) -> Result<volume::GetResponse, HandlerError> {
//!         Ok(volume::GetResponse { volume: self.0.lock().unwrap().get(&r.name).cloned() })
//!     }
//!     async fn list(&self) -> Result<volume::ListResponse, HandlerError> {
//!         Ok(volume::ListResponse { volumes: self.0.lock().unwrap().values().cloned().collect() })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let serving = PluginServer::new(PluginName::new("memory")?)
//!     .volume_driver(Memory::default())
//!     .serve_unix(dir.path().join("memory.sock"))?;
//!
//! let volumes = VolumeDriverClient::new(Client::for_spec(serving.spec(), &ClientConfig::default())?);
//! volumes.create("data", None).await?;
//! assert_eq!(volumes.mount("data", "c1").await?, "/mnt/data");
//! assert_eq!(volumes.list().await?.len(), 1);
//! let err = volumes.remove("nope").await.unwrap_err();
//! assert_eq!(err.message(), Some("no such volume"));
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! The request and response types of every subsystem are always there; the
//! features add the two sides that use them.
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `client` | on | The typed host clients (`volume::VolumeDriverClient`, `network::NetworkDriverClient`, ...) over plugin-client, applying the engine's error-field rules. |
//! | `server` | on | The plugin traits (`volume::VolumeDriver`, ...), [`PluginServerExt`], which mounts them on a [`PluginServer`], and plugin-server's serving API re-exported ([`PluginServer`], [`HandlerError`], [`Serving`] ...). |
//! | `tls` | off | TLS on the sides that are on (plugin-client's and plugin-server's `tls`). `default-features = false, features = ["client"]` is a host client alone. |
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `serde` 1, `serde_json` 1 | every subsystem's request and answer types implement `Serialize` and `Deserialize`; opaque fields (options, driver data) are `serde_json::Value` |
//! | `prost` 0.14 | the LogDriver's `logdriver::LogEntry` is a `prost::Message` |
//! | `bytes` 1, `futures-core` 0.3 | LogDriver framing writes into `bytes::BytesMut` and decodes a `futures_core::Stream` of `bytes::Bytes` |
//! | `tower` 0.5 | errors box as `tower::BoxError`; the `client` side calls through plugin-client's services |
//! | plugin-server's | with `server`, plugin-server's serving API is re-exported here, and with it the public dependencies its docs list (`http`, `http-body`, `bytes`, `tower`, `serde`) |
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
mod go_json;
#[cfg(feature = "server")]
mod mount;
#[cfg(feature = "client")]
mod typed_client;

pub mod authz;
pub mod ipam;
pub mod logdriver;
pub mod metrics;
pub mod network;
pub mod secrets;
pub mod volume;

#[cfg(feature = "server")]
pub use server_ext::PluginServerExt;

// Both sides name plugins: a host in an authz decision, a plugin to serve.
pub use plugin_spec::{PluginName, SpecError};

// What a plugin author's code names to serve, so that this crate is the only
// one a plugin needs.
#[cfg(all(feature = "server", feature = "tls"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "server", feature = "tls"))))]
pub use plugin_server::TlsFiles;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use plugin_server::{
    BoxError, BoxServerService, Caller, HandlerError, PeerCredentials, PluginServer, RequestBody,
    ResponseBody, ServerError, Serving, ShutdownHandle, StopSignal, UnixOptions, shutdown_signal,
};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "server")]
mod server_ext {
    use plugin_server::PluginServer;

    /// Mounts a subsystem on a [`PluginServer`]: adds it to the manifest and
    /// routes each of its methods to the implementation.
    pub trait PluginServerExt: Sized {
        /// Serves [`VolumeDriver`](crate::volume::VolumeDriver).
        #[must_use]
        fn volume_driver(self, driver: impl crate::volume::VolumeDriver) -> Self;
        /// Serves [`NetworkDriver`](crate::network::NetworkDriver).
        #[must_use]
        fn network_driver(self, driver: impl crate::network::NetworkDriver) -> Self;
        /// Serves [`IpamDriver`](crate::ipam::IpamDriver).
        #[must_use]
        fn ipam_driver(self, driver: impl crate::ipam::IpamDriver) -> Self;
        /// Serves `authz` with an [`Authorizer`](crate::authz::Authorizer).
        #[must_use]
        fn authz(self, authorizer: impl crate::authz::Authorizer) -> Self;
        /// Serves [`LogDriver`](crate::logdriver::LogDriver).
        #[must_use]
        fn log_driver(self, driver: impl crate::logdriver::LogDriver) -> Self;
        /// Serves `secretprovider` with a [`SecretProvider`](crate::secrets::SecretProvider).
        #[must_use]
        fn secret_provider(self, provider: impl crate::secrets::SecretProvider) -> Self;
        /// Serves [`MetricsCollector`](crate::metrics::MetricsCollector).
        #[must_use]
        fn metrics_collector(self, collector: impl crate::metrics::MetricsCollector) -> Self;
    }

    impl PluginServerExt for PluginServer {
        fn volume_driver(self, driver: impl crate::volume::VolumeDriver) -> Self {
            crate::volume::mount(self, driver)
        }

        fn network_driver(self, driver: impl crate::network::NetworkDriver) -> Self {
            crate::network::mount(self, driver)
        }

        fn ipam_driver(self, driver: impl crate::ipam::IpamDriver) -> Self {
            crate::ipam::mount(self, driver)
        }

        fn authz(self, authorizer: impl crate::authz::Authorizer) -> Self {
            crate::authz::mount(self, authorizer)
        }

        fn log_driver(self, driver: impl crate::logdriver::LogDriver) -> Self {
            crate::logdriver::mount(self, driver)
        }

        fn secret_provider(self, provider: impl crate::secrets::SecretProvider) -> Self {
            crate::secrets::mount(self, provider)
        }

        fn metrics_collector(self, collector: impl crate::metrics::MetricsCollector) -> Self {
            crate::metrics::mount(self, collector)
        }
    }
}
