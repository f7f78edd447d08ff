//! HTTP/1.1 to Docker plugins over unix sockets, TCP and TLS, as one cloneable
//! [`tower::Service`].
//!
//! [`Transport::for_spec`] turns a [`PluginSpec`] into a service that sends
//! `http::Request`s to that plugin and answers `http::Response<ResponseBody>`.
//! It is built on hyper 1's HTTP/1.1 connections, with our own connector for
//! the three kinds of address:
//!
//! - unix sockets, with `Host: plugin.moby.localhost` as Docker sends;
//! - TCP, with `TCP_NODELAY`;
//! - TLS (feature `tls`, off by default): rustls with the ring provider, TLS 1.2
//!   at least, the server verified against the system roots plus the
//!   descriptor's `CAFile`, by host name or IP address; a client certificate
//!   from `CertFile` + `KeyFile`; verification skipped only where the
//!   descriptor says `InsecureSkipVerify`, with a warning on every connect.
//!   The TLS files are read when the transport is made: regular files only,
//!   at most `MAX_TLS_FILE_LEN` (1 MiB) each, a FIFO refused without waiting
//!   on it. Reading them is blocking file I/O: from async code, make an
//!   `https://` plugin's transport in `tokio::task::spawn_blocking`, as
//!   plugin-registry does.
//!
//! A plugin reached some other way (vsock to a microVM, an SSH tunnel, a
//! socket in another mount namespace, an in-memory pipe in a test) keeps all
//! of this: [`Transport::with_connector`] takes a [`Connect`]or, any tower
//! `Service<Target>` answering a tokio byte stream, as hyper-util's client
//! takes its `Connect`. TLS is still made over that stream for an `https://`
//! address. The default connector costs nothing per call; a custom one costs
//! a boxed future and a boxed stream per new connection.
//!
//! Keep-alive connections are pooled and shared by clones. A call drives its
//! connection from its own task, with no connection task or channel between
//! (one task wake-up per answer, as a raw socket has), and the response body
//! holds the connection until it has been read. Connecting has a timeout; response bodies are bounded (16 MiB by default) as they stream.
//! Every request is a `plugin.request` tracing span with the plugin, address,
//! path, status and whether the connection was reused. Errors are
//! [`TransportError`]s that name the plugin and its address.
//!
//! Compose it with tower layers like any service:
//!
//! ```
//! use std::time::Duration;
//! use http_body_util::{BodyExt, Full};
//! use plugin_transport::{PluginName, PluginSpec, Transport, TransportConfig};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # // A plugin in a temporary directory (/run/docker/plugins in production),
//! # // answered by a bare hyper server.
//! # let dir = tempfile::tempdir()?;
//! # let socket = dir.path().join("sshfs.sock");
//! # let listener = tokio::net::UnixListener::bind(&socket)?;
//! # tokio::spawn(async move {
//! #     while let Ok((stream, _)) = listener.accept().await {
//! #         let answer = hyper::service::service_fn(|request: http::Request<hyper::body::Incoming>| async move {
//! #             let body = match request.uri().path() {
//! #                 "/Plugin.Activate" => "{\"Implements\":[\"VolumeDriver\"]}\n",
//! #                 _ => "{\"Volumes\": []}",
//! #             };
//! #             Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body))))
//! #         });
//! #         let io = hyper_util::rt::TokioIo::new(stream);
//! #         tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, answer));
//! #     }
//! # });
//! let spec = PluginSpec::from_socket(PluginName::new("sshfs")?, &socket)?;
//! let transport = Transport::for_spec(&spec, &TransportConfig::default())?;
//! let service = ServiceBuilder::new()
//!     .concurrency_limit(64)
//!     .timeout(Duration::from_secs(30))
//!     .service(transport);
//! let request = http::Request::post("/VolumeDriver.List").body(Full::new(bytes::Bytes::new()))?;
//! let response = service.oneshot(request).await?;
//! let body = response.into_body().collect().await?.to_bytes();
//! assert_eq!(body, "{\"Volumes\": []}");
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tls` | off | `https://` plugins: rustls with the ring provider, tokio-rustls and the system roots. Without it the crate builds no TLS code, and making a transport for an `https://` plugin fails with [`TransportError::TlsUnavailable`], which says to turn the feature on. |
//! | `metrics` | off | `CONNECTIONS_OPEN`, a gauge of each plugin's open connections, through the [`metrics`](https://docs.rs/metrics) facade (the exporter is the application's choice). |
//!
//! # Public dependencies
//!
//! The types of these crates appear in this crate's public API, so a release of
//! theirs that breaks them is a breaking release of ours: we move to one only in a
//! release of our own that says so.
//!
//! | crate | where it shows |
//! | --- | --- |
//! | `http` 1 | [`Transport`] takes an `http::Request` and answers an `http::Response` |
//! | `http-body` 1, `bytes` 1 | request bodies are any `http_body::Body` of `bytes::Bytes`; [`ResponseBody`] is one |
//! | `tower` 0.5 (`tower-service` 0.3) | [`Transport`] is a `tower::Service`; its error boxes are `tower::BoxError` |
//! | `tokio` 1 | no type, but connections run on the tokio runtime the transport is called from |
//! | `metrics` 0.24 | no type; with feature `metrics` the gauge reaches the recorder installed through `metrics` 0.24, and no other |
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
mod body;
mod config;
mod connector;
mod error;
mod pool;
mod target;
#[cfg(feature = "tls")]
mod tls;
mod transport;

pub use body::ResponseBody;
pub use config::{ConnectionInfo, DEFAULT_MAX_RESPONSE_BODY, ResponseBodyLimit, TransportConfig};
pub use connector::Connect;
pub use error::TransportError;
pub use plugin_spec::{Address, PluginName, PluginSpec, TlsOptions};
pub use target::Target;
pub use transport::{ResponseFuture, Transport, UNIX_HOST};

#[cfg(feature = "tls")]
pub use tls::MAX_TLS_FILE_LEN;

/// The gauge of open connections to each plugin (label `plugin`), kept with
/// the `metrics` feature: every connection counts from its handshake until it
/// closes, idle in the pool or in use. Every metric the crates record is in
/// [one table](https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/observability.md#metrics).
#[cfg(feature = "metrics")]
pub const CONNECTIONS_OPEN: &str = "plugin_host_connections_open";

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
