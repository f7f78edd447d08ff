//! Calls, each figure beside a baseline measured in the same run:
//!
//! - calls through the whole stack (Registry -> Client -> Transport, unix
//!   socket) against a bare hyper-util client on the same server, with 1 and 16
//!   tasks, alternating rounds (`registry.calls.1`, `registry.calls.16`,
//!   `registry.p50.1`);
//! - the same at 16 tasks against the physical floor: a raw unix-socket
//!   ping-pong of the same request and response bytes (`registry.floor.16`);
//!   and beside it a bare hyper-util client calling a bare hyper server
//!   against the same floor (`hyper.floor.16`), the ceiling hyper itself sets;
//! - where the time goes, one task: the transport alone, the client over it,
//!   and the registry's cached `get`; and the client's calls with an
//!   info-level tracing subscriber against the same calls with none
//!   (`client.spans.1`): what the spans cost when on.
//!
//! The registry records no call metrics (the stack as it is without the
//! `metrics` feature; `metrics` measures that). Prints a human line per
//! figure and a `BENCH {json}` line that `cargo xtask bench` reads. `--quick`
//! runs short rounds.

#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::{
    BODY, Figure, Series, Settings, bare_client, echo_plugin, echo_request, load, plain_registry,
    serve_bare,
};
use http_body_util::BodyExt;
use plugin_registry::Registry;
use plugin_server::PluginName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let settings = Settings::new(benches::quick());
    benches::runtime().block_on(calls(&settings));
}

/// The exact bytes of one call through our stack and its answer (the date is
/// the same length every day), for the raw ping-pong floor.
fn wire_bytes() -> (Vec<u8>, Vec<u8>) {
    let request = format!(
        "POST /Echo.Echo HTTP/1.1\r\naccept: application/vnd.docker.plugins.v1.2+json\r\nuser-agent: {UA}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nhost: plugin.moby.localhost\r\n\r\n{BODY}",
        BODY.len(),
        UA = plugin_client::USER_AGENT,
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.docker.plugins.v1.1+json\r\ncontent-length: {}\r\ndate: Wed, 25 Nov 2026 08:41:28 GMT\r\n\r\n{BODY}",
        BODY.len()
    );
    (request.into_bytes(), response.into_bytes())
}

async fn calls(settings: &Settings) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bench.sock");
    let _serving = echo_plugin("bench", Arc::default())
        .serve_unix(&socket)
        .unwrap();
    let floor_socket = dir.path().join("floor.sock");
    let (request_bytes, response_bytes) = wire_bytes();
    serve_floor(&floor_socket, request_bytes.len(), response_bytes.clone());

    let registry = plain_registry(dir.path());
    let name = PluginName::new("bench").unwrap();
    registry.get(&name, "VolumeDriver").await.unwrap();
    let bare = bare_client(&socket);
    // hyper on both ends, for the ceiling it sets under the floor.
    let hyper_socket = dir.path().join("hyper.sock");
    serve_bare(&hyper_socket);
    let hyper_only = bare_client(&hyper_socket);

    breakdown(&registry, &name, settings).await;
    for tasks in [1usize, 16] {
        let (mut ours, mut theirs, mut floor, mut hyper) = (
            Series::default(),
            Series::default(),
            Series::default(),
            Series::default(),
        );
        // A warm-up round of each, not counted.
        for round in 0..=settings.rounds {
            let registry = registry.clone();
            let name = name.clone();
            let stack = load(tasks, settings.round, move |_| {
                let (registry, name) = (registry.clone(), name.clone());
                async move {
                    let plugin = registry.get(&name, "VolumeDriver").await.unwrap();
                    let answer = plugin.client().call_raw("Echo.Echo", BODY).await.unwrap();
                    assert_eq!(answer.len(), BODY.len());
                }
            })
            .await;
            let bare = bare.clone();
            let direct = load(tasks, settings.round, move |_| {
                let bare = bare.clone();
                async move {
                    let request = echo_request("http://plugin.moby.localhost/Echo.Echo");
                    let response = bare.request(request).await.unwrap();
                    let answer = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(answer.len(), BODY.len());
                }
            })
            .await;
            let raw = floor_round(
                &floor_socket,
                tasks,
                settings.round,
                &request_bytes,
                response_bytes.len(),
            )
            .await;
            let both_hyper = if tasks == 16 {
                let client = hyper_only.clone();
                Some(
                    load(tasks, settings.round, move |_| {
                        let client = client.clone();
                        async move {
                            let request = echo_request("http://plugin.moby.localhost/Echo.Echo");
                            let response = client.request(request).await.unwrap();
                            response.into_body().collect().await.unwrap();
                        }
                    })
                    .await,
                )
            } else {
                None
            };
            if round > 0 {
                ours.add(stack);
                theirs.add(direct);
                floor.add(raw);
                if let Some(both_hyper) = both_hyper {
                    hyper.add(both_hyper);
                }
            }
        }
        println!("{tasks:>2} task(s): full stack   {}", ours.summary());
        println!("{tasks:>2} task(s): bare hyper   {}", theirs.summary());
        println!("{tasks:>2} task(s): raw socket   {}", floor.summary());
        let ratio = ours.median_per_s() / theirs.median_per_s();
        Figure {
            bench: &format!("registry.calls.{tasks}"),
            what: format!("calls/s through Registry -> Client -> Transport, {tasks} task(s)"),
            unit: "calls/s",
            ours: ours.median_per_s(),
            baseline: "bare hyper-util client, same server",
            baseline_value: theirs.median_per_s(),
            target: ">= 0.9",
            met: ratio >= 0.9,
        }
        .print();
        if tasks == 1 {
            let (p50, bare_p50) = (Series::median(&ours.p50), Series::median(&theirs.p50));
            Figure {
                bench: "registry.p50.1",
                what: "p50 latency through the full stack, 1 task".to_owned(),
                unit: "us",
                ours: p50 as f64,
                baseline: "bare hyper-util client p50",
                baseline_value: bare_p50 as f64,
                target: "<= bare + 5 us",
                met: p50 <= bare_p50 + 5,
            }
            .print();
        }
        if tasks == 16 {
            println!("{tasks:>2} task(s): hyper to hyper {}", hyper.summary());
            Figure {
                bench: "hyper.floor.16",
                what: "calls/s from a bare hyper-util client to a bare hyper server, 16 tasks, against the physical floor: the ceiling hyper itself sets for registry.floor.16".to_owned(),
                unit: "calls/s",
                ours: hyper.median_per_s(),
                baseline: "raw unix-socket ping-pong of the same bytes",
                baseline_value: floor.median_per_s(),
                target: "reported",
                met: true,
            }
            .print();
            let ratio = ours.median_per_s() / floor.median_per_s();
            Figure {
                bench: "registry.floor.16",
                what: "calls/s through the full stack, 16 tasks, against the physical floor"
                    .to_owned(),
                unit: "calls/s",
                ours: ours.median_per_s(),
                baseline: "raw unix-socket ping-pong of the same bytes",
                baseline_value: floor.median_per_s(),
                target: ">= 0.6",
                met: ratio >= 0.6,
            }
            .print();
        }
    }
}

/// A raw server: reads `request_len` bytes, answers `response`, forever, on
/// each connection.
fn serve_floor(socket: &Path, request_len: usize, response: Vec<u8>) {
    let listener = tokio::net::UnixListener::bind(socket).unwrap();
    let response = Arc::new(response);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let response = Arc::clone(&response);
            tokio::spawn(async move {
                let mut buf = vec![0u8; request_len];
                while stream.read_exact(&mut buf).await.is_ok() {
                    if stream.write_all(&response).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// `tasks` connections, each a ping-pong of the request and response bytes.
async fn floor_round(
    socket: &Path,
    tasks: usize,
    round: Duration,
    request: &[u8],
    response_len: usize,
) -> (f64, Vec<u64>) {
    let mut streams = Vec::new();
    for _ in 0..tasks {
        let stream = tokio::net::UnixStream::connect(socket).await.unwrap();
        streams.push(Arc::new(tokio::sync::Mutex::new((
            stream,
            vec![0u8; response_len],
        ))));
    }
    let request = Arc::new(request.to_vec());
    load(tasks, round, move |task| {
        let (connection, request) = (Arc::clone(&streams[task]), Arc::clone(&request));
        async move {
            let mut connection = connection.lock().await;
            let (stream, buf) = &mut *connection;
            stream.write_all(&request).await.unwrap();
            stream.read_exact(buf).await.unwrap();
        }
    })
    .await
}

/// Where the time goes, one task: the transport alone, then with the client on
/// top, and the registry's cached `get` alone.
async fn breakdown(registry: &Registry, name: &PluginName, settings: &Settings) {
    use tower::ServiceExt;
    use tracing::instrument::WithSubscriber;
    let plugin = registry.get(name, "VolumeDriver").await.unwrap();
    let transport = plugin_transport::Transport::for_spec(
        plugin.spec(),
        &plugin_transport::TransportConfig::default(),
    )
    .unwrap();
    let mut series = Series::default();
    for _ in 0..=settings.rounds {
        let transport = transport.clone();
        series.add(
            load(1, settings.round, move |_| {
                let transport = transport.clone();
                async move {
                    let request = echo_request("/Echo.Echo");
                    let response = transport.oneshot(request).await.unwrap();
                    response.into_body().collect().await.unwrap();
                }
            })
            .await,
        );
    }
    println!(" 1 task(s): transport only          {}", series.summary());
    let client = plugin.client().clone();
    let mut series = Series::default();
    for _ in 0..=settings.rounds {
        let client = client.clone();
        series.add(
            load(1, settings.round, move |_| {
                let client = client.clone();
                async move {
                    client.call_raw("Echo.Echo", BODY).await.unwrap();
                }
            })
            .await,
        );
    }
    println!(" 1 task(s): client over transport   {}", series.summary());
    // The same calls with an info-level subscriber (fmt, writing to a sink),
    // installed for these calls only: what the client's and transport's spans
    // cost when they are on.
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::sink)
            .finish(),
    );
    let mut traced = Series::default();
    for _ in 0..=settings.rounds {
        let (client, dispatch) = (client.clone(), dispatch.clone());
        traced.add(
            load(1, settings.round, move |_| {
                let client = client.clone();
                async move {
                    client.call_raw("Echo.Echo", BODY).await.unwrap();
                }
                .with_subscriber(dispatch.clone())
            })
            .await,
        );
    }
    println!(" 1 task(s): client, info subscriber {}", traced.summary());
    Figure {
        bench: "client.spans.1",
        what: "calls/s through the client with an info-level tracing subscriber (fmt, to a sink), 1 task".to_owned(),
        unit: "calls/s",
        ours: traced.median_per_s(),
        baseline: "the same calls with no subscriber",
        baseline_value: series.median_per_s(),
        target: "reported (spans stay on every call)",
        met: true,
    }
    .print();

    let started = Instant::now();
    for _ in 0..100_000 {
        registry.get(name, "VolumeDriver").await.unwrap();
    }
    println!(
        " registry.get of an active plugin: {:.2} us",
        started.elapsed().as_secs_f64() * 1e6 / 100_000.0
    );
}
