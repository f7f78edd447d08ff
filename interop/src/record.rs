//! The wire fixtures: the exact request bytes Docker's own client puts on a
//! unix socket, captured by a recording plugin and kept under the `tests/fixtures/wire/`
//! folder of each crate whose tests replay them.
//!
//! Also Go's answers for Go-style decoding: `interop/go/gojson` decodes bodies
//! with repeated and case-folded keys with `encoding/json` and prints them
//! with what Go decoded, kept as plugin-spec's
//! `tests/fixtures/go-json/duplicate-keys.json`.
//!
//! `interop record` rewrites the fixtures; `interop check` captures again and
//! fails a case for each fixture that differs from what Docker's client sends
//! (or Go decodes) today, so the committed bytes cannot drift from the real
//! client.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use crate::dockerhost::DockerHost;
use crate::report::{Direction, Report};
use crate::{Failure, Programs};

/// One capture: the file it is kept in, the operation of Docker's client that
/// sends it, the answer the recording plugin gives, and the crates that keep it.
struct Capture {
    file: &'static str,
    method: &'static str,
    op: fn() -> serde_json::Value,
    answer: &'static str,
    kept_by: &'static [&'static str],
}

const CAPTURES: &[Capture] = &[
    Capture {
        file: "activate-request.http",
        method: "Plugin.Activate",
        op: || json!({"Op": "call", "Method": "Plugin.Activate"}),
        answer: r#"{"Implements":["VolumeDriver"]}"#,
        kept_by: &["plugin-server"],
    },
    Capture {
        file: "volume-create-request.http",
        method: "VolumeDriver.Create",
        op: || json!({"Op": "volume.create", "Name": "v1", "Opts": {"size": "1G"}}),
        answer: "{}",
        kept_by: &["plugin-server", "plugin-subsystems"],
    },
    Capture {
        file: "volume-list-request.http",
        method: "VolumeDriver.List",
        op: || json!({"Op": "volume.list"}),
        answer: r#"{"Volumes":[]}"#,
        kept_by: &["plugin-server"],
    },
];

/// The workspace root, where the crates keep their fixtures.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn fixture_path(root: &Path, krate: &str, file: &str) -> PathBuf {
    root.join(krate)
        .join("tests")
        .join("fixtures")
        .join("wire")
        .join(file)
}

/// Captures what Docker's client sends for each of [`CAPTURES`], by method.
async fn capture(programs: &Programs) -> Result<BTreeMap<String, Vec<u8>>, Failure> {
    let dir = tempfile::Builder::new()
        .prefix("interop-record-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let socket = dir.path().join("recorder.sock");
    let listener = UnixListener::bind(&socket)
        .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(record_connection(stream, seen_tx.clone()));
        }
    });
    let mut host = DockerHost::start(programs)?;
    let addr = format!("unix://{}", socket.display());
    host.run(json!({"Op": "connect", "Addr": addr}))
        .await?
        .value()
        .map_err(|e| format!("connect: {e}"))?;
    let mut seen = BTreeMap::new();
    for capture in CAPTURES {
        host.run((capture.op)())
            .await?
            .value()
            .map_err(|e| format!("{}: {e}", capture.method))?;
        let (method, bytes) = seen_rx.recv().await.ok_or("the recording plugin stopped")?;
        if method != capture.method {
            return Err(format!(
                "Docker's client sent {method} where {} was expected",
                capture.method
            ));
        }
        seen.insert(method, bytes);
    }
    server.abort();
    Ok(seen)
}

/// Reads requests off one connection, answering each as a plugin would, and
/// sends each request's exact bytes with its method.
async fn record_connection(
    mut stream: UnixStream,
    seen: tokio::sync::mpsc::UnboundedSender<(String, Vec<u8>)>,
) {
    let mut buffer = Vec::new();
    loop {
        let Some((method, request)) = next_request(&mut stream, &mut buffer).await else {
            return;
        };
        let answer = CAPTURES
            .iter()
            .find(|c| c.method == method)
            .map_or("{}", |c| c.answer);
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.plugins.v1.1+json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err()
            || seen.send((method, request)).is_err()
        {
            return;
        }
    }
}

/// One whole request (head and `Content-Length` body) from `stream`, with the
/// method named by its path; `None` at the end of the connection.
async fn next_request(stream: &mut UnixStream, buffer: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(buffer.get(..end)?).into_owned();
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + length;
            if buffer.len() >= total {
                let request: Vec<u8> = buffer.drain(..total).collect();
                let path = head.split(' ').nth(1)?;
                return Some((path.trim_start_matches('/').to_owned(), request));
            }
        }
        let mut chunk = [0_u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(chunk.get(..n)?),
        }
    }
}

/// Where plugin-spec keeps Go's answers for repeated keys, from the root.
const GO_JSON_FIXTURE: &str = "plugin-spec/tests/fixtures/go-json/duplicate-keys.json";

/// What `gojson` prints: each body with what Go's `encoding/json` decoded.
async fn go_json_answers(programs: &Programs) -> Result<Vec<u8>, Failure> {
    let program = programs.gojson();
    let output = tokio::process::Command::new(&program)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}

/// `interop record`: captures again and rewrites every fixture.
pub(crate) async fn write(programs: &Programs) -> Result<(), Failure> {
    let root = workspace_root();
    let answers = go_json_answers(programs).await?;
    let path = root.join(GO_JSON_FIXTURE);
    std::fs::write(&path, &answers).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("recorded {} ({} bytes)", path.display(), answers.len());
    let seen = capture(programs).await?;
    for capture in CAPTURES {
        let bytes = seen
            .get(capture.method)
            .ok_or_else(|| format!("nothing was captured for {}", capture.method))?;
        for krate in capture.kept_by {
            let path = fixture_path(&root, krate, capture.file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&path, bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("recorded {} ({} bytes)", path.display(), bytes.len());
        }
    }
    Ok(())
}

/// The fixture cases of `interop check`: each kept fixture is byte for byte
/// what Docker's client sends now.
pub(crate) async fn check(report: &mut Report, programs: &Programs) -> Result<(), Failure> {
    let root = workspace_root();
    let seen = capture(programs).await?;
    for capture in CAPTURES {
        for krate in capture.kept_by {
            let path = fixture_path(&root, krate, capture.file);
            let outcome = compare(
                &path,
                seen.get(capture.method).map(Vec::as_slice),
                "Docker's client sends",
            );
            report.case(
                Direction::DockerToFixtures,
                "unix",
                format!("{krate}/tests/fixtures/wire/{} is current", capture.file),
                outcome,
            );
        }
    }
    let answers = go_json_answers(programs).await?;
    report.case(
        Direction::GoToFixtures,
        "-",
        format!("{GO_JSON_FIXTURE} is what Go decodes"),
        compare(&root.join(GO_JSON_FIXTURE), Some(&answers), "Go decodes"),
    );
    Ok(())
}

/// Whether the fixture at `path` is `captured`, what the real peer `does`
/// now.
fn compare(path: &Path, captured: Option<&[u8]>, does: &str) -> Result<String, String> {
    let captured = captured.ok_or("the peer gave nothing for it")?;
    let kept = std::fs::read(path).map_err(|e| {
        format!("cannot read it ({e}): run `cargo xtask interop --record` to write it")
    })?;
    if kept == captured {
        return Ok(format!("{} bytes, identical", kept.len()));
    }
    let line = kept
        .split(|b| *b == b'\n')
        .zip(captured.split(|b| *b == b'\n'))
        .position(|(a, b)| a != b)
        .map_or_else(|| "the length".to_owned(), |i| format!("line {}", i + 1));
    Err(format!(
        "differs from what {does} now (first at {line}: {} bytes kept, {} now): run `cargo xtask interop --record` and review the diff",
        kept.len(),
        captured.len()
    ))
}
