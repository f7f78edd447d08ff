//! `ResponseBody`: a plugin's response body, bounded as it streams.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use sync_wrapper::SyncWrapper;

use std::sync::Arc;

use crate::error::TransportError;
use crate::pool::Pooled;
use crate::transport::Shared;

/// The body of a plugin's response.
///
/// Frames are passed on as they arrive; nothing is buffered here. Once more
/// bytes than the limit have arrived (or the `Content-Length` announces more),
/// the next frame is [`TransportError::BodyTooLarge`] and the body ends; the
/// connection is then closed, not reused.
///
/// The body is read over a connection lent to it alone: reading it to the end
/// returns the connection to the pool, and dropping it before the end closes
/// the connection.
pub struct ResponseBody {
    inner: Incoming,
    limit: Option<u64>,
    seen: u64,
    done: bool,
    /// The transport's: its target names errors, its pool takes the
    /// connection back. (Moved here from the call, not cloned: a reference
    /// count every thread's calls touch costs a cache line's trip between
    /// cores.)
    transport: Arc<Shared>,
    /// The connection the answer comes on, lent until the body ends.
    // `SyncWrapper`: hyper's connection is `Send` but not `Sync`, and the body
    // only ever touches it through `&mut self`.
    lease: SyncWrapper<Option<Pooled>>,
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("target", &self.transport.target)
            .field("limit", &self.limit)
            .field("seen", &self.seen)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ResponseBody {
    pub(crate) fn new(
        inner: Incoming,
        limit: Option<u64>,
        transport: Arc<Shared>,
        lease: Option<Pooled>,
    ) -> Self {
        let declared = inner.size_hint().exact();
        let over = matches!((declared, limit), (Some(len), Some(limit)) if len > limit);
        Self {
            inner,
            limit,
            // A declared length over the limit fails at the first read, unread.
            seen: if over { u64::MAX } else { 0 },
            done: false,
            transport,
            lease: SyncWrapper::new(lease),
        }
    }

    /// The body ended (`whole`: all of it was read): the connection goes back
    /// to the pool, or is closed.
    fn finish(&mut self, whole: bool) {
        self.done = true;
        if let Some(pooled) = self.lease.get_mut().take() {
            if whole {
                self.transport.pool.checkin(pooled);
            }
        }
    }

    fn too_large(&mut self, limit: u64) -> TransportError {
        self.finish(false);
        TransportError::BodyTooLarge {
            target: self.transport.target.clone(),
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
        let inner = &mut this.inner;
        let polled = match this.lease.get_mut() {
            Some(pooled) => pooled.poll_with(cx, |_, cx| Pin::new(&mut *inner).poll_frame(cx)),
            None => Pin::new(&mut *inner).poll_frame(cx),
        };
        match ready!(polled) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
                    this.seen = this.seen.saturating_add(len);
                    if let Some(limit) = this.limit.filter(|limit| this.seen > *limit) {
                        return Poll::Ready(Some(Err(this.too_large(limit))));
                    }
                }
                if this.inner.is_end_stream() {
                    this.finish(true);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(source)) => {
                this.finish(false);
                Poll::Ready(Some(Err(TransportError::Body {
                    target: this.transport.target.clone(),
                    received: this.seen,
                    what: body_failure(&source),
                    source: Box::new(source),
                })))
            }
            None => {
                this.finish(true);
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

impl Drop for ResponseBody {
    fn drop(&mut self) {
        // Dropped unread: the connection is reusable only if nothing was left.
        let whole = !self.done && self.inner.is_end_stream();
        self.finish(whole);
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
