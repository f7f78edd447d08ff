//! `Discovery::watch`: plugins added, removed and changed, as they happen.
//!
//! How it works: inotify (through `notify`) watches each plugin directory and
//! its immediate subdirectories (nested `NAME/NAME.sock` layouts), or, for a
//! directory that does not exist yet, its nearest existing ancestor. Any change
//! marks the state dirty; once changes have stopped for the debounce interval
//! (or the longest delay has passed), the directories are scanned again and
//! the result compared with the previous scan. Watches are updated before each
//! scan, and the scan repeated when that added a watch, so a change is either
//! seen by the scan or reported by a watch that was already in place.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use plugin_spec::{PluginName, PluginSpec};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::discovery::Discovery;
use crate::error::DiscoveryError;
use crate::scan::{Detailed, SocketId};

/// Rounds of "add watches, scan again" per refresh before leaving the rest to
/// the next event.
const MAX_ROUNDS: usize = 4;

/// Events buffered for a slow reader before the watcher waits for it.
const CHANNEL_CAPACITY: usize = 256;

/// How a [`Watch`] groups changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchOptions {
    debounce: Duration,
    max_delay: Option<Duration>,
}

impl Default for WatchOptions {
    /// Debounce 50 ms, longest delay 1 s.
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(50),
            max_delay: Some(Duration::from_secs(1)),
        }
    }
}

impl WatchOptions {
    /// The defaults: debounce 50 ms, longest delay 1 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rescan once no change has been seen for this long, so that a burst of
    /// writes gives one event.
    #[must_use]
    pub fn debounce(mut self, quiet: Duration) -> Self {
        self.debounce = quiet;
        self
    }

    /// Rescan at the latest this long after the first change, even if changes
    /// keep coming (a `Duration`, or an `Option` of one). `None` means never:
    /// no bound, a rescan waits for the changes to be quiet for the
    /// [`debounce`](Self::debounce) however long they go on.
    #[must_use]
    pub fn max_delay(mut self, delay: impl Into<Option<Duration>>) -> Self {
        self.max_delay = delay.into();
        self
    }
}

/// A change to the set of plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchEvent {
    /// A plugin appeared.
    Added(PluginSpec),
    /// A plugin disappeared (or its descriptor became unusable; the watch logs
    /// why).
    Removed(PluginName),
    /// A plugin's descriptor changed, or its socket was re-created (a restarted
    /// plugin): clients should re-activate it.
    Changed(PluginSpec),
}

impl WatchEvent {
    /// The plugin the event is about.
    pub fn name(&self) -> &PluginName {
        match self {
            Self::Added(spec) | Self::Changed(spec) => spec.name(),
            Self::Removed(name) => name,
        }
    }

    /// What happened: `added`, `removed` or `changed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Added(_) => "added",
            Self::Removed(_) => "removed",
            Self::Changed(_) => "changed",
        }
    }
}

/// One line, as `pluginctl watch` prints it: the kind padded to 8
/// characters, the name, and the address where there is one.
///
/// ```
/// use plugin_discovery::{PluginName, PluginSpec, WatchEvent};
///
/// let spec = PluginSpec::from_socket(PluginName::new("sshfs")?, "/run/docker/plugins/sshfs.sock")?;
/// let added = WatchEvent::Added(spec.clone());
/// assert_eq!(added.to_string(), "added    sshfs  unix:///run/docker/plugins/sshfs.sock");
/// let removed = WatchEvent::Removed(spec.name().clone());
/// assert_eq!(removed.to_string(), "removed  sshfs");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl std::fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Added(spec) | Self::Changed(spec) => {
                write!(f, "{:<8} {}  {}", self.kind(), spec.name(), spec.address())
            }
            Self::Removed(name) => write!(f, "{:<8} {name}", self.kind()),
        }
    }
}

/// A running watch: a [`Stream`](futures_core::Stream) of [`WatchEvent`]s.
///
/// Dropping it stops the watcher. The stream ends only if the watcher task
/// fails.
#[derive(Debug)]
pub struct Watch {
    events: mpsc::Receiver<WatchEvent>,
    task: tokio::task::AbortHandle,
    snapshot: Vec<PluginSpec>,
}

impl Watch {
    /// The plugins present when the watch started; events describe changes
    /// from this.
    pub fn snapshot(&self) -> &[PluginSpec] {
        &self.snapshot
    }

    /// The next event; `None` only if the watcher failed.
    pub async fn next_event(&mut self) -> Option<WatchEvent> {
        self.events.recv().await
    }
}

impl futures_core::Stream for Watch {
    type Item = WatchEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatchEvent>> {
        self.get_mut().events.poll_recv(cx)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Discovery {
    /// Watches the directories with the default [`WatchOptions`]; see
    /// [`watch_with`](Self::watch_with).
    ///
    /// # Errors
    /// As [`watch_with`](Self::watch_with).
    pub fn watch(&self) -> Result<Watch, DiscoveryError> {
        self.watch_with(WatchOptions::default())
    }

    /// Scans the directories now (see [`Watch::snapshot`]), then reports every
    /// change as a [`WatchEvent`]: sockets created and removed, descriptors
    /// written in place or renamed in, directories created after the watch
    /// started. A burst of changes gives one event per plugin.
    ///
    /// The first scan runs on the calling thread; later ones on tokio's
    /// blocking pool.
    ///
    /// # Errors
    /// [`DiscoveryError::NoRuntime`] outside a tokio runtime;
    /// [`DiscoveryError::Watch`] if inotify cannot be set up.
    pub fn watch_with(&self, options: WatchOptions) -> Result<Watch, DiscoveryError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| DiscoveryError::NoRuntime)?;
        let signal = Arc::new(Signal::default());
        let dirs: Vec<PathBuf> = self.all_dirs().into_iter().map(Path::to_owned).collect();
        let handler_signal = Arc::clone(&signal);
        let inner = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let relevant = match &event {
                Ok(event) => {
                    event.paths.is_empty() || event.paths.iter().any(|p| is_relevant(p, &dirs))
                }
                Err(err) => {
                    tracing::warn!("plugin watch: {err}; rescanning");
                    true
                }
            };
            if relevant {
                handler_signal.bump();
            }
        })
        .map_err(|source| DiscoveryError::Watch {
            source: Box::new(source),
        })?;

        let mut core = Core {
            discovery: self.clone(),
            watcher: DirWatcher {
                inner,
                watched: HashMap::new(),
                subdirs: Vec::new(),
            },
            state: State::default(),
        };
        let first = core.watcher.refresh(&core.discovery);
        let _ = core.state.apply(first);
        let snapshot = core
            .state
            .plugins
            .values()
            .map(|(spec, _)| spec.clone())
            .collect();

        let (tx, events) = mpsc::channel(CHANNEL_CAPACITY);
        let task = runtime.spawn(run(core, signal, options, tx)).abort_handle();
        Ok(Watch {
            events,
            task,
            snapshot,
        })
    }
}

/// Whether a changed path can matter: inside a plugin directory, or one of its
/// ancestors (a directory being created).
fn is_relevant(path: &Path, dirs: &[PathBuf]) -> bool {
    dirs.iter()
        .any(|dir| path.starts_with(dir) || dir.starts_with(path))
}

/// Set by the inotify thread, read by the watch task.
#[derive(Default)]
struct Signal {
    generation: AtomicU64,
    notify: Notify,
}

impl Signal {
    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_one();
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// What the watch task owns; moved to the blocking pool for each refresh.
struct Core {
    discovery: Discovery,
    watcher: DirWatcher,
    state: State,
}

async fn run(
    mut core: Core,
    signal: Arc<Signal>,
    options: WatchOptions,
    tx: mpsc::Sender<WatchEvent>,
) {
    loop {
        tokio::select! {
            () = signal.notify.notified() => {}
            () = tx.closed() => return,
        }
        debounce(&signal, options).await;
        let refreshed = tokio::task::spawn_blocking(move || {
            let detailed = core.watcher.refresh(&core.discovery);
            let events = core.state.apply(detailed);
            (core, events)
        })
        .await;
        let events;
        (core, events) = match refreshed {
            Ok(done) => done,
            Err(err) => {
                tracing::error!("plugin watch stopped: the rescan failed: {err}");
                return;
            }
        };
        for event in events {
            if tx.send(event).await.is_err() {
                return;
            }
        }
    }
}

/// Waits until no change has been signalled for `debounce`, or `max_delay`
/// has passed.
async fn debounce(signal: &Signal, options: WatchOptions) {
    // No `max_delay`, or one too large to add to now (`Duration::MAX`): no
    // bound.
    let deadline = options
        .max_delay
        .and_then(|delay| Instant::now().checked_add(delay));
    loop {
        let seen = signal.generation();
        let quiet = match deadline {
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return;
                }
                options.debounce.min(deadline - now)
            }
            None => options.debounce,
        };
        tokio::time::sleep(quiet).await;
        if signal.generation() == seen {
            return;
        }
    }
}

/// The inotify watches: plugin dirs (or the nearest existing ancestor of a
/// missing one) and their subdirectories, each with the inode it was added for.
struct DirWatcher {
    inner: notify::RecommendedWatcher,
    watched: HashMap<PathBuf, u64>,
    subdirs: Vec<PathBuf>,
}

impl DirWatcher {
    /// Updates the watches, then scans, until the scan added no watch.
    fn refresh(&mut self, discovery: &Discovery) -> Detailed {
        let mut detailed = Detailed::default();
        for round in 0..MAX_ROUNDS {
            let added = self.sync(discovery);
            if round > 0 && !added {
                break;
            }
            detailed = discovery.scan_detailed(true);
            self.subdirs = std::mem::take(&mut detailed.subdirs);
        }
        detailed
    }

    /// Makes the watches match the directories that exist now; true if one was
    /// added.
    fn sync(&mut self, discovery: &Discovery) -> bool {
        let mut desired: BTreeMap<PathBuf, u64> = BTreeMap::new();
        for dir in discovery
            .all_dirs()
            .into_iter()
            .chain(self.subdirs.iter().map(PathBuf::as_path))
        {
            if let Some((path, ino)) = nearest_existing_dir(dir) {
                desired.insert(path, ino);
            }
        }
        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(path, ino)| desired.get(*path) != Some(*ino))
            .map(|(path, _)| path.clone())
            .collect();
        for path in stale {
            // The directory may be gone already, taking its watch with it.
            let _ = self.inner.unwatch(&path);
            self.watched.remove(&path);
        }
        let mut added = false;
        for (path, ino) in desired {
            if self.watched.contains_key(&path) {
                continue;
            }
            match self.inner.watch(&path, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(path, ino);
                    added = true;
                }
                Err(err) => {
                    tracing::warn!(dir = %path.display(), "plugin watch cannot watch a directory: {err}")
                }
            }
        }
        added
    }
}

/// `dir` if it is a directory, else its nearest ancestor that is, with its inode.
fn nearest_existing_dir(dir: &Path) -> Option<(PathBuf, u64)> {
    dir.ancestors().find_map(|candidate| {
        let meta = std::fs::metadata(candidate).ok()?;
        meta.is_dir().then(|| (candidate.to_owned(), meta.ino()))
    })
}

/// The plugins of the last scan, and the skipped entries already logged.
#[derive(Default)]
struct State {
    plugins: BTreeMap<PluginName, (PluginSpec, Option<SocketId>)>,
    skipped: BTreeSet<String>,
}

impl State {
    /// Replaces the state with a new scan; returns what changed.
    fn apply(&mut self, detailed: Detailed) -> Vec<WatchEvent> {
        let plugins: BTreeMap<PluginName, (PluginSpec, Option<SocketId>)> = detailed
            .found
            .into_iter()
            .map(|found| (found.spec.name().clone(), (found.spec, found.socket_id)))
            .collect();
        let mut events: Vec<WatchEvent> = self
            .plugins
            .keys()
            .filter(|name| !plugins.contains_key(*name))
            .map(|name| WatchEvent::Removed(name.clone()))
            .collect();
        for (name, now) in &plugins {
            match self.plugins.get(name) {
                // A spec's warnings once, when it appears or changes, not on
                // every rescan.
                None => {
                    crate::lookup::log_warnings(&now.0);
                    events.push(WatchEvent::Added(now.0.clone()));
                }
                Some(before) if before != now => {
                    crate::lookup::log_warnings(&now.0);
                    events.push(WatchEvent::Changed(now.0.clone()));
                }
                Some(_) => {}
            }
        }
        let skipped: BTreeSet<String> = detailed.skipped.iter().map(ToString::to_string).collect();
        for entry in skipped.difference(&self.skipped) {
            tracing::warn!("plugin watch skipped {entry}");
        }
        self.plugins = plugins;
        self.skipped = skipped;
        events
    }
}
