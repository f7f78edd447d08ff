//! Things in a descriptor that work, but probably not as its author meant.

use std::fmt;
use std::path::PathBuf;

/// Something odd in a descriptor that does not stop it from being used.
///
/// Warnings are returned with the [`PluginSpec`](crate::PluginSpec)
/// ([`warnings`](crate::PluginSpec::warnings)) so the caller decides how to show
/// them; each is also emitted as a `tracing` warning event when it is found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Warning {
    /// A `.json` descriptor's `Name` differs from its file name. The file name is
    /// the plugin's name (as in Docker); `Name` is ignored.
    NameMismatch {
        /// The `Name` the file declares.
        declared: String,
    },
    /// A `.json` descriptor has a `TLSConfig` but its address is not `https://`,
    /// so no TLS is used (as in Docker).
    TlsConfigUnused,
    /// The file starts with a UTF-8 byte order mark, which was skipped. Docker
    /// rejects such a file.
    ByteOrderMark,
    /// A `TLSConfig` file path is relative: it is resolved against the host
    /// process's working directory, not the descriptor's directory.
    RelativeTlsPath {
        /// The field: `CAFile`, `CertFile` or `KeyFile`.
        field: &'static str,
        /// The path as written.
        path: PathBuf,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NameMismatch { declared } => write!(
                f,
                "\"Name\": {declared:?} differs from the file name; the file name is the plugin's name and \"Name\" is ignored"
            ),
            Self::TlsConfigUnused => f.write_str(
                "TLSConfig is ignored because the address is not https://; use an https:// address to use TLS",
            ),
            Self::ByteOrderMark => f.write_str(
                "the file starts with a UTF-8 byte order mark, which was skipped; Docker rejects such a file, so save it without one",
            ),
            Self::RelativeTlsPath { field, path } => write!(
                f,
                "TLSConfig.{field} {} is relative, so it is resolved against the host's working directory; use an absolute path",
                path.display()
            ),
        }
    }
}
