//! `MetricsCollector`: a plugin told when to start and stop collecting the
//! engine's metrics (which the engine serves on `/run/docker/metrics.sock`,
//! bind-mounted into managed plugins).
//!
//! Both calls have an empty body (not `{}`, whatever the docs say); the
//! engine only looks at the status. Answer `{}`: older engines decode the
//! answer to `StartMetrics`.

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "client")]
pub use client::MetricsCollectorClient;
#[cfg(feature = "server")]
pub use server::MetricsCollector;
#[cfg(feature = "server")]
pub(crate) use server::mount;

/// The subsystem's name in a manifest.
pub const IMPLEMENTS: &str = "MetricsCollector";
/// `MetricsCollector.StartMetrics`: no body → `{}`.
pub const START_METRICS: &str = "MetricsCollector.StartMetrics";
/// `MetricsCollector.StopMetrics`: no body → `{}`.
pub const STOP_METRICS: &str = "MetricsCollector.StopMetrics";
/// Where the engine's metrics socket appears inside a managed plugin.
pub const METRICS_SOCKET: &str = "/run/docker/metrics.sock";
