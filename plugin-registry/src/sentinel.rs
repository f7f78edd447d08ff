//! How a `get` tells, without looking at the files, that nothing changed in
//! the directories an active plugin's files are in.
//!
//! The exact check is a `stat` of the plugin's descriptor and socket on every
//! `get`: about a third of a microsecond, a twentieth of a whole call. The
//! sentinel watches those directories with inotify instead. The kernel queues
//! an event for a file created, removed, renamed, written or chmod'ed in a
//! watched directory before the call that did it returns, so a `get` that
//! finds the queue empty knows nothing changed there since the last look, in
//! the time of one `read` that finds nothing (a seventh of a microsecond).
//! Any event moves the sentinel's epoch on, and each plugin looks at its
//! files again the first time it is asked after that.
//!
//! What inotify cannot see (a parent directory renamed or mounted over, a
//! network filesystem changed from elsewhere) is still seen by the `stat`,
//! which each plugin makes at least once a [`RECHECK`] regardless. A
//! directory reached through a symbolic link, or named by a relative path, is
//! not watched (the link could be pointed elsewhere unseen): its plugins are
//! `stat`ed on every `get`, as they are where inotify is not available (no
//! Linux, or no instance left under `fs.inotify.max_user_instances`).
//!
//! A registry holds one inotify instance, made at its first activation, and
//! one watch per directory its plugins were found in, kept while it lives.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The longest a plugin goes without a `stat` of its files while the
/// sentinel sees nothing.
pub(crate) const RECHECK: Duration = Duration::from_secs(1);

/// One registry's inotify instance and the epoch its events move on.
pub(crate) struct Sentinel {
    /// Moved on by every drain that found events; from 1.
    epoch: AtomicU64,
    /// The start of [`clock`](Self::clock) (tokio's clock, so that tests
    /// can move it).
    started: tokio::time::Instant,
    #[cfg(target_os = "linux")]
    inotify: std::sync::OnceLock<Option<std::sync::Mutex<linux::Watcher>>>,
}

/// A directory the sentinel watches, for as long as it does: the watch ends
/// when the directory is removed, moved or unmounted.
#[derive(Clone)]
pub(crate) struct Watched(Arc<AtomicBool>);

impl Watched {
    pub(crate) fn alive(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl Sentinel {
    pub(crate) fn new() -> Self {
        Self {
            epoch: AtomicU64::new(1),
            started: tokio::time::Instant::now(),
            #[cfg(target_os = "linux")]
            inotify: std::sync::OnceLock::new(),
        }
    }

    /// Watches `dir` (made once per registry; a directory already watched
    /// is the same watch). `None` where it cannot be watched: no inotify,
    /// out of watches, a path through a symbolic link, not a directory.
    pub(crate) fn watch(&self, dir: &Path) -> Option<Watched> {
        #[cfg(target_os = "linux")]
        {
            let watcher = self
                .inotify
                .get_or_init(|| linux::Watcher::new().map(std::sync::Mutex::new))
                .as_ref()?;
            // A path with a symbolic link in it could be pointed elsewhere
            // without an event in the directory watched.
            if std::fs::canonicalize(dir).ok()?.as_path() != dir {
                return None;
            }
            let mut watcher = watcher.lock().ok()?;
            watcher.add(dir)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            None
        }
    }

    /// Nanoseconds since the sentinel was made.
    pub(crate) fn clock(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The epoch once every event queued until now has been taken: equal to
    /// an epoch read before means nothing changed in any watched directory
    /// in between. `None` when that cannot be told now (another thread is
    /// taking events this moment, or inotify failed): look at the files.
    pub(crate) fn epoch(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            let watcher = self.inotify.get()?.as_ref()?;
            // Not waiting: one that holds it may have taken an event and not
            // yet moved the epoch on.
            let mut watcher = watcher.try_lock().ok()?;
            if watcher.drain()? {
                self.epoch.fetch_add(1, Ordering::AcqRel);
            }
            Some(self.epoch.load(Ordering::Acquire))
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::io;
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

    use super::Watched;

    /// Room for many events a read (each is 16 bytes and a file name).
    const BUFFER: usize = 8 * 1024;

    pub(super) struct Watcher {
        inotify: Inotify,
        /// Each watch's liveness, by its descriptor.
        watches: HashMap<WatchDescriptor, Watched>,
        buffer: Box<[u8]>,
        /// A read failed other than with "nothing queued": no more answers.
        failed: bool,
    }

    impl Watcher {
        pub(super) fn new() -> Option<Self> {
            let inotify = Inotify::init()
                .map_err(|e| {
                    tracing::debug!("no inotify ({e}): plugin files are checked on every get")
                })
                .ok()?;
            Some(Self {
                inotify,
                watches: HashMap::new(),
                buffer: vec![0; BUFFER].into_boxed_slice(),
                failed: false,
            })
        }

        pub(super) fn add(&mut self, dir: &Path) -> Option<Watched> {
            let mask = WatchMask::CREATE
                | WatchMask::DELETE
                | WatchMask::MOVED_FROM
                | WatchMask::MOVED_TO
                | WatchMask::MODIFY
                | WatchMask::ATTRIB
                | WatchMask::CLOSE_WRITE
                | WatchMask::DELETE_SELF
                | WatchMask::MOVE_SELF
                | WatchMask::ONLYDIR
                | WatchMask::DONT_FOLLOW;
            let wd = self
                .inotify
                .watches()
                .add(dir, mask)
                .map_err(|e| tracing::debug!(dir = %dir.display(), "not watched ({e}): its plugins' files are checked on every get"))
                .ok()?;
            let watched = self
                .watches
                .entry(wd)
                .or_insert_with(|| Watched(Arc::new(AtomicBool::new(true))));
            Some(watched.clone())
        }

        /// Takes every queued event; whether there were any. `None` once a
        /// read failed.
        pub(super) fn drain(&mut self) -> Option<bool> {
            if self.failed {
                return None;
            }
            let mut any = false;
            loop {
                let events = match self.inotify.read_events(&mut self.buffer) {
                    Ok(events) => events,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Some(any),
                    Err(e) => {
                        tracing::warn!(
                            "reading inotify events failed ({e}): plugin files are checked on every get from now on"
                        );
                        self.failed = true;
                        return None;
                    }
                };
                any = true;
                for event in events {
                    // The watch is gone (its directory removed, moved away or
                    // unmounted): its plugins look at their files every time.
                    if event
                        .mask
                        .intersects(EventMask::IGNORED | EventMask::MOVE_SELF | EventMask::UNMOUNT)
                    {
                        if let Some(watched) = self.watches.remove(&event.wd) {
                            watched.0.store(false, Ordering::Release);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_moves_on_for_each_change_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        let sentinel = Sentinel::new();
        assert_eq!(sentinel.epoch(), None, "nothing watched yet");
        let watched = sentinel.watch(&dir).unwrap();
        let first = sentinel.epoch().unwrap();
        assert_eq!(sentinel.epoch(), Some(first));
        std::fs::write(dir.join("a.spec"), "unix:///run/a.sock").unwrap();
        let second = sentinel.epoch().unwrap();
        assert!(second > first);
        assert_eq!(sentinel.epoch(), Some(second));
        std::fs::remove_file(dir.join("a.spec")).unwrap();
        assert!(sentinel.epoch().unwrap() > second);
        assert!(watched.alive());
        // The same directory again is the same watch.
        let again = sentinel.watch(&dir).unwrap();
        std::fs::remove_dir(&dir).unwrap();
        sentinel.epoch().unwrap();
        assert!(!watched.alive() && !again.alive());
    }

    #[test]
    fn a_path_through_a_symbolic_link_is_not_watched() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(dir.join("real")).unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
        let sentinel = Sentinel::new();
        assert!(sentinel.watch(&dir.join("link")).is_none());
        assert!(sentinel.watch(&dir.join("real")).is_some());
        assert!(sentinel.watch(&dir.join("missing")).is_none());
    }
}
