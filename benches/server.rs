//! Our server (`plugin-server`) against a minimal bare hyper server, both
//! driven by the same bare hyper-util client, 16 tasks, alternating rounds
//! (`server.calls.16`).
//!
//! Prints a human line per figure and a `BENCH {json}` line that `cargo xtask
//! bench` reads. `--quick` runs short rounds.

#![allow(missing_docs)]

use std::sync::Arc;

use benches::{
    BODY, Figure, Series, Settings, bare_client, echo_plugin, echo_request, load, serve_bare,
};
use http_body_util::BodyExt;

fn main() {
    let settings = Settings::new(benches::quick());
    benches::runtime().block_on(server(&settings));
}

/// Our server against a bare hyper server, the same bare client driving
/// both, 16 tasks, alternating rounds.
async fn server(settings: &Settings) {
    let dir = tempfile::tempdir().unwrap();
    let (ours_socket, bare_socket) = (dir.path().join("ours.sock"), dir.path().join("bare.sock"));
    let _serving = echo_plugin("ours", Arc::default())
        .serve_unix(&ours_socket)
        .unwrap();
    serve_bare(&bare_socket);
    let (ours_client, bare_client_) = (bare_client(&ours_socket), bare_client(&bare_socket));
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for round in 0..=settings.rounds {
        let mut results = Vec::new();
        for client in [&ours_client, &bare_client_] {
            let client = client.clone();
            results.push(
                load(16, settings.round, move |_| {
                    let client = client.clone();
                    async move {
                        let request = echo_request("http://plugin.moby.localhost/Echo.Echo");
                        let response = client.request(request).await.unwrap();
                        let answer = response.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(answer.len(), BODY.len());
                    }
                })
                .await,
            );
        }
        if round > 0 {
            theirs.add(results.pop().unwrap());
            ours.add(results.pop().unwrap());
        }
    }
    println!("16 task(s): our server   {}", ours.summary());
    println!("16 task(s): bare hyper   {}", theirs.summary());
    let ratio = ours.median_per_s() / theirs.median_per_s();
    Figure {
        bench: "server.calls.16",
        what: "calls/s served by plugin-server, 16 tasks, same bare client".to_owned(),
        unit: "calls/s",
        ours: ours.median_per_s(),
        baseline: "minimal bare hyper server, same client",
        baseline_value: theirs.median_per_s(),
        target: ">= 0.95",
        met: ratio >= 0.95,
    }
    .print();
}
