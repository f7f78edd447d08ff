//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

use plugin_spec::{PluginName, SpecError};

use crate::skipped::Skipped;

/// Why a lookup (or a watch) failed. `Display` is this layer's own sentence;
/// the cause is the [`source`](std::error::Error::source) only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// No socket or descriptor for the name exists in any directory.
    #[error("plugin {name:?} not found in {}{}", Dirs(searched), Ignored(ignored))]
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
    #[error("cannot use the descriptor of plugin {name:?}")]
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
        "cannot watch the plugin directories (on Linux, check fs.inotify.max_user_watches and max_user_instances)"
    )]
    Watch {
        /// The file watcher's error (from the `notify` crate, kept opaque so
        /// its version is not part of this API).
        source: Box<dyn std::error::Error + Send + Sync>,
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
