//! Mounting a subsystem's trait on a `PluginServer`: one typed route per
//! method, each calling the driver behind an `Arc`.

use std::future::Future;
use std::sync::Arc;

use plugin_server::{HandlerError, PluginServer};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Adds `method`, answered by `f(driver, request)`.
pub(crate) fn route<D, Req, Resp, F, Fut>(
    server: PluginServer,
    method: &str,
    driver: &Arc<D>,
    f: F,
) -> PluginServer
where
    D: Send + Sync + 'static,
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(Arc<D>, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, HandlerError>> + Send + 'static,
{
    let driver = Arc::clone(driver);
    server.handle(method, move |request: Req| f(Arc::clone(&driver), request))
}
