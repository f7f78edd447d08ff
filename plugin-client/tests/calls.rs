//! Calls (docs/protocol.md, "Calls"): the handshake, typed, raw, sent and streamed calls
//! against real plugins, and the exact headers on the wire.

mod support;

use bytes::Bytes;
use futures_util::StreamExt;
use plugin_client::RequestBody;
use support::{Answering, Named, client_for, plugin, response, serve_tcp, serve_unix};

#[tokio::test]
async fn activation_returns_the_manifest_over_unix_and_tcp() {
    for served in [serve_unix(&plugin()), serve_tcp(&plugin())] {
        let manifest = served.client().activate().await.unwrap();
        assert_eq!(manifest.implements(), ["VolumeDriver", "Echo"]);
        assert!(manifest.implements_iface("Echo") && !manifest.implements_iface("echo"));
    }
}

#[tokio::test]
async fn typed_raw_and_empty_answers() {
    let served = serve_unix(&plugin());
    let client = served.client();
    let named: Named = client
        .call("Volume.Get", &Named { name: "v1".into() })
        .await
        .unwrap();
    assert_eq!(named, Named { name: "v1".into() });
    assert_eq!(
        client.call_raw("Echo.Echo", r#"{"a":1}"#).await.unwrap(),
        r#"{"a":1}"#
    );
    client.call::<_, ()>("Test.Empty", &()).await.unwrap();
}

#[tokio::test]
async fn a_stream_is_read_as_it_arrives() {
    let served = serve_unix(&plugin());
    let stream = served.client().stream("Logs.Read", &3u32).await.unwrap();
    let chunks: Vec<Bytes> = stream.map(Result::unwrap).collect().await;
    assert_eq!(chunks.concat(), b"line 0\nline 1\nline 2\n");
}

#[tokio::test]
async fn a_stream_longer_than_the_body_limit_is_not_cut() {
    let served = serve_unix(&plugin());
    let transport = plugin_client::Transport::for_spec(
        served.serving.spec(),
        &plugin_client::TransportConfig::new().max_response_body(Some(64)),
    )
    .unwrap();
    let client = plugin_client::Client::new("testplug".parse().unwrap(), transport);
    let total: usize = client
        .stream("Logs.Read", &100u32)
        .await
        .unwrap()
        .map(|chunk| chunk.unwrap().len())
        .fold(0, |a, b| async move { a + b })
        .await;
    assert_eq!(
        total,
        (0..100).map(|i| format!("line {i}\n").len()).sum::<usize>()
    );
    // A whole-answer call keeps the limit.
    let err = client
        .call_raw("Echo.Echo", "x".repeat(100))
        .await
        .unwrap_err();
    let chain = support::chain(&err);
    assert!(chain.contains("over the 64-byte limit"), "{chain}");
}

#[tokio::test]
async fn headers_on_the_wire_are_dockers() {
    let raw = Answering::new(response("200 OK", b"{\"Implements\":[]}"));
    let client = client_for(&raw);
    client.activate().await.unwrap();
    client
        .call::<_, serde_json::Value>("VolumeDriver.Create", &serde_json::json!({"Name": "v"}))
        .await
        .unwrap();
    client
        .call_raw(
            "GraphDriver.ApplyDiff?id=a&parent=b",
            RequestBody::from_bytes("raw tar"),
        )
        .await
        .unwrap();
    let requests = raw.requests();
    // Our client names itself; Docker sends Go's default User-Agent.
    assert_eq!(
        plugin_client::USER_AGENT,
        concat!("plugin-client/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        requests[0],
        "POST /Plugin.Activate HTTP/1.1\r\naccept: application/vnd.docker.plugins.v1.2+json\r\nuser-agent: {UA}\r\ncontent-length: 0\r\nhost: plugin.moby.localhost\r\n\r\n".replace("{UA}", plugin_client::USER_AGENT)
    );
    assert_eq!(
        requests[1],
        "POST /VolumeDriver.Create HTTP/1.1\r\naccept: application/vnd.docker.plugins.v1.2+json\r\nuser-agent: {UA}\r\ncontent-type: application/json\r\ncontent-length: 12\r\nhost: plugin.moby.localhost\r\n\r\n{\"Name\":\"v\"}".replace("{UA}", plugin_client::USER_AGENT)
    );
    assert_eq!(
        requests[2],
        "POST /GraphDriver.ApplyDiff?id=a&parent=b HTTP/1.1\r\naccept: application/vnd.docker.plugins.v1.2+json\r\nuser-agent: {UA}\r\ncontent-length: 7\r\nhost: plugin.moby.localhost\r\n\r\nraw tar".replace("{UA}", plugin_client::USER_AGENT)
    );
}

#[tokio::test]
async fn a_streamed_request_body_is_sent_chunked() {
    let served = serve_unix(&plugin());
    let chunks = futures_util::stream::iter(
        ["a", "b", "c"].map(|s| Ok::<_, std::io::Error>(Bytes::from(s))),
    );
    let echoed = served
        .client()
        .call_raw("Echo.Echo", RequestBody::from_stream(chunks))
        .await
        .unwrap();
    assert_eq!(echoed, "abc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_call_concurrently() {
    let served = serve_unix(&plugin());
    let client = served.client();
    let calls = (0..200).map(|i| {
        let client = client.clone();
        async move {
            let named: Named = client
                .call(
                    "Volume.Get",
                    &Named {
                        name: format!("v{i}"),
                    },
                )
                .await
                .unwrap();
            assert_eq!(named.name, format!("v{i}"));
        }
    });
    futures_util::future::join_all(calls).await;
}
