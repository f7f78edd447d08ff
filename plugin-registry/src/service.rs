//! `PluginService`: the service under every plugin's client: the transport, or
//! the transport under the registry's layers; it marks the plugin stale when a
//! call's connection fails or breaks, and meters calls (feature `metrics`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use plugin_client::{BoxError, RequestBody};
use plugin_spec::PluginName;
use plugin_transport::{ResponseBody, ResponseFuture, Transport, TransportError};
use tower::Service;
use tower::util::BoxCloneSyncService;

use crate::events::{Events, RegistryEvent, StaleReason};

/// What a plugin's handles and its service share: whether it is stale, and
/// where to tell of it.
pub(crate) struct Shared {
    pub(crate) name: PluginName,
    stale: AtomicBool,
    /// Set once its activation succeeded: a failure during the activation
    /// itself is the activation's, not a staleness to tell of.
    active: AtomicBool,
    pub(crate) events: Events,
    #[cfg(feature = "metrics")]
    calls: Option<plugin_client::metrics::CallMetricsLayer>,
}

impl Shared {
    pub(crate) fn new(name: PluginName, events: Events, metered: bool) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = metered;
        Self {
            #[cfg(feature = "metrics")]
            calls: metered.then(|| plugin_client::metrics::CallMetricsLayer::new(name.clone())),
            name,
            stale: AtomicBool::new(false),
            active: AtomicBool::new(false),
            events,
        }
    }

    pub(crate) fn is_stale(&self) -> bool {
        self.stale.load(Ordering::Acquire)
    }

    /// The activation succeeded: an attempt of it that failed to connect
    /// (and was retried) does not leave the plugin stale.
    pub(crate) fn activated(&self) {
        self.stale.store(false, Ordering::Release);
        self.active.store(true, Ordering::Release);
    }

    /// Marks the plugin stale, telling of it the first time (once active).
    pub(crate) fn mark_stale(&self, reason: StaleReason) {
        if !self.stale.swap(true, Ordering::AcqRel) && self.active.load(Ordering::Acquire) {
            tracing::debug!(plugin = %self.name, %reason, "plugin marked stale");
            crate::record::stale(&self.name, reason.as_str());
            self.events.emit(|| RegistryEvent::Stale {
                name: self.name.clone(),
                reason,
            });
        }
    }
}

/// A plugin's transport under the layers added before, boxed: the service
/// each [`RegistryBuilder::layer`](crate::RegistryBuilder::layer) wraps, and
/// what the whole stack is kept as, so that every plugin's client has one
/// type.
///
/// A `BoxCloneSyncService` (tower's) rather than a `BoxCloneService`: every
/// caller shares one [`Plugin`](crate::Plugin) and calls through `&self`,
/// so the stack must be `Sync` (a `BoxCloneService` would need a lock per
/// call). Its error is boxed: a layer that looks for the transport's
/// [`TransportError`] downcasts it.
pub type BoxTransport = BoxCloneSyncService<Request<RequestBody>, Response<ResponseBody>, BoxError>;

/// The service a registry's plugin clients call through.
#[derive(Clone)]
pub struct PluginService {
    inner: Inner,
    shared: Arc<Shared>,
}

#[derive(Clone)]
enum Inner {
    Plain(Transport),
    Layered(BoxTransport),
}

impl fmt::Debug for PluginService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layered = matches!(self.inner, Inner::Layered(_));
        f.debug_struct("PluginService")
            .field("layered", &layered)
            .field("stale", &self.shared.is_stale())
            .finish()
    }
}

impl PluginService {
    pub(crate) fn plain(transport: Transport, shared: Arc<Shared>) -> Self {
        Self {
            inner: Inner::Plain(transport),
            shared,
        }
    }

    pub(crate) fn layered(service: BoxTransport, shared: Arc<Shared>) -> Self {
        Self {
            inner: Inner::Layered(service),
            shared,
        }
    }
}

impl Service<Request<RequestBody>> for PluginService {
    type Response = Response<PluginBody>;
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
        #[cfg(feature = "metrics")]
        let meter = self
            .shared
            .calls
            .as_ref()
            .map(|layer| plugin_client::metrics::CallMeter::start(layer, &request));
        let kind = match &mut self.inner {
            Inner::Plain(transport) => Kind::Plain(transport.call(request)),
            Inner::Layered(service) => Kind::Layered(service.call(request)),
        };
        PluginFuture {
            kind,
            shared: Arc::clone(&self.shared),
            #[cfg(feature = "metrics")]
            meter,
        }
    }
}

/// The future of a [`PluginService`] call.
pub struct PluginFuture {
    kind: Kind,
    shared: Arc<Shared>,
    #[cfg(feature = "metrics")]
    meter: Option<plugin_client::metrics::CallMeter>,
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
    type Output = Result<Response<PluginBody>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = ready!(match &mut this.kind {
            Kind::Plain(future) => Pin::new(future).poll(cx).map_err(Into::into),
            Kind::Layered(future) => future.as_mut().poll(cx),
        });
        Poll::Ready(match result {
            Ok(response) => {
                #[cfg(feature = "metrics")]
                if let Some(meter) = this.meter.take() {
                    return Poll::Ready(Ok(meter
                        .answered(response)
                        .map(|body| PluginBody(BodyKind::Metered(body)))));
                }
                Ok(response.map(|body| PluginBody(BodyKind::Plain(body))))
            }
            Err(error) => {
                #[cfg(feature = "metrics")]
                if let Some(meter) = this.meter.take() {
                    meter.failed(error.as_ref());
                }
                if is_connection_failure(error.as_ref()) {
                    this.shared.mark_stale(StaleReason::Connection);
                }
                Err(error)
            }
        })
    }
}

/// The body of an answer through a [`PluginService`]: the transport's
/// [`ResponseBody`], metered when the registry records call metrics.
pub struct PluginBody(BodyKind);

enum BodyKind {
    Plain(ResponseBody),
    #[cfg(feature = "metrics")]
    Metered(plugin_client::metrics::MeteredBody<ResponseBody>),
}

impl fmt::Debug for PluginBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metered = !matches!(self.0, BodyKind::Plain(_));
        f.debug_struct("PluginBody")
            .field("metered", &metered)
            .finish_non_exhaustive()
    }
}

impl Body for PluginBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().0 {
            BodyKind::Plain(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(Into::into))),
            #[cfg(feature = "metrics")]
            BodyKind::Metered(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            BodyKind::Plain(body) => body.is_end_stream(),
            #[cfg(feature = "metrics")]
            BodyKind::Metered(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            BodyKind::Plain(body) => body.size_hint(),
            #[cfg(feature = "metrics")]
            BodyKind::Metered(body) => body.size_hint(),
        }
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
