//! `MetricsCollector`: the plugin side, mounted on a `PluginServer`.

use std::future::Future;
use std::sync::Arc;

use plugin_server::{HandlerError, PluginServer};

use super::{IMPLEMENTS, START_METRICS, STOP_METRICS};
use crate::mount::route;

/// A metrics plugin. Mount it with
/// [`PluginServerExt::metrics_collector`](crate::PluginServerExt::metrics_collector).
/// Both calls answer `{}`; by default they do nothing.
pub trait MetricsCollector: Send + Sync + 'static {
    /// `MetricsCollector.StartMetrics`: start scraping
    /// [`METRICS_SOCKET`](super::METRICS_SOCKET).
    fn start_metrics(&self) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async { Ok(()) }
    }

    /// `MetricsCollector.StopMetrics`.
    fn stop_metrics(&self) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async { Ok(()) }
    }
}

pub(crate) fn mount<D: MetricsCollector>(server: PluginServer, driver: D) -> PluginServer {
    let d = Arc::new(driver);
    let s = server.implements(IMPLEMENTS);
    let s = route(s, START_METRICS, &d, |d, (): ()| async move {
        d.start_metrics().await
    });
    route(s, STOP_METRICS, &d, |d, (): ()| async move {
        d.stop_metrics().await
    })
}
