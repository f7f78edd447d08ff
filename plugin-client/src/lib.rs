//! Call Docker plugins: the `Plugin.Activate` handshake, JSON calls with
//! Docker's headers, Docker's error decoding, retries and timeouts, over any
//! tower service.
//!
//! A [`Client`] talks to one plugin through a service that takes
//! `http::Request<`[`RequestBody`]`>`: by default a
//! [`Transport`], but any stack of tower layers on it (or an in-memory
//! service, or a proxy) works the same, and code generic over it names the
//! bound [`ClientService`]:
//!
//! ```
//! use std::time::Duration;
//! use plugin_client::{
//!     Client, ClientConfig, Manifest, PluginName, PluginSpec, Transport, TransportConfig,
//! };
//! use tower::ServiceBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A plugin in a temporary directory (/run/docker/plugins in production).
//! # let dir = tempfile::tempdir()?;
//! # let socket = dir.path().join("sshfs.sock");
//! # let _sshfs = plugin_server::PluginServer::new("sshfs".parse()?)
//! #     .implements("VolumeDriver")
//! #     .handle_raw("VolumeDriver.List", |_| async {
//! #         Ok::<_, plugin_server::HandlerError>(r#"{"Volumes": []}"#.into())
//! #     })
//! #     .serve_unix(&socket)?;
//! let spec = PluginSpec::from_socket(PluginName::new("sshfs")?, &socket)?;
//! let transport = Transport::for_spec(&spec, &TransportConfig::default())?;
//! let stack = ServiceBuilder::new().concurrency_limit(64).service(transport);
//! let client = Client::new(spec.name().clone(), stack);
//!
//! let manifest: Manifest = client.activate().await?;
//! let volumes: serde_json::Value = client.call("VolumeDriver.List", &serde_json::json!({})).await?;
//! // Settings are a `ClientConfig`, given once; a clone may have others.
//! let quick = client.clone().with_config(ClientConfig::new().call_timeout(Duration::from_secs(1)));
//! let err = quick.call::<_, serde_json::Value>("VolumeDriver.Get", &serde_json::json!({"Name": "x"})).await;
//! assert!(err.unwrap_err().is_not_implemented(), "this plugin has no VolumeDriver.Get");
//! # Ok(()) }
//! ```
//!
//! What it does on the wire, and where it differs from Docker ([calls],
//! [errors], [retries and timeouts][retries]):
//!
//! - Headers: `Accept: application/vnd.docker.plugins.v1.2+json`;
//!   `User-Agent: plugin-client/VERSION` ([`USER_AGENT`]; Docker sends Go's
//!   default);
//!   `Content-Type: application/json` when a JSON body is sent (Docker sends
//!   none); no body and `Content-Length: 0` for calls without arguments.
//! - A non-200 answer is [`ClientError::Status`]: the `Err` field when the body
//!   is JSON with a non-empty string `Err` (any key case), else the body's text
//!   (at most 64 KiB, lossy UTF-8). A 404 means "not implemented"
//!   ([`ClientError::is_not_implemented`]).
//! - With an error field set ([`ClientConfig::error_field`]), a 200
//!   whose `Err` (or IPAM's `Error`) is set fails too, as Docker's typed layer
//!   does; plugin-subsystems' clients set it.
//! - Three ways to call: [`Client::call`] (JSON in and out; `&()` sends no
//!   body, as Docker sends calls without arguments), [`Client::call_raw`]
//!   (a body as it is, whole or streamed, no `Content-Type`, the answer's
//!   bytes) and [`Client::stream`] (the answer as chunks).
//! - Retries ([`RetryConfig`]; the [`RetryPolicy`] it makes is a
//!   `tower::retry::Policy`) only when no request
//!   byte reached the plugin: never for a refused or missing unix socket
//!   (nothing listens there, so it fails at once), and 250 ms, 500 ms, 1 s
//!   within 2 s, jittered, for TCP and TLS ([`RetryConfig::docker`] is
//!   Docker's 15 s schedule). Docker retries every connection failure for about
//!   15 s, even calls that broke midway, which can repeat a side effect; we do
//!   not.
//! - Every call has a deadline (activation 20 s, calls 60 s by default; Docker
//!   has none for activation, so a hung plugin hangs it). A tower timeout
//!   layer (`tower::timeout::TimeoutLayer`) in the stack that gives up is a
//!   timeout too ([`ClientError::is_timeout`]), like the client's own.
//! - Each call is a `plugin.call` tracing span with the plugin, method and
//!   attempt; each retry logs the error and the delay.
//!
//! [calls]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#calls
//! [errors]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#errors
//! [retries]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#retries-and-timeouts
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tls` | off | `https://` plugins, through plugin-transport's `tls` feature. Without it, calling an `https://` plugin fails with a transport error that says to turn the feature on. |
//! | `metrics` | off | `metrics::CallMetricsLayer`: calls by plugin, method and outcome, and their durations, through the [`metrics`](https://docs.rs/metrics) facade; and the transport's open-connection gauge. |
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `http` 1 | the [`Client`] calls through any service of `http::Request<RequestBody>` answering `http::Response`; status codes in errors are `http::StatusCode` |
//! | `http-body` 1, `bytes` 1 | response bodies are any `http_body::Body` of `bytes::Bytes`; streamed answers yield `Bytes` |
//! | `tower` 0.5 (`tower-service` 0.3, `tower-layer` 0.3) | the client's service is a `tower::Service`; [`RetryPolicy`] is a `tower::retry::Policy`; `metrics::CallMetricsLayer` is a `tower::Layer` |
//! | `futures-core` 0.3 | streamed answers are a `futures_core::Stream` |
//! | `serde` 1 | typed calls take any `Serialize` and answer any `DeserializeOwned` |
//! | `metrics` 0.24 | no type; with feature `metrics` calls reach the recorder installed through `metrics` 0.24, and no other |
//!
//! Only `BoxError` is re-exported, and it is `tower::BoxError`, an alias of `Box<dyn Error + Send + Sync>`, so it ties to no version. The others are not re-exported: name them through your own dependency, at the same major version.

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
mod body;
mod client;
mod config;
mod decode;
mod error;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
mod retry;

pub use body::{BoxError, RequestBody};
pub use client::{Client, ClientService, USER_AGENT};
pub use config::ClientConfig;
pub use decode::ErrorField;
pub use error::ClientError;
pub use plugin_spec::wire::{ACCEPT_V1_2, ACTIVATE, Manifest};
pub use plugin_spec::{PluginName, PluginSpec};
pub use plugin_transport::{Transport, TransportConfig, TransportError};
pub use retry::{RetryConfig, RetryPolicy};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
