//! `PluginSpec`: everything needed to reach one plugin, and where it came from.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::address::Address;
use crate::error::SpecError;
use crate::name::PluginName;
use crate::tls::TlsOptions;
use crate::warning::Warning;
use crate::{descriptor, file};

/// The kind of file a plugin was found through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SourceKind {
    /// `NAME.sock`: the plugin's unix socket itself.
    Sock,
    /// `NAME.spec`: a text file holding the address URL.
    Spec,
    /// `NAME.json`: a JSON file with `Addr` and optional `TLSConfig`.
    Json,
}

impl SourceKind {
    /// The file extension: `sock`, `spec` or `json`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Sock => "sock",
            Self::Spec => "spec",
            Self::Json => "json",
        }
    }

    /// The kind for a file extension (`sock`, `spec`, `json`; exact case, as
    /// Docker matches them).
    pub fn from_extension(ext: &OsStr) -> Option<Self> {
        [Self::Sock, Self::Spec, Self::Json]
            .into_iter()
            .find(|kind| ext == kind.extension())
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// Where a plugin was found: the kind of file and its path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    kind: SourceKind,
    path: PathBuf,
}

impl Source {
    /// A source of `kind` at `path`.
    pub fn new(kind: SourceKind, path: impl Into<PathBuf>) -> Self {
        Self {
            kind,
            path: path.into(),
        }
    }

    /// The kind of file.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.path.display())
    }
}

/// One plugin: its name, its address, its TLS options, the file it was found
/// through, and any [`Warning`]s about that file.
///
/// Build one from a socket ([`from_socket`](Self::from_socket)), from a
/// descriptor file ([`from_file`](Self::from_file)) or from a descriptor's text
/// ([`from_spec_text`](Self::from_spec_text), [`from_json_text`](Self::from_json_text)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    pub(crate) name: PluginName,
    pub(crate) address: Address,
    pub(crate) tls: Option<TlsOptions>,
    pub(crate) source: Source,
    pub(crate) warnings: Vec<Warning>,
}

impl PluginSpec {
    /// A plugin listening on the unix socket at `path` (a `NAME.sock` entry).
    ///
    /// # Errors
    /// [`SpecError::InvalidAddress`] naming `path` if it is relative, longer than
    /// [`MAX_UNIX_PATH_LEN`](crate::MAX_UNIX_PATH_LEN) bytes or holds a NUL byte.
    pub fn from_socket(name: PluginName, path: impl Into<PathBuf>) -> Result<Self, SpecError> {
        let path = path.into();
        let address = Address::unix(path.clone()).map_err(|e| e.in_file(&path))?;
        Ok(Self {
            name,
            address,
            tls: None,
            source: Source::new(SourceKind::Sock, path),
            warnings: Vec::new(),
        })
    }

    /// Parses the text of a `.spec` descriptor: one address URL, surrounding
    /// whitespace ignored. `path` is where the text came from; it is recorded as
    /// the [`source`](Self::source) and named in errors.
    ///
    /// # Errors
    /// [`SpecError::Empty`] for blank text; [`SpecError::InvalidAddress`] for an
    /// address that cannot be used.
    pub fn from_spec_text(
        name: PluginName,
        text: &str,
        path: impl Into<PathBuf>,
    ) -> Result<Self, SpecError> {
        descriptor::parse_spec(name, text, path.into())
    }

    /// Parses the text of a `.json` descriptor: `{"Addr": ..., "TLSConfig":
    /// {...}}`, keys matched case-insensitively, unknown keys ignored. `path` is
    /// where the text came from; it is recorded as the [`source`](Self::source)
    /// and named in errors.
    ///
    /// # Errors
    /// [`SpecError::InvalidJson`] for text that is not one JSON object of the
    /// right shape (trailing text after the object included);
    /// [`SpecError::MissingAddr`]; [`SpecError::InvalidAddress`];
    /// [`SpecError::IncompleteClientCert`].
    pub fn from_json_text(
        name: PluginName,
        text: &str,
        path: impl Into<PathBuf>,
    ) -> Result<Self, SpecError> {
        descriptor::parse_json(name, text, path.into())
    }

    /// Reads and parses the descriptor file at `path`: a `NAME.spec` or
    /// `NAME.json` file, named by its file name without the extension.
    ///
    /// The file must be a regular file (a FIFO is refused, never waited on) of at
    /// most [`MAX_DESCRIPTOR_LEN`](crate::MAX_DESCRIPTOR_LEN) bytes of UTF-8.
    ///
    /// # Errors
    /// [`SpecError::UnknownExtension`] unless the name ends in `.spec` or `.json`;
    /// [`SpecError::InvalidName`] if the file name is not a valid plugin name;
    /// [`SpecError::Read`], [`SpecError::NotAFile`], [`SpecError::TooLarge`],
    /// [`SpecError::NotUtf8`]; then the errors of the text parsers.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SpecError> {
        let path = path.as_ref();
        let parse = match path.extension().and_then(SourceKind::from_extension) {
            Some(SourceKind::Spec) => descriptor::parse_spec,
            Some(SourceKind::Json) => descriptor::parse_json,
            _ => {
                return Err(SpecError::UnknownExtension {
                    path: path.to_owned(),
                });
            }
        };
        let stem = path.file_stem().unwrap_or_default();
        let name = PluginName::from_os_str(stem).map_err(|e| e.in_file(path))?;
        let text = file::read_descriptor(path)?;
        parse(name, &text, path.to_owned())
    }

    /// The plugin's name.
    pub fn name(&self) -> &PluginName {
        &self.name
    }

    /// The plugin's address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The descriptor's `TLSConfig`, if it had one.
    ///
    /// Used only when the [`address`](Self::address) is `https://`; an `https://`
    /// plugin without one is verified against the system roots.
    pub fn tls(&self) -> Option<&TlsOptions> {
        self.tls.as_ref()
    }

    /// The file the plugin was found through.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// What looked odd in the descriptor; empty for a clean one. This crate
    /// logs nothing: reporting them is the caller's (plugin-discovery logs
    /// them once per lookup, and its watch once per change).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}
