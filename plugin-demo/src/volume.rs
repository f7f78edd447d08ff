//! `demo-volume`: a VolumeDriver whose volumes are directories under
//! `STATE/volumes/`, with their options, creation times and mounts kept in
//! `STATE/volumes.json`, so that a restarted plugin still has them, and their
//! data.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use plugin_subsystems::HandlerError;
use plugin_subsystems::volume::{self, VolumeDriver};
use serde::{Deserialize, Serialize};

use crate::DemoError;

/// What is kept of a volume.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Kept {
    options: BTreeMap<String, String>,
    created_at: String,
    /// The IDs of the mounts the engine has not unmounted yet.
    mounts: BTreeSet<String>,
}

/// The volumes of one STATE directory.
#[derive(Debug)]
pub(crate) struct Directories {
    state: PathBuf,
    volumes: Mutex<BTreeMap<String, Kept>>,
    /// The exclusive `flock` on `STATE/demo-volume.lock`, held for the life
    /// of the plugin (released when this is dropped, or the process dies).
    _lock: OwnedFd,
}

/// The file the volume table is kept in.
const TABLE: &str = "volumes.json";

/// The lock file in STATE: one demo-volume per state directory.
const LOCK: &str = "demo-volume.lock";

/// Takes the exclusive lock on `state` (the lock file made if missing, never
/// through a link), or says another demo-volume holds it.
fn lock(state: &Path) -> Result<OwnedFd, DemoError> {
    use rustix::fs::{Mode, OFlags};
    let path = state.join(LOCK);
    let fd = rustix::fs::open(
        &path,
        OFlags::CREATE | OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|e| DemoError::State {
        plugin: crate::DEMO_VOLUME,
        path: path.clone(),
        source: e.into(),
    })?;
    match rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(fd),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(DemoError::StateLocked {
            state: state.to_owned(),
            lock: path,
            source: e.into(),
        }),
        Err(e) => Err(DemoError::State {
            plugin: crate::DEMO_VOLUME,
            path,
            source: e.into(),
        }),
    }
}

impl Directories {
    /// The volumes kept in `state` (made if missing; an absolute path, as
    /// the mountpoints answered are under it).
    pub(crate) fn open(state: &Path) -> Result<Self, DemoError> {
        let failed = |path: &Path| {
            let path = path.to_owned();
            move |source| DemoError::State {
                plugin: crate::DEMO_VOLUME,
                path,
                source,
            }
        };
        std::fs::create_dir_all(state).map_err(failed(state))?;
        let state = std::fs::canonicalize(state).map_err(failed(state))?;
        // First the lock: nothing of STATE is read before this instance is
        // its only user.
        let lock = lock(&state)?;
        let volumes_dir = state.join("volumes");
        ensure_dir(&volumes_dir).map_err(|e| e.into_demo(crate::DEMO_VOLUME))?;
        let table = state.join(TABLE);
        let read = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(crate::no_follow())
            .open(&table)
            .and_then(|mut file| {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut bytes).map(|_| bytes)
            });
        let volumes = match read {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| DemoError::VolumeTable {
                    path: table.clone(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(failed(&table)(e)),
        };
        Ok(Self {
            state,
            volumes: Mutex::new(volumes),
            _lock: lock,
        })
    }

    /// The directory of volume `name` (a checked name).
    fn dir(&self, name: &str) -> PathBuf {
        self.state.join("volumes").join(name)
    }

    /// Runs `f` on the table and, if it changed, writes the table back
    /// (atomically: a temporary file renamed over the old one).
    fn with<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Kept>) -> Result<T, HandlerError>,
    ) -> Result<T, HandlerError> {
        let mut volumes = self
            .volumes
            .lock()
            .map_err(|_| HandlerError::new("demo-volume: the volume table is unavailable"))?;
        let before = volumes.clone();
        let out = f(&mut volumes)?;
        if *volumes != before {
            if let Err(e) = self.save(&volumes) {
                *volumes = before;
                return Err(HandlerError::new(format!(
                    "demo-volume: cannot save the volume table: {e}"
                )));
            }
        }
        Ok(out)
    }

    fn save(&self, volumes: &BTreeMap<String, Kept>) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(volumes).map_err(std::io::Error::other)?;
        let temporary = self.state.join(format!("{TABLE}.tmp"));
        // A stale temporary file (or a link planted there) is removed, never
        // written through: the new one is made afresh (`O_EXCL`, and
        // `O_NOFOLLOW`), and the rename replaces `volumes.json` itself.
        match std::fs::remove_file(&temporary) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(crate::no_follow())
            .open(&temporary)?;
        file.write_all(&bytes)?;
        drop(file);
        std::fs::rename(&temporary, self.state.join(TABLE))
    }

    fn volume(&self, name: &str, kept: &Kept) -> volume::Volume {
        volume::Volume {
            name: name.to_owned(),
            mountpoint: self.dir(name).display().to_string(),
            created_at: kept.created_at.clone(),
            status: kept
                .options
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        }
    }
}

/// Checks a volume name before any path is built from it: a bad name is the
/// plugin's error, naming the rule, and nothing is made.
pub(crate) fn check_name(name: &str) -> Result<(), HandlerError> {
    let broken = if name.is_empty() {
        Some("it is empty")
    } else if name.contains('/') {
        Some("it contains '/'")
    } else if name.contains('\0') {
        Some("it contains a NUL byte")
    } else if name == "." || name.contains("..") {
        Some("it contains '..' or is '.'")
    } else {
        None
    };
    match broken {
        Some(rule) => Err(HandlerError::new(format!(
            "demo-volume: invalid volume name {name:?}: {rule}"
        ))),
        None => Ok(()),
    }
}

fn missing(name: &str) -> HandlerError {
    HandlerError::new(format!("demo-volume: no such volume: {name}"))
}

/// Why a volume directory cannot be used.
#[derive(Debug)]
enum DirError {
    /// A link, or not a directory, is there: refused, never followed.
    NotADirectory(PathBuf),
    /// The file system's error.
    Io(PathBuf, std::io::Error),
}

impl DirError {
    fn into_demo(self, plugin: &'static str) -> DemoError {
        match self {
            Self::NotADirectory(path) => DemoError::NotFollowed {
                plugin,
                path,
                expected: "directory",
            },
            Self::Io(path, source) => DemoError::State {
                plugin,
                path,
                source,
            },
        }
    }
}

impl From<DirError> for HandlerError {
    fn from(e: DirError) -> Self {
        match e {
            DirError::NotADirectory(path) => HandlerError::new(format!(
                "demo-volume: refusing {}: it is a symbolic link or not a directory",
                path.display()
            )),
            DirError::Io(path, e) => {
                HandlerError::new(format!("demo-volume: cannot make {}: {e}", path.display()))
            }
        }
    }
}

/// Checks that `dir` is a directory itself (a link to one is refused, not
/// adopted), without making it.
fn check_dir(dir: &Path) -> Result<bool, DirError> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_dir() => Ok(true),
        Ok(_) => Err(DirError::NotADirectory(dir.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(DirError::Io(dir.to_owned(), e)),
    }
}

/// Makes `dir` with `create_dir` (which fails if anything, a link included,
/// is there) unless a directory, not a link, already is.
fn ensure_dir(dir: &Path) -> Result<(), DirError> {
    if check_dir(dir)? {
        return Ok(());
    }
    std::fs::create_dir(dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            DirError::NotADirectory(dir.to_owned())
        } else {
            DirError::Io(dir.to_owned(), e)
        }
    })
}

fn make_dir(dir: &Path) -> Result<(), HandlerError> {
    Ok(ensure_dir(dir)?)
}

impl VolumeDriver for Directories {
    async fn create(&self, request: volume::CreateRequest) -> Result<(), HandlerError> {
        check_name(&request.name)?;
        let dir = self.dir(&request.name);
        self.with(|volumes| {
            // As Docker's `local` driver: a volume that exists is answered as
            // created, kept as it is (the options given now are ignored).
            if volumes.contains_key(&request.name) {
                return Ok(());
            }
            make_dir(&dir)?;
            volumes.insert(
                request.name,
                Kept {
                    options: request.opts.unwrap_or_default().into_iter().collect(),
                    created_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
                    mounts: BTreeSet::new(),
                },
            );
            Ok(())
        })
    }

    async fn remove(&self, request: volume::RemoveRequest) -> Result<(), HandlerError> {
        check_name(&request.name)?;
        let dir = self.dir(&request.name);
        self.with(|volumes| {
            let kept = volumes
                .get(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            if !kept.mounts.is_empty() {
                return Err(HandlerError::new(format!(
                    "demo-volume: volume {} is in use ({} mount{})",
                    request.name,
                    kept.mounts.len(),
                    if kept.mounts.len() == 1 { "" } else { "s" }
                )));
            }
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(HandlerError::new(format!(
                        "demo-volume: cannot remove {}: {e}",
                        dir.display()
                    )));
                }
                _ => {}
            }
            volumes.remove(&request.name);
            Ok(())
        })
    }

    async fn path(
        &self,
        request: volume::PathRequest,
    ) -> Result<volume::PathResponse, HandlerError> {
        check_name(&request.name)?;
        self.with(|volumes| {
            volumes
                .get(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            // Never a mountpoint through a link planted at the volume's path.
            check_dir(&self.dir(&request.name))?;
            Ok(volume::PathResponse {
                mountpoint: self.dir(&request.name).display().to_string(),
            })
        })
    }

    async fn mount(
        &self,
        request: volume::MountRequest,
    ) -> Result<volume::MountResponse, HandlerError> {
        check_name(&request.name)?;
        let dir = self.dir(&request.name);
        self.with(|volumes| {
            let kept = volumes
                .get_mut(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            make_dir(&dir)?;
            kept.mounts.insert(request.id);
            Ok(volume::MountResponse {
                mountpoint: dir.display().to_string(),
            })
        })
    }

    async fn unmount(&self, request: volume::UnmountRequest) -> Result<(), HandlerError> {
        check_name(&request.name)?;
        self.with(|volumes| {
            let kept = volumes
                .get_mut(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            kept.mounts.remove(&request.id);
            Ok(())
        })
    }

    async fn get(&self, request: volume::GetRequest) -> Result<volume::GetResponse, HandlerError> {
        check_name(&request.name)?;
        self.with(|volumes| {
            let kept = volumes
                .get(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            Ok(volume::GetResponse {
                volume: Some(self.volume(&request.name, kept)),
            })
        })
    }

    async fn list(&self) -> Result<volume::ListResponse, HandlerError> {
        self.with(|volumes| {
            Ok(volume::ListResponse {
                volumes: volumes
                    .iter()
                    .map(|(name, kept)| self.volume(name, kept))
                    .collect(),
            })
        })
    }

    async fn capabilities(&self) -> Result<volume::CapabilitiesResponse, HandlerError> {
        Ok(volume::CapabilitiesResponse::local())
    }
}
