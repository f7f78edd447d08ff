//! What a plugin answers, decoded by the host side: the first byte picks the
//! HTTP status, the rest is the body. The client (activation, raw, typed and
//! checked calls) and the typed VolumeDriver and IPAM clients never panic;
//! every status but 200 is an error; an error's message is bounded.
#![no_main]

use std::convert::Infallible;
use std::sync::OnceLock;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use plugin_client::{Client, ClientConfig, ErrorField, PluginName, RequestBody};
use plugin_subsystems::ipam::{IpamDriverClient, RequestPoolRequest};
use plugin_subsystems::volume::VolumeDriverClient;

const STATUSES: [u16; 8] = [200, 200, 200, 404, 500, 400, 201, 503];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let status = StatusCode::from_u16(STATUSES[usize::from(pick) % STATUSES.len()]).unwrap();
    let body = Bytes::copy_from_slice(body);
    let answer = move |_: http::Request<RequestBody>| {
        let body = body.clone();
        async move {
            let mut response = Response::new(Full::new(body));
            *response.status_mut() = status;
            Ok::<_, Infallible>(response)
        }
    };
    let client = Client::new(PluginName::new("fuzz").unwrap(), tower::service_fn(answer));
    // A 200 whose error field is set fails, as the typed clients set it.
    let checking = |field| {
        let config = ClientConfig::new().error_field(Some(field));
        client.clone().with_config(config)
    };
    runtime().block_on(async {
        let results = [
            client.activate().await.map(drop),
            client.call_raw("Echo.Echo", "{}").await.map(drop),
            client
                .call::<_, serde_json::Value>("Echo.Echo", &serde_json::json!({}))
                .await
                .map(drop),
            checking(ErrorField::Err)
                .call::<_, serde_json::Value>("Echo.Echo", &())
                .await
                .map(drop),
            checking(ErrorField::Error)
                .call::<_, serde_json::Value>("Echo.Echo", &())
                .await
                .map(drop),
        ];
        for result in &results {
            if let Err(error) = result {
                let _ = error.to_string();
                assert!(error.message().is_none_or(|m| m.len() <= 64 * 1024 + 16));
            } else {
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "a {status} answer was taken as success"
                );
            }
        }
        let volumes = VolumeDriverClient::new(client.clone());
        let _ = volumes.get("v").await;
        let _ = volumes.list().await;
        let _ = volumes.capabilities().await;
        let ipam = IpamDriverClient::new(client.clone());
        let _ = ipam.request_pool(&RequestPoolRequest::default()).await;
    });
});
