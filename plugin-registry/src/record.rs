//! Where the registry records its metrics: no-ops without the `metrics`
//! feature, so the rest of the crate carries no `cfg`.

use plugin_spec::PluginName;

#[cfg(feature = "metrics")]
fn label(name: &PluginName) -> String {
    name.as_str().to_owned()
}

pub(crate) fn activation(name: &PluginName, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(crate::metrics::ACTIVATIONS_TOTAL, "plugin" => label(name), "outcome" => outcome)
        .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (name, outcome);
}

pub(crate) fn reactivation(name: &PluginName) {
    #[cfg(feature = "metrics")]
    metrics::counter!(crate::metrics::REACTIVATIONS_TOTAL, "plugin" => label(name)).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = name;
}

pub(crate) fn stale(name: &PluginName, reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(crate::metrics::STALE_TOTAL, "plugin" => label(name), "reason" => reason)
        .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (name, reason);
}

pub(crate) fn healthy(name: &PluginName, healthy: bool) {
    #[cfg(feature = "metrics")]
    metrics::gauge!(crate::metrics::HEALTHY, "plugin" => label(name)).set(if healthy {
        1.0
    } else {
        0.0
    });
    #[cfg(not(feature = "metrics"))]
    let _ = (name, healthy);
}

pub(crate) fn probe(name: &PluginName, ok: bool) {
    #[cfg(feature = "metrics")]
    metrics::counter!(crate::metrics::HEALTH_PROBES_TOTAL, "plugin" => label(name), "outcome" => if ok { "ok" } else { "failed" })
        .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (name, ok);
}
