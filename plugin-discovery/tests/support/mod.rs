//! Fixtures: a temp dir in which to lay out plugin directories with real unix
//! sockets, descriptor files and symlinks.

#![allow(dead_code)]

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use plugin_discovery::{Discovery, PluginName};

pub(crate) struct Tree {
    dir: tempfile::TempDir,
    listeners: Vec<UnixListener>,
}

impl Tree {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            listeners: Vec::new(),
        }
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn parent_of(&self, rel: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        path
    }

    /// Binds a real unix socket at `rel` (creating parent dirs) and keeps it open.
    pub(crate) fn socket(&mut self, rel: &str) -> PathBuf {
        let path = self.parent_of(rel);
        self.listeners
            .push(UnixListener::bind(&path).expect("bind socket"));
        path
    }

    /// Writes a file at `rel` (creating parent dirs).
    pub(crate) fn file(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.parent_of(rel);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub(crate) fn dir(&self, rel: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// A symlink at `rel` pointing at `target` (as given, relative or absolute).
    pub(crate) fn symlink(&self, target: impl AsRef<Path>, rel: &str) -> PathBuf {
        let path = self.parent_of(rel);
        std::os::unix::fs::symlink(target, &path).unwrap();
        path
    }

    /// A discovery over `sock` (socket dir) and `spec1`, `spec2` (spec dirs).
    pub(crate) fn discovery(&self) -> Discovery {
        Discovery::builder()
            .socket_dir(self.path("sock"))
            .spec_dir(self.path("spec1"))
            .spec_dir(self.path("spec2"))
            .build()
    }
}

pub(crate) fn name(name: &str) -> PluginName {
    PluginName::new(name).unwrap()
}

/// The error and its causes, `message: cause: cause` (each layer says its own
/// sentence once, so this is how a reader sees the whole failure).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let causes = std::iter::successors(Some(error), |e| (*e).source());
    causes.map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}
