//! The authz host side fails closed: `AuthzGate` allows only a clear 200
//! `Allow: true` with no `Err`; a denial, a plugin error, a failure, a timeout,
//! an undecodable answer, a plugin that is gone and a body over 4 MiB all deny.

#![cfg(all(feature = "client", feature = "server"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use plugin_client::{Client, ClientConfig, ClientError};
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};
use plugin_subsystems::PluginServerExt;
use plugin_subsystems::authz::{
    self, AUTHZ_REQ, AuthzClient, AuthzDecision, AuthzRequest, AuthzResponse, MAX_AUTHZ_BODY,
};

/// The bodies the plugin saw, per call.
type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

/// Allows everything, except DELETE (denied) and the URI `/broken` (its
/// `Err` set, which our server sends as a 500); records each body it sees.
struct Policy(Seen);

impl authz::Authorizer for Policy {
    async fn authz_request(&self, r: AuthzRequest) -> Result<AuthzResponse, HandlerError> {
        self.0.lock().unwrap().push(r.request_body.clone());
        Ok(match (r.request_method.as_str(), r.request_uri.as_str()) {
            (_, "/broken") => AuthzResponse {
                err: "policy store down".into(),
                ..Default::default()
            },
            ("DELETE", _) => AuthzResponse::deny("deleting is not allowed"),
            _ => AuthzResponse::allow(),
        })
    }

    async fn authz_response(&self, r: AuthzRequest) -> Result<AuthzResponse, HandlerError> {
        self.0.lock().unwrap().push(r.response_body.clone());
        Ok(AuthzResponse::allow())
    }
}

struct Plugin {
    _dir: tempfile::TempDir,
    serving: Option<Serving>,
    client: Client,
}

fn serve(server: PluginServer, config: &ClientConfig) -> Plugin {
    let dir = tempfile::tempdir().unwrap();
    let serving = server.serve_unix(dir.path().join("authz.sock")).unwrap();
    let client = Client::for_spec(serving.spec(), config).unwrap();
    Plugin {
        _dir: dir,
        serving: Some(serving),
        client,
    }
}

fn name() -> PluginName {
    PluginName::new("gatekeeper").unwrap()
}

fn policy() -> (Plugin, Seen) {
    let seen = Seen::default();
    let server = PluginServer::new(name()).authz(Policy(Arc::clone(&seen)));
    (serve(server, &ClientConfig::default()), seen)
}

fn request(method: &str, uri: &str, body: Vec<u8>) -> AuthzRequest {
    AuthzRequest {
        request_method: method.into(),
        request_uri: uri.into(),
        request_body: body,
        ..Default::default()
    }
}

/// A plugin whose AuthZReq handler answers `raw` with status 200.
fn answering(raw: &'static str, config: &ClientConfig) -> Plugin {
    let server = PluginServer::new(name())
        .implements(authz::IMPLEMENTS)
        .handle_raw(AUTHZ_REQ, move |_: Bytes| async move {
            Ok::<_, HandlerError>(Bytes::from_static(raw.as_bytes()))
        });
    serve(server, config)
}

#[tokio::test]
async fn a_clear_allow_is_the_only_allow_and_a_denial_keeps_its_reason() {
    let (plugin, seen) = policy();
    let gate = AuthzClient::new(plugin.client.clone()).fail_closed();
    let allowed = gate
        .request(&request("GET", "/v1.47/info", Vec::new()))
        .await;
    assert!(allowed.is_allowed(), "{allowed:?}");
    assert_eq!(allowed.message(), None);
    let denied = gate
        .request(&request("DELETE", "/v1.47/containers/x", Vec::new()))
        .await;
    assert!(!denied.is_allowed());
    assert!(matches!(&denied, AuthzDecision::Deny { msg, .. } if msg == "deleting is not allowed"));
    assert_eq!(
        denied.message().unwrap(),
        "authorization denied by plugin gatekeeper: deleting is not allowed"
    );
    assert!(
        gate.response(&request("GET", "/v1.47/info", Vec::new()))
            .await
            .is_allowed()
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_plugin_failure_denies() {
    let (plugin, _seen) = policy();
    let gate = AuthzClient::new(plugin.client.clone()).fail_closed();
    let decision = gate.request(&request("GET", "/broken", Vec::new())).await;
    let AuthzDecision::Failed(error) = &decision else {
        panic!("expected Failed, got {decision:?}");
    };
    assert_eq!(
        (error.status().map(|s| s.as_u16()), error.message()),
        (Some(500), Some("policy store down"))
    );
    assert!(decision.message().unwrap().starts_with(
        "authorization plugin gatekeeper could not decide, so the request is denied: "
    ));
}

#[tokio::test]
async fn a_200_that_allows_and_sets_err_denies() {
    let plugin = answering(
        r#"{"Allow":true,"Err":"confused"}"#,
        &ClientConfig::default(),
    );
    let decision = AuthzClient::new(plugin.client.clone())
        .fail_closed()
        .request(&request("GET", "/", Vec::new()))
        .await;
    assert!(
        matches!(&decision, AuthzDecision::PluginError { err, .. } if err == "confused"),
        "{decision:?}"
    );
    assert_eq!(
        decision.message().unwrap(),
        "authorization plugin gatekeeper failed: confused"
    );
}

#[tokio::test]
async fn an_undecodable_answer_denies() {
    for raw in ["not json", r#"{"Allow":"yes"}"#, "[true]"] {
        let plugin = answering(raw, &ClientConfig::default());
        let decision = AuthzClient::new(plugin.client.clone())
            .fail_closed()
            .request(&request("GET", "/", Vec::new()))
            .await;
        assert!(
            matches!(&decision, AuthzDecision::Failed(ClientError::Decode { .. })),
            "{raw}: {decision:?}"
        );
    }
}

#[tokio::test]
async fn an_empty_200_denies() {
    // `{}` decodes as Allow: false, the zero value: a denial with no reason.
    let plugin = answering("{}", &ClientConfig::default());
    let decision = AuthzClient::new(plugin.client.clone())
        .fail_closed()
        .request(&request("GET", "/", Vec::new()))
        .await;
    assert!(
        matches!(&decision, AuthzDecision::Deny { msg, .. } if msg.is_empty()),
        "{decision:?}"
    );
}

#[tokio::test]
async fn a_plugin_that_times_out_denies() {
    let config = ClientConfig::default().call_timeout(Duration::from_millis(200));
    let server = PluginServer::new(name())
        .implements(authz::IMPLEMENTS)
        .handle_raw(AUTHZ_REQ, |_: Bytes| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, HandlerError>(Bytes::from_static(br#"{"Allow":true}"#))
        });
    let plugin = serve(server, &config);
    let decision = AuthzClient::new(plugin.client.clone())
        .fail_closed()
        .request(&request("GET", "/", Vec::new()))
        .await;
    assert!(
        matches!(&decision, AuthzDecision::Failed(e) if e.is_timeout()),
        "{decision:?}"
    );
}

#[tokio::test]
async fn a_plugin_that_is_gone_denies() {
    let (mut plugin, _seen) = policy();
    drop(plugin.serving.take());
    let decision = AuthzClient::new(plugin.client.clone())
        .fail_closed()
        .request(&request("GET", "/", Vec::new()))
        .await;
    assert!(
        matches!(&decision, AuthzDecision::Failed(e) if e.is_nothing_listening()),
        "{decision:?}"
    );
}

#[tokio::test]
async fn a_body_over_4_mib_is_not_forwarded_and_denies() {
    let (plugin, seen) = policy();
    let gate = AuthzClient::new(plugin.client.clone()).fail_closed();
    let at_limit = gate
        .request(&request("POST", "/v1.47/build", vec![b'a'; MAX_AUTHZ_BODY]))
        .await;
    assert!(
        at_limit.is_allowed(),
        "a body of exactly 4 MiB is forwarded: {at_limit:?}"
    );
    assert_eq!(seen.lock().unwrap().pop().unwrap().len(), MAX_AUTHZ_BODY);
    let over = gate
        .request(&request(
            "POST",
            "/v1.47/build",
            vec![b'a'; MAX_AUTHZ_BODY + 1],
        ))
        .await;
    assert!(
        matches!(
            &over,
            AuthzDecision::BodyTooLarge { field: "RequestBody", size, limit, .. }
                if *size == MAX_AUTHZ_BODY + 1 && *limit == MAX_AUTHZ_BODY
        ),
        "{over:?}"
    );
    assert_eq!(
        over.message().unwrap(),
        "the RequestBody (4194305 bytes) is over the 4194304-byte limit for authorization plugin gatekeeper, so the request is denied"
    );
    let response = AuthzRequest {
        response_status_code: 200,
        response_body: vec![b'r'; 11],
        ..request("GET", "/v1.47/containers/json", Vec::new())
    };
    let small_gate = AuthzClient::new(plugin.client.clone())
        .fail_closed()
        .max_body(10);
    assert!(matches!(
        small_gate.response(&response).await,
        AuthzDecision::BodyTooLarge {
            field: "ResponseBody",
            size: 11,
            limit: 10,
            ..
        }
    ));
    assert!(
        seen.lock().unwrap().is_empty(),
        "the plugin was not asked about either"
    );
}

#[tokio::test]
async fn a_host_that_opts_out_asks_without_the_oversized_body() {
    let (plugin, seen) = policy();
    let gate = AuthzClient::new(plugin.client.clone())
        .fail_closed()
        .max_body(10)
        .ask_without_oversized_bodies();
    assert!(
        gate.request(&request("POST", "/v1.47/build", vec![b'a'; 11]))
            .await
            .is_allowed()
    );
    assert!(
        gate.request(&request("POST", "/v1.47/build", vec![b'b'; 10]))
            .await
            .is_allowed()
    );
    assert_eq!(*seen.lock().unwrap(), vec![Vec::new(), vec![b'b'; 10]]);
    // Still fail-closed on everything else.
    assert!(
        !gate
            .request(&request("DELETE", "/", Vec::new()))
            .await
            .is_allowed()
    );
}
