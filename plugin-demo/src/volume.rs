//! `demo-volume`: a VolumeDriver whose volumes are directories under
//! `STATE/volumes/`, with their options, creation times and mounts kept in
//! `STATE/volumes.json`, so that a restarted plugin still has them, and their
//! data.

use std::collections::{BTreeMap, BTreeSet};
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
}

/// The file the volume table is kept in.
const TABLE: &str = "volumes.json";

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
        let volumes_dir = state.join("volumes");
        std::fs::create_dir_all(&volumes_dir).map_err(failed(&volumes_dir))?;
        let state = std::fs::canonicalize(state).map_err(failed(state))?;
        let table = state.join(TABLE);
        let volumes = match std::fs::read(&table) {
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
        std::fs::write(&temporary, bytes)?;
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

fn make_dir(dir: &Path) -> Result<(), HandlerError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| HandlerError::new(format!("demo-volume: cannot make {}: {e}", dir.display())))
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
