//! `Registry`: discovery, single activation, caching, handlers, staleness.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use http::{Request, Response};
use plugin_client::{BoxError, Client, ClientConfig, RequestBody, RetryConfig};
use plugin_discovery::{Discovery, DiscoveryError, Skipped, WatchEvent};
use plugin_spec::{AsPluginName, PluginName, PluginSpec};
use plugin_transport::{Connect, ResponseBody, Transport, TransportConfig, TransportError};
use tokio::sync::watch;
use tower::{Layer, Service, ServiceExt};
use tracing::Instrument;

use crate::error::RegistryError;
use crate::events::{Events, RegistryEvent, RegistryEvents};
use crate::handlers::{self, Handler, Handlers};
use crate::health::{Health, HealthProbe};
use crate::plugin::{FileCheck, Plugin};
use crate::sentinel::Sentinel;
use crate::service::{BoxTransport, PluginService, Shared};

type Outcome = Option<Result<Plugin, RegistryError>>;
/// One [`RegistryBuilder::layer`]: wraps the stack so far.
type LayerFn = Arc<dyn Fn(BoxTransport) -> BoxTransport + Send + Sync>;
/// Builds a plugin's transport through the registry's connector.
type ConnectorFn =
    Arc<dyn Fn(&PluginSpec, &TransportConfig) -> Result<Transport, TransportError> + Send + Sync>;

/// A caching registry of plugins, owned by the host (no globals). Cheap to
/// clone; clones share everything.
///
/// - [`get`](Self::get) finds a plugin, activates it once, caches it: however
///   many callers race, the plugin sees one `Plugin.Activate`. A failed
///   activation is not cached. An unknown name fails at once.
/// - [`get_or_wait`](Self::get_or_wait) waits for a plugin to appear, driven by
///   discovery's watch.
/// - [`get_all`](Self::get_all) activates every plugin found, concurrently,
///   without retries, and returns those implementing a subsystem along with
///   every failure.
/// - [`on_activate`](Self::on_activate) runs code after each activation.
/// - A plugin whose call could not connect, or whose socket or descriptor
///   changed on disk, is stale: the next `get` activates it again and re-runs
///   its handlers.
///
/// ```no_run
/// use plugin_registry::{Discovery, PluginService, Registry};
/// use plugin_subsystems::volume::{self, VolumeDriverClient};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let registry = Registry::new(Discovery::docker_defaults());
/// let volumes: VolumeDriverClient<PluginService> =
///     registry.get("sshfs", volume::IMPLEMENTS).await?.typed();
/// let listed = volumes.list().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    discovery: Discovery,
    client: ClientConfig,
    transport: TransportConfig,
    /// In the order added: the first wraps the transport.
    layers: Vec<LayerFn>,
    get_all_concurrency: usize,
    plugins: Mutex<HashMap<PluginName, Entry>>,
    handlers: Mutex<Handlers>,
    generation: AtomicU64,
    events: Events,
    seen: Mutex<Seen>,
    /// Whether a discovery watch feeds the events (while anyone subscribes).
    watching: Mutex<bool>,
    probe: Option<HealthProbe>,
    call_metrics: bool,
    /// Tells `get` when nothing changed in the plugins' directories.
    sentinel: Arc<Sentinel>,
    /// The connector every plugin's transport uses (`None`: the default).
    connector: Option<ConnectorFn>,
    /// Never sent on: its receivers learn the registry is gone when it drops,
    /// so a task that holds the events' sender lets go of it at once.
    alive: tokio::sync::watch::Sender<()>,
}

/// The names the registry has told subscribers of.
#[derive(Default)]
struct Seen {
    /// Discovered and not removed since.
    present: HashSet<PluginName>,
    /// Activated at least once.
    activated: HashSet<PluginName>,
}

#[derive(Clone)]
enum Entry {
    Active(Plugin),
    Activating(watch::Receiver<Outcome>),
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plugins: Vec<String> = lock(&self.inner.plugins)
            .keys()
            .map(ToString::to_string)
            .collect();
        f.debug_struct("Registry")
            .field("discovery", &self.inner.discovery)
            .field("plugins", &plugins)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code panics while holding these locks; recover the data if one did.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builds a [`Registry`].
pub struct RegistryBuilder {
    discovery: Discovery,
    client: ClientConfig,
    transport: TransportConfig,
    layers: Vec<LayerFn>,
    get_all_concurrency: usize,
    event_capacity: usize,
    probe: Option<HealthProbe>,
    call_metrics: bool,
    connector: Option<ConnectorFn>,
}

impl fmt::Debug for RegistryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryBuilder")
            .field("discovery", &self.discovery)
            .field("client", &self.client)
            .field("transport", &self.transport)
            .field("layers", &self.layers.len())
            .field("get_all_concurrency", &self.get_all_concurrency)
            .field("event_capacity", &self.event_capacity)
            .field("probe", &self.probe)
            .field("call_metrics", &self.call_metrics)
            .field("connector", &self.connector.is_some())
            .finish()
    }
}

impl RegistryBuilder {
    /// Timeouts, retries and transport settings for every plugin's client.
    #[must_use]
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.client = config;
        self
    }

    /// Puts a tower layer over every plugin's transport (metrics, limits,
    /// headers, timeouts). Each call wraps what is there, as
    /// `PluginServer::layer` and axum's `Router::layer` do: the layer added
    /// **last sees a request first** (and its answer last); the first wraps
    /// the transport itself. (tower's `ServiceBuilder` reads the other way:
    /// its first layer is the outermost. A whole `ServiceBuilder` stack given
    /// to one `layer` call keeps its own order.)
    ///
    /// Each layer wraps a [`BoxTransport`]: the transport under the layers
    /// added before, its error boxed. Its service must answer the
    /// transport's response type.
    ///
    /// The layers are applied **once per activation**: each plugin gets its
    /// own stack, and a plugin activated again (after a restart) gets a new
    /// one. So a `ConcurrencyLimitLayer` limits each plugin separately and
    /// starts afresh after a re-activation; for one limit across every plugin
    /// in the process, use `GlobalConcurrencyLimitLayer`, whose semaphore the
    /// copies share. The service must be `Sync` as well as `Clone + Send`
    /// (see [`BoxTransport`]).
    #[must_use]
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<BoxTransport> + Send + Sync + 'static,
        L::Service: Service<Request<RequestBody>, Response = Response<ResponseBody>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<Request<RequestBody>>>::Error: Into<BoxError>,
        <L::Service as Service<Request<RequestBody>>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |stack| {
            BoxTransport::new(layer.layer(stack).map_err(Into::into))
        }));
        self
    }

    /// How every plugin's transport moves bytes: connect timeout, response
    /// body limit, connection pool.
    #[must_use]
    pub fn transport_config(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// How every plugin's connections are opened: a tower service from the
    /// plugin's [`Target`](plugin_transport::Target) to a byte stream (a
    /// vsock to a plugin in a microVM, an SSH tunnel, a socket in another
    /// mount namespace, an in-memory pipe in a test), instead of dialling
    /// the descriptor's address. Used by every transport the registry makes:
    /// each activation's and each health probe's. The pool, the HTTP
    /// handling, the connect timeout and, for an `https://` address, TLS with
    /// the descriptor's settings stay the transport's; see
    /// [`Connect`] and [`Transport::with_connector`].
    ///
    /// Discovery still finds the plugins (their descriptors name them); the
    /// connector decides where their bytes go. A connector's failure is a
    /// connect error ([`ClientError::is_connect`](plugin_client::ClientError::is_connect)),
    /// and marks the plugin stale as any connect failure does.
    #[must_use]
    pub fn connector<C: Connect>(mut self, connector: C) -> Self {
        self.connector = Some(Arc::new(move |spec, config| {
            Transport::with_connector(spec, config, connector.clone())
        }));
        self
    }

    /// How many plugins [`get_all`](Registry::get_all) activates at once
    /// (default 32).
    #[must_use]
    pub fn get_all_concurrency(mut self, limit: usize) -> Self {
        self.get_all_concurrency = limit.max(1);
        self
    }

    /// How many events are kept for a subscriber of
    /// [`events`](Registry::events) that falls behind (default 1024, from 1
    /// to [`MAX_EVENT_CAPACITY`](Self::MAX_EVENT_CAPACITY)); past that it
    /// gets a [`RegistryEvent::Missed`]. The buffer is allocated whole at
    /// the first subscription: a registry nobody subscribes to holds none.
    #[must_use]
    pub fn event_capacity(mut self, events: usize) -> Self {
        self.event_capacity = events.clamp(1, Self::MAX_EVENT_CAPACITY);
        self
    }

    /// The largest [`event_capacity`](Self::event_capacity): 65,536 events.
    pub const MAX_EVENT_CAPACITY: usize = 1 << 16;

    /// Probes every active plugin's health on an interval (off by default:
    /// Docker's protocol has no health method). See [`HealthProbe`].
    #[must_use]
    pub fn health_probe(mut self, probe: HealthProbe) -> Self {
        self.probe = Some(probe);
        self
    }

    /// Whether every call through the registry's plugins is recorded in
    /// `plugin_host_calls_total` and `plugin_host_call_duration_seconds`
    /// (default: yes). The registry's other metrics are recorded either way.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    #[must_use]
    pub fn call_metrics(mut self, record: bool) -> Self {
        self.call_metrics = record;
        self
    }

    /// The registry.
    pub fn build(self) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                discovery: self.discovery,
                client: self.client,
                transport: self.transport,
                layers: self.layers,
                get_all_concurrency: self.get_all_concurrency,
                plugins: Mutex::new(HashMap::new()),
                handlers: Mutex::new(Handlers::default()),
                generation: AtomicU64::new(0),
                events: Events::new(self.event_capacity),
                seen: Mutex::new(Seen::default()),
                watching: Mutex::new(false),
                probe: self.probe,
                call_metrics: self.call_metrics,
                sentinel: Arc::new(Sentinel::new()),
                connector: self.connector,
                alive: tokio::sync::watch::Sender::new(()),
            }),
        }
    }
}

/// What [`Registry::get_all`] found.
#[derive(Debug, Default)]
pub struct GetAll {
    /// The plugins that implement the subsystem, by name.
    pub plugins: Vec<Plugin>,
    /// The plugins that could not be activated, with why.
    pub failures: Vec<RegistryError>,
    /// Directory entries discovery could not use, with why.
    pub skipped: Vec<Skipped>,
}

impl Registry {
    /// A registry over `discovery` with the default client settings.
    pub fn new(discovery: Discovery) -> Self {
        Self::builder(discovery).build()
    }

    /// A builder over `discovery`.
    pub fn builder(discovery: Discovery) -> RegistryBuilder {
        RegistryBuilder {
            discovery,
            client: ClientConfig::default(),
            transport: TransportConfig::default(),
            layers: Vec::new(),
            get_all_concurrency: 32,
            event_capacity: 1024,
            probe: None,
            call_metrics: cfg!(feature = "metrics"),
            connector: None,
        }
    }

    /// The discovery it finds plugins with.
    pub fn discovery(&self) -> &Discovery {
        &self.inner.discovery
    }

    /// The plugin `name`, activated, if it implements `iface`.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] at once for an unknown name;
    /// [`RegistryError::Descriptor`], [`RegistryError::Setup`],
    /// [`RegistryError::Activation`] (after the client's retries, for a plugin
    /// that cannot be reached: with the default [`RetryConfig`], at once for a
    /// unix socket nobody listens on, which is marked stale, and within about
    /// 2 s for a TCP or TLS plugin); [`RegistryError::SubsystemMissing`]. To
    /// wait for a plugin that is restarting, use
    /// [`get_or_wait`](Self::get_or_wait), which wakes when its socket
    /// reappears. [`RegistryError::InvalidName`] for text that is not a
    /// plugin name (`"../etc"`).
    ///
    /// `name` is what you have: `"sshfs"`, a `String`, or a [`PluginName`].
    pub async fn get(&self, name: impl AsPluginName, iface: &str) -> Result<Plugin, RegistryError> {
        let name = checked(&name)?;
        let plugin = self.activated(&name, None, None).await?;
        implementing(plugin, iface)
    }

    /// The plugin `name`, activated, whatever it implements (as
    /// [`get`](Self::get) without the subsystem check).
    ///
    /// # Errors
    /// As [`get`](Self::get), but never [`RegistryError::SubsystemMissing`].
    pub async fn activate(&self, name: impl AsPluginName) -> Result<Plugin, RegistryError> {
        let name = checked(&name)?;
        self.activated(&name, None, None).await
    }

    /// A subscription to what happens to plugins from now on: discovered,
    /// activated (with the manifest), activation failed, marked stale,
    /// re-activated, removed, health changed ([`RegistryEvent`]).
    ///
    /// While anyone subscribes, the registry watches the plugin directories
    /// (discovery's watch, driven by file events): it reports each plugin
    /// present when the watch starts, and each one that appears or goes, as
    /// `Discovered` and `Removed`, and marks an active plugin stale at once
    /// when its socket or descriptor changes. A subscriber that falls behind
    /// does not slow the registry: it gets a [`RegistryEvent::Missed`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use plugin_registry::{Discovery, Registry, RegistryEvent};
    /// # let dir = tempfile::tempdir()?;
    /// # let _sshfs = plugin_server::PluginServer::new("sshfs".parse()?)
    /// #     .implements("VolumeDriver")
    /// #     .serve_unix(dir.path().join("sshfs.sock"))?;
    ///
    /// let registry = Registry::new(Discovery::builder().plugin_dir(dir.path()).build());
    /// let mut events = registry.events()?;
    /// assert!(matches!(events.next_event().await, Some(RegistryEvent::Discovered { spec }) if spec.name() == "sshfs"));
    /// registry.activate("sshfs").await?;
    /// assert!(matches!(events.next_event().await, Some(RegistryEvent::Activated { generation: 1, .. })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`RegistryError::EventWatch`] when the watch of the plugin directories
    /// cannot start (outside a tokio runtime, say: the watch runs as a task).
    pub fn events(&self) -> Result<RegistryEvents, RegistryError> {
        let mut watching = lock(&self.inner.watching);
        let receiver = self.inner.events.subscribe();
        if !*watching {
            let watch =
                self.inner
                    .discovery
                    .watch()
                    .map_err(|source| RegistryError::EventWatch {
                        source: Arc::new(source),
                    })?;
            for spec in watch.snapshot() {
                self.discovered(spec);
            }
            tokio::spawn(watch_events(
                Arc::downgrade(&self.inner),
                self.inner.alive.subscribe(),
                watch,
            ));
            *watching = true;
        }
        Ok(RegistryEvents::new(receiver))
    }

    /// Like [`get`](Self::get), but when the plugin is not there yet, or its
    /// unix socket is there with nothing listening (a plugin restarting), waits
    /// up to `timeout` (a `Duration`, or an `Option` of one) for it to appear,
    /// woken by discovery's watch when the socket is made (no polling).
    /// `None` means never: it waits until the plugin appears.
    ///
    /// # Errors
    /// [`RegistryError::WaitTimeout`]; [`RegistryError::Watch`] if the watch
    /// cannot start; then as [`get`](Self::get).
    pub async fn get_or_wait(
        &self,
        name: impl AsPluginName,
        iface: &str,
        timeout: impl Into<Option<Duration>>,
    ) -> Result<Plugin, RegistryError> {
        let timeout = timeout.into();
        let name = checked(&name)?;
        let name = name.as_ref();
        let waiting = async {
            // Watch first, so that a plugin appearing between the two is seen.
            let mut watch =
                self.inner
                    .discovery
                    .watch()
                    .map_err(|source| RegistryError::Watch {
                        name: name.clone(),
                        source: Arc::new(source),
                    })?;
            loop {
                match self.get(name, iface).await {
                    Err(RegistryError::NotFound { .. }) => {}
                    Err(e) if e.is_nothing_listening() => {}
                    other => return other,
                }
                loop {
                    match watch.next_event().await {
                        Some(WatchEvent::Added(spec) | WatchEvent::Changed(spec))
                            if spec.name() == name =>
                        {
                            break;
                        }
                        Some(_) => {}
                        None => return Err(RegistryError::Interrupted { name: name.clone() }),
                    }
                }
            }
        };
        let Some(timeout) = timeout else {
            return waiting.await;
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .unwrap_or_else(|_| {
                Err(RegistryError::WaitTimeout {
                    name: name.clone(),
                    after: timeout,
                })
            })
    }

    /// Every plugin discovery finds that implements `iface`, activated
    /// concurrently (at most [`get_all_concurrency`](RegistryBuilder::get_all_concurrency)
    /// at once) and without retries, so a dead socket costs milliseconds. Nothing
    /// is swallowed: failures and skipped entries come back beside the plugins.
    pub async fn get_all(&self, iface: &str) -> GetAll {
        let (specs, skipped) = self.inner.discovery.scan().into_parts();
        let no_retries = RetryConfig::none();
        let mut outcomes: Vec<Result<Plugin, RegistryError>> = futures_util::stream::iter(specs)
            .map(|spec| {
                let name = spec.name().clone();
                let no_retries = Some(&no_retries);
                async move { self.activated(&name, Some(spec), no_retries).await }
            })
            .buffer_unordered(self.inner.get_all_concurrency)
            .collect()
            .await;
        outcomes.sort_by(|a, b| name_of(a).cmp(&name_of(b)));
        let mut found = GetAll {
            skipped,
            ..GetAll::default()
        };
        for outcome in outcomes {
            match outcome {
                Ok(plugin) if plugin.implements(iface) => found.plugins.push(plugin),
                Ok(_) => {}
                Err(error) => found.failures.push(error),
            }
        }
        found
    }

    /// Runs `handler(name, client)` after each activation of a plugin that
    /// implements `iface`, after the handlers registered before it; and, at
    /// once, for every plugin already active that implements it. Handlers run
    /// without any registry lock held, so they may call the registry.
    /// (Docker's `plugins.Handle`; it is named for when it runs.)
    pub async fn on_activate<F, Fut>(&self, iface: impl Into<String>, handler: F)
    where
        F: Fn(PluginName, Client<PluginService>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let iface = iface.into();
        {
            let mut handlers = lock(&self.inner.handlers);
            let id = handlers.next_id();
            handlers.add(iface.clone(), Handler::new(id, handler));
        }
        let active: Vec<Plugin> = lock(&self.inner.plugins)
            .values()
            .filter_map(|entry| match entry {
                Entry::Active(plugin) if plugin.implements(&iface) => Some(plugin.clone()),
                _ => None,
            })
            .collect();
        for plugin in active {
            let applicable = lock(&self.inner.handlers).for_plugin(&plugin);
            handlers::run(&plugin, applicable).await;
        }
    }

    /// The active plugin `name`, activating it (once) if need be, with `retry`
    /// (`None`: the client configuration's own policy).
    async fn activated(
        &self,
        name: &PluginName,
        hint: Option<PluginSpec>,
        retry: Option<&RetryConfig>,
    ) -> Result<Plugin, RegistryError> {
        loop {
            let current = lock(&self.inner.plugins).get(name).cloned();
            let seen = match current {
                Some(Entry::Active(plugin)) if !plugin.check_stale() => return Ok(plugin),
                Some(Entry::Active(plugin)) => Some(plugin.generation()),
                Some(Entry::Activating(receiver)) => {
                    if let Some(outcome) = self.wait(name, receiver).await {
                        return outcome;
                    }
                    continue;
                }
                None => None,
            };
            let (sender, receiver) = watch::channel(None);
            {
                let mut plugins = lock(&self.inner.plugins);
                let unchanged = match (plugins.get(name), seen) {
                    (None, None) => true,
                    (Some(Entry::Active(plugin)), Some(generation)) => {
                        plugin.generation() == generation
                    }
                    _ => false,
                };
                if !unchanged {
                    continue;
                }
                plugins.insert(name.clone(), Entry::Activating(receiver.clone()));
            }
            tokio::spawn(self.clone().run_activation(
                name.clone(),
                hint.clone(),
                retry.cloned(),
                sender,
            ));
            if let Some(outcome) = self.wait(name, receiver).await {
                return outcome;
            }
        }
    }

    /// Waits for an activation's outcome; `None` if it was abandoned (its entry
    /// is then cleared so that the next attempt starts afresh).
    async fn wait(
        &self,
        name: &PluginName,
        mut receiver: watch::Receiver<Outcome>,
    ) -> Option<Result<Plugin, RegistryError>> {
        if let Ok(outcome) = receiver.wait_for(Option::is_some).await {
            return outcome.clone();
        }
        let mut plugins = lock(&self.inner.plugins);
        if let Some(Entry::Activating(current)) = plugins.get(name) {
            if current.same_channel(&receiver) {
                plugins.remove(name);
            }
        }
        None
    }

    /// One activation: lookup, client, `Plugin.Activate`, cache, handlers;
    /// then every waiter gets the outcome.
    async fn run_activation(
        self,
        name: PluginName,
        hint: Option<PluginSpec>,
        retry: Option<RetryConfig>,
        sender: watch::Sender<Outcome>,
    ) {
        let generation = self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let span = tracing::info_span!("plugin.activate", plugin = %name, generation, result = tracing::field::Empty);
        let outcome = self
            .activate_once(&name, hint, retry.as_ref(), generation)
            .instrument(span.clone())
            .await;
        match &outcome {
            Ok(plugin) => {
                span.record("result", "ok");
                crate::record::activation(&name, "ok");
                lock(&self.inner.plugins).insert(name.clone(), Entry::Active(plugin.clone()));
                let again = !lock(&self.inner.seen).activated.insert(name.clone());
                let (manifest, generation) = (plugin.manifest(), plugin.generation());
                if again {
                    crate::record::reactivation(&name);
                }
                self.inner.events.emit(|| {
                    let (name, manifest) = (name.clone(), manifest.clone());
                    if again {
                        RegistryEvent::Reactivated {
                            name,
                            manifest,
                            generation,
                        }
                    } else {
                        RegistryEvent::Activated {
                            name,
                            manifest,
                            generation,
                        }
                    }
                });
                if let Some(probe) = &self.inner.probe {
                    crate::record::healthy(&name, true);
                    tokio::spawn(
                        probing(Arc::downgrade(&self.inner), plugin.clone(), probe.clone())
                            .instrument(
                                tracing::debug_span!("plugin.probe", plugin = %name, generation),
                            ),
                    );
                }
                let applicable = lock(&self.inner.handlers).for_plugin(plugin);
                handlers::run(plugin, applicable).instrument(span).await;
            }
            Err(error) => {
                span.record("result", tracing::field::display(error));
                crate::record::activation(&name, activation_outcome(error));
                if error.is_not_found() && lock(&self.inner.seen).present.remove(&name) {
                    self.inner
                        .events
                        .emit(|| RegistryEvent::Removed { name: name.clone() });
                }
                self.inner.events.emit(|| RegistryEvent::ActivationFailed {
                    name: name.clone(),
                    error: error.clone(),
                });
                let mut plugins = lock(&self.inner.plugins);
                if let Some(Entry::Activating(current)) = plugins.get(&name) {
                    if current.same_channel(&sender.subscribe()) {
                        plugins.remove(&name);
                    }
                }
            }
        }
        sender.send_replace(Some(outcome));
    }

    /// Tells subscribers of a plugin not seen before (or seen removed).
    fn discovered(&self, spec: &PluginSpec) {
        if lock(&self.inner.seen).present.insert(spec.name().clone()) {
            self.inner
                .events
                .emit(|| RegistryEvent::Discovered { spec: spec.clone() });
        }
    }

    async fn activate_once(
        &self,
        name: &PluginName,
        hint: Option<PluginSpec>,
        retry: Option<&RetryConfig>,
        generation: u64,
    ) -> Result<Plugin, RegistryError> {
        let spec = match hint {
            Some(spec) => spec,
            None => {
                let _lookup = tracing::debug_span!("plugin.lookup", plugin = %name).entered();
                self.inner
                    .discovery
                    .lookup(name)
                    .map_err(|e| lookup_error(name, e))?
            }
        };
        self.discovered(&spec);
        let files = FileCheck::new(&self.inner.sentinel, &spec);
        let transport = Inner::transport_off_runtime(&self.inner, &spec)
            .await
            .ok_or_else(|| RegistryError::Interrupted { name: name.clone() })?
            .map_err(|e| RegistryError::Setup {
                name: name.clone(),
                source: Arc::new(e),
            })?;
        let shared = Arc::new(Shared::new(
            name.clone(),
            self.inner.events.clone(),
            self.inner.call_metrics,
        ));
        let service = if self.inner.layers.is_empty() {
            PluginService::plain(transport, Arc::clone(&shared))
        } else {
            let bottom = BoxTransport::new(ServiceExt::<Request<RequestBody>>::map_err(
                transport,
                BoxError::from,
            ));
            let stack = self
                .inner
                .layers
                .iter()
                .fold(bottom, |stack, layer| layer(stack));
            PluginService::layered(stack, Arc::clone(&shared))
        };
        let client = Client::new(name.clone(), service).with_config(self.inner.client.clone());
        let activating = match retry {
            Some(retry) => client
                .clone()
                .with_config(self.inner.client.clone().retry(retry.clone())),
            None => client.clone(),
        };
        let manifest = activating
            .activate()
            .await
            .map_err(|e| RegistryError::Activation {
                name: name.clone(),
                source: Arc::new(e),
            })?;
        tracing::debug!(implements = ?manifest.implements(), "activated");
        shared.activated();
        let health = if self.inner.probe.is_some() {
            Health::Healthy
        } else {
            Health::Unprobed
        };
        Ok(Plugin::new(
            spec, manifest, client, generation, shared, files, health,
        ))
    }
}

impl Inner {
    /// [`transport`](Self::transport), for an `https://` plugin on tokio's
    /// blocking threads: it reads the descriptor's TLS files (bounded, regular
    /// files only) and, the first time, the system's roots, which must stall
    /// neither the runtime's threads nor a caller's timeout, nor the other
    /// plugins of a [`Registry::get_all`]. `None` if the runtime shut down
    /// first.
    async fn transport_off_runtime(
        inner: &Arc<Self>,
        spec: &PluginSpec,
    ) -> Option<Result<Transport, TransportError>> {
        if !spec.address().is_tls() {
            return Some(inner.transport(spec, &inner.transport));
        }
        let (inner, spec) = (Arc::clone(inner), spec.clone());
        match tokio::task::spawn_blocking(move || inner.transport(&spec, &inner.transport)).await {
            Ok(built) => Some(built),
            // A custom connector's panic is the caller's, as if called here.
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            Err(_) => None,
        }
    }

    /// A transport to `spec`'s plugin, through the registry's connector.
    fn transport(
        &self,
        spec: &PluginSpec,
        config: &TransportConfig,
    ) -> Result<Transport, TransportError> {
        match &self.connector {
            Some(connector) => connector(spec, config),
            None => Transport::for_spec(spec, config),
        }
    }
}

/// Feeds discovery's watch into the events while anyone subscribes.
async fn watch_events(
    registry: Weak<Inner>,
    mut alive: tokio::sync::watch::Receiver<()>,
    mut watch: plugin_discovery::Watch,
) {
    loop {
        let event = {
            let Some(inner) = registry.upgrade() else {
                return;
            };
            let events = inner.events.clone();
            drop(inner);
            tokio::select! {
                event = watch.next_event() => Some(event),
                () = events.unwatched() => None,
                // The registry is gone: let go of the events' sender, so
                // that every subscription ends now, not at the next change
                // in the plugin directories.
                _ = alive.changed() => return,
            }
        };
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let registry = Registry { inner };
        match event {
            Some(Some(WatchEvent::Added(spec))) => registry.discovered(&spec),
            Some(Some(WatchEvent::Changed(spec))) => {
                registry.check_active(spec.name());
                registry.discovered(&spec);
            }
            Some(Some(WatchEvent::Removed(name))) => {
                registry.check_active(&name);
                if lock(&registry.inner.seen).present.remove(&name) {
                    registry
                        .inner
                        .events
                        .emit(|| RegistryEvent::Removed { name: name.clone() });
                }
            }
            Some(Some(_)) => {}
            Some(None) => {
                tracing::warn!(
                    "the watch of the plugin directories stopped; events now come only from the registry's own calls"
                );
                *lock(&registry.inner.watching) = false;
                return;
            }
            None => {
                // Nobody listens: stop, unless someone subscribed meanwhile.
                let mut watching = lock(&registry.inner.watching);
                if registry.inner.events.receiver_count() == 0 {
                    *watching = false;
                    return;
                }
            }
        }
    }
}

impl Registry {
    /// Marks the active plugin `name` stale if its files are no longer the
    /// ones it was activated from (a watch event may come after the
    /// activation it caused).
    fn check_active(&self, name: &PluginName) {
        let active = match lock(&self.inner.plugins).get(name) {
            Some(Entry::Active(plugin)) => Some(plugin.clone()),
            _ => None,
        };
        if let Some(plugin) = active {
            plugin.check_stale();
        }
    }
}

/// Probes `plugin` while it is the registry's active instance of its name.
async fn probing(registry: Weak<Inner>, plugin: Plugin, probe: HealthProbe) {
    let name = plugin.name().clone();
    let client = {
        let Some(inner) = registry.upgrade() else {
            return;
        };
        // A new connection each time: an idle one says nothing of whether
        // the plugin still accepts.
        let config = inner.transport.clone().pool_max_idle(0);
        match inner.transport(plugin.spec(), &config) {
            Ok(transport) => Client::new(name.clone(), transport).with_config(
                inner
                    .client
                    .clone()
                    .activation_timeout(probe.deadline)
                    .retry(RetryConfig::none()),
            ),
            Err(error) => {
                tracing::warn!("cannot probe the plugin: {error}");
                return;
            }
        }
    };
    let early = {
        use tower::util::rng::{HasherRng, Rng};
        probe
            .interval
            .mul_f64(probe.jitter * HasherRng::default().next_f64())
    };
    let first = tokio::time::Instant::now() + probe.interval.saturating_sub(early);
    let mut ticks = tokio::time::interval_at(first, probe.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failed = 0u32;
    loop {
        ticks.tick().await;
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let current = matches!(lock(&inner.plugins).get(&name),
            Some(Entry::Active(active)) if active.generation() == plugin.generation());
        if !current {
            return;
        }
        drop(inner);
        let answered = tokio::time::timeout(probe.deadline, client.activate()).await;
        let ok = matches!(answered, Ok(Ok(_)));
        crate::record::probe(&name, ok);
        let health = if ok {
            failed = 0;
            Health::Healthy
        } else {
            failed = failed.saturating_add(1);
            tracing::debug!(failed, "health probe failed");
            if failed < probe.failures {
                continue;
            }
            Health::Unhealthy
        };
        if plugin.health_cell().set(health) {
            tracing::info!(%health, "plugin health changed");
            crate::record::healthy(&name, health == Health::Healthy);
            plugin.events().emit(|| RegistryEvent::HealthChanged {
                name: name.clone(),
                health,
            });
        }
    }
}

/// The `outcome` label of a failed activation.
fn activation_outcome(error: &RegistryError) -> &'static str {
    match error {
        RegistryError::NotFound { .. } => "not_found",
        RegistryError::Descriptor { .. } => "descriptor",
        RegistryError::Setup { .. } => "setup",
        #[cfg(feature = "metrics")]
        RegistryError::Activation { source, .. } => {
            plugin_client::metrics::Outcome::of_client_error(source.as_ref()).as_str()
        }
        _ => "failed",
    }
}

fn lookup_error(name: &PluginName, error: DiscoveryError) -> RegistryError {
    if error.is_not_found() {
        RegistryError::NotFound {
            name: name.clone(),
            source: Arc::new(error),
        }
    } else {
        RegistryError::Descriptor {
            name: name.clone(),
            source: Arc::new(error),
        }
    }
}

fn implementing(plugin: Plugin, iface: &str) -> Result<Plugin, RegistryError> {
    if plugin.implements(iface) {
        Ok(plugin)
    } else {
        Err(RegistryError::SubsystemMissing {
            name: plugin.name().clone(),
            iface: iface.to_owned(),
            implements: plugin.manifest().implements().to_vec(),
        })
    }
}

fn name_of(outcome: &Result<Plugin, RegistryError>) -> Option<&PluginName> {
    match outcome {
        Ok(plugin) => Some(plugin.name()),
        Err(error) => error.name(),
    }
}

/// The name, checked, or the registry's error for it.
fn checked(name: &impl AsPluginName) -> Result<std::borrow::Cow<'_, PluginName>, RegistryError> {
    name.as_plugin_name()
        .map_err(|source| RegistryError::InvalidName {
            source: Arc::new(source),
        })
}
