//! `ResponseBody`: a plugin's response body, bounded as it streams.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::error::TransportError;
use crate::target::Target;

/// The body of a plugin's response.
///
/// Frames are passed on as they arrive; nothing is buffered here. Once more
/// bytes than the limit have arrived (or the `Content-Length` announces more),
/// the next frame is [`TransportError::BodyTooLarge`] and the body ends; the
/// connection is then closed, not reused.
#[derive(Debug)]
pub struct ResponseBody {
    inner: Incoming,
    limit: Option<u64>,
    seen: u64,
    done: bool,
    target: Target,
}

impl ResponseBody {
    pub(crate) fn new(inner: Incoming, limit: Option<u64>, target: Target) -> Self {
        let declared = inner.size_hint().exact();
        let over = matches!((declared, limit), (Some(len), Some(limit)) if len > limit);
        Self {
            inner,
            limit,
            // A declared length over the limit fails at the first read, unread.
            seen: if over { u64::MAX } else { 0 },
            done: false,
            target,
        }
    }

    fn too_large(&mut self, limit: u64) -> TransportError {
        self.done = true;
        TransportError::BodyTooLarge {
            target: self.target.clone(),
            limit,
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = TransportError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(limit) = this.limit {
            if this.seen > limit {
                return Poll::Ready(Some(Err(this.too_large(limit))));
            }
        }
        match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
                    this.seen = this.seen.saturating_add(len);
                    if let Some(limit) = this.limit.filter(|limit| this.seen > *limit) {
                        return Poll::Ready(Some(Err(this.too_large(limit))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(source)) => {
                this.done = true;
                Poll::Ready(Some(Err(TransportError::Body {
                    target: this.target.clone(),
                    received: this.seen,
                    what: body_failure(&source),
                    source: Box::new(source),
                })))
            }
            None => {
                this.done = true;
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What broke the answer's body, in words: hyper says only "error reading a
/// body from connection".
fn body_failure(error: &hyper::Error) -> String {
    // Our words only: hyper's and the I/O error's are the source chain.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(err) = source {
        if err.is::<std::io::Error>() {
            return "the connection broke before the whole answer came; the plugin may have stopped, restarted or crashed".to_owned();
        }
        source = err.source();
    }
    if error.is_incomplete_message()
        || std::error::Error::source(error).is_none()
        || error.is_closed()
    {
        "the connection closed before the whole answer came; the plugin may have stopped, restarted or crashed".to_owned()
    } else {
        "reading the answer failed".to_owned()
    }
}
