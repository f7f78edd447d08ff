//! `PluginServer`: a plugin's name, manifest and method handlers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};

use bytes::Bytes;
use futures_core::Stream;
use plugin_spec::PluginName;
use serde::Serialize;
use serde::de::DeserializeOwned;

use plugin_spec::wire::Manifest;

use crate::body::{RequestBody, ResponseBody};
use crate::handler::{self, BoxError, Caller, HandlerError, Route};

/// The default limit on a request body: 16 MiB.
pub const DEFAULT_MAX_REQUEST_BODY: u64 = 16 * 1024 * 1024;

/// The default limit on open connections per listener: 1024.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The default idle keep-alive timeout: 120 s, longer than the 90 s for which
/// plugin-transport keeps an idle connection, so a host of ours closes first.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// The default time a client has to send a request's headers once it has
/// started: 30 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time a graceful shutdown gives requests in flight: 10 s.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// A plugin: its name, the subsystems it implements (its `Plugin.Activate`
/// answer) and a handler per method. Cheap to clone; serve it on as many
/// listeners as you like ([`serve_unix`](Self::serve_unix),
/// [`serve_tcp`](Self::serve_tcp), [`serve_tls`],
/// [`serve_systemd`](Self::serve_systemd)).
///
/// ```
/// use plugin_server::{HandlerError, PluginName, PluginServer};
///
/// // Reads Docker's `{"Name": "..."}`: keys are matched as Go matches them.
/// #[derive(serde::Deserialize)]
/// struct Greet { name: String }
/// #[derive(serde::Serialize)]
/// struct Greeting { text: String }
///
/// let server = PluginServer::new(PluginName::new("greeter")?)
///     .implements("Greeter")
///     .handle("Greeter.Greet", |req: Greet| async move {
///         Ok::<_, HandlerError>(Greeting { text: format!("hello, {}", req.name) })
///     })
///     .handle_raw("Greeter.Echo", |body: bytes::Bytes| async move { Ok(body) });
/// assert_eq!(server.manifest().implements(), ["Greeter"]);
/// # Ok::<(), plugin_server::SpecError>(())
/// ```
///
/// # What a server holds
///
/// Each listener bounds what clients can make it hold:
///
/// | setting | default | beyond it |
/// | --- | --- | --- |
/// | [`max_connections`](Self::max_connections) | [1024](DEFAULT_MAX_CONNECTIONS) | new connections are not accepted until one closes: they wait in the listen backlog (1024 deep); past that a unix-socket connect fails at once (`EAGAIN`) and a TCP client's kernel retries its SYN. Connections already open go on being answered. |
/// | [`idle_timeout`](Self::idle_timeout) | [120 s](DEFAULT_IDLE_TIMEOUT) | a connection with no request in progress (before its first request, or between keep-alive requests) is closed |
/// | [`header_read_timeout`](Self::header_read_timeout) | [30 s](DEFAULT_HEADER_READ_TIMEOUT) | a client that started a request and has not finished its headers is disconnected |
/// | [`max_request_body`](Self::max_request_body) | [16 MiB](DEFAULT_MAX_REQUEST_BODY) | answered 413 |
///
/// A connection that has sent nothing yet holds no HTTP buffers: hyper's are
/// made when its first bytes arrive.
#[derive(Clone)]
// `serve_tls` exists with feature `tls` only; without it, docs.rs has it.
#[cfg_attr(feature = "tls", doc = "", doc = "[`serve_tls`]: Self::serve_tls")]
#[cfg_attr(
    not(feature = "tls"),
    doc = "",
    doc = "[`serve_tls`]: https://docs.rs/plugin-server/0.1/plugin_server/struct.PluginServer.html#method.serve_tls"
)]
pub struct PluginServer {
    pub(crate) inner: Arc<Inner>,
    /// The layered stack, made once on first use (not in `Inner`, which the
    /// stack's innermost service holds: no cycle).
    stack: Arc<OnceLock<BoxServerService>>,
}

/// The plugin as a boxed tower service: what a layer added with
/// [`PluginServer::layer`] wraps (the plugin with the layers added before it),
/// and what the server keeps of the layer's service in turn. It takes
/// requests with a [`RequestBody`], answers with a [`ResponseBody`], and
/// boxes any error; it is tower's [`BoxCloneSyncService`], so a layer's
/// service must be `Clone + Send + Sync`.
///
/// A layer written by hand names it:
///
/// ```
/// use plugin_server::{BoxServerService, HandlerError, PluginServer, RequestBody};
/// use tower::ServiceExt;
///
/// // Logs each method called, then lets the plugin answer.
/// let logged = tower::layer::layer_fn(|plugin: BoxServerService| {
///     BoxServerService::new(tower::service_fn(move |request: http::Request<RequestBody>| {
///         tracing::info!(method = request.uri().path(), "called");
///         plugin.clone().oneshot(request)
///     }))
/// });
/// let server = PluginServer::new("echo".parse()?)
///     .handle_raw("Echo.Echo", |body: bytes::Bytes| async move { Ok::<_, HandlerError>(body) })
///     .layer(logged);
/// # Ok::<(), plugin_server::SpecError>(())
/// ```
pub type BoxServerService =
    BoxCloneSyncService<Request<RequestBody>, Response<ResponseBody>, BoxError>;

type LayerFn = Arc<dyn Fn(BoxServerService) -> BoxServerService + Send + Sync>;

pub(crate) struct Inner {
    pub(crate) name: PluginName,
    pub(crate) manifest: Manifest,
    pub(crate) routes: HashMap<String, Route>,
    pub(crate) max_request_body: u64,
    /// `None`: wait for requests in flight however long they take.
    pub(crate) grace_period: Option<Duration>,
    pub(crate) max_connections: usize,
    /// `None`: an idle connection is never closed.
    pub(crate) idle_timeout: Option<Duration>,
    /// `None`: a client may take as long as it likes over its headers.
    pub(crate) header_read_timeout: Option<Duration>,
    pub(crate) layers: Vec<LayerFn>,
    pub(crate) managed_socket_dir: std::path::PathBuf,
}

impl std::fmt::Debug for PluginServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut methods: Vec<&String> = self.inner.routes.keys().collect();
        methods.sort();
        f.debug_struct("PluginServer")
            .field("name", &self.inner.name)
            .field("implements", &self.inner.manifest.implements())
            .field("methods", &methods)
            .field("max_request_body", &self.inner.max_request_body)
            .field("grace_period", &self.inner.grace_period)
            .field("max_connections", &self.inner.max_connections)
            .field("idle_timeout", &self.inner.idle_timeout)
            .field("header_read_timeout", &self.inner.header_read_timeout)
            .field("layers", &self.inner.layers.len())
            .field("managed_socket_dir", &self.inner.managed_socket_dir)
            .finish()
    }
}

impl PluginServer {
    /// A plugin named `name` implementing nothing yet.
    pub fn new(name: PluginName) -> Self {
        Self {
            inner: Arc::new(Inner {
                name,
                manifest: Manifest::default(),
                routes: HashMap::new(),
                max_request_body: DEFAULT_MAX_REQUEST_BODY,
                grace_period: Some(DEFAULT_GRACE_PERIOD),
                max_connections: DEFAULT_MAX_CONNECTIONS,
                idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
                header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
                layers: Vec::new(),
                managed_socket_dir: plugin_spec::DOCKER_SOCKET_DIR.into(),
            }),
            stack: Arc::default(),
        }
    }

    pub(crate) fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => f(inner),
            None => {
                let old = &self.inner;
                let mut inner = Inner {
                    name: old.name.clone(),
                    manifest: old.manifest.clone(),
                    routes: old.routes.clone(),
                    max_request_body: old.max_request_body,
                    grace_period: old.grace_period,
                    max_connections: old.max_connections,
                    idle_timeout: old.idle_timeout,
                    header_read_timeout: old.header_read_timeout,
                    layers: old.layers.clone(),
                    managed_socket_dir: old.managed_socket_dir.clone(),
                };
                f(&mut inner);
                self.inner = Arc::new(inner);
            }
        }
        self.stack = Arc::default();
        self
    }

    /// Adds a subsystem to the manifest (`VolumeDriver`, `NetworkDriver`,
    /// `IpamDriver`, `authz`, `LogDriver`, `secretprovider`, `MetricsCollector`,
    /// or your own), once.
    #[must_use]
    pub fn implements(self, subsystem: impl Into<String>) -> Self {
        let subsystem = subsystem.into();
        self.edit(|inner| inner.manifest.add(subsystem))
    }

    /// Handles `POST /<method>` with a typed handler: the body is decoded as
    /// `Req`, the answer encoded as JSON (`()` as `{}`). A body that does not
    /// decode is answered 400, a handler error 500 `{"Err": ...}`.
    ///
    /// Decoding is Go's where Docker's peers rely on it: a struct's keys are
    /// matched as Go's `encoding/json` matches them (an exact match first,
    /// else one differing only in case), so a field `name` reads Docker's
    /// `{"Name": ...}`; an empty body reaches only types that take no
    /// arguments (`()`, unit structs, `Option`). Nested structs are matched
    /// by serde's own rules (plugin-subsystems' types are Go-style
    /// throughout).
    #[must_use]
    pub fn handle<Req, Resp, F, Fut>(self, method: impl Into<String>, handler: F) -> Self
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + Send + 'static,
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, HandlerError>> + Send + 'static,
    {
        self.route(method.into(), handler::typed(handler))
    }

    /// Like [`handle`](Self::handle), with the [`Caller`] too: the request's
    /// headers and, on a unix socket, the calling process's credentials (uid,
    /// gid, pid), so an authorization-minded plugin can tell who called.
    #[must_use]
    pub fn handle_with_caller<Req, Resp, F, Fut>(
        self,
        method: impl Into<String>,
        handler: F,
    ) -> Self
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + Send + 'static,
        F: Fn(Caller, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, HandlerError>> + Send + 'static,
    {
        self.route(method.into(), handler::with_caller(handler))
    }

    /// Puts a tower layer around the plugin: every request, on every
    /// listener and in memory, goes through it (limits, timeouts, metrics,
    /// authentication by header or by peer credentials, which each request
    /// from a unix socket carries in its extensions as
    /// [`PeerCredentials`](crate::PeerCredentials)). The layer wraps a
    /// [`BoxServerService`]: the plugin with the layers added before it.
    ///
    /// How it differs from axum's `Router::layer`:
    ///
    /// - **Every method, whenever it is added.** The layer wraps the whole
    ///   plugin, so methods added with [`handle`](Self::handle) and the
    ///   others *after* this call go through it too (the stack is built
    ///   once, when the server is first served or called). axum's wraps only
    ///   the routes added before the call; a route added after it skips the
    ///   middleware.
    /// - **Before routing.** The layer sees every request, including
    ///   `Plugin.Activate`, unknown methods (answered 404 inside it) and
    ///   non-POST requests, and may rewrite the path (the method) before the
    ///   plugin looks it up. axum's `layer` runs after routing.
    /// - **Errors are answers.** axum requires a layer's service to be
    ///   infallible (`Error: Into<Infallible>`, errors turned into responses
    ///   with `HandleErrorLayer`). Here the service may fail with anything
    ///   that converts into [`BoxError`](crate::BoxError): the error (a
    ///   timeout, a load shed) is answered 500 `{"Err": "<its message>"}`,
    ///   the messages of its `source()` chain joined with `": "`.
    ///
    /// As with axum, each call wraps what is there, so the layer added
    /// **last sees a request first** (and its answer last); a
    /// `tower::ServiceBuilder` passed as one layer runs top to bottom.
    ///
    /// ```
    /// use std::time::Duration;
    /// use plugin_server::{HandlerError, PluginServer};
    ///
    /// let server = PluginServer::new("slow".parse()?)
    ///     // Bounds every call: a slower one is answered 500 "request timed out".
    ///     .layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(5)))
    ///     // Added after the layer, and inside it all the same.
    ///     .handle("Slow.Call", |(): ()| async { Ok::<_, HandlerError>(()) });
    /// # Ok::<(), plugin_server::SpecError>(())
    /// ```
    #[must_use]
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: Layer<BoxServerService> + Send + Sync + 'static,
        L::Service: Service<Request<RequestBody>, Response = Response<ResponseBody>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<Request<RequestBody>>>::Error: Into<BoxError>,
        <L::Service as Service<Request<RequestBody>>>::Future: Send + 'static,
    {
        let layer: LayerFn =
            Arc::new(move |stack| BoxCloneSyncService::new(layer.layer(stack).map_err(Into::into)));
        self.edit(|inner| inner.layers.push(layer))
    }

    /// The layered stack, when there are layers.
    pub(crate) fn stack(&self) -> Option<BoxServerService> {
        if self.inner.layers.is_empty() {
            return None;
        }
        let stack = self.stack.get_or_init(|| {
            let core = Core(Arc::clone(&self.inner));
            let mut stack: BoxServerService = BoxCloneSyncService::new(core);
            for layer in &self.inner.layers {
                stack = layer(stack);
            }
            stack
        });
        Some(stack.clone())
    }

    /// Handles `POST /<method>` with the raw request body; the answer is sent
    /// as is (an empty answer as `{}`, which Docker needs).
    #[must_use]
    pub fn handle_raw<F, Fut>(self, method: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Bytes) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Bytes, HandlerError>> + Send + 'static,
    {
        self.route(method.into(), handler::raw(handler))
    }

    /// Handles `POST /<method>` with a typed request and a streamed answer (as
    /// `LogDriver.ReadLogs` needs). An error in the stream, once the 200 is
    /// sent, can only end the connection early.
    #[must_use]
    pub fn handle_stream<Req, S, E, F, Fut>(self, method: impl Into<String>, handler: F) -> Self
    where
        Req: DeserializeOwned + Send + 'static,
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, HandlerError>> + Send + 'static,
    {
        self.route(method.into(), handler::streaming(handler))
    }

    fn route(self, method: String, route: Route) -> Self {
        self.edit(|inner| {
            inner.routes.insert(method, route);
        })
    }

    /// The largest request body accepted, in bytes (default 16 MiB); larger
    /// ones are answered 413.
    #[must_use]
    pub fn max_request_body(self, bytes: u64) -> Self {
        self.edit(|inner| inner.max_request_body = bytes)
    }

    /// How long a graceful shutdown waits for requests in flight before
    /// closing their connections (default [`DEFAULT_GRACE_PERIOD`]; `None`
    /// waits for them however long they take).
    #[must_use]
    pub fn grace_period(self, grace: impl Into<Option<Duration>>) -> Self {
        let grace = grace.into();
        self.edit(|inner| inner.grace_period = grace)
    }

    /// The most connections each listener keeps open at once (default
    /// [`DEFAULT_MAX_CONNECTIONS`], 0 is taken as 1). At the limit, new
    /// connections are left in the listen backlog until one closes; those
    /// open are answered as before.
    #[must_use]
    pub fn max_connections(self, connections: usize) -> Self {
        self.edit(|inner| inner.max_connections = connections.max(1))
    }

    /// How long a connection may sit with no request in progress, before its
    /// first request or between keep-alive requests, before it is closed
    /// (default [`DEFAULT_IDLE_TIMEOUT`]; `None` never closes an idle
    /// connection).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let server = plugin_server::PluginServer::new("p".parse()?);
    /// let patient = server.clone().idle_timeout(None);
    /// let brisk = server.idle_timeout(Duration::from_secs(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn idle_timeout(self, timeout: impl Into<Option<Duration>>) -> Self {
        let timeout = timeout.into();
        self.edit(|inner| inner.idle_timeout = timeout)
    }

    /// How long a client has, once the first bytes of a request arrive, to
    /// send all of its headers before it is disconnected (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]; `None` for no limit).
    #[must_use]
    pub fn header_read_timeout(self, timeout: impl Into<Option<Duration>>) -> Self {
        let timeout = timeout.into();
        self.edit(|inner| inner.header_read_timeout = timeout)
    }

    /// The plugin's name.
    pub fn name(&self) -> &PluginName {
        &self.inner.name
    }

    /// What `Plugin.Activate` answers: the subsystems, as a host reads them.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }
}

/// The plugin without its layers: what the innermost layer calls.
#[derive(Clone)]
struct Core(Arc<Inner>);

impl Service<Request<RequestBody>> for Core {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let inner = Arc::clone(&self.0);
        Box::pin(async move { Ok(crate::service::respond(inner, request).await) })
    }
}

/// A plugin server is a tower service: a host's `Client` can call it in
/// memory, with no socket (tests, examples), and the listeners are thin
/// adapters around it. It never fails: every problem is an answer (400, 404,
/// 500 ...). Its layers ([`layer`](Self::layer)) apply here too.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use http_body_util::{BodyExt, Full};
/// use plugin_server::{HandlerError, PluginServer};
/// use tower::ServiceExt;
///
/// let server = PluginServer::new("echo".parse()?)
///     .handle_raw("Echo.Echo", |body: bytes::Bytes| async move { Ok::<_, HandlerError>(body) });
/// // plugin_client::Client::new("echo".parse()?, server) does the same.
/// let request = http::Request::post("/Echo.Echo").body(Full::new(bytes::Bytes::from("in memory")))?;
/// let answer = server.oneshot(request).await?;
/// assert_eq!(answer.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes(), "in memory");
/// # Ok(()) }
/// ```
impl<B> Service<Request<B>> for PluginServer
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self.stack() {
            None => {
                let inner = Arc::clone(&self.inner);
                Box::pin(async move { Ok(crate::service::respond(inner, request).await) })
            }
            Some(stack) => Box::pin(async move {
                let request = request.map(RequestBody::new);
                Ok(through(stack, request).await)
            }),
        }
    }
}

/// `request` through the layered stack; a layer's error is answered 500.
pub(crate) async fn through(
    stack: BoxServerService,
    request: Request<RequestBody>,
) -> Response<ResponseBody> {
    match stack.oneshot(request).await {
        Ok(response) => response,
        Err(error) => {
            let message = std::iter::successors(
                Some(error.as_ref() as &(dyn std::error::Error + 'static)),
                |e| e.source(),
            )
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
            crate::service::error(http::StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
    }
}
