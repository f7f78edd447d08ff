//! `PluginService`: the service under every plugin's client: the transport, or
//! the transport under the registry's layer; it marks the plugin stale when a
//! call's connection fails or breaks.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http::{Request, Response};
use plugin_client::{BoxError, RequestBody};
use plugin_transport::{ResponseBody, ResponseFuture, Transport, TransportError};
use tower::Service;
use tower::util::BoxCloneSyncService;

/// A layered transport, boxed so that every plugin's client has one type.
pub(crate) type Layered =
    BoxCloneSyncService<Request<RequestBody>, Response<ResponseBody>, BoxError>;

/// The service a registry's plugin clients call through.
#[derive(Clone)]
pub struct PluginService {
    inner: Inner,
    stale: Arc<AtomicBool>,
}

#[derive(Clone)]
enum Inner {
    Plain(Transport),
    Layered(Layered),
}

impl fmt::Debug for PluginService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layered = matches!(self.inner, Inner::Layered(_));
        f.debug_struct("PluginService")
            .field("layered", &layered)
            .field("stale", &self.stale.load(Ordering::Relaxed))
            .finish()
    }
}

impl PluginService {
    pub(crate) fn plain(transport: Transport, stale: Arc<AtomicBool>) -> Self {
        Self {
            inner: Inner::Plain(transport),
            stale,
        }
    }

    pub(crate) fn layered(service: Layered, stale: Arc<AtomicBool>) -> Self {
        Self {
            inner: Inner::Layered(service),
            stale,
        }
    }
}

impl Service<Request<RequestBody>> for PluginService {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = PluginFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match &mut self.inner {
            Inner::Plain(transport) => {
                <Transport as Service<Request<RequestBody>>>::poll_ready(transport, cx)
                    .map_err(Into::into)
            }
            Inner::Layered(service) => service.poll_ready(cx),
        }
    }

    fn call(&mut self, request: Request<RequestBody>) -> PluginFuture {
        let kind = match &mut self.inner {
            Inner::Plain(transport) => Kind::Plain(transport.call(request)),
            Inner::Layered(service) => Kind::Layered(service.call(request)),
        };
        PluginFuture {
            kind,
            stale: Arc::clone(&self.stale),
        }
    }
}

/// The future of a [`PluginService`] call.
pub struct PluginFuture {
    kind: Kind,
    stale: Arc<AtomicBool>,
}

enum Kind {
    Plain(ResponseFuture),
    Layered(Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, BoxError>> + Send>>),
}

impl fmt::Debug for PluginFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginFuture").finish_non_exhaustive()
    }
}

impl Future for PluginFuture {
    type Output = Result<Response<ResponseBody>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = match &mut this.kind {
            Kind::Plain(future) => Pin::new(future).poll(cx).map_err(Into::into),
            Kind::Layered(future) => future.as_mut().poll(cx),
        };
        if let Poll::Ready(Err(error)) = &result {
            if is_connection_failure(error.as_ref()) {
                this.stale.store(true, Ordering::Release);
            }
        }
        result
    }
}

/// Whether an error says the connection to the plugin failed or broke (a
/// [`TransportError`] somewhere in its chain).
fn is_connection_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(err) = current {
        if let Some(transport) = err.downcast_ref::<TransportError>() {
            return transport.is_connection_failure();
        }
        current = err.source();
    }
    false
}
