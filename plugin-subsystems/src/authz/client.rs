//! `AuthzClient`: the host side of `authz`.

use plugin_client::ClientError;

use super::{AUTHZ_REQ, AUTHZ_RES, AuthzRequest, AuthzResponse};
use crate::typed_client::typed_client;

typed_client! {
    /// Asks an authorization plugin as the engine does: on a 200 only
    /// `Allow` and `Msg` count (`Err` is not looked at); any other status is a
    /// failure of the plugin.
    AuthzClient {
        /// `AuthZPlugin.AuthZReq`: may the engine handle this request?
        ///
        /// # Errors
        /// The plugin's failure, or the call's (a denial is an `Ok` with
        /// `allow == false`).
        pub async fn authz_request(&self, request: &AuthzRequest) -> Result<AuthzResponse, ClientError> {
            self.client.call(AUTHZ_REQ, request).await
        }

        /// `AuthZPlugin.AuthZRes`: may the engine send this response?
        ///
        /// # Errors
        /// As [`authz_request`](Self::authz_request).
        pub async fn authz_response(&self, request: &AuthzRequest) -> Result<AuthzResponse, ClientError> {
            self.client.call(AUTHZ_RES, request).await
        }
    }
}
