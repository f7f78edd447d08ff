//! `demo-authz`: an authorization plugin that allows every request but the
//! deletion of `locked-` objects.

use plugin_subsystems::HandlerError;
use plugin_subsystems::authz::{Authorizer, AuthzRequest, AuthzResponse};

/// The message `demo-authz` denies a request with.
pub const DENIED: &str = "demo-authz: deleting locked- objects is not allowed";

/// The demo policy.
#[derive(Debug, Default)]
pub(crate) struct LockedObjects;

/// Whether the policy denies a request: a `DELETE` whose URI path (the query
/// aside) contains `locked-`.
pub(crate) fn denies(method: &str, uri: &str) -> bool {
    let path = uri.split_once('?').map_or(uri, |(path, _)| path);
    method.eq_ignore_ascii_case("DELETE") && path.contains("locked-")
}

impl Authorizer for LockedObjects {
    async fn authz_request(&self, request: AuthzRequest) -> Result<AuthzResponse, HandlerError> {
        let denied = denies(&request.request_method, &request.request_uri);
        tracing::info!(
            method = %request.request_method,
            uri = %request.request_uri,
            user = %request.user,
            allowed = !denied,
            "demo-authz decision"
        );
        Ok(if denied {
            AuthzResponse::deny(DENIED)
        } else {
            AuthzResponse::allow()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::denies;

    #[test]
    fn only_deletes_of_locked_objects_are_denied() {
        assert!(denies("DELETE", "/v1.41/volumes/locked-1"));
        assert!(denies("delete", "/v1.41/containers/locked-c?force=1"));
        assert!(!denies("DELETE", "/v1.41/volumes/free-1"));
        assert!(!denies("DELETE", "/v1.41/volumes/x?name=locked-1"));
        assert!(!denies("POST", "/v1.41/volumes/locked-1"));
        assert!(!denies("GET", "/v1.41/volumes"));
    }
}
