//! `SecretProvider`: the plugin side of `secretprovider`, mounted on a
//! `PluginServer`.

use std::future::Future;
use std::sync::Arc;

use plugin_server::{HandlerError, PluginServer};

use super::{GET_SECRET, GetSecretRequest, GetSecretResponse, IMPLEMENTS};
use crate::mount::route;

/// A secret plugin. Mount it with
/// [`PluginServerExt::secret_provider`](crate::PluginServerExt::secret_provider).
///
/// A response whose `err` is set is sent with status 500, as
/// go-plugins-helpers does.
pub trait SecretProvider: Send + Sync + 'static {
    /// `SecretProvider.GetSecret`.
    fn get_secret(
        &self,
        request: GetSecretRequest,
    ) -> impl Future<Output = Result<GetSecretResponse, HandlerError>> + Send;
}

pub(crate) fn mount<D: SecretProvider>(server: PluginServer, driver: D) -> PluginServer {
    let d = Arc::new(driver);
    let s = server.implements(IMPLEMENTS);
    route(s, GET_SECRET, &d, |d, r: GetSecretRequest| async move {
        let response = d.get_secret(r).await?;
        if response.err.is_empty() {
            Ok(response)
        } else {
            Err(HandlerError::new(response.err))
        }
    })
}
