//! `MetricsCollectorClient`: the host side of `MetricsCollector`.

use plugin_client::ClientError;

use super::{START_METRICS, STOP_METRICS};
use crate::typed_client::typed_client;
use plugin_client::ClientService;

typed_client! {
    /// Tells a metrics plugin to start or stop, as the engine does: an empty
    /// body, and only the status counts.
    MetricsCollectorClient(None)
}

impl<S: ClientService> MetricsCollectorClient<S> {
    /// `MetricsCollector.StartMetrics`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn start_metrics(&self) -> Result<(), ClientError> {
        self.client
            .call_raw(START_METRICS, bytes::Bytes::new())
            .await
            .map(drop)
    }

    /// `MetricsCollector.StopMetrics`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn stop_metrics(&self) -> Result<(), ClientError> {
        self.client
            .call_raw(STOP_METRICS, bytes::Bytes::new())
            .await
            .map(drop)
    }
}
