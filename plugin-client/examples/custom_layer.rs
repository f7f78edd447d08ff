//! A client over a tower stack of our own: a layer that adds a header, and a
//! concurrency limit, over the transport; calling an `echo` plugin this
//! example serves itself with `plugin-server` on a unix socket in a temp dir.
//!
//! ```sh
//! cargo run -p plugin-client --example custom_layer
//! ```

use bytes::Bytes;
use http::{HeaderValue, Request};
use plugin_client::{Client, PluginName, RequestBody, Transport, TransportConfig};
use plugin_server::{HandlerError, PluginServer};
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let serving = PluginServer::new(PluginName::new("echo")?)
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
        .serve_unix(dir.path().join("echo.sock"))?;

    let transport = Transport::for_spec(serving.spec(), &TransportConfig::default())?;
    let stack = ServiceBuilder::new()
        .map_request(|mut request: Request<RequestBody>| {
            request
                .headers_mut()
                .insert("x-request-source", HeaderValue::from_static("custom_layer"));
            request
        })
        .concurrency_limit(8)
        .service(transport);
    let client = Client::new(serving.spec().name().clone(), stack);

    let manifest = client.activate().await?;
    println!("Plugin.Activate -> {}", serde_json::to_string(&manifest)?);
    let answer: serde_json::Value = client
        .call("Echo.Echo", &serde_json::json!({"hello": "plugin"}))
        .await?;
    println!("Echo.Echo       -> {answer}");
    match client.call_raw("Echo.Missing", "{}").await {
        Ok(bytes) => println!("Echo.Missing    -> {bytes:?}"),
        Err(err) => println!(
            "Echo.Missing    -> error: {err} (not implemented: {})",
            err.is_not_implemented()
        ),
    }
    serving.shutdown().await;
    Ok(())
}
