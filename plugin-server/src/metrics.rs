//! Server metrics through the [`metrics`] facade (feature `metrics`); the
//! plugin's application picks the exporter.
//!
//! A server started with `serve_*` records these itself:
//!
//! | name | type | labels | what |
//! | --- | --- | --- | --- |
//! | [`REQUESTS_TOTAL`] | counter | `plugin`, `method`, `status` | requests answered |
//! | [`REQUEST_DURATION_SECONDS`] | histogram | `plugin`, `method`, `status` | from the request's head to the answer's head (the handler, and any layers) |
//! | [`CONNECTIONS_OPEN`] | gauge | `plugin` | connections being served |
//! | [`CONNECTIONS_AT_LIMIT_TOTAL`] | counter | `plugin` | times every connection slot was taken ([`max_connections`](crate::PluginServer::max_connections)): further connections wait, unaccepted, in the listen backlog until one closes |
//!
//! `method` is the method called when the plugin has it (or it is
//! `Plugin.Activate`), and `other` for any other path, so a client cannot
//! grow the label set; `status` is the HTTP status code (`200`, `404`, ...).
//!
//! [`RequestMetricsLayer`] records the first two for a [`PluginServer`] used
//! as a tower service inside a server of your own (do not add it to one you
//! `serve_*`: that would count each request twice).

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use metrics::SharedString;
use tower::{Layer, Service};

use crate::server::{Inner, PluginServer};

/// Requests answered, by `plugin`, `method` and `status` (counter).
pub const REQUESTS_TOTAL: &str = "plugin_server_requests_total";
/// From a request's head to its answer's head, in seconds, by `plugin`,
/// `method` and `status` (histogram).
pub const REQUEST_DURATION_SECONDS: &str = "plugin_server_request_duration_seconds";
/// Connections being served, by `plugin` (gauge).
pub const CONNECTIONS_OPEN: &str = "plugin_server_connections_open";
/// Times every connection slot was taken, by `plugin` (counter).
pub const CONNECTIONS_AT_LIMIT_TOTAL: &str = "plugin_server_connections_at_limit_total";

/// Describes the server metrics (help text and unit) to the installed
/// recorder, for exporters that show them. Call it once, after installing
/// the recorder.
pub fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        Unit::Count,
        "Requests answered, by method and status."
    );
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "From a request's head to its answer's head."
    );
    metrics::describe_gauge!(CONNECTIONS_OPEN, Unit::Count, "Connections being served.");
    metrics::describe_counter!(
        CONNECTIONS_AT_LIMIT_TOTAL,
        Unit::Count,
        "Times a connection took the last free slot: further connections wait in the listen backlog."
    );
}

/// The labels a server's requests are recorded with: its name, and the
/// methods it knows.
#[derive(Clone)]
pub(crate) struct Labels {
    plugin: SharedString,
    methods: Arc<HashSet<String>>,
}

impl Labels {
    pub(crate) fn of(inner: &Inner) -> Self {
        let mut methods: HashSet<String> = inner.routes.keys().cloned().collect();
        methods.insert(crate::ACTIVATE.to_owned());
        Self {
            plugin: SharedString::from(inner.name.as_str().to_owned()),
            methods: Arc::new(methods),
        }
    }

    /// Starts timing a request to `path`.
    pub(crate) fn start(&self, path: &str) -> Timing {
        let method = path.strip_prefix('/').unwrap_or(path);
        let method = if self.methods.contains(method) {
            SharedString::from(method.to_owned())
        } else {
            SharedString::const_str("other")
        };
        Timing {
            plugin: self.plugin.clone(),
            method,
            started: Instant::now(),
        }
    }

    pub(crate) fn plugin(&self) -> &SharedString {
        &self.plugin
    }
}

/// One request being timed.
pub(crate) struct Timing {
    plugin: SharedString,
    method: SharedString,
    started: Instant,
}

impl Timing {
    pub(crate) fn answered(self, status: http::StatusCode) {
        let labels = [
            ("plugin", self.plugin),
            ("method", self.method),
            ("status", SharedString::from(status.as_str().to_owned())),
        ];
        metrics::histogram!(REQUEST_DURATION_SECONDS, &labels)
            .record(self.started.elapsed().as_secs_f64());
        metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    }
}

/// One connection in [`CONNECTIONS_OPEN`] while it lives.
pub(crate) struct OpenConnection(metrics::Gauge);

impl OpenConnection {
    pub(crate) fn new(labels: &Labels) -> Self {
        let gauge = metrics::gauge!(CONNECTIONS_OPEN, "plugin" => labels.plugin().clone());
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

pub(crate) fn at_limit(labels: &Labels) {
    metrics::counter!(CONNECTIONS_AT_LIMIT_TOTAL, "plugin" => labels.plugin().clone()).increment(1);
}

/// Records [`REQUESTS_TOTAL`] and [`REQUEST_DURATION_SECONDS`] for each
/// request through the service it wraps, labelled as `server` labels them.
#[derive(Clone)]
pub struct RequestMetricsLayer {
    labels: Labels,
}

impl fmt::Debug for RequestMetricsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestMetricsLayer")
            .field("plugin", &self.labels.plugin)
            .finish_non_exhaustive()
    }
}

impl RequestMetricsLayer {
    /// For requests to `server`: its name, and its methods as the `method`
    /// label's values.
    pub fn new(server: &PluginServer) -> Self {
        Self {
            labels: Labels::of(&server.inner),
        }
    }
}

impl<S> Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    fn layer(&self, inner: S) -> RequestMetrics<S> {
        RequestMetrics {
            inner,
            labels: self.labels.clone(),
        }
    }
}

/// The service [`RequestMetricsLayer`] makes.
#[derive(Clone)]
pub struct RequestMetrics<S> {
    inner: S,
    labels: Labels,
}

impl<S> fmt::Debug for RequestMetrics<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestMetrics")
            .field("plugin", &self.labels.plugin)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestMetrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let timing = self.labels.start(request.uri().path());
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answered = answer.await;
            if let Ok(response) = &answered {
                timing.answered(response.status());
            }
            answered
        })
    }
}
