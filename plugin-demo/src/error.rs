//! Why a demo plugin could not be built or served.

use std::path::PathBuf;

/// Why a demo plugin could not be built, served or cleaned up after. Each
/// variant names the plugin, file or directory; `Display` is this crate's
/// own sentence, and the cause is the [`source`](std::error::Error::source)
/// only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A plugin's state directory (or a directory in it) cannot be made or
    /// read.
    #[error("{plugin}: cannot use its state directory {}", path.display())]
    State {
        /// The plugin (`demo-volume`, `demo-log`).
        plugin: &'static str,
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// `demo-volume`'s table of volumes is not one; it is left as it is.
    #[error("{} is not a demo-volume table; move it away to start afresh", path.display())]
    VolumeTable {
        /// The file (`STATE/volumes.json`).
        path: PathBuf,
        /// Why it does not parse.
        source: serde_json::Error,
    },

    /// Another `demo-volume` holds the state directory: two processes on one
    /// STATE would each rewrite its table from their own and lose what the
    /// other acknowledged.
    #[error(
        "another demo-volume holds the state directory {} (lock file {}); stop it, or give this one another STATE",
        state.display(),
        lock.display()
    )]
    StateLocked {
        /// The state directory.
        state: PathBuf,
        /// The lock file in it (`STATE/demo-volume.lock`).
        lock: PathBuf,
        /// The lock's error (`EWOULDBLOCK`).
        source: std::io::Error,
    },

    /// A path in a plugin's state directory is a symbolic link (or not what
    /// it should be): planted links are refused, never followed.
    #[error("{plugin}: refusing {}: it is a symbolic link or not a {expected}", path.display())]
    NotFollowed {
        /// The plugin.
        plugin: &'static str,
        /// The path.
        path: PathBuf,
        /// What it should be (`directory`, `regular file`).
        expected: &'static str,
    },

    /// A plugin name is not a valid one.
    #[error("{name:?} is not a valid plugin name")]
    Name {
        /// The name.
        name: String,
        /// Why.
        source: plugin_subsystems::SpecError,
    },

    /// The demo CA, certificate or key cannot be made or written.
    #[error("cannot make the demo TLS files in {}", dir.display())]
    Tls {
        /// The directory.
        dir: PathBuf,
        /// Why: the certificate library's error, or the file system's.
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The TLS directory cannot be removed on shutdown.
    #[error("cannot remove the demo TLS files in {}", dir.display())]
    RemoveTls {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// A plugin cannot be served.
    #[error("cannot serve {plugin}")]
    Serve {
        /// The plugin.
        plugin: String,
        /// Why (boxed: it is large, and this error is returned often).
        source: Box<plugin_subsystems::ServerError>,
    },
}
