//! Requests over unix sockets and TCP: what reaches the plugin, keep-alive,
//! clones shared across tasks, the response body limit.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use plugin_transport::{ConnectionInfo, ResponseBodyLimit, Transport, TransportConfig, UNIX_HOST};
use support::{Seen, call, echo};
use tower::ServiceExt;

#[tokio::test]
async fn a_unix_socket_request_carries_dockers_host_and_the_method_path() {
    let server = support::unix(echo()).await;
    let transport = server.transport();
    let (status, body) = call(&transport, "/Plugin.Activate", "").await.unwrap();
    assert_eq!((status, body.as_ref()), (200, b"".as_ref()));
    let (_, body) = call(&transport, "/VolumeDriver.Create", r#"{"Name":"v1"}"#)
        .await
        .unwrap();
    assert_eq!(body.as_ref(), br#"{"Name":"v1"}"#);

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/Plugin.Activate")
    );
    assert_eq!(seen[0].headers["host"], UNIX_HOST);
    assert_eq!(seen[0].headers["content-length"], "0");
    assert_eq!(seen[1].path, "/VolumeDriver.Create");
    assert_eq!(seen[1].headers["content-length"], "13");
}

#[tokio::test]
async fn a_tcp_request_carries_host_and_port() {
    let server = support::tcp(echo()).await;
    let (status, body) = call(&server.transport(), "/Echo.Echo?x=1", "hello")
        .await
        .unwrap();
    assert_eq!((status, body.as_ref()), (200, b"hello".as_ref()));
    let seen = server.seen();
    let port = server.spec.address().host_port().unwrap().port();
    assert_eq!(
        seen[0].headers["host"],
        format!("127.0.0.1:{port}").as_str()
    );
    assert_eq!(seen[0].path, "/Echo.Echo?x=1");
}

#[tokio::test]
async fn an_absolute_request_uri_is_sent_to_the_plugin_not_elsewhere() {
    let server = support::unix(echo()).await;
    let request = Request::post("http://example.com:1/Plugin.Activate")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = server.transport().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.seen()[0].headers["host"], UNIX_HOST);
}

#[tokio::test]
async fn one_hundred_sequential_calls_use_one_connection() {
    for server in [support::unix(echo()).await, support::tcp(echo()).await] {
        let transport = server.transport();
        let mut ids = std::collections::BTreeSet::new();
        for _ in 0..100 {
            let request = Request::post("/Echo.Echo")
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap();
            let response = transport.clone().oneshot(request).await.unwrap();
            ids.insert(response.extensions().get::<ConnectionInfo>().unwrap().id());
            response.into_body().collect().await.unwrap();
        }
        assert_eq!(ids.len(), 1, "every response came over the same connection");
        assert_eq!(server.connections(), 1, "{}", server.spec.address());
        assert_eq!(server.seen().len(), 100);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_are_used_from_many_tasks_at_once() {
    let server = support::unix(echo()).await;
    let transport = server.transport();
    let mut tasks = Vec::new();
    for task in 0..32 {
        let transport = transport.clone();
        tasks.push(tokio::spawn(async move {
            for call_no in 0..20 {
                let body = format!("{task}-{call_no}");
                let request = Request::post("/Echo.Echo")
                    .body(Full::new(Bytes::from(body.clone())))
                    .unwrap();
                let response = transport.clone().oneshot(request).await.unwrap();
                let got = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(got, body.as_bytes());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(server.seen().len(), 640);
    // The burst opened what it needed; afterwards the pool serves from idle ones.
    let opened = server.connections();
    for _ in 0..10 {
        support::call(&transport, "/Echo.Echo", "{}").await.unwrap();
    }
    assert_eq!(server.connections(), opened);
}

#[tokio::test]
async fn a_body_over_the_limit_is_an_error_naming_the_plugin_and_limit() {
    let big = Arc::new(|_: &Seen| Response::new(Full::new(Bytes::from(vec![b'x'; 2048]))));
    let server = support::unix(big).await;
    let config = TransportConfig::new().max_response_body(Some(1024));
    let transport = Transport::for_spec(&server.spec, &config).unwrap();
    let err = support::call(&transport, "/Big", "").await.unwrap_err();
    assert!(err.is_body_too_large());
    assert_eq!(
        err.to_string(),
        format!(
            "plugin \"test-plugin\" at {} sent a response body over the 1024-byte limit; raise TransportConfig::with_max_response_body if this is expected",
            server.spec.address()
        )
    );
    // Exactly at the limit is fine.
    let config = TransportConfig::new().max_response_body(Some(2048));
    let transport = Transport::for_spec(&server.spec, &config).unwrap();
    assert_eq!(
        support::call(&transport, "/Big", "").await.unwrap().1.len(),
        2048
    );
}

#[tokio::test]
async fn a_request_can_lift_the_limit() {
    let big = Arc::new(|_: &Seen| Response::new(Full::new(Bytes::from(vec![b'x'; 4096]))));
    let server = support::unix(big).await;
    let config = TransportConfig::new().max_response_body(Some(1024));
    let transport = Transport::for_spec(&server.spec, &config).unwrap();
    let mut request = Request::post("/Stream")
        .body(Empty::<Bytes>::new())
        .unwrap();
    request.extensions_mut().insert(ResponseBodyLimit(None));
    let response = transport.oneshot(request).await.unwrap();
    assert_eq!(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .len(),
        4096
    );
}

#[tokio::test]
async fn non_200_statuses_are_responses_not_errors() {
    let not_found = Arc::new(|_: &Seen| {
        let mut response = Response::new(Full::new(Bytes::from_static(b"404 page not found\n")));
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        response
    });
    let server = support::tcp(not_found).await;
    let (status, body) = call(&server.transport(), "/Nope.Nope", "{}").await.unwrap();
    assert_eq!(
        (status, body.as_ref()),
        (404, b"404 page not found\n".as_ref())
    );
}

#[tokio::test]
async fn transport_reports_its_target() {
    let server = support::unix(echo()).await;
    let transport = server.transport();
    assert_eq!(transport.target().name(), "test-plugin");
    assert_eq!(transport.target().address(), server.spec.address());
    assert_eq!(
        transport.target().to_string(),
        format!("plugin \"test-plugin\" at {}", server.spec.address())
    );
}
