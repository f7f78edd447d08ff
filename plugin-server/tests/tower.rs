//! The server as a tower service: called in memory with no socket (a host's
//! `Client` over it is plugin-client's test), wrapped in layers (on every
//! listener and in memory), and handlers that see who called (headers; peer
//! credentials on unix sockets).

mod support;

use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use plugin_server::{
    BoxServerService, Caller, HandlerError, PluginServer, RequestBody, ResponseBody,
};
use support::{Dir, docker_request, exchange, test_server};
use tower::ServiceExt;

/// `POST /<method>` with `body`, in memory: the status and the answer.
async fn in_memory(server: &PluginServer, method: &str, body: &str) -> (StatusCode, String) {
    let request = Request::post(format!("/{method}"))
        .header(http::header::USER_AGENT, "in-memory-test")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = server.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_server_answers_in_memory_with_no_socket() {
    let server = test_server();
    assert_eq!(
        in_memory(&server, "Plugin.Activate", "").await,
        (
            StatusCode::OK,
            "{\"Implements\":[\"VolumeDriver\"]}\n".to_owned()
        )
    );
    assert_eq!(
        in_memory(&server, "VolumeDriver.List", "{}").await,
        (
            StatusCode::OK,
            "{\"Volumes\":[{\"Name\":\"v1\"}]}\n".to_owned()
        )
    );
    let (status, _) = in_memory(&server, "VolumeDriver.Nope", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Refuses a request without `X-Token: secret` with a 403, before the plugin.
fn token_layer()
-> impl tower::Layer<BoxServerService, Service = BoxServerService> + Clone + Send + Sync + 'static {
    tower::layer::layer_fn(|inner: BoxServerService| {
        BoxServerService::new(tower::service_fn(move |request: Request<RequestBody>| {
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
    assert_eq!(
        in_memory(&server, "Echo.Echo", "in memory").await,
        (StatusCode::OK, "in memory".to_owned())
    );
    assert_eq!(
        in_memory(&server, "Plugin.Activate", "").await,
        (StatusCode::FORBIDDEN, "{\"Err\":\"no token\"}\n".to_owned())
    );
}

/// Unlike axum's `Router::layer`, which wraps only the routes added before
/// it, a layer wraps methods added after it too.
#[tokio::test]
async fn a_layer_wraps_methods_added_after_it() {
    let server = PluginServer::new("late".parse().unwrap())
        .layer(token_layer())
        .handle_raw("Late.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        });
    assert_eq!(
        in_memory(&server, "Late.Echo", "no token").await,
        (StatusCode::FORBIDDEN, "{\"Err\":\"no token\"}\n".to_owned())
    );
    let dir = Dir::new();
    let path = dir.join("late.sock");
    let _serving = server.serve_unix(&path).unwrap();
    let raw = exchange(&path, &docker_request("Late.Echo", r#""no token""#)).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 403 Forbidden", "{\"Err\":\"no token\"}\n")
    );
    // With the token, the method added after the layer answers.
    let request = Request::post("/Late.Echo")
        .header("x-token", "secret")
        .body(Full::new(Bytes::from("let in")))
        .unwrap();
    let response = server.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "let in");
}

/// A layer runs before the method is looked up: it may rename one.
#[tokio::test]
async fn a_layer_may_rewrite_the_method_before_the_plugin_looks_it_up() {
    let server = test_server().layer(tower::util::MapRequestLayer::new(
        |mut request: Request<RequestBody>| {
            if request.uri().path() == "/Echo.Old" {
                *request.uri_mut() = http::Uri::from_static("/Echo.Echo");
            }
            request
        },
    ));
    assert_eq!(
        in_memory(&server, "Echo.Old", "renamed").await,
        (StatusCode::OK, "renamed".to_owned())
    );
}

#[tokio::test]
async fn a_layers_error_is_answered_500_with_its_message() {
    let server = PluginServer::new("slow".parse().unwrap())
        .handle("Slow.Call", |(): ()| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, HandlerError>(())
        })
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(50)));
    assert_eq!(
        in_memory(&server, "Slow.Call", "").await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "{\"Err\":\"request timed out\"}\n".to_owned()
        )
    );
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
    let (status, answer) = in_memory(&server, "Who.Called", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&answer).unwrap(),
        serde_json::json!({"agent": "in-memory-test", "peer": null})
    );
}
