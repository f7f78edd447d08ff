//! The client over services other than the bare transport: an in-memory
//! router (no sockets at all), and a stack of tower layers over a transport.

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use plugin_client::{Client, RequestBody, Transport, TransportConfig};
use plugin_server::PluginName;
use support::{Answering, response};
use tower::ServiceBuilder;

/// An in-memory plugin: answers by path, echoes `Echo.Echo`.
async fn router(request: Request<RequestBody>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (status, answer) = match path.as_str() {
        "/Plugin.Activate" => (
            StatusCode::OK,
            Bytes::from_static(br#"{"Implements":["Echo"]}"#),
        ),
        "/Echo.Echo" => (StatusCode::OK, body),
        _ => (
            StatusCode::NOT_FOUND,
            Bytes::from_static(b"404 page not found\n"),
        ),
    };
    let mut response = Response::new(Full::new(answer));
    *response.status_mut() = status;
    Ok(response)
}

#[tokio::test]
async fn an_in_memory_service_needs_no_socket() {
    let client = Client::new(
        PluginName::new("memory").unwrap(),
        tower::service_fn(router),
    );
    assert_eq!(client.activate().await.unwrap().implements(), ["Echo"]);
    let echoed: serde_json::Value = client
        .call("Echo.Echo", &serde_json::json!({"x": [1, 2]}))
        .await
        .unwrap();
    assert_eq!(echoed, serde_json::json!({"x": [1, 2]}));
    let err = client.call_raw("Other.Method", "").await.unwrap_err();
    assert!(err.is_not_implemented());
    assert_eq!(err.message(), Some("404 page not found"));
    assert!(
        !err.is_connect(),
        "an error from a service without a transport is never a connect error"
    );
}

#[tokio::test]
async fn a_failing_custom_service_is_a_transport_error_and_not_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let failing = tower::service_fn(move |_: Request<RequestBody>| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Err::<Response<Full<Bytes>>, _>(std::io::Error::other("proxy down")) }
    });
    let client = Client::new(PluginName::new("proxied").unwrap(), failing);
    let err = client.activate().await.unwrap_err();
    assert_eq!(
        support::chain(&err),
        "Plugin.Activate: calling plugin \"proxied\" failed: proxy down"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn layers_between_the_client_and_the_transport() {
    let raw = Answering::new(response("200 OK", br#"{"Implements":["VolumeDriver"]}"#));
    let spec =
        plugin_client::PluginSpec::from_socket(PluginName::new("layered").unwrap(), raw.path())
            .unwrap();
    let transport = Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
    let stack = ServiceBuilder::new()
        .map_request(|mut request: Request<RequestBody>| {
            request
                .headers_mut()
                .insert("authorization", HeaderValue::from_static("Bearer token"));
            request
        })
        .concurrency_limit(8)
        .service(transport);
    let client = Client::new(spec.name().clone(), stack);
    assert_eq!(
        client.activate().await.unwrap().implements(),
        ["VolumeDriver"]
    );
    assert!(
        raw.requests()[0].contains("authorization: Bearer token\r\n"),
        "{:?}",
        raw.requests()
    );
}

#[tokio::test]
async fn a_client_calls_a_plugin_server_in_memory_with_no_socket() {
    let server = plugin_server::PluginServer::new(PluginName::new("memory").unwrap())
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, plugin_server::HandlerError>(body)
        });
    let client = Client::new(PluginName::new("memory").unwrap(), server);
    assert_eq!(client.activate().await.unwrap().implements(), ["Echo"]);
    assert_eq!(
        client.call_raw("Echo.Echo", "no socket").await.unwrap(),
        "no socket"
    );
    let err = client
        .call::<_, serde_json::Value>("Echo.Nope", &())
        .await
        .unwrap_err();
    assert!(err.is_not_implemented(), "{err:?}");
}
