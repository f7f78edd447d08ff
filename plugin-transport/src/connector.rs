//! Opening connections to the one address a transport serves: a unix socket,
//! TCP (with `TCP_NODELAY`), or TLS over TCP; all within the connect timeout.

use std::fmt;
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

use crate::config::ConnectionInfo;
use crate::target::Target;
#[cfg(feature = "tls")]
use crate::tls::TlsSetup;

/// Opens each new connection of a transport, to its one plugin.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    target: Target,
    /// `None`: no timeout of its own.
    connect_timeout: Option<Duration>,
    #[cfg(feature = "tls")]
    tls: Option<TlsSetup>,
    next_id: AtomicU64,
}

impl Connector {
    pub(crate) fn new(
        target: Target,
        connect_timeout: Option<Duration>,
        #[cfg(feature = "tls")] tls: Option<TlsSetup>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                target,
                connect_timeout,
                #[cfg(feature = "tls")]
                tls,
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
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Timeout(after) => write!(f, "connect timed out after {after:?}"),
            Self::Tls(_, reason) => write!(f, "TLS handshake failed: {reason}"),
            Self::TlsUnavailable => f.write_str("TLS is not available in this build"),
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
        match self.target.address() {
            Address::Unix(path) => UnixStream::connect(path.as_path())
                .await
                .map(Stream::Unix)
                .map_err(|e| ConnectError::Io(Arc::new(e))),
            Address::Tcp(hp) => tcp(hp).await.map(Stream::Tcp),
            Address::Tls(hp) => self.tls(hp).await,
        }
    }

    #[cfg(feature = "tls")]
    async fn tls(&self, hp: &HostPort) -> Result<Stream, ConnectError> {
        let tls = self.tls.as_ref().ok_or(ConnectError::TlsUnavailable)?;
        let tcp = tcp(hp).await?;
        if tls.insecure {
            tracing::warn!(
                "connecting to {} WITHOUT verifying its certificate: its descriptor says InsecureSkipVerify",
                self.target
            );
        }
        let stream = tls
            .connector
            .connect(tls.server_name.clone(), tcp)
            .await
            .map_err(|e| {
                let reason = crate::tls::handshake_failure(&e, hp.host());
                ConnectError::Tls(Arc::new(e), reason)
            })?;
        Ok(Stream::Tls(Box::new(stream)))
    }

    #[cfg(not(feature = "tls"))]
    async fn tls(&self, _hp: &HostPort) -> Result<Stream, ConnectError> {
        Err(ConnectError::TlsUnavailable)
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
#[derive(Debug)]
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Forwards a call to whichever stream this is.
macro_rules! each_stream {
    ($self:ident, $s:ident => $call:expr) => {
        match $self.get_mut() {
            Stream::Unix($s) => $call,
            Stream::Tcp($s) => $call,
            #[cfg(feature = "tls")]
            Stream::Tls($s) => $call,
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
        }
    }
}
