//! Docker's plugin socket directory, and the name of a socket in it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::SpecError;
use crate::name::MAX_NAME_LEN;

/// Where Docker looks for plugin sockets (`NAME.sock`) on the host, and where
/// a managed (v2) plugin makes its socket inside its rootfs (the engine
/// bind-mounts it): `/run/docker/plugins`.
pub const DOCKER_SOCKET_DIR: &str = "/run/docker/plugins";

/// The file name of a plugin's socket in [`DOCKER_SOCKET_DIR`]: what a
/// managed plugin's `config.json` gives as `Interface.Socket`, e.g.
/// `sshfs.sock`.
///
/// The engine joins it onto the socket directory, so it must be a plain file
/// name: not empty, not `.` or `..`, no `/`, no NUL, at most
/// [`MAX_NAME_LEN`] bytes ([`SocketNameRule`] says which rule failed).
///
/// ```
/// use plugin_spec::{SocketName, SocketNameRule};
///
/// let name = SocketName::new("sshfs.sock")?;
/// assert_eq!(name.path().to_str(), Some("/run/docker/plugins/sshfs.sock"));
///
/// let err = SocketName::new("/run/docker/plugins/sshfs.sock").unwrap_err();
/// assert_eq!(err.socket_name_rule(), Some(SocketNameRule::Slash));
/// assert_eq!(
///     err.to_string(),
///     "invalid socket name \"/run/docker/plugins/sshfs.sock\": it contains `/`; \
///      a plugin's socket is a file name in /run/docker/plugins, not a path"
/// );
/// # Ok::<(), plugin_spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketName(Box<str>);

/// The rule a rejected [`SocketName`] broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocketNameRule {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    TooLong,
    /// The name is `.` or `..`.
    DotOrDotDot,
    /// The name contains `/`.
    Slash,
    /// The name contains a NUL byte.
    Nul,
}

impl fmt::Display for SocketNameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "it is empty; give the socket's file name, e.g. `sshfs.sock`",
            Self::TooLong => "it is longer than 255 bytes; use a shorter name",
            Self::DotOrDotDot => "`.` and `..` name directories, not sockets",
            Self::Slash => {
                "it contains `/`; a plugin's socket is a file name in /run/docker/plugins, not a path"
            }
            Self::Nul => "it contains a NUL byte",
        })
    }
}

impl SocketNameRule {
    /// The first rule `name` breaks, or `None` when it is a valid socket name.
    pub fn check(name: &str) -> Option<Self> {
        if name.is_empty() {
            Some(Self::Empty)
        } else if name.len() > MAX_NAME_LEN {
            Some(Self::TooLong)
        } else if name == "." || name == ".." {
            Some(Self::DotOrDotDot)
        } else if name.contains('/') {
            Some(Self::Slash)
        } else if name.contains('\0') {
            Some(Self::Nul)
        } else {
            None
        }
    }
}

impl SocketName {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`SpecError::InvalidSocketName`] with the [`SocketNameRule`] that failed.
    pub fn new(name: impl AsRef<str>) -> Result<Self, SpecError> {
        let name = name.as_ref();
        match SocketNameRule::check(name) {
            None => Ok(Self(name.into())),
            Some(rule) => Err(SpecError::InvalidSocketName {
                name: name.to_owned(),
                rule,
            }),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The socket in `dir`.
    pub fn path_in(&self, dir: impl AsRef<Path>) -> PathBuf {
        dir.as_ref().join(&*self.0)
    }

    /// The socket in [`DOCKER_SOCKET_DIR`].
    pub fn path(&self) -> PathBuf {
        self.path_in(DOCKER_SOCKET_DIR)
    }
}

impl fmt::Display for SocketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SocketName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SocketName {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_is_named() {
        let long = "s".repeat(256);
        for (name, rule) in [
            ("", SocketNameRule::Empty),
            (long.as_str(), SocketNameRule::TooLong),
            (".", SocketNameRule::DotOrDotDot),
            ("..", SocketNameRule::DotOrDotDot),
            ("a/b.sock", SocketNameRule::Slash),
            ("/run/x.sock", SocketNameRule::Slash),
            ("x\0.sock", SocketNameRule::Nul),
        ] {
            let err = SocketName::new(name).unwrap_err();
            assert_eq!(err.socket_name_rule(), Some(rule), "{name:?}");
            assert_eq!(
                err.to_string(),
                format!("invalid socket name {name:?}: {rule}")
            );
        }
        for good in ["p.sock", ".hidden.sock", "a b", "x".repeat(255).as_str()] {
            assert_eq!(SocketName::new(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn the_socket_lives_in_the_directory_given_or_dockers() {
        let name: SocketName = "p.sock".parse().unwrap();
        assert_eq!(name.path(), Path::new("/run/docker/plugins/p.sock"));
        assert_eq!(name.path_in("/tmp/t"), Path::new("/tmp/t/p.sock"));
        assert_eq!(name.to_string(), "p.sock");
    }
}
