//! `Discovery::scan`: every plugin in every directory, de-duplicated by name.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, DirEntry, FileType};
use std::os::unix::fs::{DirEntryExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use plugin_spec::{PluginName, PluginSpec};

use crate::discovery::Discovery;
use crate::lookup::is_absent;
use crate::skipped::{SkipReason, Skipped};

/// What [`Discovery::scan`] found: the plugins, and every entry it did not use
/// with the reason.
#[derive(Debug, Default)]
pub struct Scan {
    plugins: Vec<PluginSpec>,
    skipped: Vec<Skipped>,
}

impl Scan {
    /// The plugins, sorted by name, one per name: the one
    /// [`lookup`](Discovery::lookup) would return.
    pub fn plugins(&self) -> &[PluginSpec] {
        &self.plugins
    }

    /// The entries not used, with why: invalid names, `.sock` files that are not
    /// sockets, broken symlinks, bad descriptors, unreadable directories.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The plugins and the skipped entries, by value.
    pub fn into_parts(self) -> (Vec<PluginSpec>, Vec<Skipped>) {
        (self.plugins, self.skipped)
    }
}

/// A plugin found by a scan, with what identifies its socket file.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) spec: PluginSpec,
    /// For a socket: its inode and, when asked for, its change time, so that a
    /// socket re-created at the same path (a restarted plugin) differs even if
    /// the file system hands out the same inode number again.
    #[cfg_attr(not(feature = "watch"), allow(dead_code))]
    pub(crate) socket_id: Option<SocketId>,
}

/// What tells one socket file from another at the same path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SocketId {
    ino: u64,
    ctime: Option<(i64, i64)>,
}

impl SocketId {
    fn of(meta: &fs::Metadata) -> Self {
        Self {
            ino: meta.ino(),
            ctime: Some((meta.ctime(), meta.ctime_nsec())),
        }
    }
}

/// A scan with what the watcher needs besides the plugins.
#[derive(Debug, Default)]
pub(crate) struct Detailed {
    pub(crate) found: Vec<Found>,
    pub(crate) skipped: Vec<Skipped>,
    /// Subdirectories seen in the plugin directories (nested layouts live there).
    pub(crate) subdirs: Vec<PathBuf>,
}

/// The best path found so far for a name: lower rank wins, as in lookup order.
struct Candidate {
    rank: usize,
    path: PathBuf,
    socket_id: Option<SocketId>,
}

impl Discovery {
    /// Lists every plugin in every directory, as Docker's scan does but each
    /// name once ([discovery]).
    ///
    /// [discovery]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#discovery
    ///
    /// Sockets named `NAME.sock` (symlinks followed) and `NAME/NAME.sock`;
    /// descriptors `NAME.spec`, `NAME.json`, `NAME/NAME.spec`, `NAME/NAME.json`.
    /// A name found more than once is kept once: the entry
    /// [`lookup`](Self::lookup) would return, and only that descriptor is read.
    /// Missing directories are skipped silently; everything else not used is in
    /// [`Scan::skipped`] with the reason. Other files are ignored.
    ///
    /// One `read_dir` per directory; a descriptor is read only if it wins its
    /// name, and never twice.
    pub fn scan(&self) -> Scan {
        let detailed = self.scan_detailed(false);
        Scan {
            plugins: detailed.found.into_iter().map(|f| f.spec).collect(),
            skipped: detailed.skipped,
        }
    }

    /// A scan; with `identify`, each flat socket is also `lstat`ed for its
    /// [`SocketId`] (the watcher needs it; a plain scan does not).
    pub(crate) fn scan_detailed(&self, identify: bool) -> Detailed {
        let mut scanner = Scanner {
            identify,
            ..Scanner::default()
        };
        for (i, dir) in self.socket_dirs.iter().enumerate() {
            scanner.socket_dir(dir, 2 * i);
        }
        let base = 2 * self.socket_dirs.len();
        for (j, dir) in self.spec_dirs.iter().enumerate() {
            scanner.spec_dir(dir, base + 4 * j);
        }
        scanner.finish()
    }
}

/// Whether an entry is a directory, or a symlink to one (nested layouts may
/// live behind a symlink; the symlink itself is reported, if broken, as a flat
/// entry).
fn is_dir(entry: &DirEntry, file_type: FileType) -> bool {
    file_type.is_dir()
        || (file_type.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()))
}

#[derive(Default)]
struct Scanner {
    identify: bool,
    best: BTreeMap<PluginName, Candidate>,
    out: Detailed,
}

impl Scanner {
    /// Ranks: `rank` for `NAME.sock`, `rank + 1` for `NAME/NAME.sock`.
    fn socket_dir(&mut self, dir: &Path, rank: usize) {
        for (entry, file_type) in self.list(dir) {
            let file_name = entry.file_name();
            if is_dir(&entry, file_type) {
                self.nested(&entry.path(), &file_name, &[(rank + 1, "sock")]);
            }
            if Path::new(&file_name).extension() == Some(OsStr::new("sock")) {
                let path = entry.path();
                let Some(name) = self.name_from_stem(&path) else {
                    continue;
                };
                let id = if file_type.is_socket() {
                    Some(self.identify_socket(&entry))
                } else if file_type.is_symlink() {
                    self.socket_behind(&path)
                } else {
                    self.skip(path.clone(), SkipReason::NotASocket);
                    None
                };
                if let Some(id) = id {
                    self.offer(name, rank, path, Some(id));
                }
            } else if file_type.is_socket() {
                self.skip(entry.path(), SkipReason::NoSockExtension);
            }
        }
    }

    /// Ranks: `+0` `NAME.spec`, `+1` `NAME/NAME.spec`, `+2` `NAME.json`,
    /// `+3` `NAME/NAME.json`.
    fn spec_dir(&mut self, dir: &Path, base: usize) {
        for (entry, file_type) in self.list(dir) {
            let file_name = entry.file_name();
            if is_dir(&entry, file_type) {
                self.nested(
                    &entry.path(),
                    &file_name,
                    &[(base + 1, "spec"), (base + 3, "json")],
                );
            }
            let rank = match Path::new(&file_name).extension() {
                Some(ext) if ext == "spec" => base,
                Some(ext) if ext == "json" => base + 2,
                _ => continue,
            };
            let path = entry.path();
            let Some(name) = self.name_from_stem(&path) else {
                continue;
            };
            if self.beats(&name, rank) && (!file_type.is_symlink() || self.exists(&path)) {
                self.offer(name, rank, path, None);
            }
        }
    }

    /// `DIR/X/X.ext` for each `(rank, ext)` in order, the first that exists.
    fn nested(&mut self, subdir: &Path, file_name: &OsStr, exts: &[(usize, &str)]) {
        let name = PluginName::from_os_str(file_name);
        for &(rank, ext) in exts {
            if let Ok(name) = &name {
                if !self.beats(name, rank) {
                    return;
                }
            }
            let mut inner_name = OsString::from(file_name);
            inner_name.push(".");
            inner_name.push(ext);
            let inner = subdir.join(inner_name);
            let meta = match fs::metadata(&inner) {
                Ok(meta) => meta,
                Err(err) if is_absent(&err) => continue,
                Err(err) => {
                    self.skip(inner, SkipReason::Stat(err));
                    return;
                }
            };
            let name = match name {
                Ok(name) => name,
                Err(err) => {
                    self.skip(inner, SkipReason::InvalidName(err));
                    return;
                }
            };
            if ext != "sock" {
                self.offer(name, rank, inner, None);
            } else if meta.file_type().is_socket() {
                self.offer(name, rank, inner, Some(SocketId::of(&meta)));
            } else {
                self.skip(inner, SkipReason::NotASocket);
            }
            return;
        }
    }

    /// The entries of `dir` with their types; a missing dir is empty, an
    /// unreadable one is reported.
    fn list(&mut self, dir: &Path) -> Vec<(DirEntry, FileType)> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(err) => {
                self.skip(dir.to_owned(), SkipReason::UnreadableDir(err));
                return Vec::new();
            }
        };
        let mut listed = Vec::new();
        for entry in entries {
            let typed =
                entry.and_then(|entry| entry.file_type().map(|file_type| (entry, file_type)));
            match typed {
                Ok((entry, file_type)) => {
                    if file_type.is_dir() {
                        self.out.subdirs.push(entry.path());
                    }
                    listed.push((entry, file_type));
                }
                Err(err) => self.skip(dir.to_owned(), SkipReason::UnreadableDir(err)),
            }
        }
        listed
    }

    fn name_from_stem(&mut self, path: &Path) -> Option<PluginName> {
        match PluginName::from_os_str(path.file_stem().unwrap_or_default()) {
            Ok(name) => Some(name),
            Err(err) => {
                self.skip(path.to_owned(), SkipReason::InvalidName(err));
                None
            }
        }
    }

    /// A socket listed by `read_dir`: the inode it gave, or a full `lstat`.
    fn identify_socket(&self, entry: &DirEntry) -> SocketId {
        match entry.metadata() {
            Ok(meta) if self.identify => SocketId::of(&meta),
            _ => SocketId {
                ino: entry.ino(),
                ctime: None,
            },
        }
    }

    /// The id of the socket a symlink points to, or `None` (reported).
    fn socket_behind(&mut self, link: &Path) -> Option<SocketId> {
        match fs::metadata(link) {
            Ok(meta) if meta.file_type().is_socket() => Some(SocketId::of(&meta)),
            Ok(_) => {
                self.skip(link.to_owned(), SkipReason::NotASocket);
                None
            }
            Err(err) => {
                self.skip(link.to_owned(), SkipReason::Stat(err));
                None
            }
        }
    }

    /// Whether a symlinked descriptor points somewhere (lookup skips it if not).
    fn exists(&mut self, link: &Path) -> bool {
        match fs::metadata(link) {
            Ok(_) => true,
            Err(err) => {
                self.skip(link.to_owned(), SkipReason::Stat(err));
                false
            }
        }
    }

    fn beats(&self, name: &PluginName, rank: usize) -> bool {
        self.best.get(name).is_none_or(|best| rank < best.rank)
    }

    fn offer(&mut self, name: PluginName, rank: usize, path: PathBuf, socket_id: Option<SocketId>) {
        if self.beats(&name, rank) {
            self.best.insert(
                name,
                Candidate {
                    rank,
                    path,
                    socket_id,
                },
            );
        }
    }

    fn skip(&mut self, path: PathBuf, reason: SkipReason) {
        self.out.skipped.push(Skipped::new(path, reason));
    }

    /// Reads the winning entry of each name, in name order.
    fn finish(mut self) -> Detailed {
        for (name, candidate) in std::mem::take(&mut self.best) {
            let spec = match candidate.socket_id {
                Some(_) => PluginSpec::from_socket(name, &candidate.path),
                None => PluginSpec::from_file(&candidate.path),
            };
            match spec {
                Ok(spec) => self.out.found.push(Found {
                    spec,
                    socket_id: candidate.socket_id,
                }),
                Err(err) => self.skip(candidate.path, SkipReason::BadDescriptor(err)),
            }
        }
        self.out
    }
}
