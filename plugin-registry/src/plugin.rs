//! `Plugin`: an activated plugin, and how the registry tells it is stale.

use std::collections::HashSet;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use plugin_client::{Client, Manifest};
use plugin_spec::{Address, PluginName, PluginSpec};

use crate::events::StaleReason;
use crate::health::{Health, HealthCell};
use crate::sentinel::{RECHECK, Sentinel, Watched};
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
    files: FileCheck,
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
        files: FileCheck,
        health: Health,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                spec,
                manifest,
                client,
                generation,
                shared,
                files,
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
        self.inner.shared.is_stale() || self.files_changed().is_some()
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
        let Some(reason) = self.files_changed() else {
            return false;
        };
        self.inner.shared.mark_stale(reason);
        true
    }

    /// How its files changed since its activation, if they did: told by the
    /// sentinel when nothing changed in their directories since they were
    /// last looked at, by looking at them otherwise.
    fn files_changed(&self) -> Option<StaleReason> {
        let files = &self.inner.files;
        // Read before the look at the files, so that a change after it
        // moves the epoch past the one recorded. (Not read at all for files
        // no watch covers: they are looked at every time.)
        let epoch = files.epoch();
        if files.unchanged(epoch) {
            return None;
        }
        let now = Identity::of(&self.inner.spec);
        if now == files.identity {
            files.looked(epoch);
            return None;
        }
        Some(if now.source.is_none() {
            StaleReason::Removed
        } else {
            StaleReason::Changed
        })
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

/// What a plugin knows of the sentinel's view of its files: they are
/// unchanged when their directories are watched, no event came since they
/// were last looked at, and that was less than [`RECHECK`] ago.
pub(crate) struct FileCheck {
    sentinel: Arc<Sentinel>,
    /// The directories of the descriptor and socket; empty when one of them
    /// could not be watched (the files are then looked at on every `get`).
    watched: Vec<Watched>,
    /// The sentinel's epoch read before the last look that found the files
    /// unchanged (0: none yet).
    verified: AtomicU64,
    /// When that look was, in nanoseconds of the sentinel's clock.
    looked_at: AtomicU64,
    /// The files as they were at the activation.
    identity: Identity,
}

impl FileCheck {
    /// Watches the directories of `spec`'s files, then takes the files'
    /// identity: in that order, so that no change after it goes unseen.
    pub(crate) fn new(sentinel: &Arc<Sentinel>, spec: &PluginSpec) -> Self {
        let source = spec.source().path();
        let mut dirs: Vec<&Path> = source.parent().into_iter().collect();
        if let Address::Unix(path) = spec.address() {
            if let Some(dir) = path.as_path().parent() {
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
        let watched: Option<Vec<Watched>> = dirs.iter().map(|dir| sentinel.watch(dir)).collect();
        // Read before the identity is taken, as before every later look.
        let epoch = sentinel.epoch();
        let check = Self {
            sentinel: Arc::clone(sentinel),
            watched: watched.unwrap_or_default(),
            verified: AtomicU64::new(0),
            looked_at: AtomicU64::new(0),
            identity: Identity::of(spec),
        };
        check.looked(epoch);
        check
    }

    fn epoch(&self) -> Option<u64> {
        if self.watched.is_empty() {
            return None;
        }
        self.sentinel.epoch()
    }

    fn unchanged(&self, epoch: Option<u64>) -> bool {
        let Some(epoch) = epoch else {
            return false;
        };
        !self.watched.is_empty()
            && epoch == self.verified.load(Ordering::Acquire)
            && self.watched.iter().all(Watched::alive)
            && self
                .sentinel
                .clock()
                .saturating_sub(self.looked_at.load(Ordering::Acquire))
                < RECHECK.as_nanos() as u64
    }

    /// A look at the files found them unchanged, after `epoch` was read.
    fn looked(&self, epoch: Option<u64>) {
        self.looked_at
            .fetch_max(self.sentinel.clock(), Ordering::AcqRel);
        if let Some(epoch) = epoch {
            self.verified.fetch_max(epoch, Ordering::AcqRel);
        }
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
    // Size and mode too: two changes within one tick of the kernel's coarse
    // file clock leave the times as they were.
    len: u64,
    mode: u32,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mode: meta.mode(),
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
