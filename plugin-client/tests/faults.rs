//! A plugin process killed (SIGKILL) in the middle of a call: while it holds
//! the request, and halfway through its answer. The call fails at once with
//! an error that says what happened, and is not retried (the plugin may have
//! acted on the request).

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use plugin_client::{Client, ClientConfig, PluginName, PluginSpec};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A plugin in a Python child that takes one request and then kills itself:
/// at once (`request`), or after the headers and part of the body of its
/// answer (`body`).
const DOOMED: &str = r#"
import os, signal, socket, sys
path, when = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
data = b""
while b"\r\n\r\n" not in data:
    data += c.recv(65536)
if when == "body":
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Volumes\":[")
os.kill(os.getpid(), signal.SIGKILL)
"#;

async fn killed_during(when: &str) -> (String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doomed.sock");
    let mut child = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(DOOMED)
        .arg(&path)
        .arg(when)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 is needed for this test (.ci/run installs it)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ready"));
    let spec = PluginSpec::from_socket(PluginName::new("doomed").unwrap(), &path).unwrap();
    // Default settings: retries on, 60 s call timeout.
    let client = Client::for_spec(&spec, &ClientConfig::default()).unwrap();
    let started = Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client.call_raw("VolumeDriver.List", "{}"),
    )
    .await
    .expect("the call hung after its plugin died")
    .unwrap_err();
    let took = started.elapsed();
    let status = child.wait().await.unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the plugin was killed"
    );
    (support::chain(&err), took)
}

#[tokio::test]
async fn a_plugin_killed_holding_the_request_fails_the_call_at_once() {
    let (message, took) = killed_during("request").await;
    assert!(
        message.starts_with(
            "VolumeDriver.List: calling plugin \"doomed\" failed: request to plugin \"doomed\" at unix://"
        ) && message.contains(
            "failed: the plugin closed the connection before it answered; it may have stopped, restarted or crashed: "
        ),
        "{message}"
    );
    // Not retried: a retry waits a second first.
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn a_plugin_killed_halfway_through_its_answer_fails_the_call_at_once() {
    let (message, took) = killed_during("body").await;
    assert!(
        message.starts_with(
            "VolumeDriver.List: calling plugin \"doomed\" failed: reading the response from plugin \"doomed\" at unix://"
        ) && message.contains(
            "failed after 12 bytes: the connection broke before the whole answer came; the plugin may have stopped, restarted or crashed: "
        ) && message.ends_with("end of file before message length reached"),
        "{message}"
    );
    assert!(took < Duration::from_millis(900), "{took:?}");
}
