//! A running server: the accept loop, its connections, graceful shutdown, and
//! the handle that owns it all.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use plugin_spec::{Address, PluginSpec};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::files::OwnedFile;
use crate::server::Inner;
use crate::service::respond;

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a TLS client may take to finish its handshake.
#[cfg(feature = "tls")]
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A plugin being served on one listener.
///
/// [`shutdown`](Self::shutdown) stops it gracefully: new connections are
/// refused, its socket or descriptor file is removed at once, and requests in
/// flight get the grace period to finish. Dropping a `Serving` does the same
/// without waiting: the files are removed before `drop` returns.
#[derive(Debug)]
pub struct Serving {
    spec: PluginSpec,
    files: Arc<Vec<OwnedFile>>,
    stop: Arc<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

/// Triggers a graceful shutdown of a [`Serving`] from anywhere (a signal
/// handler, another task). Cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Starts the shutdown; [`Serving::wait`] returns once it is done.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

impl Serving {
    /// How hosts reach this plugin: its address (and TLS options, for a
    /// descriptor with a `CAFile`), as the descriptor written says.
    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    /// The address hosts connect to.
    pub fn address(&self) -> &Address {
        self.spec.address()
    }

    /// The socket or descriptor file this server created (and removes).
    pub fn file(&self) -> Option<&Path> {
        self.files.first().map(OwnedFile::path)
    }

    /// A handle that triggers the shutdown.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(Arc::clone(&self.stop))
    }

    /// Shuts down gracefully and waits until done.
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        self.wait().await;
    }

    /// Serves until `signal` completes (e.g. SIGTERM), then shuts down
    /// gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            () = signal => {}
            () = stopped(&mut stop) => {}
        }
        self.shutdown().await;
    }

    /// Waits until the server has stopped (after a [`ShutdownHandle`] was
    /// used) and its connections are done.
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        for file in self.files.iter() {
            file.remove();
        }
    }
}

/// Resolves once a shutdown was asked for (or every handle is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// What a server accepts connections on.
pub(crate) enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
    #[cfg(feature = "tls")]
    Tls(TcpListener, tokio_rustls::TlsAcceptor),
}

enum Accepted {
    Unix(UnixStream),
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(TcpStream, tokio_rustls::TlsAcceptor),
}

impl Listener {
    async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Self::Unix(listener) => listener.accept().await.map(|(s, _)| Accepted::Unix(s)),
            Self::Tcp(listener) => listener.accept().await.map(|(s, _)| Accepted::Tcp(s)),
            #[cfg(feature = "tls")]
            Self::Tls(listener, acceptor) => listener
                .accept()
                .await
                .map(|(s, _)| Accepted::Tls(s, acceptor.clone())),
        }
    }
}

/// Starts serving: spawns the accept loop on `runtime`.
pub(crate) fn start(
    runtime: &tokio::runtime::Handle,
    inner: Arc<Inner>,
    listener: Listener,
    spec: PluginSpec,
    files: Vec<OwnedFile>,
) -> Serving {
    let (stop, stopped) = watch::channel(false);
    let files = Arc::new(files);
    let task = runtime.spawn(accept_loop(listener, inner, stopped, Arc::clone(&files)));
    tracing::info!(plugin = %spec.name(), address = %spec.address(), "plugin serving");
    Serving {
        spec,
        files,
        stop: Arc::new(stop),
        task: Some(task),
    }
}

async fn accept_loop(
    listener: Listener,
    inner: Arc<Inner>,
    mut stop: watch::Receiver<bool>,
    files: Arc<Vec<OwnedFile>>,
) {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok(conn) => {
                    connections.spawn(connection(conn, Arc::clone(&inner), graceful.watcher()));
                }
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(plugin = %inner.name, "accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    for file in files.iter() {
        file.remove();
    }
    let busy = connections.len();
    tracing::info!(plugin = %inner.name, connections = busy, "plugin stopping: no new connections; waiting for requests in flight");
    if tokio::time::timeout(inner.grace_period, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            plugin = %inner.name,
            "requests still running after the {:?} grace period; closing their connections",
            inner.grace_period
        );
    }
    connections.shutdown().await;
    tracing::info!(plugin = %inner.name, "plugin stopped");
}

async fn connection(accepted: Accepted, inner: Arc<Inner>, watcher: Watcher) {
    match accepted {
        Accepted::Unix(stream) => serve_io(stream, inner, watcher).await,
        Accepted::Tcp(stream) => {
            let _ = stream.set_nodelay(true);
            serve_io(stream, inner, watcher).await;
        }
        #[cfg(feature = "tls")]
        Accepted::Tls(stream, acceptor) => {
            let _ = stream.set_nodelay(true);
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => serve_io(stream, inner, watcher).await,
                Ok(Err(e)) => tracing::debug!(plugin = %inner.name, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(plugin = %inner.name, "TLS handshake timed out"),
            }
        }
    }
}

async fn serve_io<S>(stream: S, inner: Arc<Inner>, watcher: Watcher)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let inner = Arc::clone(&inner);
        async move { Ok::<_, Infallible>(respond(inner, request).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true)
        // A client that shuts down its sending side once its request is out
        // still gets the answer, as from Go's server; without this hyper
        // sometimes closed the connection first (found by fuzzing).
        .half_close(true)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!("connection ended: {e}");
    }
}
