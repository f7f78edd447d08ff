//! A running server: the accept loop, its connections, graceful shutdown, and
//! the handle that owns it all.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use plugin_relay::Relayed;
use plugin_spec::{Address, PluginSpec};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
// tokio's clock, so that a paused test clock moves the connection watchdog too.
use tokio::time::Instant;

use crate::body::{RequestBody, ResponseBody};
use crate::error::ServerError;
use crate::files::OwnedFile;
use crate::handler::BoxError;
use crate::handler::PeerCredentials;
use crate::server::Inner;
use crate::server::{BoxServerService, PluginServer, through};
use crate::service::{error_bytes, respond, unsupported_transfer_coding};

/// How long a TLS client may take to finish its handshake.
#[cfg(feature = "tls")]
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A plugin being served on one listener.
///
/// [`shutdown`](Self::shutdown) stops it gracefully: new connections are
/// refused, its socket or descriptor file is removed at once, and requests in
/// flight get the grace period to finish. Dropping a `Serving` does the same
/// without waiting: the files are removed before `drop` returns. So a
/// `Serving` must be kept (or run): one dropped at once serves nothing.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// # fn serve(server: plugin_server::PluginServer) -> Result<(), plugin_server::ServerError> {
/// server.serve_unix("/run/docker/plugins/p.sock")?; // dropped: serves nothing
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a Serving stops serving (and removes its socket) when dropped: keep it, or run it with run_until_signal"]
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

    /// Serves until SIGINT (Ctrl-C) or SIGTERM (how Docker, systemd and
    /// `kill` stop a plugin), then shuts down gracefully: no new connections,
    /// the socket or descriptor removed at once, requests in flight given the
    /// grace period. Returns the signal that stopped it. The handlers are
    /// installed when this is called, so a signal that comes before the
    /// future is first polled is not lost.
    ///
    /// # Errors
    /// [`ServerError::Signal`] if the signal handlers cannot be installed; the
    /// server is shut down first.
    pub fn run_until_signal(self) -> impl Future<Output = Result<StopSignal, ServerError>> + Send {
        let installed = shutdown_signal();
        async move {
            match installed {
                Ok(signal) => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    self.run_until(async move {
                        let _ = tx.send(signal.await);
                    })
                    .await;
                    // The server also stops when a ShutdownHandle is used.
                    Ok(rx.await.unwrap_or(StopSignal::Handle))
                }
                Err(error) => {
                    self.shutdown().await;
                    Err(error)
                }
            }
        }
    }

    /// Serves until `signal` completes, then shuts down gracefully
    /// ([`run_until_signal`](Self::run_until_signal) for SIGINT and SIGTERM).
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

/// What stopped a [`Serving::run_until_signal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`docker plugin disable`, `systemctl stop`, `kill`).
    Terminate,
    /// A [`ShutdownHandle`], before any signal came.
    Handle,
}

/// A future that completes on SIGINT or SIGTERM, with which one came: for
/// stopping several servers, or anything else, on the signals that stop a
/// plugin. The handlers are installed when this is called, so a signal that
/// comes before the future is first polled is not lost.
///
/// # Errors
/// [`ServerError::Signal`] if a handler cannot be installed (outside a tokio
/// runtime, say).
pub fn shutdown_signal() -> Result<impl Future<Output = StopSignal> + Send + 'static, ServerError> {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind: SignalKind, name: &'static str| {
        signal(kind).map_err(|source| ServerError::Signal {
            signal: name,
            source,
        })
    };
    let mut interrupt = install(SignalKind::interrupt(), "SIGINT")?;
    let mut terminate = install(SignalKind::terminate(), "SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => StopSignal::Interrupt,
            _ = terminate.recv() => StopSignal::Terminate,
        }
    })
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
    server: &PluginServer,
    listener: Listener,
    spec: PluginSpec,
    files: Vec<OwnedFile>,
) -> Serving {
    let (stop, stopped) = watch::channel(false);
    let files = Arc::new(files);
    let app = App {
        inner: Arc::clone(&server.inner),
        stack: server.stack(),
        #[cfg(feature = "metrics")]
        labels: crate::metrics::Labels::of(&server.inner),
    };
    let task = runtime.spawn(accept_loop(listener, app, stopped, Arc::clone(&files)));
    tracing::info!(plugin = %spec.name(), address = %spec.address(), "plugin serving");
    Serving {
        spec,
        files,
        stop: Arc::new(stop),
        task: Some(task),
    }
}

/// What each connection answers with: the plugin, and its layered stack
/// when it has layers.
#[derive(Clone)]
struct App {
    inner: Arc<Inner>,
    stack: Option<BoxServerService>,
    #[cfg(feature = "metrics")]
    labels: crate::metrics::Labels,
}

async fn accept_loop(
    listener: Listener,
    app: App,
    mut stop: watch::Receiver<bool>,
    files: Arc<Vec<OwnedFile>>,
) {
    let inner = Arc::clone(&app.inner);
    let slots = Arc::new(Semaphore::new(
        inner.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let mut connections = JoinSet::new();
    loop {
        // A slot first: at the limit, new connections stay in the listen
        // backlog, unaccepted, until one of ours closes.
        let slot = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        if slots.available_permits() == 0 {
            tracing::debug!(
                plugin = %inner.name,
                max_connections = inner.max_connections,
                "at the connection limit: new connections wait until one closes"
            );
        }
        tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => {
                    let (app, stop) = (app.clone(), stop.clone());
                    #[cfg(feature = "metrics")]
                    let open = {
                        // This connection holds the last slot: the next waits.
                        if slots.available_permits() == 0 {
                            crate::metrics::at_limit(&app.labels);
                        }
                        crate::metrics::OpenConnection::new(&app.labels)
                    };
                    // Relayed: hyper wakes a connection's task while it
                    // runs, once a request (see the plugin-relay crate).
                    connections.spawn(async move {
                        Relayed::new(connection(conn, app, stop)).await;
                        drop(slot);
                        #[cfg(feature = "metrics")]
                        drop(open);
                    });
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
    // Each connection saw the stop too: idle ones close at once, busy ones
    // after their answer.
    let drained = async { while connections.join_next().await.is_some() {} };
    match inner.grace_period {
        None => drained.await,
        Some(grace) => {
            if tokio::time::timeout(grace, drained).await.is_err() {
                tracing::warn!(
                    plugin = %inner.name,
                    "requests still running after the {grace:?} grace period; closing their connections",
                );
            }
        }
    }
    connections.shutdown().await;
    tracing::info!(plugin = %inner.name, "plugin stopped");
}

async fn connection(accepted: Accepted, app: App, mut stop: watch::Receiver<bool>) {
    let inner = &app.inner;
    match accepted {
        Accepted::Unix(stream) => {
            // Who is calling, for handlers and layers that ask.
            let peer = stream.peer_cred().ok().map(PeerCredentials::of);
            let first = first_byte(
                || stream.readable(),
                |b| stream.try_read(b),
                inner,
                &mut stop,
            );
            if let Some(first) = first.await {
                let serving = serve_io(stream, Some(first), peer, app.clone(), stop);
                Box::pin(serving).await;
            }
        }
        Accepted::Tcp(stream) => {
            let _ = stream.set_nodelay(true);
            let first = first_byte(
                || stream.readable(),
                |b| stream.try_read(b),
                inner,
                &mut stop,
            );
            if let Some(first) = first.await {
                let serving = serve_io(stream, Some(first), None, app.clone(), stop);
                Box::pin(serving).await;
            }
        }
        #[cfg(feature = "tls")]
        Accepted::Tls(stream, acceptor) => {
            let _ = stream.set_nodelay(true);
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => Box::pin(serve_io(stream, None, None, app.clone(), stop)).await,
                Ok(Err(e)) => tracing::debug!(plugin = %inner.name, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(plugin = %inner.name, "TLS handshake timed out"),
            }
        }
    }
}

/// Reads a new connection's first byte before hyper is given it, so a
/// connection that sends nothing holds no HTTP buffers (hyper makes 16 KiB of
/// them per connection) and a task of a few hundred bytes. `None` when the
/// client closed or failed first, stayed quiet for the idle timeout, or the
/// server is stopping.
async fn first_byte<R, F>(
    readable: impl Fn() -> F,
    try_read: R,
    inner: &Inner,
    stop: &mut watch::Receiver<bool>,
) -> Option<u8>
where
    F: Future<Output = io::Result<()>>,
    R: Fn(&mut [u8]) -> io::Result<usize>,
{
    let read = async {
        let mut byte = [0u8; 1];
        loop {
            // Readiness can be reported before any byte is there (always, for
            // a new socket): the read tells.
            readable().await.ok()?;
            match try_read(&mut byte) {
                Ok(0) => return None,
                Ok(_) => return Some(byte[0]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    tracing::debug!(plugin = %inner.name, "connection failed before its first request: {e}");
                    return None;
                }
            }
        }
    };
    tokio::select! {
        first = read => first,
        () = after(inner.idle_timeout) => {
            tracing::debug!(plugin = %inner.name, "closing a connection that sent nothing within the idle timeout");
            None
        }
        () = stopped(stop) => None,
    }
}

/// Sleeps for `duration`; forever when it is `None` or the deadline is past
/// what an `Instant` can hold.
async fn after(duration: Option<Duration>) {
    match duration.and_then(|duration| Instant::now().checked_add(duration)) {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn serve_io<S>(
    stream: S,
    first: Option<u8>,
    peer: Option<PeerCredentials>,
    app: App,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let inner = &app.inner;
    let (idle_timeout, header_read_timeout) = (inner.idle_timeout, inner.header_read_timeout);
    let name = inner.name.clone();
    // With no timeout to keep, nothing follows the connection's phase: its
    // reads and requests cost no lock.
    let activity = (idle_timeout.is_some() || header_read_timeout.is_some())
        .then(|| Arc::new(Activity::new()));
    let service = {
        let activity = activity.clone();
        let app = app.clone();
        service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
            if let Some(peer) = peer {
                request.extensions_mut().insert(peer);
            }
            let app = app.clone();
            let request_done = activity.as_ref().map(Activity::request_started);
            #[cfg(feature = "metrics")]
            let timing = app.labels.start(request.uri().path());
            async move {
                let response = if let Some(refused) = unsupported_transfer_coding(request.headers())
                {
                    refused
                } else {
                    match app.stack {
                        None => respond(app.inner, request).await,
                        Some(stack) => through(stack, request.map(RequestBody::new)).await,
                    }
                };
                #[cfg(feature = "metrics")]
                timing.answered(response.status());
                Ok::<_, Infallible>(response.map(|body| Tracked {
                    body,
                    _done: request_done,
                }))
            }
        })
    };
    let io = Watched {
        io: stream,
        first,
        activity: activity.clone(),
        replacing: None,
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // Ours below: hyper's would also run while the connection is idle.
        .header_read_timeout(None)
        .keep_alive(true)
        // A client that shuts down its sending side once its request is out
        // still gets the answer, as from Go's server; without this hyper
        // sometimes closed the connection first (found by fuzzing).
        .half_close(true)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    // The watchdog does not follow each request: it wakes at the earliest
    // moment a timeout could run out, and looks at the connection's phase
    // then. Requests cost no timer and no wake-up.
    let check = |now| match &activity {
        Some(activity) => activity.check(now, idle_timeout, header_read_timeout),
        None => Check::Never,
    };
    let mut next = check(Instant::now());
    let sleep = tokio::time::sleep_until(far_future());
    tokio::pin!(sleep);
    let mut closing = false;
    loop {
        match next {
            Check::Later(at) => sleep.as_mut().reset(at),
            Check::Never => sleep.as_mut().reset(far_future()),
            Check::Idle | Check::HeadTimeout => {}
        }
        let armed = matches!(next, Check::Later(_));
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(plugin = %name, "connection ended: {e}");
                }
                return;
            }
            () = stopped(&mut stop), if !closing => {
                // Idle: closed at once; busy: after the answer in progress.
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = &mut sleep, if armed => {
                next = match check(Instant::now()) {
                    Check::Idle if closing => Check::Never,
                    Check::Idle => {
                        tracing::debug!(plugin = %name, "closing a connection idle for {:?}", idle_timeout.unwrap_or_default());
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                        Check::Never
                    }
                    Check::HeadTimeout => {
                        tracing::debug!(plugin = %name, "disconnecting a client that did not send its headers within {:?}", header_read_timeout.unwrap_or_default());
                        return;
                    }
                    later => later,
                };
            }
        }
    }
}

/// An instant the watchdog's timer can wait for when nothing can run out (a
/// year away: `Instant` has no maximum).
fn far_future() -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(Duration::from_secs(365 * 24 * 3600))
        .unwrap_or(now)
}

/// What the watchdog found when it looked.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// Idle for the idle timeout: close it.
    Idle,
    /// A request's headers not in within the header-read timeout: cut it.
    HeadTimeout,
    /// Look again then.
    Later(Instant),
    /// Nothing can run out (no timeout is set, or none fits in an
    /// `Instant`).
    Never,
}

/// Where a connection is: idle since an instant, reading a request's headers
/// since an instant, or with requests in progress.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Idle(Instant),
    Head(Instant),
    Busy(usize),
}

/// A connection's [`Phase`], kept by its reads and its requests.
#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
}

impl Activity {
    fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Idle(Instant::now())),
        }
    }

    fn update(&self, change: impl FnOnce(Phase) -> Option<Phase>) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(next) = change(*phase) {
            *phase = next;
        }
    }

    /// Bytes arrived: an idle connection is now reading a request.
    fn read(&self) {
        self.update(|phase| match phase {
            Phase::Idle(_) => Some(Phase::Head(Instant::now())),
            Phase::Head(_) | Phase::Busy(_) => None,
        });
    }

    /// A request's headers are in; the connection is busy until the returned
    /// guard is dropped (its answer sent, or abandoned).
    fn request_started(self: &Arc<Self>) -> RequestDone {
        self.update(|phase| match phase {
            Phase::Busy(n) => Some(Phase::Busy(n.saturating_add(1))),
            Phase::Idle(_) | Phase::Head(_) => Some(Phase::Busy(1)),
        });
        RequestDone(Arc::clone(self))
    }

    /// Whether a timeout has run out at `now`, else when one next could: an
    /// idle connection may start a request (and its header timer) at any
    /// moment, and a busy one may become idle, so those are looked at again
    /// within the shorter timeout.
    fn check(&self, now: Instant, idle: Option<Duration>, head: Option<Duration>) -> Check {
        let phase = *self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        let after =
            |since: Instant, timeout: Option<Duration>| timeout.and_then(|t| since.checked_add(t));
        let earliest = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Check::Later(a.min(b)),
            (Some(at), None) | (None, Some(at)) => Check::Later(at),
            (None, None) => Check::Never,
        };
        match phase {
            Phase::Idle(since) => match after(since, idle) {
                Some(at) if at <= now => Check::Idle,
                at => earliest(at, after(now, head)),
            },
            Phase::Head(since) => match after(since, head) {
                Some(at) if at <= now => Check::HeadTimeout,
                at => earliest(at, after(now, idle)),
            },
            Phase::Busy(_) => earliest(after(now, idle), after(now, head)),
        }
    }
}

/// Marks a request done when dropped.
#[derive(Debug)]
struct RequestDone(Arc<Activity>);

impl Drop for RequestDone {
    fn drop(&mut self) {
        self.0.update(|phase| match phase {
            Phase::Busy(n) if n > 1 => Some(Phase::Busy(n - 1)),
            Phase::Busy(_) => Some(Phase::Idle(Instant::now())),
            Phase::Idle(_) | Phase::Head(_) => None,
        });
    }
}

/// A response body that marks its request done once hyper drops it.
struct Tracked {
    body: ResponseBody,
    _done: Option<RequestDone>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The connection's stream, telling its [`Activity`] when bytes arrive; it
/// gives back first the byte [`first_byte`] read. It also puts the
/// documented `{"Err": ...}` body into the answers hyper makes itself for a
/// request it cannot parse (see [`parse_error_answer`]).
struct Watched<S> {
    io: S,
    first: Option<u8>,
    activity: Option<Arc<Activity>>,
    replacing: Option<Replacing>,
}

/// Our answer being written in place of hyper's automatic one.
struct Replacing {
    ours: Vec<u8>,
    written: usize,
    /// The length of hyper's answer, reported written once ours is.
    theirs: usize,
}

/// The longest automatic answer hyper writes for a request it cannot parse
/// (a status line, `content-length: 0`, `date` and `connection: close`).
const AUTOMATIC_ANSWER_MAX: usize = 256;

/// Our answer for hyper's automatic answer `bytes`, if that is what they are.
///
/// hyper's HTTP/1 server answers a request it cannot parse itself, with an
/// empty body and no way to change it: 400 for a bad request line, header or
/// framing (`Transfer-Encoding` not ending in `chunked`, say), 431 for a
/// header section over its limits, 414 for a request target too long. Such an
/// answer is recognised by its exact shape: the whole write is one head with
/// one of those statuses and no header but `content-length: 0`, `date` and
/// `connection`, and no body. Every answer of ours has a `Content-Type`, so none is taken
/// for one.
fn parse_error_answer(bytes: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(bytes).ok()?.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.strip_prefix("HTTP/1.1 ")?;
    let (code, why) = match status.get(..3)? {
        "400" => (
            "400 Bad Request",
            "the request is not valid HTTP/1.1: its request line, a header or its body framing could not be parsed",
        ),
        "414" => ("414 URI Too Long", "the request target is too long"),
        "431" => (
            "431 Request Header Fields Too Large",
            "the request's header section is too large (too many header fields or too many bytes)",
        ),
        _ => return None,
    };
    let mut date = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" if value.trim() == "0" => {}
            "date" => date = Some(value.trim()),
            "connection" => {}
            _ => return None,
        }
    }
    let body = error_bytes(why);
    let mut ours = format!(
        "HTTP/1.1 {code}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        crate::service::CONTENT_TYPE_V1_1,
        body.len()
    );
    if let Some(date) = date {
        ours.push_str(&format!("date: {date}\r\n"));
    }
    ours.push_str("\r\n");
    let mut ours = ours.into_bytes();
    ours.extend_from_slice(&body);
    Some(ours)
}

impl<S: AsyncWrite + Unpin> Watched<S> {
    /// Writes our answer in place of hyper's automatic one; `Ready(Ok(n))`
    /// (hyper's length) once all of ours is written.
    fn poll_replace(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some(replacing) = &mut self.replacing {
            let Some(rest) = replacing
                .ours
                .get(replacing.written..)
                .filter(|rest| !rest.is_empty())
            else {
                let theirs = replacing.theirs;
                self.replacing = None;
                return Poll::Ready(Ok(theirs));
            };
            match Pin::new(&mut self.io).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => {
                    self.replacing = None;
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => replacing.written += n,
                Poll::Ready(Err(e)) => {
                    self.replacing = None;
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(0))
    }

    /// Starts replacing `bytes` (all hyper offers) if it is an automatic
    /// answer.
    fn recognise(&mut self, bytes: &[u8]) -> bool {
        if self.replacing.is_some() {
            return true;
        }
        if bytes.len() > AUTOMATIC_ANSWER_MAX || !bytes.starts_with(b"HTTP/1.1 4") {
            return false;
        }
        match parse_error_answer(bytes) {
            Some(ours) => {
                self.replacing = Some(Replacing {
                    ours,
                    written: 0,
                    theirs: bytes.len(),
                });
                true
            }
            None => false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() > 0 {
            if let Some(byte) = self.first.take() {
                buf.put_slice(&[byte]);
                if let Some(activity) = &self.activity {
                    activity.read();
                }
                // The rest of what arrived comes in the same read: given one
                // byte, hyper would grow its 8 KiB buffer to 16 KiB for the next.
                // Pending or an error shows again on hyper's next read.
                let _ = Pin::new(&mut self.io).poll_read(cx, buf);
                return Poll::Ready(Ok(()));
            }
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Some(activity) = &self.activity {
            if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
                activity.read();
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.recognise(data) {
            return self.poll_replace(cx);
        }
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = data.iter().map(|slice| slice.len()).sum();
        let starts_as_one = data
            .iter()
            .find(|slice| !slice.is_empty())
            .is_some_and(|slice| slice.starts_with(b"HTTP/1.1 4"));
        if self.replacing.is_some() || (starts_as_one && total <= AUTOMATIC_ANSWER_MAX) {
            let offered: Vec<u8> = data
                .iter()
                .flat_map(|slice| slice.iter().copied())
                .collect();
            if self.recognise(&offered) {
                return self.poll_replace(cx);
            }
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
