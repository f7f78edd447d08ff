//! `Authorizer`: the plugin side of `authz`, mounted on a `PluginServer`.

use std::future::Future;
use std::sync::Arc;

use plugin_server::{HandlerError, PluginServer};

use super::{AUTHZ_REQ, AUTHZ_RES, AuthzRequest, AuthzResponse, IMPLEMENTS};
use crate::mount::route;

/// An authorization plugin. Mount it with
/// [`PluginServerExt::authz`](crate::PluginServerExt::authz).
///
/// Answer [`AuthzResponse::allow`] or [`AuthzResponse::deny`]. A response
/// whose `err` is set is sent with status 500, as go-plugins-helpers does,
/// and the engine fails the request. Responses are allowed by default.
pub trait Authorizer: Send + Sync + 'static {
    /// `AuthZPlugin.AuthZReq`: may the engine handle this request?
    fn authz_request(
        &self,
        request: AuthzRequest,
    ) -> impl Future<Output = Result<AuthzResponse, HandlerError>> + Send;

    /// `AuthZPlugin.AuthZRes`: may the engine send this response? By default
    /// yes.
    fn authz_response(
        &self,
        request: AuthzRequest,
    ) -> impl Future<Output = Result<AuthzResponse, HandlerError>> + Send {
        let _ = request;
        async { Ok(AuthzResponse::allow()) }
    }
}

fn failed_if_err(response: AuthzResponse) -> Result<AuthzResponse, HandlerError> {
    if response.err.is_empty() {
        Ok(response)
    } else {
        Err(HandlerError::new(response.err))
    }
}

pub(crate) fn mount<D: Authorizer>(server: PluginServer, driver: D) -> PluginServer {
    let d = Arc::new(driver);
    let s = server.implements(IMPLEMENTS);
    let s = route(s, AUTHZ_REQ, &d, |d, r: AuthzRequest| async move {
        d.authz_request(r).await.and_then(failed_if_err)
    });
    route(s, AUTHZ_RES, &d, |d, r: AuthzRequest| async move {
        d.authz_response(r).await.and_then(failed_if_err)
    })
}
