//! Opening connections to the one address a transport serves: a unix socket,
//! TCP (with `TCP_NODELAY`), or TLS over TCP; or whatever stream a custom
//! [`Connect`] service gives, with TLS over it for an `https://` address; all
//! within the connect timeout.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use plugin_spec::{Address, HostPort};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tower::Service;

use crate::config::ConnectionInfo;
use crate::error::BoxError;
use crate::target::Target;
#[cfg(feature = "tls")]
use crate::tls::TlsSetup;

/// A connector: a tower [`Service`] from the plugin's [`Target`] to a byte
/// stream, which a [`Transport`](crate::Transport) speaks HTTP/1.1 over
/// ([`Transport::with_connector`](crate::Transport::with_connector)). hyper-util's
/// `Connect` is the model; any service of this shape is one:
///
/// - the request is the [`Target`]: the plugin's name and the address its
///   descriptor gives, for the connector to read or ignore (a vsock
///   connector maps the name to a CID and port, an in-memory one ignores
///   both);
/// - the response is any tokio [`AsyncRead`] + [`AsyncWrite`] stream that is
///   `Send` (a `UnixStream`, a `tokio::io::DuplexStream`, a vsock stream, an
///   SSH channel): tokio's traits, which every tokio stream implements as it
///   is, not hyper's;
/// - the error is anything that converts into a boxed error: it becomes a
///   [`TransportError::Connector`](crate::TransportError::Connector), which is
///   [`is_connect`](crate::TransportError::is_connect), names the plugin and
///   keeps the connector's error as its source.
///
/// The service is cloned for each new connection, made ready and called
/// once, within the connect timeout; kept-alive connections are pooled as
/// with the default connector, so it runs only when the pool has no idle
/// connection. It must be `Clone + Send + Sync + 'static` (shared by every
/// clone of the transport, as hyper-util's client needs of its connector).
///
/// The stream is taken as the plugin's end of the connection, except that
/// for an `https://` address the transport still does the TLS handshake over
/// it, with the descriptor's `TLSConfig`, as over TCP: the descriptor's
/// promise of TLS holds whatever carries the bytes. A connector whose path
/// is already private (an SSH tunnel) serves a plugin whose address is
/// `unix://` or `tcp://`.
///
/// ```
/// use plugin_transport::{Connect, Target};
///
/// // Every plugin's connection goes to one socket, whatever its descriptor says.
/// let connector = tower::service_fn(|_target: Target| {
///     tokio::net::UnixStream::connect("/run/plugins-proxy.sock")
/// });
/// fn is_connector(_: &impl Connect) {}
/// is_connector(&connector);
/// ```
pub trait Connect:
    Service<
        Target,
        Response: AsyncRead + AsyncWrite + Send + 'static,
        Error: Into<BoxError>,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<C> Connect for C where
    C: Service<
            Target,
            Response: AsyncRead + AsyncWrite + Send + 'static,
            Error: Into<BoxError>,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// A custom connector's stream, boxed once per connection.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send {}

impl<T: AsyncRead + AsyncWrite + Send> Io for T {}

pub(crate) type BoxIo = Pin<Box<dyn Io>>;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A custom connector, its types erased: one boxed future and one boxed
/// stream per new connection, nothing per call.
pub(crate) type Custom =
    Box<dyn Fn(Target) -> BoxFuture<'static, Result<BoxIo, BoxError>> + Send + Sync>;

/// `connector`, its types erased.
pub(crate) fn custom<C: Connect>(connector: C) -> Custom {
    Box::new(move |target| {
        let mut connector = connector.clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| connector.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            let io = connector.call(target).await.map_err(Into::into)?;
            Ok(Box::pin(io) as BoxIo)
        })
    })
}

/// Opens each new connection of a transport, to its one plugin.
#[derive(Clone)]
pub(crate) struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    target: Target,
    /// `None`: no timeout of its own.
    connect_timeout: Option<Duration>,
    #[cfg(feature = "tls")]
    tls: Option<TlsSetup>,
    /// The user's connector, if any; `None`: unix, TCP and TLS, by address.
    custom: Option<Custom>,
    next_id: AtomicU64,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Connector");
        debug
            .field("target", &self.inner.target)
            .field("connect_timeout", &self.inner.connect_timeout);
        #[cfg(feature = "tls")]
        debug.field("tls", &self.inner.tls);
        debug
            .field("custom", &self.inner.custom.is_some())
            .finish_non_exhaustive()
    }
}

impl Connector {
    pub(crate) fn new(
        target: Target,
        connect_timeout: Option<Duration>,
        #[cfg(feature = "tls")] tls: Option<TlsSetup>,
        custom: Option<Custom>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                target,
                connect_timeout,
                #[cfg(feature = "tls")]
                tls,
                custom,
                next_id: AtomicU64::new(0),
            }),
        }
    }
}

/// Why a connection could not be made. The I/O errors are shared, as a
/// TLS failure's are also read for the reason in words.
#[derive(Debug)]
pub(crate) enum ConnectError {
    Io(Arc<io::Error>),
    Timeout(Duration),
    /// The handshake failed: the error, and what it means in words.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(Arc<io::Error>, String),
    TlsUnavailable,
    /// The custom connector failed.
    Custom(BoxError),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Timeout(after) => write!(f, "connect timed out after {after:?}"),
            Self::Tls(_, reason) => write!(f, "TLS handshake failed: {reason}"),
            Self::TlsUnavailable => f.write_str("TLS is not available in this build"),
            Self::Custom(_) => f.write_str("the connector failed"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl Connector {
    /// A new connection, within the connect timeout, and its number.
    pub(crate) async fn connect(&self) -> Result<(Conn, ConnectionInfo), ConnectError> {
        self.inner.connect().await
    }
}

impl Inner {
    async fn connect(&self) -> Result<(Conn, ConnectionInfo), ConnectError> {
        let stream = match self.connect_timeout {
            Some(after) => tokio::time::timeout(after, self.open())
                .await
                .map_err(|_| ConnectError::Timeout(after))??,
            None => self.open().await?,
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(connection = id, "connected to {}", self.target);
        Ok((
            Conn {
                io: TokioIo::new(stream),
            },
            ConnectionInfo::new(id),
        ))
    }

    async fn open(&self) -> Result<Stream, ConnectError> {
        if let Some(custom) = &self.custom {
            return self.open_custom(custom).await;
        }
        match self.target.address() {
            Address::Unix(path) => UnixStream::connect(path.as_path())
                .await
                .map(Stream::Unix)
                .map_err(|e| ConnectError::Io(Arc::new(e))),
            Address::Tcp(hp) => tcp(hp).await.map(Stream::Tcp),
            #[cfg(feature = "tls")]
            Address::Tls(hp) => {
                let tcp = tcp(hp).await?;
                let tls = self.handshake(hp, tcp).await?;
                Ok(Stream::Tls(Box::new(tls)))
            }
            #[cfg(not(feature = "tls"))]
            Address::Tls(_) => Err(ConnectError::TlsUnavailable),
        }
    }

    /// The custom connector's stream, with TLS over it for an `https://`
    /// address. Boxed: the default connector's future does not carry it.
    fn open_custom<'a>(
        &'a self,
        custom: &'a Custom,
    ) -> BoxFuture<'a, Result<Stream, ConnectError>> {
        Box::pin(async move {
            let io = custom(self.target.clone())
                .await
                .map_err(ConnectError::Custom)?;
            match self.target.address() {
                #[cfg(feature = "tls")]
                Address::Tls(hp) => {
                    let tls = self.handshake(hp, io).await?;
                    Ok(Stream::Custom(Box::pin(tls)))
                }
                #[cfg(not(feature = "tls"))]
                Address::Tls(_) => Err(ConnectError::TlsUnavailable),
                Address::Unix(_) | Address::Tcp(_) => Ok(Stream::Custom(io)),
            }
        })
    }

    /// The TLS handshake over `io`, with the descriptor's TLS settings.
    #[cfg(feature = "tls")]
    async fn handshake<S>(
        &self,
        hp: &HostPort,
        io: S,
    ) -> Result<tokio_rustls::client::TlsStream<S>, ConnectError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let tls = self.tls.as_ref().ok_or(ConnectError::TlsUnavailable)?;
        if tls.insecure {
            tracing::warn!(
                "connecting to {} WITHOUT verifying its certificate: its descriptor says InsecureSkipVerify",
                self.target
            );
        }
        tls.connector
            .connect(tls.server_name.clone(), io)
            .await
            .map_err(|e| {
                let reason = crate::tls::handshake_failure(&e, hp.host());
                ConnectError::Tls(Arc::new(e), reason)
            })
    }
}

async fn tcp(hp: &HostPort) -> Result<TcpStream, ConnectError> {
    let stream = TcpStream::connect((hp.host(), hp.port()))
        .await
        .map_err(|e| ConnectError::Io(Arc::new(e)))?;
    stream
        .set_nodelay(true)
        .map_err(|e| ConnectError::Io(Arc::new(e)))?;
    Ok(stream)
}

/// One open connection.
#[derive(Debug)]
pub(crate) struct Conn {
    io: TokioIo<Stream>,
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// The byte stream under a connection.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// A custom connector's stream (TLS over it for `https://`).
    Custom(BoxIo),
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unix(_) => "Stream::Unix",
            Self::Tcp(_) => "Stream::Tcp",
            #[cfg(feature = "tls")]
            Self::Tls(_) => "Stream::Tls",
            Self::Custom(_) => "Stream::Custom",
        })
    }
}

/// Forwards a call to whichever stream this is.
macro_rules! each_stream {
    ($self:ident, $s:ident => $call:expr) => {
        match $self.get_mut() {
            Stream::Unix($s) => $call,
            Stream::Tcp($s) => $call,
            #[cfg(feature = "tls")]
            Stream::Tls($s) => $call,
            Stream::Custom($s) => $call,
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_shutdown(cx))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Unix(s) => s.is_write_vectored(),
            Self::Tcp(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.is_write_vectored(),
            Self::Custom(s) => s.is_write_vectored(),
        }
    }
}
