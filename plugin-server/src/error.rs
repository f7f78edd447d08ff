//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Why a plugin could not be served. Each variant names the path or address
/// and says what to do. `Display` is this layer's own sentence; the cause is
/// the [`source`](std::error::Error::source) only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Serving needs a tokio runtime.
    #[error("serving a plugin needs a tokio runtime; call serve_* from within one")]
    NoRuntime,

    /// A live server already answers on the socket path, or another server
    /// still holds the path's lock (see
    /// [`serve_unix_with`](crate::PluginServer::serve_unix_with)) after the
    /// wait for it to finish stopping.
    #[error("a server is already listening on {}; stop it first, or serve on another path", path.display())]
    SocketInUse {
        /// The socket path.
        path: PathBuf,
    },

    /// Something other than a socket is at the socket path; it is left alone.
    #[error("{} exists and is not a unix socket; it was left alone: remove it or serve on another path", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },

    /// The socket path cannot be used as a unix socket address.
    #[error("cannot serve on {}", path.display())]
    InvalidPath {
        /// The path.
        path: PathBuf,
        /// Why (relative, too long, NUL byte).
        source: plugin_spec::SpecError,
    },

    /// The descriptor hosts read could not be made: a TLS host that is not a
    /// host name, or a CA path a `.json` descriptor cannot hold.
    #[error("cannot describe where the plugin listens")]
    Descriptor {
        /// Why.
        source: plugin_spec::SpecError,
    },

    /// A managed plugin's socket name is not a plain file name.
    #[error("cannot serve as a managed plugin")]
    ManagedSocket {
        /// Why ([`SpecError::InvalidSocketName`](plugin_spec::SpecError::InvalidSocketName),
        /// naming the socket and the rule it broke).
        source: plugin_spec::SpecError,
    },

    /// Binding the listener failed.
    #[error("cannot listen on {address}")]
    Bind {
        /// The socket path or TCP address.
        address: String,
        /// The I/O error.
        source: io::Error,
    },

    /// A file or directory the server needs could not be made or changed.
    #[error("cannot {action} {}", path.display())]
    File {
        /// What was being done: `create`, `write`, `set permissions on`, ...
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },

    /// A TLS certificate or key file could not be used.
    #[error("cannot use {what} {}: {reason}", file.display())]
    TlsFile {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// TLS could not be set up.
    #[error("cannot set up TLS: {reason}")]
    Tls {
        /// What went wrong.
        reason: String,
    },

    /// A handler for a stop signal could not be installed.
    #[error("cannot handle {signal}")]
    Signal {
        /// `SIGINT` or `SIGTERM`.
        signal: &'static str,
        /// The I/O error.
        source: io::Error,
    },

    /// No socket was passed by systemd (or it is not a stream socket).
    #[error("no systemd socket to serve on: {reason}")]
    Systemd {
        /// What is missing or wrong.
        reason: String,
    },
}
