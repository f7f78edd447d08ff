//! `run_until_signal` stops on SIGTERM and SIGINT, as Docker, systemd and
//! `kill` stop a plugin, and removes its socket. Its own test binary: the
//! signals are sent to this process with the real `kill` command.

mod support;

use std::time::Duration;

use plugin_server::StopSignal;
use support::{Dir, docker_request, exchange};

async fn stops_on(signal: &str, expected: StopSignal) {
    let dir = Dir::new();
    let path = dir.join(&format!("{signal}.sock"));
    let serving = support::test_server().serve_unix(&path).unwrap();
    let running = tokio::spawn(serving.run_until_signal());
    let raw = exchange(&path, &docker_request("Echo.Echo", r#""up""#)).await;
    assert_eq!(raw.body_text(), r#""up""#);
    let status = tokio::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(std::process::id().to_string())
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let stopped = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the server did not stop on the signal")
        .unwrap()
        .unwrap();
    assert_eq!(stopped, expected);
    assert!(!path.exists(), "the socket is removed on the way out");
}

// One test, so the two signals are not sent while the other waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_until_signal_stops_on_sigterm_and_sigint_and_removes_its_socket() {
    stops_on("TERM", StopSignal::Terminate).await;
    stops_on("INT", StopSignal::Interrupt).await;
}

#[tokio::test]
async fn a_shutdown_handle_also_ends_run_until_signal() {
    let dir = Dir::new();
    let path = dir.join("handle.sock");
    let serving = support::test_server().serve_unix(&path).unwrap();
    let handle = serving.shutdown_handle();
    let running = tokio::spawn(serving.run_until_signal());
    handle.shutdown();
    let stopped = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(stopped, StopSignal::Handle);
    assert!(!path.exists());
}
