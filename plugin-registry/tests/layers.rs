//! Tower layers over every plugin's transport (`RegistryBuilder::layer`):
//! each call wraps what is there, so the layer added last sees a request
//! first; a tower timeout anywhere in the stack is a timeout. Real plugins on
//! unix sockets in a temp dir.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Request};
use plugin_registry::{Registry, RequestBody};
use plugin_server::{Caller, HandlerError, PluginServer};
use support::{Dir, name};
use tower::timeout::TimeoutLayer;
use tower::util::MapRequestLayer;

const LAYERS: HeaderName = HeaderName::from_static("x-layers");

/// A layer that appends `value` to the request's `x-layers` header.
fn appending(
    value: &'static str,
) -> MapRequestLayer<impl Fn(Request<RequestBody>) -> Request<RequestBody> + Clone> {
    MapRequestLayer::new(move |mut request: Request<RequestBody>| {
        request
            .headers_mut()
            .append(LAYERS, HeaderValue::from_static(value));
        request
    })
}

/// A volume plugin whose `Test.Forever` never answers.
fn hanging(plugin: &str) -> PluginServer {
    PluginServer::new(name(plugin))
        .implements("VolumeDriver")
        .handle("Test.Forever", |(): ()| async {
            std::future::pending::<()>().await;
            Ok::<_, HandlerError>(())
        })
}

#[tokio::test]
async fn two_layers_both_apply_and_the_last_added_sees_a_request_first() {
    let dir = Dir::new();
    let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let record = Arc::clone(&seen);
    let _serving = PluginServer::new(name("vol"))
        .implements("VolumeDriver")
        .handle_with_caller("Test.Record", move |caller: Caller, (): ()| {
            let values = caller
                .headers()
                .get_all(&LAYERS)
                .iter()
                .map(|value| value.to_str().unwrap().to_owned())
                .collect();
            record.lock().unwrap().push(values);
            async { Ok::<_, HandlerError>(()) }
        })
        .serve_unix(dir.socket("vol"))
        .unwrap();
    let registry = Registry::builder(dir.discovery())
        .layer(appending("first"))
        .layer(appending("second"))
        .build();
    let plugin = registry.get("vol", "VolumeDriver").await.unwrap();
    plugin
        .client()
        .call::<_, ()>("Test.Record", &())
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [["second", "first"]],
        "both layers applied, the one added last first"
    );
}

#[tokio::test]
async fn a_tower_timeout_layer_in_the_stack_makes_a_call_time_out() {
    let dir = Dir::new();
    let _serving = hanging("vol").serve_unix(dir.socket("vol")).unwrap();
    let registry = Registry::builder(dir.discovery())
        .layer(TimeoutLayer::new(Duration::from_millis(100)))
        .build();
    let plugin = registry.get("vol", "VolumeDriver").await.unwrap();
    let err = plugin
        .client()
        .call::<_, ()>("Test.Forever", &())
        .await
        .unwrap_err();
    assert!(err.is_timeout() && !err.is_connect(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Test.Forever: calling plugin \"vol\" timed out (a timeout layer in its stack gave up)"
    );
    assert!(
        !plugin.is_stale(),
        "a slow answer says nothing of the connection"
    );
}

#[tokio::test]
async fn a_tower_timeout_layer_bounds_the_activation_too() {
    let dir = Dir::new();
    let _serving = PluginServer::new(name("hung"))
        .handle("Plugin.Activate", |(): ()| async {
            std::future::pending::<()>().await;
            Ok::<_, HandlerError>(serde_json::json!({"Implements": ["VolumeDriver"]}))
        })
        .serve_unix(dir.socket("hung"))
        .unwrap();
    let registry = Registry::builder(dir.discovery())
        .layer(TimeoutLayer::new(Duration::from_millis(100)))
        .build();
    let err = registry.get("hung", "VolumeDriver").await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        support::chain(&err),
        "activating plugin \"hung\" failed: Plugin.Activate: calling plugin \"hung\" timed out (a timeout layer in its stack gave up): request timed out"
    );
}
