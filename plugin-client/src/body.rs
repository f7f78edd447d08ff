//! `RequestBody`: what the client sends, for any service under it.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};

/// A boxed error.
pub use tower::BoxError;

/// The body of a request the client sends: whole bytes (every JSON call, and
/// so retryable) or a stream (`send` with a stream, never retried).
///
/// Services under a [`Client`](crate::Client) receive
/// `http::Request<RequestBody>`.
pub struct RequestBody {
    kind: Kind,
}

enum Kind {
    Full(Bytes),
    Stream(UnsyncBoxBody<Bytes, BoxError>),
}

impl RequestBody {
    /// No body (`Content-Length: 0`), as Docker sends for calls without
    /// arguments.
    pub fn empty() -> Self {
        Self::from_bytes(Bytes::new())
    }

    /// These bytes.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self {
            kind: Kind::Full(bytes.into()),
        }
    }

    /// A body read from a stream of chunks (sent chunked).
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let frames = stream.map(|chunk| chunk.map(Frame::data).map_err(Into::into));
        Self {
            kind: Kind::Stream(StreamBody::new(frames).boxed_unsync()),
        }
    }

    /// The bytes, when the body is whole.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full(bytes) => Some(bytes),
            Kind::Stream(_) => None,
        }
    }

    /// A copy, when the body is whole (a stream can be sent only once).
    pub(crate) fn try_clone(&self) -> Option<Self> {
        self.as_bytes().map(|bytes| Self::from_bytes(bytes.clone()))
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<&'static [u8]> for RequestBody {
    fn from(bytes: &'static [u8]) -> Self {
        Self::from_bytes(Bytes::from_static(bytes))
    }
}

impl From<&str> for RequestBody {
    fn from(text: &str) -> Self {
        Self::from_bytes(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<String> for RequestBody {
    fn from(text: String) -> Self {
        Self::from_bytes(text)
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(bytes) => f.debug_tuple("RequestBody").field(&bytes.len()).finish(),
            Kind::Stream(_) => f.write_str("RequestBody(stream)"),
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => {
                if bytes.is_empty() {
                    return Poll::Ready(None);
                }
                let data = std::mem::take(bytes);
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Kind::Stream(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_empty(),
            Kind::Stream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => {
                SizeHint::with_exact(u64::try_from(bytes.len()).unwrap_or(u64::MAX))
            }
            Kind::Stream(body) => body.size_hint(),
        }
    }
}
