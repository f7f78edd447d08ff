//! Entries that look like plugins but are not used, and why.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use plugin_spec::SpecError;

/// A directory entry that looks like a plugin but is not used: nothing found
/// in a plugin directory is dropped without a reason.
#[derive(Debug)]
pub struct Skipped {
    path: PathBuf,
    reason: SkipReason,
}

/// Why an entry was [`Skipped`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SkipReason {
    /// The file name (minus its extension) is not a valid plugin name.
    InvalidName(SpecError),
    /// `NAME.sock` exists but is not a unix socket (a regular file, say).
    NotASocket,
    /// A unix socket whose name does not end in `.sock`: lookup would never find
    /// it (Docker's scan lists it anyway).
    NoSockExtension,
    /// The entry could not be examined: a symlink to nothing, a symlink loop, a
    /// permission error.
    Stat(io::Error),
    /// The descriptor could not be read or parsed; the error says why.
    BadDescriptor(SpecError),
    /// A plugin directory exists but cannot be listed.
    UnreadableDir(io::Error),
}

impl Skipped {
    pub(crate) fn new(path: impl Into<PathBuf>, reason: SkipReason) -> Self {
        Self {
            path: path.into(),
            reason,
        }
    }

    /// The entry (or directory) skipped.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why.
    pub fn reason(&self) -> &SkipReason {
        &self.reason
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(err) => match err {
                SpecError::InvalidName { name, rule, .. } => {
                    write!(f, "invalid plugin name {name:?}: {rule}")
                }
                other => write!(f, "{other}"),
            },
            Self::NotASocket => {
                f.write_str("named .sock but not a unix socket; remove it or bind a socket there")
            }
            Self::NoSockExtension => f.write_str(
                "a unix socket not named NAME.sock, so no lookup finds it; rename it to NAME.sock",
            ),
            Self::Stat(err) if err.kind() == io::ErrorKind::NotFound => {
                f.write_str("a symlink whose target does not exist; fix or remove it")
            }
            Self::Stat(err) => write!(f, "cannot examine it: {err}"),
            Self::BadDescriptor(err) => write!(f, "{err}"),
            Self::UnreadableDir(err) => write!(f, "cannot list this plugin directory: {err}"),
        }
    }
}

impl std::error::Error for SkipReason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidName(err) | Self::BadDescriptor(err) => Some(err),
            Self::Stat(err) | Self::UnreadableDir(err) => Some(err),
            Self::NotASocket | Self::NoSockExtension => None,
        }
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}
