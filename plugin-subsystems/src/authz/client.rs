//! `AuthzClient`: the host side of `authz`, and [`AuthzGate`], the way to use
//! it that fails closed.

use plugin_client::ClientError;
use plugin_spec::PluginName;

use super::{AUTHZ_REQ, AUTHZ_RES, AuthzRequest, AuthzResponse};
use crate::typed_client::typed_client;
use plugin_client::ClientService;

/// The largest request or response body an [`AuthzGate`] forwards by default:
/// 4 MiB, as Docker Engine bounds it since 29.4.
pub const MAX_AUTHZ_BODY: usize = 4 * 1024 * 1024;

typed_client! {
    /// Asks an authorization plugin as the engine does: on a 200 only
    /// `Allow` and `Msg` count (`Err` is not looked at); any other status is a
    /// failure of the plugin.
    ///
    /// These calls return what the plugin said, or why it could not be asked.
    /// A host deciding whether to run a request wants
    /// [`fail_closed`](Self::fail_closed) instead: an [`AuthzGate`] turns
    /// every failure into a denial.
    AuthzClient(None)
}

impl<S: ClientService> AuthzClient<S> {
    /// `AuthZPlugin.AuthZReq`: may the engine handle this request?
    ///
    /// # Errors
    /// The plugin's failure, or the call's (a denial is an `Ok` with
    /// `allow == false`).
    pub async fn authz_request(
        &self,
        request: &AuthzRequest,
    ) -> Result<AuthzResponse, ClientError> {
        self.client.call(AUTHZ_REQ, request).await
    }

    /// `AuthZPlugin.AuthZRes`: may the engine send this response?
    ///
    /// # Errors
    /// As [`authz_request`](Self::authz_request).
    pub async fn authz_response(
        &self,
        request: &AuthzRequest,
    ) -> Result<AuthzResponse, ClientError> {
        self.client.call(AUTHZ_RES, request).await
    }
}

impl<S> AuthzClient<S> {
    /// This client as an [`AuthzGate`]: every answer but a clear "allow" is a
    /// denial, and bodies over [`MAX_AUTHZ_BODY`] are not forwarded.
    pub fn fail_closed(self) -> AuthzGate<S> {
        AuthzGate {
            client: self,
            max_body: MAX_AUTHZ_BODY,
            oversized: Oversized::Deny,
        }
    }
}

/// An authorization plugin asked the way a host must ask it: **fail closed**.
///
/// Docker's authz bypasses (CVE-2024-41110, CVE-2026-34040) came from hosts
/// that let a request through when the plugin could not judge it: the body was
/// too large to forward, so the plugin allowed a request it never saw. A gate
/// answers [`AuthzDecision::Allow`] only when the plugin answered 200 with
/// `Allow: true` and no `Err`. Everything else is a denial, each with its
/// reason:
///
/// | the plugin | decision |
/// | --- | --- |
/// | answers `Allow: true` | [`Allow`](AuthzDecision::Allow) |
/// | answers `Allow: false` | [`Deny`](AuthzDecision::Deny), with its `Msg` |
/// | answers with `Err` set (a 200 that contradicts itself; Docker ignores `Err` there) | [`PluginError`](AuthzDecision::PluginError) |
/// | fails, times out, is not running, or answers something undecodable | [`Failed`](AuthzDecision::Failed) |
/// | would be sent a body over the limit | [`BodyTooLarge`](AuthzDecision::BodyTooLarge), and the plugin is not asked |
///
/// The call timeout is the client's
/// ([`ClientConfig::call_timeout`](plugin_client::ClientConfig::call_timeout),
/// 60 s by default; Docker's own authz calls have none): choose one a user can
/// wait for, since a plugin that does not answer denies every request until
/// it does.
///
/// ```
/// # async fn check(client: plugin_client::Client) {
/// use plugin_subsystems::authz::{AuthzClient, AuthzDecision, AuthzRequest};
///
/// let gate = AuthzClient::new(client).fail_closed();
/// let request = AuthzRequest {
///     request_method: "POST".into(),
///     request_uri: "/v1.47/containers/create".into(),
///     ..Default::default()
/// };
/// match gate.request(&request).await {
///     AuthzDecision::Allow => { /* run it */ }
///     denied => eprintln!("{}", denied.message().unwrap_or_default()),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AuthzGate<S = plugin_client::Transport> {
    client: AuthzClient<S>,
    max_body: usize,
    oversized: Oversized,
}

/// What a gate does with a body over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Oversized {
    Deny,
    AskWithoutIt,
}

/// What an [`AuthzGate`] decided. Anything but [`Allow`](Self::Allow) means
/// the request (or response) must not go through.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthzDecision {
    /// The plugin allowed it.
    Allow,
    /// The plugin denied it.
    Deny {
        /// The plugin.
        plugin: PluginName,
        /// Its reason, for the user (may be empty).
        msg: String,
    },
    /// The plugin answered 200 with `Err` set: denied, whatever its `Allow`.
    PluginError {
        /// The plugin.
        plugin: PluginName,
        /// Its `Err`.
        err: String,
    },
    /// The plugin could not be asked, failed, timed out, or answered
    /// something undecodable: denied.
    Failed(ClientError),
    /// A body was over the gate's limit, so the plugin was not asked: denied.
    BodyTooLarge {
        /// The plugin.
        plugin: PluginName,
        /// `RequestBody` or `ResponseBody`.
        field: &'static str,
        /// The body's size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
}

impl AuthzDecision {
    /// The plugin allowed it.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow)
    }

    /// What to tell the user when it is denied (`None` when allowed), worded
    /// as Docker words its authz errors.
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Allow => None,
            Self::Deny { plugin, msg } => Some(format!(
                "authorization denied by plugin {}: {msg}",
                plugin.as_str()
            )),
            Self::PluginError { plugin, err } => Some(format!(
                "authorization plugin {} failed: {err}",
                plugin.as_str()
            )),
            Self::Failed(error) => Some(format!(
                "authorization plugin {} could not decide, so the request is denied: {error}",
                error.plugin().as_str()
            )),
            Self::BodyTooLarge {
                plugin,
                field,
                size,
                limit,
            } => Some(format!(
                "the {field} ({size} bytes) is over the {limit}-byte limit for authorization plugin {}, so the request is denied",
                plugin.as_str()
            )),
        }
    }
}

impl<S> AuthzGate<S> {
    /// The largest `RequestBody` or `ResponseBody` forwarded to the plugin, in
    /// bytes (default [`MAX_AUTHZ_BODY`], 4 MiB).
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Asks the plugin without a body that is over the limit, instead of
    /// denying. **This is how the bypasses happened:** the plugin judges a
    /// request it cannot see. Use it only with plugins that never look at
    /// bodies (ones that decide by user, method and URI).
    #[must_use]
    pub fn ask_without_oversized_bodies(mut self) -> Self {
        self.oversized = Oversized::AskWithoutIt;
        self
    }

    /// The typed client underneath.
    pub fn client(&self) -> &AuthzClient<S> {
        &self.client
    }

    /// What to ask, with bodies over the limit left out; or the decision, when
    /// one is over the limit and the gate denies such bodies.
    fn bounded<'r>(
        &self,
        request: &'r AuthzRequest,
        plugin: &PluginName,
    ) -> Result<std::borrow::Cow<'r, AuthzRequest>, AuthzDecision> {
        let over = |size: usize| size > self.max_body;
        if !over(request.request_body.len()) && !over(request.response_body.len()) {
            return Ok(std::borrow::Cow::Borrowed(request));
        }
        if self.oversized == Oversized::Deny {
            let (field, size) = if over(request.request_body.len()) {
                ("RequestBody", request.request_body.len())
            } else {
                ("ResponseBody", request.response_body.len())
            };
            return Err(AuthzDecision::BodyTooLarge {
                plugin: plugin.clone(),
                field,
                size,
                limit: self.max_body,
            });
        }
        let mut without = request.clone();
        if over(without.request_body.len()) {
            without.request_body = Vec::new();
        }
        if over(without.response_body.len()) {
            without.response_body = Vec::new();
        }
        Ok(std::borrow::Cow::Owned(without))
    }
}

fn decide(plugin: &PluginName, answer: Result<AuthzResponse, ClientError>) -> AuthzDecision {
    match answer {
        Err(error) => AuthzDecision::Failed(error),
        Ok(answer) if !answer.err.is_empty() => AuthzDecision::PluginError {
            plugin: plugin.clone(),
            err: answer.err,
        },
        Ok(answer) if answer.allow => AuthzDecision::Allow,
        Ok(answer) => AuthzDecision::Deny {
            plugin: plugin.clone(),
            msg: answer.msg,
        },
    }
}

impl<S: ClientService> AuthzGate<S> {
    /// `AuthZPlugin.AuthZReq`, failing closed: may the engine handle this
    /// request?
    pub async fn request(&self, request: &AuthzRequest) -> AuthzDecision {
        let plugin = self.client.client().plugin().clone();
        match self.bounded(request, &plugin) {
            Ok(asked) => decide(&plugin, self.client.authz_request(&asked).await),
            Err(denied) => denied,
        }
    }

    /// `AuthZPlugin.AuthZRes`, failing closed: may the engine send this
    /// response?
    pub async fn response(&self, request: &AuthzRequest) -> AuthzDecision {
        let plugin = self.client.client().plugin().clone();
        match self.bounded(request, &plugin) {
            Ok(asked) => decide(&plugin, self.client.authz_response(&asked).await),
            Err(denied) => denied,
        }
    }
}
