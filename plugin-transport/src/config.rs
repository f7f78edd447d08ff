//! `TransportConfig` and the per-request overrides.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The default limit on a response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BODY: u64 = 16 * 1024 * 1024;

/// How a [`Transport`](crate::Transport) connects, waits and buffers.
///
/// | setting | default |
/// | --- | --- |
/// | connect timeout (TCP connect plus TLS handshake) | 10 s |
/// | response timeout (request sent to response headers) | none: the client sets per-call deadlines |
/// | response body limit | 16 MiB |
/// | idle connections kept | 32 |
/// | idle connection timeout | 90 s |
///
/// Each timeout takes a `Duration` or an `Option` of one, `None` meaning
/// never (as hyper-util's `pool_idle_timeout`).
///
/// ```
/// use std::time::Duration;
/// use plugin_transport::TransportConfig;
///
/// let config = TransportConfig::new()
///     .connect_timeout(Duration::from_secs(2))
///     .max_response_body(Some(1 << 20));
/// assert_ne!(config, TransportConfig::default());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) response_timeout: Option<Duration>,
    pub(crate) max_response_body: Option<u64>,
    pub(crate) pool_max_idle: usize,
    pub(crate) pool_idle_timeout: Option<Duration>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Some(Duration::from_secs(10)),
            response_timeout: None,
            max_response_body: Some(DEFAULT_MAX_RESPONSE_BODY),
            pool_max_idle: 32,
            pool_idle_timeout: Some(Duration::from_secs(90)),
        }
    }
}

impl TransportConfig {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// Longest time to connect, TLS handshake included; `None` means never:
    /// a connection attempt waits as long as the system's own connect does
    /// (the caller's deadline still applies).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Longest time from sending a request to receiving the response headers;
    /// `None` (the default) means never: it waits as long as the caller does.
    #[must_use]
    pub fn response_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.response_timeout = timeout.into();
        self
    }

    /// Largest response body, in bytes; `None` for no limit (the caller then
    /// bounds memory by reading the body as a stream). A single request can
    /// override it with a [`ResponseBodyLimit`] extension.
    #[must_use]
    pub fn max_response_body(mut self, limit: Option<u64>) -> Self {
        self.max_response_body = limit;
        self
    }

    /// Most idle keep-alive connections kept open to the plugin.
    #[must_use]
    pub fn pool_max_idle(mut self, connections: usize) -> Self {
        self.pool_max_idle = connections;
        self
    }

    /// How long an idle keep-alive connection is kept; `None` means never
    /// closed for idleness: it is kept until the plugin closes it or the pool
    /// is full.
    #[must_use]
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }
}

/// A request extension that overrides the response body limit for one request
/// (`None`: no limit), e.g. for a log stream read incrementally.
///
/// ```
/// use plugin_transport::ResponseBodyLimit;
///
/// let mut request = http::Request::new(http_body_util::Empty::<bytes::Bytes>::new());
/// request.extensions_mut().insert(ResponseBodyLimit(None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseBodyLimit(pub Option<u64>);

/// A response extension: which connection carried the request.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    id: u64,
    responses: Arc<AtomicU64>,
}

impl ConnectionInfo {
    pub(crate) fn new(id: u64) -> Self {
        Self {
            id,
            responses: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The connection's number, unique within the transport and its clones:
    /// responses with the same id came over one kept-alive connection.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Counts a response on this connection; true if it is not the first.
    pub(crate) fn count_response(&self) -> bool {
        self.responses.fetch_add(1, Ordering::Relaxed) > 0
    }
}
