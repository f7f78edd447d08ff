//! Fixtures: real `plugin-server` plugins on unix sockets and TCP, and a raw
//! server that answers canned bytes and records what it was sent.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use plugin_client::{Client, ClientConfig};
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

#[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct Named {
    #[serde(rename = "Name")]
    pub name: String,
}

/// A plugin with methods for each kind of answer.
pub fn plugin() -> PluginServer {
    PluginServer::new(PluginName::new("testplug").unwrap())
        .implements("VolumeDriver")
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
        .handle("Volume.Get", |req: Named| async move {
            Ok::<_, HandlerError>(req)
        })
        .handle("Volume.Fail", |(): ()| async move {
            Err::<(), _>(HandlerError::new("no space left on device"))
        })
        .handle("Volume.Reported", |(): ()| async move {
            Ok::<_, HandlerError>(serde_json::json!({"Err": "reported in a 200", "Volume": null}))
        })
        .handle("Ipam.Reported", |(): ()| async move {
            Ok::<_, HandlerError>(serde_json::json!({"Error": "pool exhausted"}))
        })
        .handle(
            "Test.Empty",
            |(): ()| async move { Ok::<_, HandlerError>(()) },
        )
        .handle("Test.Forever", |(): ()| async move {
            std::future::pending::<()>().await;
            Ok::<_, HandlerError>(())
        })
        .handle_stream("Logs.Read", |n: u32| async move {
            let chunks =
                (0..n).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("line {i}\n"))));
            Ok::<_, HandlerError>(futures_util::stream::iter(chunks))
        })
}

pub struct Served {
    pub dir: tempfile::TempDir,
    pub serving: Serving,
}

impl Served {
    pub fn client(&self) -> Client {
        Client::for_spec(self.serving.spec(), &ClientConfig::default()).unwrap()
    }
}

pub fn serve_unix(server: &PluginServer) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let serving = server.serve_unix(dir.path().join("testplug.sock")).unwrap();
    Served { dir, serving }
}

pub fn serve_tcp(server: &PluginServer) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let serving = server.serve_tcp("127.0.0.1:0", dir.path()).unwrap();
    Served { dir, serving }
}

/// A unix socket server that reads one request per connection, records it,
/// answers `response` byte for byte and closes.
pub struct Raw {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub requests: Arc<Mutex<Vec<Vec<u8>>>>,
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Raw {
    pub async fn answering(response: impl Into<Vec<u8>>) -> Self {
        let response: Arc<Vec<u8>> = Arc::new(response.into());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raw.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let requests: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let connections: Arc<AtomicUsize> = Arc::default();
        let (seen, count) = (Arc::clone(&requests), Arc::clone(&connections));
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (seen, response) = (Arc::clone(&seen), Arc::clone(&response));
                tokio::spawn(async move {
                    let request = read_request(&mut stream).await;
                    seen.lock().unwrap().push(request);
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

    pub fn client(&self) -> Client {
        let spec =
            plugin_client::PluginSpec::from_socket(PluginName::new("rawplug").unwrap(), &self.path)
                .unwrap();
        Client::for_spec(&spec, &ClientConfig::default()).unwrap()
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }
}

/// Reads a request head and its Content-Length body.
async fn read_request(stream: &mut tokio::net::UnixStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return request;
        }
        request.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.unwrap();
    request.extend_from_slice(&body);
    request
}

/// An HTTP response with this status line and body.
pub fn response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub fn socket_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// The error and its causes, `message: cause: cause` (each layer says its own
/// sentence once, so this is how a reader sees the whole failure).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let causes = std::iter::successors(Some(error), |e| (*e).source());
    causes.map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}
