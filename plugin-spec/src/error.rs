//! The one error type of this crate.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::address::AddressProblem;
use crate::name::NameRule;
use crate::socket::SocketNameRule;

/// Why a name, an address or a descriptor was refused.
///
/// Every variant names the descriptor file when there is one, and its message
/// says what to do about it. The underlying error (I/O, UTF-8, JSON) is kept as
/// the [`source`](std::error::Error::source), and only there: `Display` is this
/// layer's sentence, so a chain reporter prints each cause once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A plugin name broke one of the rules of [`PluginName`](crate::PluginName).
    #[error("invalid plugin name {name:?}{}: {rule}", InFile(path.as_deref(), "from file"))]
    InvalidName {
        /// The rejected name (lossily converted when it was not UTF-8).
        name: String,
        /// The rule it broke.
        rule: NameRule,
        /// The descriptor or socket whose file name it is, if any.
        path: Option<PathBuf>,
    },

    /// A plugin socket's name broke one of the rules of
    /// [`SocketName`](crate::SocketName).
    #[error("invalid socket name {name:?}: {rule}")]
    InvalidSocketName {
        /// The rejected name.
        name: String,
        /// The rule it broke.
        rule: SocketNameRule,
    },

    /// An address URL could not be used.
    #[error("invalid plugin address {address:?}{}: {problem}", InFile(path.as_deref(), "in"))]
    InvalidAddress {
        /// The address text, as given.
        address: String,
        /// What is wrong with it.
        problem: AddressProblem,
        /// The descriptor it was read from, if any.
        path: Option<PathBuf>,
    },

    /// A descriptor file could not be opened or read.
    #[error("cannot read plugin descriptor {}", path.display())]
    Read {
        /// The descriptor file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },

    /// A descriptor path names something other than a regular file.
    #[error("plugin descriptor {} is a {kind}, not a file; remove it or replace it with a .spec or .json file", path.display())]
    NotAFile {
        /// The descriptor path.
        path: PathBuf,
        /// What it is instead: `directory`, `fifo`, `socket`, `device`.
        kind: &'static str,
    },

    /// A descriptor file is larger than [`MAX_DESCRIPTOR_LEN`](crate::MAX_DESCRIPTOR_LEN).
    #[error("plugin descriptor {} is {size} bytes, over the {limit}-byte limit; a descriptor holds one address and a few paths, so this is not a descriptor", path.display())]
    TooLarge {
        /// The descriptor file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// A descriptor file is not valid UTF-8.
    #[error("plugin descriptor {} is not valid UTF-8; save it as UTF-8", path.display())]
    NotUtf8 {
        /// The descriptor file.
        path: PathBuf,
        /// The decoding error.
        source: std::str::Utf8Error,
    },

    /// A `.spec` descriptor holds nothing but whitespace.
    #[error("plugin descriptor {} is empty; write the plugin's address in it, e.g. unix:///run/docker/plugins/NAME.sock or tcp://127.0.0.1:8080", path.display())]
    Empty {
        /// The descriptor file.
        path: PathBuf,
    },

    /// A `.json` descriptor is not JSON, or not a JSON object of the right shape.
    #[error("plugin descriptor {} is not a valid JSON descriptor; expected {{\"Addr\": \"https://host:port\", \"TLSConfig\": {{...}}}}", path.display())]
    InvalidJson {
        /// The descriptor file.
        path: PathBuf,
        /// The JSON error, with its line and column.
        source: serde_json::Error,
    },

    /// A `.json` descriptor has no `Addr`, or an empty one.
    #[error("plugin descriptor {} has no \"Addr\"; add one, e.g. \"Addr\": \"https://127.0.0.1:8443\"", path.display())]
    MissingAddr {
        /// The descriptor file.
        path: PathBuf,
    },

    /// A `TLSConfig` gives `CertFile` without `KeyFile`, or the reverse.
    #[error("plugin descriptor {}: TLSConfig gives {given} but no {missing}; a client certificate needs both CertFile and KeyFile (or give neither)", path.display())]
    IncompleteClientCert {
        /// The descriptor file.
        path: PathBuf,
        /// The field that is there (`CertFile` or `KeyFile`).
        given: &'static str,
        /// The field that is missing.
        missing: &'static str,
    },

    /// A TLS file path that a `.json` descriptor cannot hold: JSON strings
    /// are UTF-8, and Docker reads them so.
    #[error("{} cannot be written in a .json descriptor: the path is not UTF-8", path.display())]
    PathNotUtf8 {
        /// The path.
        path: PathBuf,
    },

    /// A file was offered as a descriptor but is not named `*.spec` or `*.json`.
    #[error("{} is not a plugin descriptor: its name must end in .spec or .json", path.display())]
    UnknownExtension {
        /// The file.
        path: PathBuf,
    },
}

impl SpecError {
    /// The descriptor (or socket) file the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::InvalidName { path, .. } | Self::InvalidAddress { path, .. } => path.as_deref(),
            Self::InvalidSocketName { .. } => None,
            Self::Read { path, .. }
            | Self::NotAFile { path, .. }
            | Self::TooLarge { path, .. }
            | Self::NotUtf8 { path, .. }
            | Self::Empty { path }
            | Self::InvalidJson { path, .. }
            | Self::MissingAddr { path }
            | Self::IncompleteClientCert { path, .. }
            | Self::PathNotUtf8 { path }
            | Self::UnknownExtension { path } => Some(path),
        }
    }

    /// The rule a rejected name broke, for [`SpecError::InvalidName`].
    pub fn name_rule(&self) -> Option<NameRule> {
        match self {
            Self::InvalidName { rule, .. } => Some(*rule),
            _ => None,
        }
    }

    /// The rule a rejected socket name broke, for
    /// [`SpecError::InvalidSocketName`].
    pub fn socket_name_rule(&self) -> Option<SocketNameRule> {
        match self {
            Self::InvalidSocketName { rule, .. } => Some(*rule),
            _ => None,
        }
    }

    /// What is wrong with a rejected address, for [`SpecError::InvalidAddress`].
    pub fn address_problem(&self) -> Option<&AddressProblem> {
        match self {
            Self::InvalidAddress { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// Whether the descriptor file does not exist (it may have been removed
    /// between a directory listing and the read).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Read { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// Attaches the file an error came from, where it has none yet.
    pub(crate) fn in_file(mut self, file: &Path) -> Self {
        if let Self::InvalidName { path, .. } | Self::InvalidAddress { path, .. } = &mut self {
            path.get_or_insert_with(|| file.to_owned());
        }
        self
    }
}

/// Writes ` <word> <path>` when there is a path, nothing otherwise.
struct InFile<'a>(Option<&'a Path>, &'static str);

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, " ({} {})", self.1, path.display()),
            None => Ok(()),
        }
    }
}
