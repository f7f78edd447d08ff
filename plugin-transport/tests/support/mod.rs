//! Fixtures: small real hyper servers on unix sockets, TCP and TLS (with
//! certificates generated here by rcgen), raw servers that misbehave, and a
//! one-call helper.

#![allow(dead_code, unreachable_pub, unused_imports)]

pub use plugin_test_support::certs;
pub use plugin_test_support::errors::chain;

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use plugin_spec::{PluginName, PluginSpec};
use plugin_transport::{Transport, TransportConfig, TransportError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tower::ServiceExt;

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Answers a request (already read whole).
pub type Handler = Arc<dyn Fn(&Seen) -> Response<Full<Bytes>> + Send + Sync>;

/// Echoes the request body with status 200.
pub fn echo() -> Handler {
    Arc::new(|seen: &Seen| Response::new(Full::new(seen.body.clone())))
}

/// A running test server and what it saw.
pub struct Server {
    pub spec: PluginSpec,
    pub connections: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn transport(&self) -> Transport {
        Transport::for_spec(&self.spec, &TransportConfig::default()).unwrap()
    }
}

pub fn name() -> PluginName {
    PluginName::new("test-plugin").unwrap()
}

/// A plugin on a unix socket in a temp dir.
pub async fn unix(handler: Handler) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test-plugin.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let spec = PluginSpec::from_socket(name(), &path).unwrap();
    let (connections, seen) = (Arc::default(), Arc::default());
    let task = tokio::spawn(accept_unix(
        listener,
        handler,
        Arc::clone(&connections),
        Arc::clone(&seen),
    ));
    Server {
        spec,
        connections,
        seen,
        dir,
        task,
    }
}

/// A plugin on 127.0.0.1 with a port the OS picks, described by a `.spec`.
pub async fn tcp(handler: Handler) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let spec = PluginSpec::from_spec_text(
        name(),
        &format!("tcp://127.0.0.1:{port}\n"),
        dir.path().join("test-plugin.spec"),
    )
    .unwrap();
    let (connections, seen) = (Arc::default(), Arc::default());
    let task = tokio::spawn(accept_tcp(
        listener,
        None,
        handler,
        Arc::clone(&connections),
        Arc::clone(&seen),
    ));
    Server {
        spec,
        connections,
        seen,
        dir,
        task,
    }
}

/// A TLS plugin on 127.0.0.1 serving `server_config`, described by a `.json`
/// with address `https://{host}:{port}` and the given `TLSConfig` object.
pub async fn tls(
    handler: Handler,
    server_config: rustls::ServerConfig,
    host: &str,
    tls_config_json: &str,
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let json = format!(r#"{{"Addr": "https://{host}:{port}", "TLSConfig": {tls_config_json}}}"#);
    let spec =
        PluginSpec::from_json_text(name(), &json, dir.path().join("test-plugin.json")).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let (connections, seen) = (Arc::default(), Arc::default());
    let task = tokio::spawn(accept_tcp(
        listener,
        Some(acceptor),
        handler,
        Arc::clone(&connections),
        Arc::clone(&seen),
    ));
    Server {
        spec,
        connections,
        seen,
        dir,
        task,
    }
}

async fn accept_unix(
    listener: UnixListener,
    handler: Handler,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(serve(stream, Arc::clone(&handler), Arc::clone(&seen)));
    }
}

async fn accept_tcp(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    handler: Handler,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        connections.fetch_add(1, Ordering::SeqCst);
        let (handler, seen) = (Arc::clone(&handler), Arc::clone(&seen));
        match &acceptor {
            None => {
                tokio::spawn(serve(stream, handler, seen));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve(stream, handler, seen).await;
                    }
                });
            }
        }
    }
}

/// Serves one connection of any stream with `handler`, noting what it saw.
pub async fn serve<S>(stream: S, handler: Handler, seen: Arc<Mutex<Vec<Seen>>>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: Request<Incoming>| {
        let (handler, seen) = (Arc::clone(&handler), Arc::clone(&seen));
        async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let request = Seen {
                method: parts.method.to_string(),
                path: parts.uri.to_string(),
                headers: parts.headers,
                body,
            };
            let response = handler(&request);
            seen.lock().unwrap().push(request);
            Ok::<_, Infallible>(response)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// A raw TCP server on 127.0.0.1: each accepted connection is handed to `f`.
pub async fn raw_tcp<F, Fut>(f: F) -> (PluginSpec, tempfile::TempDir, tokio::task::JoinHandle<()>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let spec = PluginSpec::from_spec_text(
        name(),
        &format!("tcp://127.0.0.1:{port}"),
        dir.path().join("p.spec"),
    )
    .unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(f(stream));
        }
    });
    (spec, dir, task)
}

/// POSTs `body` to `path` and reads the whole response.
pub async fn call(
    transport: &Transport,
    path: &str,
    body: &'static str,
) -> Result<(u16, Bytes), TransportError> {
    let request = Request::post(path)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    let response = transport.clone().oneshot(request).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// A path inside the server's temp dir.
pub fn file_in(server: &Server, name: &str) -> PathBuf {
    server.dir.path().join(name)
}
