//! Files a server creates (its socket, its descriptor) and removes when it
//! stops: written atomically, and removed only while they are still ours.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A file this server created. [`remove`](Self::remove) deletes it once, and
/// only if the path still holds the same file (a newer server may have
/// replaced it since). A socket's file also holds its [`PathLock`], released
/// only after the socket is removed: while it is held no other server takes
/// the path, so the check and the unlink cannot be split by a new instance.
#[derive(Debug)]
pub(crate) struct OwnedFile {
    path: PathBuf,
    id: (u64, u64),
    /// `Some` until removed; the mutex is held through the removal, so a
    /// second `remove` (a `Serving` dropped while its accept loop stops)
    /// returns only once the first is done.
    held: Mutex<Option<Option<PathLock>>>,
}

impl OwnedFile {
    /// Takes ownership of the file now at `path`.
    pub(crate) fn adopt(path: &Path) -> io::Result<Self> {
        Self::adopt_locked(path, None)
    }

    /// Takes ownership of the file now at `path`, with the lock that gave it.
    pub(crate) fn adopt_locked(path: &Path, lock: Option<PathLock>) -> io::Result<Self> {
        let meta = fs::symlink_metadata(path)?;
        Ok(Self {
            path: path.to_owned(),
            id: (meta.dev(), meta.ino()),
            held: Mutex::new(Some(lock)),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file if it is still ours, then releases its lock; at most
    /// once. A concurrent call returns once the removal is done.
    pub(crate) fn remove(&self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(lock) = held.take() else {
            return;
        };
        match fs::symlink_metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) == self.id => {
                hooks::run(hooks::Point::BeforeUnlink, &self.path);
                if let Err(e) = fs::remove_file(&self.path) {
                    tracing::warn!(file = %self.path.display(), "cannot remove the plugin's file: {e}");
                }
            }
            Ok(_) => {
                tracing::debug!(file = %self.path.display(), "not removed: another server has replaced it")
            }
            Err(_) => {}
        }
        // Only now may the next instance take the path.
        drop(lock);
    }
}

/// The lock that makes one server the owner of a socket path: an exclusive
/// `flock(2)` on `.NAME.lock` beside the socket (plugin discovery looks only
/// at `.sock`, `.spec` and `.json` names). The kernel releases it when its
/// holder exits, however it exits; a holder that stops normally removes the
/// lock file while still holding it.
#[derive(Debug)]
pub(crate) struct PathLock {
    path: PathBuf,
    /// Holds the lock until dropped (after the lock file is removed).
    _file: fs::File,
}

impl PathLock {
    /// The lock file for the socket at `socket`.
    pub(crate) fn path_for(socket: &Path) -> PathBuf {
        let name = socket
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        socket
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!(".{name}.lock"))
    }

    /// Takes the lock for `socket` without waiting: `None` while another
    /// server (in this process or another) holds it.
    pub(crate) fn try_acquire(socket: &Path) -> io::Result<Option<Self>> {
        use rustix::fs::{FlockOperation, Mode, OFlags};
        let path = Self::path_for(socket);
        // The holder removes the file before it releases the lock: a lock
        // taken on a file no longer at the path is taken again on the new one.
        for _ in 0..100 {
            let fd = rustix::fs::open(
                &path,
                OFlags::CREATE | OFlags::RDWR | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                Mode::from_raw_mode(0o600),
            )?;
            match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            let file = fs::File::from(fd);
            let locked = file.metadata()?;
            match fs::symlink_metadata(&path) {
                Ok(now) if (now.dev(), now.ino()) == (locked.dev(), locked.ino()) => {
                    return Ok(Some(Self { path, _file: file }));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "its lock file kept being replaced while it was being locked",
        ))
    }
}

impl Drop for PathLock {
    /// Removes the lock file, then (closing it) releases the lock.
    fn drop(&mut self) {
        if let Err(e) = fs::remove_file(&self.path) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(file = %self.path.display(), "cannot remove the socket's lock file: {e}");
            }
        }
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory
/// and a rename, so that a reader sees the whole old file or the whole new
/// one, never half of it. Creates the directory if needed.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<OwnedFile> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A leading dot and a `.tmp` extension: plugin discovery ignores it.
    let tmp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::File::create(&tmp).and_then(|mut file| file.write_all(contents));
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    OwnedFile::adopt(path)
}

/// Test hooks: a closure run at a named point for a given path, so that a
/// test can put another server's step between two of this one's. Nothing in
/// a non-test build.
pub(crate) mod hooks {
    use std::path::Path;

    /// Where a hook runs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) enum Point {
        /// In `OwnedFile::remove`, after the "still ours" check, before the
        /// unlink.
        BeforeUnlink,
        /// In `clear_stale_socket`, after the socket was found, before the
        /// connect that tells whether it is live.
        BeforeConnect,
    }

    #[cfg(test)]
    type Hook = Box<dyn FnOnce() + Send>;

    #[cfg(test)]
    static HOOKS: std::sync::Mutex<Vec<(Point, std::path::PathBuf, Hook)>> =
        std::sync::Mutex::new(Vec::new());

    /// Runs `hook` once, the next time `point` is reached for `path`.
    #[cfg(test)]
    pub(crate) fn set(point: Point, path: &Path, hook: impl FnOnce() + Send + 'static) {
        HOOKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((point, path.to_owned(), Box::new(hook)));
    }

    #[cfg(test)]
    pub(crate) fn run(point: Point, path: &Path) {
        let hook = {
            let mut hooks = HOOKS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            hooks
                .iter()
                .position(|(p, at, _)| *p == point && at == path)
                .map(|i| hooks.remove(i).2)
        };
        if let Some(hook) = hook {
            hook();
        }
    }

    #[cfg(not(test))]
    #[inline(always)]
    pub(crate) fn run(_point: Point, _path: &Path) {}
}
