//! Call metrics through the [`metrics`] facade (feature `metrics`).
//!
//! [`CallMetricsLayer`] goes over any service a [`Client`](crate::Client)
//! calls through (a [`Transport`](crate::Transport), or a stack on it) and
//! records each call once, when its answer has been read to the end, failed,
//! or been given up:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `plugin_host_calls_total` | counter | `plugin`, `method`, `outcome` |
//! | `plugin_host_call_duration_seconds` | histogram | `plugin`, `method`, `outcome` |
//!
//! `outcome` is one of [`Outcome::as_str`]'s values. The application picks
//! the exporter (metrics-exporter-prometheus, say); with no recorder
//! installed, recording costs a few instructions. A registry built with the
//! `metrics` feature of plugin-registry records these for every plugin
//! itself.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use plugin_client::Client;
//! use plugin_client::metrics::CallMetricsLayer;
//! use tower::ServiceBuilder;
//!
//! // An in-memory plugin stands in for a transport here.
//! # let plugin = plugin_server::PluginServer::new("sshfs".parse()?).implements("VolumeDriver");
//! let service = ServiceBuilder::new()
//!     .layer(CallMetricsLayer::new("sshfs".parse()?))
//!     .service(plugin);
//! let client = Client::new("sshfs".parse()?, service);
//! client.activate().await?; // plugin_host_calls_total{plugin="sshfs",method="Plugin.Activate",outcome="ok"} 1
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use metrics::{Counter, Histogram, Key, Label, Metadata, SharedString};
use plugin_spec::PluginName;
use tower::{Layer, Service};

use crate::body::BoxError;
use crate::error::transport_error;

/// Calls, by `plugin`, `method` and `outcome` (counter).
pub const CALLS_TOTAL: &str = "plugin_host_calls_total";
/// How long calls took, from sending to the answer's end, in seconds, by
/// `plugin`, `method` and `outcome` (histogram).
pub const CALL_DURATION_SECONDS: &str = "plugin_host_call_duration_seconds";

/// Describes the call metrics (help text and unit) to the installed
/// recorder, for exporters that show them. Call it once, after installing
/// the recorder.
pub fn describe() {
    metrics::describe_counter!(
        CALLS_TOTAL,
        metrics::Unit::Count,
        "Calls to plugins, by plugin, method and outcome."
    );
    metrics::describe_histogram!(
        CALL_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "How long calls to plugins took, from sending to the end of the answer."
    );
}

/// How a call ended: the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// A 200 answer, read to its end.
    Ok,
    /// The plugin answered with an error status other than 404.
    PluginError,
    /// The plugin answered 404: it does not implement the method.
    NotImplemented,
    /// The plugin could not be reached: no byte of the request was sent.
    Connect,
    /// A connect or response timeout, the client's call timeout, or a tower
    /// timeout layer's.
    Timeout,
    /// A TLS problem (handshake, files, setup).
    Tls,
    /// The answer was over the body limit.
    BodyTooLarge,
    /// The connection broke, or the answer was not valid HTTP.
    Transport,
    /// The caller stopped waiting before the call ended (the call was
    /// dropped), before any deadline the client set.
    Cancelled,
    /// The answer could not be decoded, or the request could not be made
    /// (reported for a [`ClientError`](crate::ClientError) only: the layer
    /// does not decode).
    Invalid,
}

impl Outcome {
    /// How many outcomes there are.
    const COUNT: usize = 10;

    /// The label value: `ok`, `plugin_error`, `not_implemented`, `connect`,
    /// `timeout`, `tls`, `body_too_large`, `transport`, `cancelled` or
    /// `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::PluginError => "plugin_error",
            Self::NotImplemented => "not_implemented",
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Tls => "tls",
            Self::BodyTooLarge => "body_too_large",
            Self::Transport => "transport",
            Self::Cancelled => "cancelled",
            Self::Invalid => "invalid",
        }
    }

    /// The outcome of an answer with `status`.
    pub fn of_status(status: StatusCode) -> Self {
        match status {
            StatusCode::OK => Self::Ok,
            StatusCode::NOT_FOUND => Self::NotImplemented,
            _ => Self::PluginError,
        }
    }

    /// The outcome of a call that failed with `error`: a timeout when a tower
    /// timeout layer gave up, else from the transport error in its chain.
    pub fn of_error(error: &(dyn StdError + 'static)) -> Self {
        if crate::error::is_elapsed(error) {
            return Self::Timeout;
        }
        match transport_error(error) {
            Some(e) if e.is_tls() => Self::Tls,
            Some(e) if e.is_timeout() => Self::Timeout,
            Some(e) if e.is_connect() => Self::Connect,
            Some(e) if e.is_body_too_large() => Self::BodyTooLarge,
            _ => Self::Transport,
        }
    }
}

impl Outcome {
    /// The outcome a client's error stands for.
    pub fn of_client_error(error: &crate::ClientError) -> Self {
        use crate::ClientError;
        match error {
            ClientError::Status { status, .. } => Self::of_status(*status),
            ClientError::Reported { .. } => Self::PluginError,
            ClientError::Timeout { .. } => Self::Timeout,
            ClientError::Transport { source, .. } => Self::of_error(source.as_ref()),
            _ => Self::Invalid,
        }
    }
}

// Every outcome indexes `MethodKeys::outcomes`: the last is `COUNT - 1`.
const _: () = assert!(Outcome::Invalid as usize + 1 == Outcome::COUNT);

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

thread_local! {
    /// Set while the client drops a call it gave up on at its deadline: a
    /// meter dropped then records `timeout`, at any other time `cancelled`.
    static AT_DEADLINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `drop_call` (which drops a call's future) as the client's deadline
/// passing: the meters it drops record `timeout`.
pub(crate) fn at_deadline(drop_call: impl FnOnce()) {
    AT_DEADLINE.with(|flag| {
        flag.set(true);
        drop_call();
        flag.set(false);
    });
}

/// One call being measured, recorded once: when [`answered`](Self::answered)
/// gives its answer a body that records it at its end, when it
/// [`failed`](Self::failed), or when dropped unfinished (`timeout` when a
/// [`Client`](crate::Client) drops it at its call timeout, `cancelled`
/// otherwise). [`CallMetrics`] uses it; so
/// can a service of your own.
pub struct CallMeter {
    keys: Arc<MethodKeys>,
    started: Instant,
    done: bool,
}

impl fmt::Debug for CallMeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallMeter")
            .field("plugin", &self.keys.plugin)
            .field("method", &self.keys.method)
            .finish_non_exhaustive()
    }
}

impl CallMeter {
    /// Starts measuring `request`, a call made through `layer`'s plugin.
    pub fn start<B>(layer: &CallMetricsLayer, request: &Request<B>) -> Self {
        let path = request.uri().path();
        Self {
            keys: layer.keys(path.strip_prefix('/').unwrap_or(path)),
            started: Instant::now(),
            done: false,
        }
    }

    /// The answer came: its body records the call when it ends.
    pub fn answered<B>(self, response: Response<B>) -> Response<MeteredBody<B>> {
        let status = Outcome::of_status(response.status());
        response.map(|body| MeteredBody {
            inner: body,
            meter: Some(self),
            status,
        })
    }

    /// The call failed with `error`.
    pub fn failed(self, error: &(dyn StdError + 'static)) {
        self.finish(Outcome::of_error(error));
    }

    fn finish(mut self, outcome: Outcome) {
        self.record(outcome);
    }

    fn record(&mut self, outcome: Outcome) {
        self.done = true;
        let elapsed = self.started.elapsed().as_secs_f64();
        metrics::with_recorder(|recorder| {
            self.keys
                .with_handles(outcome, recorder, |counter, histogram| {
                    histogram.record(elapsed);
                    counter.increment(1);
                });
        });
    }
}

/// Where the call metrics come from, for recorders that filter on it.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// One method's metrics, per outcome: their keys (name and labels), made on
/// first use, and the handles the recorder gave for them. A call then costs
/// two atomic updates, not the building of keys and the recorder's lookup of
/// them (four times the instructions of the call's own layers, measured with
/// a Prometheus recorder).
struct MethodKeys {
    plugin: SharedString,
    method: SharedString,
    outcomes: [Slot; Outcome::COUNT],
}

#[derive(Default)]
struct Slot {
    keys: OnceLock<(Key, Key)>,
    /// The handles, and the recorder they came from (its address): another
    /// recorder (one installed after the first calls, a test's local one)
    /// gets its own.
    handles: RwLock<Option<(usize, Counter, Histogram)>>,
}

impl MethodKeys {
    fn with_handles(
        &self,
        outcome: Outcome,
        recorder: &dyn metrics::Recorder,
        record: impl FnOnce(&Counter, &Histogram),
    ) {
        // In bounds: every outcome's discriminant is below `COUNT` (checked
        // at compile time beside it).
        #[allow(clippy::indexing_slicing)]
        let slot = &self.outcomes[outcome as usize];
        let id = std::ptr::from_ref(recorder).cast::<()>() as usize;
        if let Some((from, counter, histogram)) =
            &*slot.handles.read().unwrap_or_else(PoisonError::into_inner)
        {
            if *from == id {
                record(counter, histogram);
                return;
            }
        }
        let (counter_key, histogram_key) = slot.keys.get_or_init(|| {
            let labels = vec![
                Label::new("plugin", self.plugin.clone()),
                Label::new("method", self.method.clone()),
                Label::new("outcome", outcome.as_str()),
            ];
            (
                Key::from_parts(CALLS_TOTAL, labels.clone()),
                Key::from_parts(CALL_DURATION_SECONDS, labels),
            )
        });
        let counter = recorder.register_counter(counter_key, &METADATA);
        let histogram = recorder.register_histogram(histogram_key, &METADATA);
        record(&counter, &histogram);
        *slot.handles.write().unwrap_or_else(PoisonError::into_inner) =
            Some((id, counter, histogram));
    }
}

impl Drop for CallMeter {
    fn drop(&mut self) {
        if !self.done {
            self.record(if AT_DEADLINE.with(std::cell::Cell::get) {
                Outcome::Timeout
            } else {
                Outcome::Cancelled
            });
        }
    }
}

/// Records [`CALLS_TOTAL`] and [`CALL_DURATION_SECONDS`] for every call
/// through the service it wraps, labelled with the plugin it was made for.
/// Clones share the keys made for each method.
#[derive(Clone)]
pub struct CallMetricsLayer {
    plugin: SharedString,
    methods: Arc<RwLock<HashMap<Box<str>, Arc<MethodKeys>>>>,
}

impl fmt::Debug for CallMetricsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallMetricsLayer")
            .field("plugin", &self.plugin)
            .finish_non_exhaustive()
    }
}

impl CallMetricsLayer {
    /// For calls to `plugin`.
    pub fn new(plugin: PluginName) -> Self {
        Self {
            plugin: SharedString::from(String::from(plugin.as_str())),
            methods: Arc::default(),
        }
    }

    /// The keys of `method`'s metrics, made on its first call.
    fn keys(&self, method: &str) -> Arc<MethodKeys> {
        if let Some(keys) = self
            .methods
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(method)
        {
            return Arc::clone(keys);
        }
        let mut methods = self.methods.write().unwrap_or_else(PoisonError::into_inner);
        let keys = methods.entry(method.into()).or_insert_with(|| {
            Arc::new(MethodKeys {
                plugin: self.plugin.clone(),
                method: SharedString::from(method.to_owned()),
                outcomes: Default::default(),
            })
        });
        Arc::clone(keys)
    }
}

impl<S> Layer<S> for CallMetricsLayer {
    type Service = CallMetrics<S>;

    fn layer(&self, inner: S) -> CallMetrics<S> {
        CallMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`CallMetricsLayer`] makes.
#[derive(Debug, Clone)]
pub struct CallMetrics<S> {
    inner: S,
    layer: CallMetricsLayer,
}

impl<S, ReqBody, B> Service<Request<ReqBody>> for CallMetrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = Response<MeteredBody<B>>;
    type Error = BoxError;
    type Future = CallMetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let meter = CallMeter::start(&self.layer, &request);
        CallMetricsFuture {
            inner: self.inner.call(request),
            meter: Some(meter),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`CallMetrics`] call.
    pub struct CallMetricsFuture<F> {
        #[pin]
        inner: F,
        meter: Option<CallMeter>,
    }
}

impl<F> fmt::Debug for CallMetricsFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallMetricsFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for CallMetricsFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<MeteredBody<B>>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let meter = this.meter.take();
        Poll::Ready(match (result, meter) {
            (Ok(response), Some(meter)) => Ok(meter.answered(response)),
            (Ok(response), None) => Ok(response.map(MeteredBody::unmetered)),
            (Err(error), meter) => {
                let error = error.into();
                if let Some(meter) = meter {
                    meter.failed(error.as_ref());
                }
                Err(error)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// An answer's body that records its call when it ends, fails, or is
    /// dropped. Without a meter it only passes the body on.
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        meter: Option<CallMeter>,
        status: Outcome,
    }

    impl<B> PinnedDrop for MeteredBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // An error answer's body is read only as far as the client needs
            // (its error body limit); a 200 not read to its end was given up,
            // which the meter records as it drops.
            if *this.status != Outcome::Ok {
                if let Some(meter) = this.meter.take() {
                    meter.finish(*this.status);
                }
            }
        }
    }
}

impl<B> MeteredBody<B> {
    /// `body` as it is, recorded by nobody.
    pub fn unmetered(body: B) -> Self {
        Self {
            inner: body,
            meter: None,
            status: Outcome::Ok,
        }
    }
}

impl<B> fmt::Debug for MeteredBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeteredBody")
            .field("metered", &self.meter.is_some())
            .finish_non_exhaustive()
    }
}

impl<B> Body for MeteredBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        match &frame {
            None => {
                if let Some(meter) = this.meter.take() {
                    meter.finish(*this.status);
                }
            }
            Some(Err(_)) => {}
            Some(Ok(_)) => {
                // The last frame: a reader that stops at the body's length,
                // without polling for its end, has still read it all.
                if this.inner.is_end_stream() {
                    if let Some(meter) = this.meter.take() {
                        meter.finish(*this.status);
                    }
                }
                return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
            }
        }
        Poll::Ready(frame.map(|f| {
            f.map_err(|error| {
                let error: BoxError = error.into();
                if let Some(meter) = this.meter.take() {
                    meter.failed(error.as_ref());
                }
                error
            })
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
