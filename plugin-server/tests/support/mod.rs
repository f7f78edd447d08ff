//! Fixtures: a test plugin with every kind of handler, served on real sockets
//! in temp dirs, and a raw HTTP/1.1 exchange for byte-exact assertions.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use plugin_server::{HandlerError, PluginName, PluginServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// `VolumeDriver.Create`'s request, as Docker's Go type has it.
#[derive(Debug, serde::Deserialize)]
pub struct Create {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Opts", default)]
    pub opts: Option<HashMap<String, String>>,
}

/// `VolumeDriver.List`'s answer.
#[derive(Debug, serde::Serialize)]
pub struct List {
    #[serde(rename = "Volumes")]
    pub volumes: Vec<Volume>,
}

#[derive(Debug, serde::Serialize)]
pub struct Volume {
    #[serde(rename = "Name")]
    pub name: String,
}

/// A plugin with a handler for each kind of answer.
pub fn test_server() -> PluginServer {
    PluginServer::new(PluginName::new("test").unwrap())
        .implements("VolumeDriver")
        .handle("VolumeDriver.Create", |req: Create| async move {
            if req.name == "fail" {
                return Err(HandlerError::new(
                    "volume fail cannot be created: disk full",
                ));
            }
            Ok(())
        })
        .handle("VolumeDriver.List", |(): ()| async move {
            Ok::<_, HandlerError>(List {
                volumes: vec![Volume { name: "v1".into() }],
            })
        })
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
        .handle("Test.Panic", |(): ()| async move {
            if true {
                panic!("handler bug");
            }
            Ok::<_, HandlerError>(())
        })
        .handle("Test.Teapot", |(): ()| async move {
            Err::<(), _>(HandlerError::with_status(
                http::StatusCode::IM_A_TEAPOT,
                "short and stout",
            ))
        })
        .handle("Test.Parse", |n: String| async move {
            Ok::<_, HandlerError>(n.parse::<u32>()?)
        })
}

/// A temp dir with a socket path in it.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.path().join(rel)
    }
}

/// A raw response: status line, headers (lowercased names), body.
#[derive(Debug)]
pub struct Raw {
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Sends `request` byte for byte on a new connection to `socket`, and reads one
/// response (with a Content-Length).
pub async fn exchange(socket: &Path, request: &[u8]) -> Raw {
    let mut stream = UnixStream::connect(socket).await.unwrap();
    exchange_on(&mut stream, request).await
}

pub async fn exchange_on(stream: &mut UnixStream, request: &[u8]) -> Raw {
    stream.write_all(request).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), read_response(stream))
        .await
        .expect("no response within 10 s")
}

pub async fn read_response(stream: &mut UnixStream) -> Raw {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "connection closed in the head: {head:?}"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .expect("a content-length");
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.unwrap();
    Raw {
        status_line,
        headers,
        body,
    }
}

/// `POST /<method>` with `body`, as Docker's client sends it.
pub fn docker_request(method: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /{method} HTTP/1.1\r\nHost: plugin.moby.localhost\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: {}\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A wire capture from `tests/fixtures/wire/`: the exact bytes Docker's own
/// client sent, recorded by `cargo xtask interop --record`.
pub fn wire(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The error and its causes, `message: cause: cause` (each layer says its own
/// sentence once, so this is how a reader sees the whole failure).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let causes = std::iter::successors(Some(error), |e| (*e).source());
    causes.map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}
