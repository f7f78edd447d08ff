//! The server as a tower service: called in memory by a host's `Client` with
//! no socket, wrapped in layers (on every listener and in memory), and
//! handlers that see who called (headers; peer credentials on unix sockets).

mod support;

use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode};
use plugin_client::Client;
use plugin_server::{Caller, HandlerError, PluginServer, RequestBody, ResponseBody, Stack};
use support::{Dir, docker_request, exchange, test_server};
use tower::ServiceExt;

fn in_memory(server: PluginServer) -> Client<PluginServer> {
    Client::new("test".parse().unwrap(), server)
}

#[tokio::test]
async fn a_client_calls_the_server_in_memory_with_no_socket() {
    let client = in_memory(test_server());
    assert_eq!(
        client.activate().await.unwrap().implements(),
        ["VolumeDriver"]
    );
    let listed: serde_json::Value = client
        .call("VolumeDriver.List", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(listed, serde_json::json!({"Volumes": [{"Name": "v1"}]}));
    let err = client
        .call::<_, serde_json::Value>("VolumeDriver.Nope", &())
        .await
        .unwrap_err();
    assert!(err.is_not_implemented(), "{err:?}");
}

/// Refuses a request without `X-Token: secret` with a 403, before the plugin.
fn token_layer() -> impl tower::Layer<Stack, Service = Stack> + Clone + Send + Sync + 'static {
    tower::layer::layer_fn(|inner: Stack| {
        Stack::new(tower::service_fn(move |request: Request<RequestBody>| {
            let inner = inner.clone();
            async move {
                if request.headers().get("x-token") == Some(&HeaderValue::from_static("secret")) {
                    inner.oneshot(request).await
                } else {
                    let mut denied = Response::new(ResponseBody::full("{\"Err\":\"no token\"}\n"));
                    *denied.status_mut() = StatusCode::FORBIDDEN;
                    Ok(denied)
                }
            }
        }))
    })
}

#[tokio::test]
async fn a_layer_guards_every_listener_and_the_in_memory_service() {
    let server = test_server()
        .layer(token_layer())
        // Added last, so it sees the request first: it adds the token.
        .layer(tower::util::MapRequestLayer::new(
            |mut request: Request<RequestBody>| {
                if request.uri().path() == "/Echo.Echo" {
                    request
                        .headers_mut()
                        .insert("x-token", HeaderValue::from_static("secret"));
                }
                request
            },
        ));
    let dir = Dir::new();
    let path = dir.join("guarded.sock");
    let _serving = server.serve_unix(&path).unwrap();
    let raw = exchange(&path, &docker_request("Echo.Echo", r#""let in""#)).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", r#""let in""#)
    );
    let raw = exchange(&path, &docker_request("VolumeDriver.List", "{}")).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 403 Forbidden", "{\"Err\":\"no token\"}\n")
    );
    let client = in_memory(server);
    assert_eq!(
        client.call_raw("Echo.Echo", "in memory").await.unwrap(),
        "in memory"
    );
    let err = client.activate().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    assert_eq!(err.message(), Some("no token"));
}

#[tokio::test]
async fn a_layers_error_is_answered_500_with_its_message() {
    let server = PluginServer::new("slow".parse().unwrap())
        .handle("Slow.Call", |(): ()| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, HandlerError>(())
        })
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(50)));
    let err = in_memory(server)
        .call::<_, ()>("Slow.Call", &())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.message(), Some("request timed out"));
}

#[tokio::test]
async fn a_handler_can_see_the_callers_headers_and_unix_credentials() {
    let server = PluginServer::new("who".parse().unwrap()).handle_with_caller(
        "Who.Called",
        |caller: Caller, (): ()| async move {
            let agent = caller
                .headers()
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let peer = caller.peer().map(|p| (p.uid(), p.gid(), p.pid()));
            Ok::<_, HandlerError>(serde_json::json!({"agent": agent, "peer": peer}))
        },
    );
    let dir = Dir::new();
    let path = dir.join("who.sock");
    let _serving = server.clone().serve_unix(&path).unwrap();
    let raw = exchange(&path, &docker_request("Who.Called", "")).await;
    // This process made the call: the socket file is ours, so are its IDs.
    let meta = std::fs::metadata(dir.join("")).unwrap();
    let expected = serde_json::json!({
        "agent": "Go-http-client/1.1",
        "peer": [meta.uid(), meta.gid(), std::process::id()],
    });
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(raw.body_text()).unwrap(),
        expected
    );
    // In memory there is no peer.
    let answer: serde_json::Value = in_memory(server).call("Who.Called", &()).await.unwrap();
    assert_eq!(answer["peer"], serde_json::Value::Null);
    assert!(
        answer["agent"]
            .as_str()
            .unwrap()
            .starts_with("plugin-client/"),
        "{answer}"
    );
}
