//! A directory-backed volume plugin: each volume is a directory under `--root`,
//! served on `--socket` until SIGINT or SIGTERM (the socket is removed on the
//! way out).
//!
//! ```text
//! cargo run -p plugin-subsystems --example dir_volume -- \
//!     --root /var/lib/dir-volume --socket /run/docker/plugins/dirvol.sock
//! ```
//!
//! The plugin's name is the socket's file name without `.sock` (`dirvol`).
//! Volume names are checked before any path is built (letters, digits, `_`,
//! `.` and `-`, starting with a letter or digit, as Docker's own volume names),
//! so a name cannot reach outside the root. Each mount is counted by its ID, and
//! a volume in use cannot be removed. The mount counts live in memory: a
//! restarted plugin starts with none.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::Parser;
use plugin_subsystems::volume::{
    CreateRequest, GetRequest, GetResponse, ListResponse, MountRequest, MountResponse, PathRequest,
    PathResponse, RemoveRequest, UnmountRequest, Volume, VolumeDriver,
};
use plugin_subsystems::{HandlerError, PluginName, PluginServer, PluginServerExt};

#[derive(Debug, Parser)]
struct Args {
    /// The directory that holds one directory per volume (made if missing).
    #[arg(long, value_name = "DIR")]
    root: PathBuf,
    /// The unix socket to serve on, e.g. /run/docker/plugins/dirvol.sock.
    #[arg(long, value_name = "PATH")]
    socket: PathBuf,
}

/// The volumes under `root`, and who has each mounted.
struct DirVolumes {
    root: PathBuf,
    mounts: Mutex<HashMap<String, HashSet<String>>>,
}

/// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. It also
/// keeps the name a single path component inside the root.
fn checked(name: &str) -> Result<&str, HandlerError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && name.len() <= 255 {
        Ok(name)
    } else {
        Err(HandlerError::new(format!(
            "{name:?} is not a valid volume name: use letters, digits, '_', '.' and '-', starting with a letter or digit"
        )))
    }
}

impl DirVolumes {
    fn dir(&self, name: &str) -> Result<PathBuf, HandlerError> {
        Ok(self.root.join(checked(name)?))
    }

    /// The volume's directory, if the volume exists.
    fn existing(&self, name: &str) -> Result<PathBuf, HandlerError> {
        let dir = self.dir(name)?;
        if dir.is_dir() {
            Ok(dir)
        } else {
            Err(HandlerError::new(format!("no such volume: {name}")))
        }
    }

    fn mount_count(&self, name: &str) -> usize {
        let mounts = self.mounts.lock().unwrap_or_else(|e| e.into_inner());
        mounts.get(name).map_or(0, HashSet::len)
    }

    fn volume(&self, name: &str, dir: &Path) -> Volume {
        let mut status = BTreeMap::new();
        status.insert("mounts".to_owned(), self.mount_count(name).into());
        Volume {
            name: name.to_owned(),
            mountpoint: dir.display().to_string(),
            status,
            ..Volume::default()
        }
    }
}

impl VolumeDriver for DirVolumes {
    async fn create(&self, request: CreateRequest) -> Result<(), HandlerError> {
        if let Some(opts) = request.opts.filter(|opts| !opts.is_empty()) {
            let keys: Vec<&str> = opts.keys().map(String::as_str).collect();
            return Err(HandlerError::new(format!(
                "this driver takes no options (given: {})",
                keys.join(", ")
            )));
        }
        // Creating a volume that exists is not an error, as in Docker.
        std::fs::create_dir_all(self.dir(&request.name)?)?;
        Ok(())
    }

    async fn remove(&self, request: RemoveRequest) -> Result<(), HandlerError> {
        let dir = self.existing(&request.name)?;
        let in_use = self.mount_count(&request.name);
        if in_use > 0 {
            return Err(HandlerError::new(format!(
                "volume {} is in use by {in_use} container(s)",
                request.name
            )));
        }
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    async fn path(&self, request: PathRequest) -> Result<PathResponse, HandlerError> {
        let dir = self.existing(&request.name)?;
        Ok(PathResponse {
            mountpoint: dir.display().to_string(),
        })
    }

    async fn mount(&self, request: MountRequest) -> Result<MountResponse, HandlerError> {
        let dir = self.existing(&request.name)?;
        let mut mounts = self.mounts.lock().unwrap_or_else(|e| e.into_inner());
        mounts.entry(request.name).or_default().insert(request.id);
        Ok(MountResponse {
            mountpoint: dir.display().to_string(),
        })
    }

    async fn unmount(&self, request: UnmountRequest) -> Result<(), HandlerError> {
        self.existing(&request.name)?;
        let mut mounts = self.mounts.lock().unwrap_or_else(|e| e.into_inner());
        // An ID we do not know (mounted before a restart) is already gone.
        if let Some(ids) = mounts.get_mut(&request.name) {
            ids.remove(&request.id);
            if ids.is_empty() {
                mounts.remove(&request.name);
            }
        }
        Ok(())
    }

    async fn get(&self, request: GetRequest) -> Result<GetResponse, HandlerError> {
        let dir = self.existing(&request.name)?;
        Ok(GetResponse {
            volume: Some(self.volume(&request.name, &dir)),
        })
    }

    async fn list(&self) -> Result<ListResponse, HandlerError> {
        let mut volumes = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() && checked(&name).is_ok() {
                volumes.push(self.volume(&name, &entry.path()));
            }
        }
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ListResponse { volumes })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let stem = args
        .socket
        .file_stem()
        .ok_or("--socket needs a file name, e.g. /run/docker/plugins/dirvol.sock")?;
    let name = PluginName::from_os_str(stem)?;
    std::fs::create_dir_all(&args.root)?;
    let driver = DirVolumes {
        root: std::fs::canonicalize(&args.root)?,
        mounts: Mutex::default(),
    };
    let serving = PluginServer::new(name.clone())
        .volume_driver(driver)
        .serve_unix(&args.socket)?;
    println!(
        "{name} serving on {} (volumes in {})",
        serving.address(),
        args.root.display()
    );
    let signal = serving.run_until_signal().await?;
    println!("{name} stopped on {signal:?}; socket removed");
    Ok(())
}
