//! A tower stack over the transport: a concurrency limit, a layer that adds a
//! header, and a timeout, talking to a small plugin this example serves itself
//! on a unix socket in a temporary directory.
//!
//! ```sh
//! cargo run -p plugin-transport --example tower_stack
//! ```

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use plugin_transport::{PluginName, PluginSpec, Transport, TransportConfig};
use tower::{BoxError, ServiceBuilder, ServiceExt};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("echo.sock");
    let listener = tokio::net::UnixListener::bind(&socket)?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(plugin)),
            );
        }
    });

    let spec = PluginSpec::from_socket(PluginName::new("echo")?, &socket)?;
    let transport = Transport::for_spec(&spec, &TransportConfig::default())?;
    let service = ServiceBuilder::new()
        .concurrency_limit(8)
        .map_request(|mut request: Request<Full<Bytes>>| {
            request
                .headers_mut()
                .insert("x-caller", HeaderValue::from_static("layered-example"));
            request
        })
        .timeout(Duration::from_secs(5))
        .service(transport);

    for (method, body) in [
        ("/Plugin.Activate", ""),
        ("/Echo.Echo", r#"{"hello":"plugin"}"#),
    ] {
        let request = Request::post(method).body(Full::new(Bytes::from(body)))?;
        println!("sent     POST {method} {body}");
        let response = service.clone().oneshot(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        println!("received {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}

/// The plugin: activation answers its manifest; `Echo.Echo` answers the body
/// and the caller header it saw.
async fn plugin(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let caller = request
        .headers()
        .get("x-caller")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let answer = match path.as_str() {
        "/Plugin.Activate" => Bytes::from_static(br#"{"Implements": ["Echo"]}"#),
        _ => Bytes::from(format!(
            r#"{{"echo": {}, "x-caller": "{caller}"}}"#,
            if body.is_empty() {
                "null".into()
            } else {
                String::from_utf8_lossy(&body).into_owned()
            }
        )),
    };
    Ok(Response::new(Full::new(answer)))
}
