//! Raw HTTP/1.1 over unix sockets, byte for byte: what Docker's client sends
//! and what a plugin answers, without any HTTP library in between.
//!
//! ```
//! use plugin_test_support::http::{Answering, docker_request, exchange, response};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let plugin = Answering::new(response("200 OK", br#"{"Implements":["VolumeDriver"]}"#));
//! let answer = exchange(plugin.path(), &docker_request("Plugin.Activate", "")).await;
//! assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
//! assert_eq!(answer.body_text(), r#"{"Implements":["VolumeDriver"]}"#);
//! assert!(plugin.requests()[0].starts_with("POST /Plugin.Activate HTTP/1.1\r\n"));
//! # });
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

/// How long [`exchange`] waits for an answer before failing the test.
pub const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// `POST /<method>` with `body`, with the headers Docker's client sends.
pub fn docker_request(method: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /{method} HTTP/1.1\r\nHost: plugin.moby.localhost\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: {}\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An HTTP/1.1 response with this status line (`"200 OK"`) and body, with a
/// `Content-Length`.
pub fn response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A response as it came off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The headers in order, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 (panics if it is not).
    pub fn body_text(&self) -> &str {
        match std::str::from_utf8(&self.body) {
            Ok(text) => text,
            Err(e) => panic!("the body is not UTF-8 ({e}): {:?}", self.body),
        }
    }
}

/// Sends `request` byte for byte on a new connection to `socket` and reads
/// one response (which must have a `Content-Length`), within [`ANSWER_WAIT`].
pub async fn exchange(socket: &Path, request: &[u8]) -> Response {
    let mut stream = match UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(e) => panic!("cannot connect to {}: {e}", socket.display()),
    };
    exchange_on(&mut stream, request).await
}

/// [`exchange`] on a connection already open (for keep-alive tests).
pub async fn exchange_on(stream: &mut UnixStream, request: &[u8]) -> Response {
    if let Err(e) = stream.write_all(request).await {
        panic!("cannot send the request: {e}");
    }
    match tokio::time::timeout(ANSWER_WAIT, read_response(stream)).await {
        Ok(response) => response,
        Err(_) => panic!("no response within {ANSWER_WAIT:?}"),
    }
}

/// Reads one response with a `Content-Length` from `stream`.
pub async fn read_response(stream: &mut UnixStream) -> Response {
    let (head, whole) = read_head(stream).await;
    if !whole {
        panic!("the connection closed before a whole response head: {head:?}");
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), v.trim().to_owned()),
            None => panic!("not a header line: {l:?}"),
        })
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no usable content-length in {headers:?}"));
    let mut body = vec![0u8; len];
    if let Err(e) = stream.read_exact(&mut body).await {
        panic!("the body ended early: {e}");
    }
    Response {
        status_line,
        headers,
        body,
    }
}

/// The bytes up to and including the blank line, and whether the head came
/// whole (`false`: the connection closed first, and these are what arrived).
async fn read_head(stream: &mut UnixStream) -> (Vec<u8>, bool) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return (head, false);
        }
        head.push(byte[0]);
    }
    (head, true)
}

/// Reads a request head and its `Content-Length` body; what arrived if the
/// connection closed first.
pub async fn read_request(stream: &mut UnixStream) -> Vec<u8> {
    let (mut request, whole) = read_head(stream).await;
    if !whole {
        return request;
    }
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if stream.read_exact(&mut body).await.is_ok() {
        request.extend_from_slice(&body);
    }
    request
}

/// A plugin that answers exact bytes: a unix socket server in a temp dir that
/// reads one request per connection, records it, writes the response and
/// closes. Stopped when dropped.
#[derive(Debug)]
pub struct Answering {
    dir: tempfile::TempDir,
    path: PathBuf,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Answering {
    /// Serves `response` to every connection, at `raw.sock` in a new temp dir.
    /// Call it inside a tokio runtime.
    pub fn new(response: impl Into<Vec<u8>>) -> Self {
        let response: Arc<Vec<u8>> = Arc::new(response.into());
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("cannot make a temp dir: {e}"),
        };
        let path = dir.path().join("raw.sock");
        let listener = match UnixListener::bind(&path) {
            Ok(listener) => listener,
            Err(e) => panic!("cannot listen on {}: {e}", path.display()),
        };
        let requests: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let connections: Arc<AtomicUsize> = Arc::default();
        let (seen, count) = (Arc::clone(&requests), Arc::clone(&connections));
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (seen, response) = (Arc::clone(&seen), Arc::clone(&response));
                tokio::spawn(async move {
                    let request = read_request(&mut stream).await;
                    seen.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(request);
                    let _ = stream.write_all(&response).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            dir,
            path,
            requests,
            connections,
            task,
        }
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temp dir holding the socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The requests received so far, as text (lossy UTF-8).
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
