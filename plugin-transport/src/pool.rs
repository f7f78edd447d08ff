//! Kept-alive connections, each driven by the task that is using it.
//!
//! A pooled client in the usual shape (hyper-util's) gives every connection a
//! task of its own and hands each request to it over a channel, and the answer
//! back over another: two task wake-ups per call, often on another worker
//! thread. Here a call takes a connection out of the pool and polls hyper's
//! connection itself, from the caller's task, until the answer's body has been
//! read; then the connection goes back. A call therefore costs what the socket
//! costs, and nothing runs for a connection that is not in use.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::client::conn::http1;
use plugin_relay::Relay;

use crate::config::ConnectionInfo;
use crate::connector::Conn;
use crate::error::BoxError;

/// The body every pooled connection sends.
pub(crate) type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// One HTTP/1.1 connection: hyper's handle for sending on it and the
/// connection itself, which must be polled for anything to be read or written.
pub(crate) struct Pooled {
    pub(crate) sender: http1::SendRequest<RequestBody>,
    /// `None` once the connection's future has finished: it is then dropped
    /// at once, which hands a request still queued on it back, unsent.
    // Boxed: the connection's buffers and state are large, and a `Pooled`
    // moves in and out of the pool and into response bodies.
    connection: Option<Pin<Box<http1::Connection<Conn, RequestBody>>>>,
    /// What the connection is polled through: it wakes the task using the
    /// connection, and no task while it is idle. The connection, the answer
    /// and its body wake one another as they hand data over, all inside the
    /// one task's poll; the relay takes those wake-ups by polling again,
    /// rather than having tokio reschedule the task (a futile wake-up of
    /// another worker thread, and often a thread hop, on every call).
    relay: Relay,
    pub(crate) info: ConnectionInfo,
    /// Counted in `plugin_host_connections_open` while the connection lives.
    #[cfg(feature = "metrics")]
    _open: OpenConnection,
}

/// One open connection in the `plugin_host_connections_open` gauge, for as
/// long as it lives.
#[cfg(feature = "metrics")]
struct OpenConnection(metrics::Gauge);

#[cfg(feature = "metrics")]
impl OpenConnection {
    fn new(plugin: &metrics::SharedString) -> Self {
        let gauge = metrics::gauge!(crate::CONNECTIONS_OPEN, "plugin" => plugin.clone());
        gauge.increment(1.0);
        Self(gauge)
    }
}

#[cfg(feature = "metrics")]
impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl Pooled {
    pub(crate) async fn handshake(
        conn: Conn,
        info: ConnectionInfo,
        #[cfg(feature = "metrics")] plugin: &metrics::SharedString,
    ) -> hyper::Result<Self> {
        let (sender, connection) = http1::Builder::new().handshake(conn).await?;
        Ok(Self {
            sender,
            connection: Some(Box::pin(connection)),
            relay: Relay::new(),
            info,
            #[cfg(feature = "metrics")]
            _open: OpenConnection::new(plugin),
        })
    }

    /// Drives the connection, then polls `what` (the answer, its body, or
    /// the connection's readiness), all with the relay's waker; a wake-up
    /// that comes while they run is taken here, by polling again, rather than
    /// by rescheduling the task. `cx` is woken by the connection's socket.
    pub(crate) fn poll_with<T>(
        &mut self,
        cx: &mut Context<'_>,
        mut what: impl FnMut(&mut http1::SendRequest<RequestBody>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        let Self {
            sender,
            connection,
            relay,
            info,
            ..
        } = self;
        relay.poll(cx, |cx| {
            if let Some(driven) = connection {
                if let Poll::Ready(result) = driven.as_mut().poll(cx) {
                    *connection = None;
                    if let Err(error) = result {
                        // A pending request receives the error itself; this
                        // is one the connection had no request to give to.
                        tracing::debug!(connection = info.id(), "connection ended: {error}");
                    }
                }
            }
            what(sender, cx)
        })
    }

    /// Waits until the connection takes a request.
    pub(crate) async fn ready(&mut self) -> hyper::Result<()> {
        std::future::poll_fn(|cx| self.poll_with(cx, |sender, cx| sender.poll_ready(cx))).await
    }
}

/// The idle connections of one transport and its clones.
pub(crate) struct Pool {
    state: Mutex<State>,
    max_idle: usize,
    /// `None`: idle connections are never closed for idleness.
    idle_timeout: Option<Duration>,
}

#[derive(Default)]
struct State {
    /// Most recently used last.
    idle: Vec<(Pooled, Instant)>,
    /// A task closes connections idle past the timeout while there are any.
    reaping: bool,
}

impl Pool {
    pub(crate) fn new(max_idle: usize, idle_timeout: Option<Duration>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            max_idle,
            idle_timeout,
        }
    }

    /// The most recently used idle connection not known to be closed. (One
    /// the plugin closed while it sat idle is found out when it is driven
    /// again.)
    pub(crate) fn checkout(&self) -> Option<Pooled> {
        let mut closed = Vec::new();
        let found = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                let Some((pooled, since)) = state.idle.pop() else {
                    break None;
                };
                let fresh = self.idle_timeout.is_none_or(|t| since.elapsed() < t);
                if fresh && !pooled.sender.is_closed() {
                    break Some(pooled);
                }
                closed.push(pooled);
            }
        };
        // Closed outside the lock.
        drop(closed);
        found
    }

    /// Keeps `pooled` for the next call, if there is room.
    pub(crate) fn checkin(self: &Arc<Self>, pooled: Pooled) {
        if self.max_idle == 0 || pooled.connection.is_none() {
            return;
        }
        // Idle: nobody to wake.
        pooled.relay.forget_task();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.idle.len() >= self.max_idle {
            // Full: this one is closed (outside the lock).
            drop(state);
            drop(pooled);
            return;
        }
        state.idle.push((pooled, Instant::now()));
        if let (false, Some(timeout)) = (state.reaping, self.idle_timeout) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                state.reaping = true;
                runtime.spawn(reap(Arc::downgrade(self), timeout));
            }
        }
    }
}

/// Closes connections idle past `timeout`, every `timeout`, until the pool
/// has none or is gone.
async fn reap(pool: Weak<Pool>, timeout: Duration) {
    loop {
        tokio::time::sleep(timeout).await;
        let Some(pool) = pool.upgrade() else { return };
        let (expired, stop) = {
            let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut state.idle)
                .into_iter()
                .partition(|(_, since)| since.elapsed() >= timeout);
            state.idle = kept;
            // Decided under the lock, so a check-in either sees this task
            // still reaping or starts another.
            state.reaping = !state.idle.is_empty();
            (expired, !state.reaping)
        };
        if !expired.is_empty() {
            tracing::debug!(closed = expired.len(), "closed idle connections");
        }
        drop(expired);
        if stop {
            return;
        }
    }
}
