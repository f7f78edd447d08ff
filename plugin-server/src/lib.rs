//! Serve a Docker plugin: the plugin author's side of the protocol, wire
//! compatible with Docker Engine and podman, as go-plugins-helpers serves it
//! but with its mistakes fixed.
//!
//! A [`PluginServer`] has a name, the subsystems it implements (its
//! `Plugin.Activate` answer) and a handler per method: typed (serde request and
//! response), raw (bytes in, bytes out) or streaming. Serve it on
//!
//! - a unix socket ([`PluginServer::serve_unix`]): mode 0660, a stale socket
//!   replaced, a live one never taken over, removed on shutdown; restarted
//!   in place, a new instance waits for the old one's cleanup and keeps its
//!   socket;
//! - TCP ([`PluginServer::serve_tcp`]): a `.spec` descriptor written
//!   atomically with the address actually bound;
//! - TLS ([`PluginServer::serve_tls`], feature `tls`): an `https://`
//!   descriptor (a `.json` with `CAFile` when a CA is given);
//! - a systemd socket ([`PluginServer::serve_systemd`]).
//!
//! Answers follow go-plugins-helpers ([serving a plugin][serving]): handler
//! errors are `{"Err": "..."}` with status 500; a body that does not decode is 400 with an `Err` naming the
//! method; an unknown method 404; anything but POST 405; a body over the limit
//! 413. Every answer is JSON with the content type
//! `application/vnd.docker.plugins.v1.1+json` (a 200 is `{}` at least, which
//! Docker's client needs). A panicking handler answers 500 and the server goes
//! on. Each request is a `plugin.serve` tracing span with the plugin, method,
//! status and duration.
//!
//! [serving]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#serving-a-plugin
//!
//! ```
//! use plugin_server::{HandlerError, PluginName, PluginServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let socket = dir.path().join("echo.sock"); // /run/docker/plugins/echo.sock
//! let server = PluginServer::new(PluginName::new("echo")?)
//!     .implements("Echo")
//!     .handle_raw("Echo.Echo", |body: bytes::Bytes| async move { Ok::<_, HandlerError>(body) });
//! let serving = server.serve_unix(&socket)?;
//! # let handle = serving.shutdown_handle();
//! # handle.shutdown(); // so that this example ends
//! // Until SIGINT or SIGTERM (as Docker and systemd stop a plugin); the socket
//! // is removed on the way out.
//! serving.run_until_signal().await?;
//! # assert!(!socket.exists());
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tls` | off | [`PluginServer::serve_tls`] and [`TlsFiles`]: serving over TLS with rustls (ring provider) and tokio-rustls. |
//! | `metrics` | off | the `metrics` module: requests by method and status, their durations, open connections and the connection limit, through the [`metrics`](https://docs.rs/metrics) facade (the exporter is the application's choice). |
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `http` 1 | handlers and layers see `http::Request`, `http::Response`, `http::StatusCode` and `http::HeaderMap` |
//! | `http-body` 1, `bytes` 1 | [`RequestBody`] and [`ResponseBody`] are `http_body::Body`s of `bytes::Bytes`; raw handlers answer `Bytes` |
//! | `tower` 0.5 (`tower-service` 0.3, `tower-layer` 0.3) | [`PluginServer`] is a `tower::Service`; [`PluginServer::layer`] takes a `tower::Layer`; [`BoxServerService`] is a `tower::util::BoxCloneSyncService` |
//! | `serde` 1 | typed handlers take any `DeserializeOwned` and answer any `Serialize` |
//! | `futures-core` 0.3 | streaming handlers answer a `futures_core::Stream` of `bytes::Bytes` |
//! | `tokio` 1 | no type, but every `serve_*` runs on the tokio runtime it is called from |
//! | `metrics` 0.24 | no type; with feature `metrics` figures reach the recorder installed through `metrics` 0.24, and no other |
//!
//! Only `BoxError` is re-exported, and it is `tower::BoxError`, an alias of `Box<dyn Error + Send + Sync>`, so it ties to no version. The others are not re-exported: name them through your own dependency, at the same major version.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Without `tls`, the TLS items the docs above name are not built: link them to
// docs.rs, which documents every feature.
#![cfg_attr(
    not(feature = "tls"),
    doc = "",
    doc = "[`PluginServer::serve_tls`]: https://docs.rs/plugin-server/0.1/plugin_server/struct.PluginServer.html#method.serve_tls",
    doc = "[`TlsFiles`]: https://docs.rs/plugin-server/0.1/plugin_server/struct.TlsFiles.html"
)]
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
mod error;
mod files;
mod handler;
mod listen;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
mod server;
mod service;
mod serving;
#[cfg(feature = "tls")]
mod tls;

pub use body::{RequestBody, ResponseBody};
pub use error::ServerError;
pub use handler::{BoxError, Caller, HandlerError, PeerCredentials};
pub use listen::UnixOptions;
pub use plugin_spec::{PluginName, PluginSpec, SpecError};
pub use server::{
    BoxServerService, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_REQUEST_BODY, PluginServer,
};
pub use service::{ACTIVATE, CONTENT_TYPE_V1_1};
pub use serving::{Serving, ShutdownHandle, StopSignal, shutdown_signal};
#[cfg(feature = "tls")]
pub use tls::TlsFiles;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
