//! `Plugin`: an activated plugin, and how the registry tells it is stale.

use std::collections::HashSet;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use plugin_client::{Client, Manifest};
use plugin_spec::{Address, PluginName, PluginSpec};

use crate::events::StaleReason;
use crate::health::{Health, HealthCell};
use crate::service::{PluginService, Shared};

/// An activated plugin: its spec, its manifest, and a client to call it.
/// Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    spec: PluginSpec,
    manifest: Manifest,
    client: Client<PluginService>,
    generation: u64,
    shared: Arc<Shared>,
    identity: Identity,
    health: HealthCell,
    /// Handlers (by id) already run for this activation.
    handled: Mutex<HashSet<u64>>,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", self.name())
            .field("address", &self.spec().address().to_string())
            .field("implements", &self.manifest().implements())
            .field("generation", &self.inner.generation)
            .finish()
    }
}

impl Plugin {
    pub(crate) fn new(
        spec: PluginSpec,
        manifest: Manifest,
        client: Client<PluginService>,
        generation: u64,
        shared: Arc<Shared>,
        identity: Identity,
        health: Health,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                spec,
                manifest,
                client,
                generation,
                shared,
                identity,
                health: HealthCell::new(health),
                handled: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &PluginName {
        self.inner.spec.name()
    }

    /// How it was found and reached.
    pub fn spec(&self) -> &PluginSpec {
        &self.inner.spec
    }

    /// Its answer to `Plugin.Activate`.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// A client for calls to it. A call that cannot connect marks the plugin
    /// stale, so the registry's next `get` activates it afresh.
    pub fn client(&self) -> &Client<PluginService> {
        &self.inner.client
    }

    /// A typed client for it: any type made from a `Client<PluginService>`,
    /// as every plugin-subsystems client is (`VolumeDriverClient`,
    /// `IpamDriverClient`, ...).
    ///
    /// ```no_run
    /// # async fn run(registry: plugin_registry::Registry) -> Result<(), Box<dyn std::error::Error>> {
    /// use plugin_registry::PluginService;
    /// use plugin_subsystems::volume::{self, VolumeDriverClient};
    ///
    /// let volumes: VolumeDriverClient<PluginService> =
    ///     registry.get("sshfs", volume::IMPLEMENTS).await?.typed();
    /// volumes.create("data", None).await?;
    /// # Ok(()) }
    /// ```
    pub fn typed<T: From<Client<PluginService>>>(&self) -> T {
        T::from(self.inner.client.clone())
    }

    /// Whether it implements `iface`.
    pub fn implements(&self, iface: &str) -> bool {
        self.inner.manifest.implements_iface(iface)
    }

    /// Whether the registry will activate it again on the next `get`: a call
    /// could not connect, or its socket or descriptor changed on disk.
    pub fn is_stale(&self) -> bool {
        self.inner.shared.is_stale() || Identity::of(&self.inner.spec) != self.inner.identity
    }

    /// Its health, as the registry's probes last saw it
    /// ([`Health::Unprobed`] unless the registry has a
    /// [`health_probe`](crate::RegistryBuilder::health_probe)). An unhealthy
    /// plugin is still returned by `get`: health is reported, not acted on.
    pub fn health(&self) -> Health {
        self.inner.health.get()
    }

    /// Like [`is_stale`](Self::is_stale), and marks it stale (telling
    /// subscribers) when its files changed.
    pub(crate) fn check_stale(&self) -> bool {
        if self.inner.shared.is_stale() {
            return true;
        }
        let now = Identity::of(&self.inner.spec);
        if now == self.inner.identity {
            return false;
        }
        let reason = if now.source.is_none() {
            StaleReason::Removed
        } else {
            StaleReason::Changed
        };
        self.inner.shared.mark_stale(reason);
        true
    }

    pub(crate) fn events(&self) -> &crate::events::Events {
        &self.inner.shared.events
    }

    pub(crate) fn health_cell(&self) -> &HealthCell {
        &self.inner.health
    }

    pub(crate) fn generation(&self) -> u64 {
        self.inner.generation
    }

    /// Records that handler `id` ran for this activation; false if it already had.
    pub(crate) fn mark_handled(&self, id: u64) -> bool {
        self.inner
            .handled
            .lock()
            .map(|mut ids| ids.insert(id))
            .unwrap_or(false)
    }
}

/// What identifies the files behind a plugin: its descriptor (or socket) and,
/// for a unix address, the socket. A file re-created (a restarted plugin, an
/// atomically rewritten descriptor), changed or removed gives another identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    source: Option<FileId>,
    socket: Option<FileId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            dev: meta.dev(),
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

impl Identity {
    pub(crate) fn of(spec: &PluginSpec) -> Self {
        let source = spec.source().path();
        let socket = match spec.address() {
            Address::Unix(path) if path.as_path() != source => FileId::of(path.as_path()),
            _ => None,
        };
        Self {
            source: FileId::of(source),
            socket,
        }
    }
}
