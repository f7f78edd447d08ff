//! The registry's metrics (feature `metrics`), through the [`metrics`]
//! facade; the application installs the exporter.
//!
//! | name | type | labels | what |
//! | --- | --- | --- | --- |
//! | `plugin_host_calls_total` | counter | `plugin`, `method`, `outcome` | calls through the registry's plugins ([`plugin_client::metrics`]) |
//! | `plugin_host_call_duration_seconds` | histogram | `plugin`, `method`, `outcome` | their durations, to the answer's end |
//! | `plugin_host_connections_open` | gauge | `plugin` | open connections ([`plugin_transport::CONNECTIONS_OPEN`]) |
//! | [`ACTIVATIONS_TOTAL`] | counter | `plugin`, `outcome` | activations, by how they ended |
//! | [`STALE_TOTAL`] | counter | `plugin`, `reason` | active plugins marked stale |
//! | [`REACTIVATIONS_TOTAL`] | counter | `plugin` | activations of a plugin that had been active |
//! | [`HEALTHY`] | gauge | `plugin` | 1 while a probed plugin is healthy, 0 while unhealthy |
//! | [`HEALTH_PROBES_TOTAL`] | counter | `plugin`, `outcome` | health probes, `ok` or `failed` |
//!
//! An activation's `outcome` is a call outcome
//! ([`Outcome::as_str`](plugin_client::metrics::Outcome::as_str)) or, when
//! no call was made, `not_found`, `descriptor` or `setup`; `reason` is a
//! [`StaleReason`](crate::StaleReason). Per-call recording can be turned off
//! with [`RegistryBuilder::call_metrics`](crate::RegistryBuilder::call_metrics).

pub use plugin_client::metrics::{CALL_DURATION_SECONDS, CALLS_TOTAL};
pub use plugin_transport::CONNECTIONS_OPEN;

/// Activations, by `plugin` and `outcome` (counter).
pub const ACTIVATIONS_TOTAL: &str = "plugin_host_activations_total";
/// Active plugins marked stale, by `plugin` and `reason` (counter).
pub const STALE_TOTAL: &str = "plugin_host_stale_total";
/// Activations of a plugin that had been active before, by `plugin`
/// (counter).
pub const REACTIVATIONS_TOTAL: &str = "plugin_host_reactivations_total";
/// 1 while a probed plugin is healthy, 0 while it is unhealthy, by `plugin`
/// (gauge).
pub const HEALTHY: &str = "plugin_host_healthy";
/// Health probes, by `plugin` and `outcome` (`ok`, `failed`) (counter).
pub const HEALTH_PROBES_TOTAL: &str = "plugin_host_health_probes_total";

/// Describes every host metric (its help text and unit) to the installed
/// recorder, for exporters that show them (Prometheus's `# HELP`). Call it
/// once, after installing the recorder.
pub fn describe() {
    use metrics::Unit;
    plugin_client::metrics::describe();
    metrics::describe_gauge!(
        CONNECTIONS_OPEN,
        Unit::Count,
        "Open connections to the plugin, idle or in use."
    );
    metrics::describe_counter!(
        ACTIVATIONS_TOTAL,
        Unit::Count,
        "Plugin.Activate handshakes the registry made, by how they ended."
    );
    metrics::describe_counter!(
        STALE_TOTAL,
        Unit::Count,
        "Active plugins marked stale: a call could not connect, or the socket or descriptor changed or went."
    );
    metrics::describe_counter!(
        REACTIVATIONS_TOTAL,
        Unit::Count,
        "Activations of a plugin that had been active before (after a restart, say)."
    );
    metrics::describe_gauge!(
        HEALTHY,
        "1 while a probed plugin is healthy, 0 once its last probes failed."
    );
    metrics::describe_counter!(
        HEALTH_PROBES_TOTAL,
        Unit::Count,
        "Health probes, ok or failed."
    );
}
