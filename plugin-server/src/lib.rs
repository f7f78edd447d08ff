//! Serve a Docker plugin: the plugin author's side of the protocol, wire
//! compatible with Docker Engine and podman, as go-plugins-helpers serves it
//! but with its mistakes fixed.
//!
//! A [`PluginServer`] has a name, the subsystems it implements (its
//! `Plugin.Activate` answer) and a handler per method: typed (serde request and
//! response), raw (bytes in, bytes out) or streaming. Serve it on
//!
//! - a unix socket ([`PluginServer::serve_unix`]): mode 0660, a stale socket
//!   replaced, a live one never taken over, removed on shutdown;
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
mod error;
mod files;
mod handler;
mod listen;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
mod relay;
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
