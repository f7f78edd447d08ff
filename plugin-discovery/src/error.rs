//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

use plugin_spec::{PluginName, SpecError};

use crate::skipped::Skipped;

/// Why a lookup (or a watch) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// No socket or descriptor for the name exists in any directory.
    #[error(
        "plugin {name:?} not found in {}{}; check the name, and that the plugin is running and has written its socket or descriptor there",
        Dirs(searched),
        Ignored(ignored)
    )]
    NotFound {
        /// The name looked up.
        name: PluginName,
        /// The directories searched, in order.
        searched: Vec<PathBuf>,
        /// Entries with the name that were not used (e.g. a `NAME.sock` that is
        /// not a socket).
        ignored: Vec<Skipped>,
    },

    /// The first descriptor found for the name cannot be read or parsed. As in
    /// Docker, lookup does not fall through to a later directory.
    #[error("plugin {name:?}: {source}")]
    Descriptor {
        /// The name looked up.
        name: PluginName,
        /// What is wrong with the descriptor (it names the file).
        source: SpecError,
    },

    /// A watch was started outside a tokio runtime.
    #[cfg(feature = "watch")]
    #[error("Discovery::watch needs a tokio runtime; call it from within one")]
    NoRuntime,

    /// The file watcher could not be set up.
    #[cfg(feature = "watch")]
    #[error(
        "cannot watch the plugin directories: {source}; on Linux, check fs.inotify.max_user_watches and max_user_instances"
    )]
    Watch {
        /// The watcher's error.
        source: notify::Error,
    },
}

impl DiscoveryError {
    /// Whether the plugin was simply not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

struct Dirs<'a>(&'a [PathBuf]);

impl fmt::Display for Dirs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no directories (none configured)");
        }
        for (i, dir) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", dir.display())?;
        }
        Ok(())
    }
}

struct Ignored<'a>(&'a [Skipped]);

impl fmt::Display for Ignored<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for skipped in self.0 {
            write!(f, " (ignored {skipped})")?;
        }
        Ok(())
    }
}
