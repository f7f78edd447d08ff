//! The packager: a managed plugin directory (`config.json` and `rootfs/`)
//! from a binary, and the check of one.
//!
//! The rootfs holds the binary, the shared libraries it loads (found from the
//! ELF's interpreter and `DT_NEEDED` entries, then theirs) at the paths the
//! loader looks in, and the directories the engine expects
//! ([`DOCKER_SOCKET_DIR`], `/tmp`). A library the host reaches through a
//! symlink (`/lib64/ld-linux-x86-64.so.2`) is a symlink in the rootfs too,
//! and each file is copied once. A static binary (no interpreter, no
//! `DT_NEEDED`: `RUSTFLAGS="-C target-feature=+crt-static"`) needs nothing
//! else: its rootfs is the one file. The directory is built beside its
//! destination and renamed into place only when complete, so a failed build
//! leaves nothing behind.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use plugin_spec::DOCKER_SOCKET_DIR;

use crate::config::{ConfigError, PluginConfig, ReadError, within};

/// Where the loader looks for libraries without a `RUNPATH` (Debian's
/// multiarch directories first).
pub const LIBRARY_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// How many symlinks a library path may go through (the kernel's limit).
const MAX_SYMLINKS: usize = 40;

/// Why a plugin directory could not be built or is not valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The plugin directory to make exists already.
    #[error("{} already exists; remove it or give another destination", path.display())]
    Exists {
        /// The directory.
        path: PathBuf,
    },
    /// The plugin's binary cannot be read.
    #[error("cannot use the binary {}", path.display())]
    Binary {
        /// The binary.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The plugin's binary is not a regular file.
    #[error("the binary {} is not a file", path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// The config breaks a rule.
    #[error("invalid plugin config")]
    Config {
        /// The field and what is wrong with it.
        source: ConfigError,
    },
    /// A plugin directory's `config.json` cannot be read or is invalid.
    #[error(transparent)]
    ReadConfig(ReadError),
    /// A plugin directory's rootfs does not hold what its config names.
    #[error("invalid rootfs in {}", dir.display())]
    Rootfs {
        /// The plugin directory.
        dir: PathBuf,
        /// The field and what is missing.
        source: ConfigError,
    },
    /// The entrypoint needs libraries the rootfs does not hold.
    #[error("{}: the entrypoint needs {}, missing from rootfs/", dir.display(), missing.join(", "))]
    MissingLibraries {
        /// The plugin directory.
        dir: PathBuf,
        /// The libraries (and interpreter) missing, by the names the ELF gives.
        missing: Vec<String>,
    },
    /// A file that must be an ELF object is not one.
    #[error("{} is not an ELF binary", path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// What goblin found.
        source: goblin::error::Error,
    },
    /// A library an ELF object needs is in none of the loader's directories.
    #[error("{} needs {library}, which is not in its RUNPATH or {}", object.display(), LIBRARY_DIRS.join(", "))]
    LibraryNotFound {
        /// The binary or library that needs it.
        object: PathBuf,
        /// The library's name (`DT_NEEDED`).
        library: String,
    },
    /// A library path goes through more than 40 symlinks.
    #[error("{} goes through more than 40 symlinks", path.display())]
    SymlinkLoop {
        /// The path.
        path: PathBuf,
    },
    /// `strip` is not on `PATH`.
    #[error(
        "cannot strip: `strip` (GNU binutils) is not on PATH; install binutils, or package without stripping"
    )]
    StripNotFound {
        /// The error running it.
        source: io::Error,
    },
    /// `strip` ran and failed.
    #[error("strip failed on {}: {stderr}", path.display())]
    StripFailed {
        /// The file being stripped (in the rootfs being built).
        path: PathBuf,
        /// What `strip` said.
        stderr: String,
    },
    /// A file or directory could not be made, read, copied or moved.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: `make`, `read`, `copy to`, ...
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PackageError {
    let path = path.to_owned();
    move |source| PackageError::Io {
        action,
        path,
        source,
    }
}

/// Builds a managed plugin directory from a binary and its `config.json`.
///
/// ```no_run
/// use plugin_managed::{InterfaceType, Packager, PluginConfig};
/// use plugin_spec::SocketName;
///
/// let config = PluginConfig::new(
///     "a volume driver",
///     ["/my-volume", "--socket", "my-volume.sock"],
///     InterfaceType::VolumeDriver,
///     SocketName::new("my-volume.sock")?,
/// );
/// let packaged = Packager::new("target/release/my-volume", config)
///     .strip(true)
///     .build("/tmp/my-volume-plugin")?;
/// println!("{} bytes in rootfs/", packaged.rootfs_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Packager {
    binary: PathBuf,
    config: PluginConfig,
    strip: bool,
}

/// What [`Packager::build`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packaged {
    dir: PathBuf,
    libraries: Vec<PathBuf>,
    rootfs_bytes: u64,
}

impl Packaged {
    /// The plugin directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The interpreter and libraries put in the rootfs, by their paths on
    /// this machine (and in the rootfs); empty for a static binary.
    pub fn libraries(&self) -> &[PathBuf] {
        &self.libraries
    }

    /// Whether the binary is static: its rootfs holds it alone.
    pub fn is_static(&self) -> bool {
        self.libraries.is_empty()
    }

    /// The bytes of the regular files in `rootfs/` (symlinks not counted).
    pub fn rootfs_bytes(&self) -> u64 {
        self.rootfs_bytes
    }
}

impl Packager {
    /// Packages `binary` (on this machine) with `config`: the binary goes to
    /// the entrypoint's path in the rootfs.
    pub fn new(binary: impl Into<PathBuf>, config: PluginConfig) -> Self {
        Self {
            binary: binary.into(),
            config,
            strip: false,
        }
    }

    /// Strips the binary and the libraries copied (with `strip
    /// --strip-unneeded` from GNU binutils, which must be on `PATH`); the
    /// files on this machine are left as they are. Off by default.
    #[must_use]
    pub fn strip(mut self, strip: bool) -> Self {
        self.strip = strip;
        self
    }

    /// The config.
    pub fn config(&self) -> &PluginConfig {
        &self.config
    }

    /// The binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Builds the plugin directory `out` (which must not exist): checks the
    /// config, copies the binary and what it loads, writes `config.json`,
    /// and moves the whole into place.
    ///
    /// # Errors
    /// [`PackageError`]: `out` exists, the binary cannot be read or is not
    /// ELF, a library is not found, the config breaks a rule, `strip` is
    /// missing or fails, or a file cannot be written.
    pub fn build(&self, out: impl AsRef<Path>) -> Result<Packaged, PackageError> {
        let out = out.as_ref();
        if out.exists() {
            return Err(PackageError::Exists {
                path: out.to_owned(),
            });
        }
        let meta = std::fs::metadata(&self.binary).map_err(|source| PackageError::Binary {
            path: self.binary.clone(),
            source,
        })?;
        if !meta.is_file() {
            return Err(PackageError::NotAFile {
                path: self.binary.clone(),
            });
        }
        self.config
            .validate()
            .map_err(|source| PackageError::Config { source })?;
        let libraries = needed_libraries(&self.binary)?;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_error("make", &parent))?;
        // Built beside OUT, renamed into place when complete: a failure (or
        // Ctrl-C) leaves no half-built OUT.
        let partial = tempfile::Builder::new()
            .prefix(".plugin-managed-")
            .tempdir_in(&parent)
            .map_err(io_error("make a directory in", &parent))?;
        let rootfs = partial.path().join("rootfs");
        for dir in [DOCKER_SOCKET_DIR, "/tmp"] {
            let path = within(&rootfs, Path::new(dir));
            std::fs::create_dir_all(&path).map_err(io_error("make", &path))?;
        }
        set_mode(&within(&rootfs, Path::new("/tmp")), 0o1777)?;
        if !self.config.propagated_mount.is_empty() {
            // Where the engine mounts the propagated directory.
            let path = within(&rootfs, Path::new(&self.config.propagated_mount));
            std::fs::create_dir_all(&path).map_err(io_error("make", &path))?;
        }
        let target = within(&rootfs, &self.config.entrypoint_path());
        copy_file(&self.binary, &target)?;
        set_mode(&target, 0o755)?;
        let mut copied = vec![target];
        let mut placed = HashMap::new();
        for library in &libraries {
            if let Some(copy) = place(&rootfs, library, &mut placed)? {
                copied.push(copy);
            }
        }
        if self.strip {
            strip(&copied)?;
        }
        self.config
            .validate_rootfs(&rootfs)
            .map_err(|source| PackageError::Rootfs {
                dir: out.to_owned(),
                source,
            })?;
        let rootfs_bytes = tree_bytes(&rootfs)?;
        let config = partial.path().join("config.json");
        std::fs::write(&config, self.config.to_json()).map_err(io_error("write", &config))?;
        let built = partial.keep();
        std::fs::rename(&built, out).map_err(|source| {
            let _ = std::fs::remove_dir_all(&built);
            PackageError::Io {
                action: "move the plugin directory to",
                path: out.to_owned(),
                source,
            }
        })?;
        Ok(Packaged {
            dir: out.to_owned(),
            libraries,
            rootfs_bytes,
        })
    }
}

/// Puts the host's `library` at its path in `rootfs`: a symlink as a symlink
/// (then its target), a regular file copied once (a second path to the same
/// file is a symlink to the first). The copy made, if one was.
fn place(
    rootfs: &Path,
    library: &Path,
    placed: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<Option<PathBuf>, PackageError> {
    let mut path = library.to_owned();
    for _ in 0..MAX_SYMLINKS {
        let meta = std::fs::symlink_metadata(&path).map_err(io_error("read", &path))?;
        let dest = within(rootfs, &path);
        let present = std::fs::symlink_metadata(&dest).is_ok();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(io_error("read", &path))?;
            if !present {
                make_parent(&dest)?;
                std::os::unix::fs::symlink(&target, &dest).map_err(io_error("link", &dest))?;
            }
            let next = match path.parent() {
                Some(dir) if target.is_relative() => dir.join(&target),
                _ => target,
            };
            // Lexically, as the rootfs (real directories) resolves it.
            path = within(Path::new("/"), &next);
            continue;
        }
        let file = std::fs::metadata(&path).map_err(io_error("read", &path))?;
        let key = (file.dev(), file.ino());
        if let Some(first) = placed.get(&key) {
            if !present && *first != path {
                make_parent(&dest)?;
                std::os::unix::fs::symlink(first, &dest).map_err(io_error("link", &dest))?;
            }
            return Ok(None);
        }
        placed.insert(key, path.clone());
        if present {
            return Ok(None);
        }
        copy_file(&path, &dest)?;
        return Ok(Some(dest));
    }
    Err(PackageError::SymlinkLoop {
        path: library.to_owned(),
    })
}

fn strip(files: &[PathBuf]) -> Result<(), PackageError> {
    for file in files {
        let out = Command::new("strip")
            .arg("--strip-unneeded")
            .arg(file)
            .output()
            .map_err(|source| PackageError::StripNotFound { source })?;
        if !out.status.success() {
            return Err(PackageError::StripFailed {
                path: file.clone(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
    }
    Ok(())
}

/// The bytes of the regular files under `dir`.
fn tree_bytes(dir: &Path) -> Result<u64, PackageError> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(io_error("read", dir))? {
        let entry = entry.map_err(io_error("read", dir))?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io_error("read", &path))?;
        if meta.is_dir() {
            total += tree_bytes(&path)?;
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), PackageError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_error("set the mode of", path))
}

fn make_parent(path: &Path) -> Result<(), PackageError> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(io_error("make", dir)),
        None => Ok(()),
    }
}

fn copy_file(from: &Path, to: &Path) -> Result<(), PackageError> {
    make_parent(to)?;
    std::fs::copy(from, to)
        .map(drop)
        .map_err(io_error("copy to", to))
}

fn parse_elf<'a>(path: &Path, bytes: &'a [u8]) -> Result<goblin::elf::Elf<'a>, PackageError> {
    goblin::elf::Elf::parse(bytes).map_err(|source| PackageError::NotElf {
        path: path.to_owned(),
        source,
    })
}

/// Whether `binary` is static: no interpreter (`PT_INTERP`) and no
/// `DT_NEEDED` library, so it runs alone in its rootfs.
///
/// # Errors
/// [`PackageError::Io`] when it cannot be read, [`PackageError::NotElf`]
/// when it is not ELF.
pub fn is_static(binary: &Path) -> Result<bool, PackageError> {
    let bytes = std::fs::read(binary).map_err(io_error("read", binary))?;
    let elf = parse_elf(binary, &bytes)?;
    Ok(elf.interpreter.is_none() && elf.libraries.is_empty())
}

/// The interpreter and every shared library `binary` loads, directly or
/// through another library, as absolute paths on this machine (where the
/// loader finds them, so the same paths in the rootfs work); empty for a
/// static binary.
///
/// # Errors
/// [`PackageError::Io`], [`PackageError::NotElf`],
/// [`PackageError::LibraryNotFound`].
pub fn needed_libraries(binary: &Path) -> Result<Vec<PathBuf>, PackageError> {
    let mut found: BTreeSet<PathBuf> = BTreeSet::new();
    let mut queue = vec![binary.to_owned()];
    let mut seen_names: BTreeSet<String> = BTreeSet::new();
    while let Some(object) = queue.pop() {
        let bytes = std::fs::read(&object).map_err(io_error("read", &object))?;
        let elf = parse_elf(&object, &bytes)?;
        if let Some(interpreter) = elf.interpreter {
            found.insert(PathBuf::from(interpreter));
        }
        let search: Vec<PathBuf> = elf
            .runpaths
            .iter()
            .chain(&elf.rpaths)
            .flat_map(|p| p.split(':'))
            .filter(|p| p.starts_with('/'))
            .map(PathBuf::from)
            .chain(LIBRARY_DIRS.iter().map(PathBuf::from))
            .collect();
        for library in &elf.libraries {
            if !seen_names.insert((*library).to_owned()) {
                continue;
            }
            let path = if library.contains('/') {
                Some(PathBuf::from(library))
            } else {
                search
                    .iter()
                    .map(|dir| dir.join(library))
                    .find(|p| p.is_file())
            }
            .ok_or_else(|| PackageError::LibraryNotFound {
                object: object.clone(),
                library: (*library).to_owned(),
            })?;
            found.insert(path.clone());
            queue.push(path);
        }
    }
    Ok(found.into_iter().collect())
}

/// Checks the plugin directory `dir`: `config.json` read and checked
/// ([`PluginConfig::read`]), and `rootfs/` holding the entrypoint, the socket
/// directory, and the interpreter and libraries the entrypoint loads.
///
/// # Errors
/// [`PackageError::ReadConfig`], [`PackageError::Rootfs`],
/// [`PackageError::MissingLibraries`], [`PackageError::Io`].
pub fn check_dir(dir: impl AsRef<Path>) -> Result<PluginConfig, PackageError> {
    let dir = dir.as_ref();
    let config = PluginConfig::read(dir.join("config.json")).map_err(PackageError::ReadConfig)?;
    let rootfs = dir.join("rootfs");
    config
        .validate_rootfs(&rootfs)
        .map_err(|source| PackageError::Rootfs {
            dir: dir.to_owned(),
            source,
        })?;
    let entry = within(&rootfs, &config.entrypoint_path());
    let missing = missing_in(&rootfs, &entry)?;
    if !missing.is_empty() {
        return Err(PackageError::MissingLibraries {
            dir: dir.to_owned(),
            missing,
        });
    }
    Ok(config)
}

/// The libraries (and interpreter) `binary` in `rootfs` needs that the rootfs
/// does not hold.
fn missing_in(rootfs: &Path, binary: &Path) -> Result<Vec<String>, PackageError> {
    let bytes = std::fs::read(binary).map_err(io_error("read", binary))?;
    let Ok(elf) = goblin::elf::Elf::parse(&bytes) else {
        // A script, say: its interpreter's needs are its own.
        return Ok(Vec::new());
    };
    let resolves = |path: &Path| {
        // A symlink's target resolved inside the rootfs, as the plugin sees it.
        let mut path = path.to_owned();
        for _ in 0..MAX_SYMLINKS {
            let inside = within(rootfs, &path);
            match std::fs::read_link(&inside) {
                Ok(target) => {
                    let next = match path.parent() {
                        Some(dir) if target.is_relative() => dir.join(&target),
                        _ => target,
                    };
                    path = within(Path::new("/"), &next);
                }
                Err(_) => return inside.is_file(),
            }
        }
        false
    };
    let mut missing = Vec::new();
    if let Some(interpreter) = elf.interpreter {
        if !resolves(Path::new(interpreter)) {
            missing.push(interpreter.to_owned());
        }
    }
    for library in &elf.libraries {
        let present = LIBRARY_DIRS
            .iter()
            .any(|dir| resolves(&Path::new(dir).join(library)));
        if !present {
            missing.push((*library).to_owned());
        }
    }
    Ok(missing)
}
