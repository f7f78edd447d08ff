//! Plugin names: validated once, then safe to join onto a directory.

use std::borrow::{Borrow, Cow};
use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

use crate::error::SpecError;

/// The longest name accepted, in bytes (a file name's limit on Linux).
pub const MAX_NAME_LEN: usize = 255;

/// A plugin's name, checked so that it can only ever name one entry inside a
/// plugin directory.
///
/// Docker checks nothing but that a name is non-empty, so `../x` escapes the
/// plugin directories and `a/b` is looked up as a sub-path ([names]). A
/// `PluginName` rejects, with the rule that failed ([`NameRule`]):
/// the empty name, names over [`MAX_NAME_LEN`] bytes, `.` and `..`, a leading
/// `.`, `/`, `\`, NUL and other control characters.
///
/// [names]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#names
///
/// ```
/// use plugin_spec::{NameRule, PluginName};
///
/// let name: PluginName = "local-persist".parse()?;
/// assert_eq!(name.as_str(), "local-persist");
///
/// let err = PluginName::new("../etc/passwd").unwrap_err();
/// assert_eq!(err.name_rule(), Some(NameRule::LeadingDot));
/// # Ok::<(), plugin_spec::SpecError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginName(Box<str>);

/// The rule a rejected plugin name broke; see [`PluginName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameRule {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    TooLong,
    /// The name is `.` or `..`.
    DotOrDotDot,
    /// The name starts with `.` (a hidden file, or a path going up).
    LeadingDot,
    /// The name contains `/`.
    Slash,
    /// The name contains `\`.
    Backslash,
    /// The name contains a NUL byte.
    Nul,
    /// The name contains a control character other than NUL.
    ControlCharacter,
    /// The name (a file name on disk) is not valid UTF-8.
    NotUtf8,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "it is empty; give the plugin's name, e.g. `local-persist`",
            Self::TooLong => "it is longer than 255 bytes; use a shorter name",
            Self::DotOrDotDot => "`.` and `..` name directories, not plugins",
            Self::LeadingDot => {
                "it starts with `.`; names may not be hidden files or climb out of the plugin directories"
            }
            Self::Slash => "it contains `/`; a name is one file name, not a path",
            Self::Backslash => "it contains `\\`; a name is one file name, not a path",
            Self::Nul => "it contains a NUL byte",
            Self::ControlCharacter => "it contains a control character",
            Self::NotUtf8 => "it is not valid UTF-8; rename the file",
        })
    }
}

impl NameRule {
    /// Returns the first rule `name` breaks, or `None` when it is a valid name.
    pub fn check(name: &str) -> Option<Self> {
        if name.is_empty() {
            return Some(Self::Empty);
        }
        if name.len() > MAX_NAME_LEN {
            return Some(Self::TooLong);
        }
        if name == "." || name == ".." {
            return Some(Self::DotOrDotDot);
        }
        if name.starts_with('.') {
            return Some(Self::LeadingDot);
        }
        name.chars().find_map(|c| match c {
            '/' => Some(Self::Slash),
            '\\' => Some(Self::Backslash),
            '\0' => Some(Self::Nul),
            c if c.is_control() => Some(Self::ControlCharacter),
            _ => None,
        })
    }
}

impl PluginName {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`SpecError::InvalidName`] with the [`NameRule`] that failed.
    pub fn new(name: impl AsRef<str>) -> Result<Self, SpecError> {
        let name = name.as_ref();
        match NameRule::check(name) {
            None => Ok(Self(name.into())),
            Some(rule) => Err(SpecError::InvalidName {
                name: name.to_owned(),
                rule,
                path: None,
            }),
        }
    }

    /// Validates a name taken from a file name on disk (which need not be UTF-8).
    ///
    /// # Errors
    /// [`SpecError::InvalidName`] with the [`NameRule`] that failed
    /// ([`NameRule::NotUtf8`] for a file name that is not UTF-8).
    pub fn from_os_str(name: &OsStr) -> Result<Self, SpecError> {
        match name.to_str() {
            Some(name) => Self::new(name),
            None => Err(SpecError::InvalidName {
                name: name.to_string_lossy().into_owned(),
                rule: NameRule::NotUtf8,
                path: None,
            }),
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a plugin name can be given as: a [`PluginName`] (checked already,
/// borrowed as it is) or text (`&str`, `String`, checked when used). APIs that
/// look a plugin up take `impl AsPluginName`, so `registry.get("sshfs", ...)`
/// and `registry.get(&name, ...)` both work.
///
/// ```
/// use plugin_spec::{AsPluginName, PluginName};
///
/// let name = PluginName::new("sshfs")?;
/// assert_eq!(name.as_plugin_name()?.as_str(), "sshfs");
/// assert_eq!("sshfs".as_plugin_name()?.as_ref(), &name);
/// assert!("../etc".as_plugin_name().is_err());
/// # Ok::<(), plugin_spec::SpecError>(())
/// ```
pub trait AsPluginName {
    /// The name, checked.
    ///
    /// # Errors
    /// [`SpecError::InvalidName`] for text that is not a valid name.
    fn as_plugin_name(&self) -> Result<Cow<'_, PluginName>, SpecError>;
}

impl AsPluginName for PluginName {
    fn as_plugin_name(&self) -> Result<Cow<'_, PluginName>, SpecError> {
        Ok(Cow::Borrowed(self))
    }
}

impl AsPluginName for str {
    fn as_plugin_name(&self) -> Result<Cow<'_, PluginName>, SpecError> {
        PluginName::new(self).map(Cow::Owned)
    }
}

impl AsPluginName for String {
    fn as_plugin_name(&self) -> Result<Cow<'_, PluginName>, SpecError> {
        self.as_str().as_plugin_name()
    }
}

impl<T: AsPluginName + ?Sized> AsPluginName for &T {
    fn as_plugin_name(&self) -> Result<Cow<'_, PluginName>, SpecError> {
        (**self).as_plugin_name()
    }
}

impl FromStr for PluginName {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for PluginName {
    type Error = SpecError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for PluginName {
    type Error = SpecError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for PluginName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<OsStr> for PluginName {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(&*self.0)
    }
}

impl Borrow<str> for PluginName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for PluginName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for PluginName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}
