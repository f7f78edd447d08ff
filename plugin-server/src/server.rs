//! `PluginServer`: a plugin's name, manifest and method handlers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use plugin_spec::PluginName;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::handler::{self, BoxError, HandlerError, Route};

/// The default limit on a request body: 16 MiB.
pub const DEFAULT_MAX_REQUEST_BODY: u64 = 16 * 1024 * 1024;

/// A plugin: its name, the subsystems it implements (its `Plugin.Activate`
/// answer) and a handler per method. Cheap to clone; serve it on as many
/// listeners as you like ([`serve_unix`](Self::serve_unix),
/// [`serve_tcp`](Self::serve_tcp), [`serve_tls`](Self::serve_tls),
/// [`serve_systemd`](Self::serve_systemd)).
///
/// ```
/// use plugin_server::{HandlerError, PluginServer};
/// use plugin_spec::PluginName;
///
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
/// assert_eq!(server.manifest(), ["Greeter"]);
/// # Ok::<(), plugin_spec::SpecError>(())
/// ```
#[derive(Clone)]
pub struct PluginServer {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) name: PluginName,
    pub(crate) implements: Vec<String>,
    pub(crate) routes: HashMap<String, Route>,
    pub(crate) max_request_body: u64,
    pub(crate) grace_period: Duration,
}

impl std::fmt::Debug for PluginServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut methods: Vec<&String> = self.inner.routes.keys().collect();
        methods.sort();
        f.debug_struct("PluginServer")
            .field("name", &self.inner.name)
            .field("implements", &self.inner.implements)
            .field("methods", &methods)
            .field("max_request_body", &self.inner.max_request_body)
            .field("grace_period", &self.inner.grace_period)
            .finish()
    }
}

impl PluginServer {
    /// A plugin named `name` implementing nothing yet.
    pub fn new(name: PluginName) -> Self {
        Self {
            inner: Arc::new(Inner {
                name,
                implements: Vec::new(),
                routes: HashMap::new(),
                max_request_body: DEFAULT_MAX_REQUEST_BODY,
                grace_period: Duration::from_secs(10),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => f(inner),
            None => {
                let old = &self.inner;
                let mut inner = Inner {
                    name: old.name.clone(),
                    implements: old.implements.clone(),
                    routes: old.routes.clone(),
                    max_request_body: old.max_request_body,
                    grace_period: old.grace_period,
                };
                f(&mut inner);
                self.inner = Arc::new(inner);
            }
        }
        self
    }

    /// Adds a subsystem to the manifest (`VolumeDriver`, `NetworkDriver`,
    /// `IpamDriver`, `authz`, `LogDriver`, `secretprovider`, `MetricsCollector`,
    /// or your own), once.
    #[must_use]
    pub fn implements(self, subsystem: impl Into<String>) -> Self {
        let subsystem = subsystem.into();
        self.edit(|inner| {
            if !inner.implements.contains(&subsystem) {
                inner.implements.push(subsystem);
            }
        })
    }

    /// Handles `POST /<method>` with a typed handler: the body is decoded as
    /// `Req` (an empty body as JSON `null`), the answer encoded as JSON (`()`
    /// as `{}`). A body that does not decode is answered 400, a handler error
    /// 500 `{"Err": ...}`.
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

    /// How long a graceful shutdown waits for requests in flight (default
    /// 10 s) before closing their connections.
    #[must_use]
    pub fn grace_period(self, grace: Duration) -> Self {
        self.edit(|inner| inner.grace_period = grace)
    }

    /// The plugin's name.
    pub fn name(&self) -> &PluginName {
        &self.inner.name
    }

    /// The subsystems `Plugin.Activate` answers.
    pub fn manifest(&self) -> &[String] {
        &self.inner.implements
    }
}
