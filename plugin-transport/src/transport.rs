//! `Transport`: the tower `Service` that carries requests to one plugin.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use http_body::Body;
use http_body_util::BodyExt;
use plugin_spec::{Address, PluginSpec};
use tracing::Instrument;

use crate::body::ResponseBody;
use crate::config::{ResponseBodyLimit, TransportConfig};
use crate::connector::{self, Connect, ConnectError, Connector};
use crate::error::{BoxError, TransportError};
use crate::pool::{Pool, Pooled, RequestBody};
use crate::target::Target;

/// The `Host` Docker sends on unix sockets (Engine 25 and later).
pub const UNIX_HOST: &str = "plugin.moby.localhost";

/// HTTP/1.1 to one plugin, as a cloneable [`tower::Service`].
///
/// Requests are `http::Request<B>` for any body `B` with `Bytes` data; their
/// URI's path and query are sent (`/Plugin.Activate`), the rest is the
/// transport's: `Host: plugin.moby.localhost` on unix sockets, `host:port` on
/// TCP. Connections are kept alive in a pool that clones share; a call drives
/// its connection from its own task (no connection task, no channel between
/// the two), and a response's body holds the connection until it is read.
///
/// The response body is a [`ResponseBody`], bounded by the configured limit.
///
/// ```no_run
/// use http_body_util::{BodyExt, Empty};
/// use plugin_spec::{PluginName, PluginSpec};
/// use plugin_transport::{Transport, TransportConfig};
/// use tower::ServiceExt;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let spec = PluginSpec::from_socket(PluginName::new("sshfs")?, "/run/docker/plugins/sshfs.sock")?;
/// let transport = Transport::for_spec(&spec, &TransportConfig::default())?;
/// let request = http::Request::post("/Plugin.Activate").body(Empty::<bytes::Bytes>::new())?;
/// let response = transport.oneshot(request).await?;
/// let body = response.into_body().collect().await?.to_bytes();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    connector: Connector,
    pub(crate) pool: Arc<Pool>,
    pub(crate) target: Target,
    /// The `Host` header: Docker's on unix sockets, `host:port` on TCP.
    host: http::HeaderValue,
    config: TransportConfig,
    /// The `plugin` label of the transport's metrics.
    #[cfg(feature = "metrics")]
    label: metrics::SharedString,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("target", &self.shared.target)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport to the plugin `spec` describes.
    ///
    /// For an `https://` address the TLS client is set up here, so a TLS file
    /// that does not load fails now, naming the file; the system roots are read
    /// once per process. The TLS files must be regular files of at most
    /// `MAX_TLS_FILE_LEN` (1 MiB, feature `tls`) each: a FIFO, a device or a
    /// directory is refused without waiting on it or reading it. This is
    /// blocking file I/O: an async caller makes an `https://` plugin's
    /// transport in `tokio::task::spawn_blocking`.
    ///
    /// # Errors
    /// [`TransportError::TlsFile`], [`TransportError::TlsSetup`],
    /// [`TransportError::TlsUnavailable`] (an `https` address without the `tls`
    /// feature), [`TransportError::InvalidRequest`] (a host that cannot be sent in
    /// an HTTP request).
    pub fn for_spec(spec: &PluginSpec, config: &TransportConfig) -> Result<Self, TransportError> {
        Self::new(spec, config, None)
    }

    /// A transport to the plugin `spec` describes, whose connections
    /// `connector` opens: a vsock, an SSH tunnel, a socket in another mount
    /// namespace, an in-memory duplex in a test. Everything else is as with
    /// [`for_spec`](Self::for_spec): the pool, the HTTP/1.1 handling, the
    /// connect timeout (which bounds the connector), the errors; for an
    /// `https://` address the TLS handshake is still made over the
    /// connector's stream, with the descriptor's `TLSConfig` (see
    /// [`Connect`]). A connector that fails gives
    /// [`TransportError::Connector`], which is
    /// [`is_connect`](TransportError::is_connect).
    ///
    /// ```
    /// use http_body_util::{BodyExt, Empty};
    /// use plugin_transport::{PluginName, PluginSpec, Target, Transport, TransportConfig};
    /// use tower::ServiceExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// // The descriptor's address is never dialled: the connector serves each
    /// // connection from a plugin in this process, over an in-memory pipe.
    /// let connector = tower::service_fn(|_target: Target| async {
    ///     let (ours, theirs) = tokio::io::duplex(64 * 1024);
    ///     let answer = hyper::service::service_fn(|_request| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
    ///             bytes::Bytes::from_static(b"{\"Implements\":[\"VolumeDriver\"]}"),
    ///         )))
    ///     });
    ///     let io = hyper_util::rt::TokioIo::new(theirs);
    ///     tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, answer));
    ///     Ok::<_, std::io::Error>(ours)
    /// });
    /// let spec = PluginSpec::from_socket(PluginName::new("sshfs")?, "/nowhere/sshfs.sock")?;
    /// let transport = Transport::with_connector(&spec, &TransportConfig::default(), connector)?;
    /// let request = http::Request::post("/Plugin.Activate").body(Empty::<bytes::Bytes>::new())?;
    /// let body = transport.oneshot(request).await?.into_body().collect().await?.to_bytes();
    /// assert_eq!(body, "{\"Implements\":[\"VolumeDriver\"]}");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`for_spec`](Self::for_spec).
    pub fn with_connector<C: Connect>(
        spec: &PluginSpec,
        config: &TransportConfig,
        connector: C,
    ) -> Result<Self, TransportError> {
        Self::new(spec, config, Some(connector::custom(connector)))
    }

    fn new(
        spec: &PluginSpec,
        config: &TransportConfig,
        custom: Option<connector::Custom>,
    ) -> Result<Self, TransportError> {
        let target = Target::new(spec.name().clone(), spec.address().clone());
        let host = match spec.address() {
            Address::Unix(_) => http::HeaderValue::from_static(UNIX_HOST),
            Address::Tcp(hp) | Address::Tls(hp) => {
                // As Go sends it: the address's `host:port`, port included.
                hp.to_string()
                    .parse::<http::uri::Authority>()
                    .ok()
                    .and_then(|authority| http::HeaderValue::from_str(authority.as_str()).ok())
                    .ok_or_else(|| TransportError::InvalidRequest {
                        target: target.clone(),
                        reason: format!("the host {:?} cannot be sent in an HTTP request; use its ASCII (punycode) form", hp.host()),
                    })?
            }
        };
        let connector = connector(&target, spec, config, custom)?;
        Ok(Self {
            shared: Arc::new(Shared {
                connector,
                pool: Arc::new(Pool::new(config.pool_max_idle, config.pool_idle_timeout)),
                #[cfg(feature = "metrics")]
                label: metrics::SharedString::from(target.name().as_str().to_owned()),
                target,
                host,
                config: config.clone(),
            }),
        })
    }

    /// The plugin this transport sends to.
    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &TransportConfig {
        &self.shared.config
    }
}

#[cfg(feature = "tls")]
fn connector(
    target: &Target,
    spec: &PluginSpec,
    config: &TransportConfig,
    custom: Option<connector::Custom>,
) -> Result<Connector, TransportError> {
    let tls = match spec.address() {
        Address::Tls(hp) => Some(crate::tls::setup(target, hp.host(), spec.tls())?),
        Address::Unix(_) | Address::Tcp(_) => None,
    };
    Ok(Connector::new(
        target.clone(),
        config.connect_timeout,
        tls,
        custom,
    ))
}

#[cfg(not(feature = "tls"))]
fn connector(
    target: &Target,
    spec: &PluginSpec,
    config: &TransportConfig,
    custom: Option<connector::Custom>,
) -> Result<Connector, TransportError> {
    if spec.address().is_tls() {
        return Err(TransportError::TlsUnavailable {
            target: target.clone(),
        });
    }
    Ok(Connector::new(
        target.clone(),
        config.connect_timeout,
        custom,
    ))
}

/// The future a [`Transport`] returns.
pub struct ResponseFuture {
    inner: Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, TransportError>> + Send>>,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<ResponseBody>, TransportError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<B> tower::Service<Request<B>> for Transport
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = TransportError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture {
        let shared = Arc::clone(&self.shared);
        let limit = request
            .extensions()
            .get::<ResponseBodyLimit>()
            .map_or(shared.config.max_response_body, |limit| limit.0);
        let (mut parts, body) = request.into_parts();
        // Docker sends `Content-Length: 0` on calls without arguments; hyper
        // leaves the header out for an empty body unless it is set.
        if let Some(len) = body.size_hint().exact() {
            parts
                .headers
                .entry(http::header::CONTENT_LENGTH)
                .or_insert_with(|| len.into());
        }
        parts
            .headers
            .entry(http::header::HOST)
            .or_insert_with(|| shared.host.clone());
        // Origin form: only the path and query go on the request line.
        let path = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let span = tracing::debug_span!(
            "plugin.request",
            plugin = shared.target.name().as_str(),
            address = %shared.target.address(),
            path = %path,
            reused = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        parts.uri = Uri::from(path);
        let request = Request::from_parts(parts, body.map_err(Into::into).boxed_unsync());
        let future = async move {
            let exchange = shared.exchange(request);
            let (response, pooled) = match shared.config.response_timeout {
                Some(after) => tokio::time::timeout(after, exchange).await.map_err(|_| {
                    TransportError::ResponseTimeout {
                        target: shared.target.clone(),
                        after,
                    }
                })??,
                None => exchange.await?,
            };
            let (mut parts, incoming) = response.into_parts();
            tracing::Span::current().record("reused", pooled.info.count_response());
            tracing::Span::current().record("status", parts.status.as_u16());
            parts.extensions.insert(pooled.info.clone());
            Ok(Response::from_parts(
                parts,
                ResponseBody::new(incoming, limit, shared, Some(pooled)),
            ))
        };
        ResponseFuture {
            inner: Box::pin(future.instrument(span)),
        }
    }
}

impl Shared {
    /// A new connection to the plugin, within the connect timeout.
    async fn connect(&self) -> Result<Pooled, TransportError> {
        let (conn, info) = self
            .connector
            .connect()
            .await
            .map_err(|e| connect_error(&self.target, e))?;
        Pooled::handshake(
            conn,
            info,
            #[cfg(feature = "metrics")]
            &self.label,
        )
        .await
        .map_err(|e| request_error(&self.target, e))
    }

    /// Sends `request` on an idle connection or a new one and waits for the
    /// answer's head, driving the connection meanwhile. A request a reused
    /// connection could not take (the plugin closed it as it was picked) is
    /// sent again on a new one: it never left.
    async fn exchange(
        &self,
        request: Request<RequestBody>,
    ) -> Result<(Response<hyper::body::Incoming>, Pooled), TransportError> {
        let mut request = request;
        // (the connection, whether this call opened it)
        let mut next = self.pool.checkout().map(|pooled| (pooled, false));
        loop {
            let (mut pooled, fresh) = match next.take() {
                Some(found) => found,
                None => (self.connect().await?, true),
            };
            // An idle connection that finished its last answer takes the next
            // request at once; one that does not is driven until it does, or
            // turns out closed.
            let mut sending = std::pin::pin!(pooled.sender.try_send_request(request));
            let answer =
                std::future::poll_fn(|cx| pooled.poll_with(cx, |_, cx| sending.as_mut().poll(cx)))
                    .await;
            let mut failed = match answer {
                Ok(response) => return Ok((response, pooled)),
                Err(failed) => failed,
            };
            // It never left: send it again once this connection takes it, or
            // on a new one if an idle one turns out closed.
            let Some(unsent) = failed.take_message() else {
                return Err(request_error(&self.target, failed.into_error()));
            };
            request = unsent;
            match pooled.ready().await {
                Ok(()) if pooled.sender.is_ready() => next = Some((pooled, fresh)),
                Ok(()) => return Err(request_error(&self.target, failed.into_error())),
                Err(error) if fresh => return Err(request_error(&self.target, error)),
                // An idle connection closed: the next try opens one.
                Err(_) => {}
            }
        }
    }
}

/// Our error for a connection that could not be made.
fn connect_error(target: &Target, error: ConnectError) -> TransportError {
    let target = target.clone();
    match error {
        ConnectError::Io(e) => TransportError::Connect {
            target,
            source: shared_io(&e),
        },
        ConnectError::Tls(e, reason) => TransportError::TlsHandshake {
            target,
            reason,
            source: shared_io(&e),
        },
        ConnectError::Timeout(after) => TransportError::ConnectTimeout { target, after },
        ConnectError::TlsUnavailable => TransportError::TlsUnavailable { target },
        ConnectError::Custom(source) => TransportError::Connector { target, source },
    }
}

/// Our error for a request hyper could not complete.
fn request_error(target: &Target, error: hyper::Error) -> TransportError {
    TransportError::Request {
        target: target.clone(),
        what: what_happened(&error),
        source: Box::new(error),
    }
}

/// What broke a request, in our words, from hyper's error and the I/O error
/// in `error`'s chain.
fn what_happened(error: &(dyn StdError + 'static)) -> String {
    let mut source = Some(error);
    let mut hyper_error = None;
    let mut io_error = None;
    while let Some(err) = source {
        if let Some(e) = err.downcast_ref::<hyper::Error>() {
            hyper_error.get_or_insert(e);
        }
        if let Some(e) = err.downcast_ref::<io::Error>() {
            io_error.get_or_insert(e);
        }
        source = err.source();
    }
    #[cfg(feature = "tls")]
    if let Some(alert) = io_error.and_then(crate::tls::alert_received) {
        return alert;
    }
    // Our words only: hyper's and the I/O error's are the source chain.
    let what = match hyper_error {
        Some(e) if e.is_incomplete_message() => {
            "the plugin closed the connection before it answered; it may have stopped, restarted or crashed"
        }
        Some(e) if e.is_body_write_aborted() => "sending the request body failed",
        Some(e) if e.is_canceled() => {
            "the connection closed before the request was sent; the plugin may have stopped or restarted"
        }
        Some(e) if e.is_parse() || e.is_parse_status() => {
            "the plugin's answer is not valid HTTP/1.1"
        }
        _ if io_error.is_some() => {
            "the connection broke; the plugin may have stopped, restarted or crashed"
        }
        _ => "the request failed",
    };
    what.to_owned()
}

/// An `io::Error` of the same kind and message, whose source chain continues
/// into the shared original (a rustls error, for a failed handshake).
fn shared_io(error: &Arc<io::Error>) -> io::Error {
    io::Error::new(error.kind(), SharedIo(Arc::clone(error)))
}

#[derive(Debug)]
struct SharedIo(Arc<io::Error>);

impl fmt::Display for SharedIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for SharedIo {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .get_ref()
            .map(|inner| inner as &(dyn StdError + 'static))
    }
}
