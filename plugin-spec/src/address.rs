//! Where a plugin listens: a unix socket, a TCP port, or a TLS port.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::SpecError;
use crate::url;

/// The longest unix socket path accepted, in bytes.
///
/// `sockaddr_un.sun_path` holds 108 bytes; Rust's standard library (and so tokio)
/// needs one of them for the terminating NUL, so 107 bytes is the longest path a
/// Rust client can connect to. Docker refuses paths over 108 bytes.
pub const MAX_UNIX_PATH_LEN: usize = 107;

/// A plugin's address: how to reach it.
///
/// Parsed from the URL a `.spec` file (or a `.json` file's `Addr`) holds, with
/// [`Address::parse`] or [`str::parse`]; [`Display`](fmt::Display) gives the URL
/// back in its canonical form, and parsing that gives the same address again.
///
/// | URL | address | Display |
/// | --- | --- | --- |
/// | `unix:///run/docker/plugins/x.sock` | [`Address::Unix`] | `unix:///run/docker/plugins/x.sock` |
/// | `tcp://host:8080`, `http://host:8080` | [`Address::Tcp`] | `tcp://host:8080` |
/// | `https://host:8443` | [`Address::Tls`] | `https://host:8443` |
///
/// A TCP address without a port gets 80, a TLS one 443 (as Docker's HTTP client
/// does); the URL's path, query and user info are ignored, as in Docker.
///
/// ```
/// use plugin_spec::Address;
///
/// let addr: Address = "http://[::1]:8080/ignored".parse()?;
/// assert_eq!(addr.to_string(), "tcp://[::1]:8080");
///
/// let addr: Address = "unix:///run/docker/plugins/sshfs.sock".parse()?;
/// assert_eq!(addr.unix_path().map(|p| p.as_path().to_str()), Some(Some("/run/docker/plugins/sshfs.sock")));
/// # Ok::<(), plugin_spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// HTTP over a unix socket at an absolute path.
    Unix(UnixPath),
    /// Plain HTTP over TCP (`tcp://` or `http://`).
    Tcp(HostPort),
    /// HTTP over TLS over TCP (`https://`).
    Tls(HostPort),
}

/// The absolute path of a unix socket, at most [`MAX_UNIX_PATH_LEN`] bytes, with
/// no NUL byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnixPath(PathBuf);

/// A TCP host and port. The host is a DNS name or an IP address (IPv6 without
/// brackets); the port is never 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    host: String,
    port: u16,
}

/// Why an address could not be used; carried by [`SpecError::InvalidAddress`].
///
/// Each message says what is wrong and how to write the address instead.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AddressProblem {
    /// The text is empty.
    #[error("it is empty; write unix:///path/NAME.sock, tcp://host:port or https://host:port")]
    Empty,
    /// The URL holds a control character (a newline inside it, say). Docker fails
    /// on these too ("invalid control character in URL").
    #[error(
        "it contains a control character (a line break inside the address?); a descriptor holds exactly one URL"
    )]
    ControlCharacter,
    /// There is no `scheme:` prefix. Docker says "Unknown protocol".
    #[error(
        "it has no scheme (Docker: \"Unknown protocol\"); write unix:///path/NAME.sock, tcp://host:port or https://host:port"
    )]
    MissingScheme,
    /// The scheme is none of `unix`, `tcp`, `http`, `https`. Docker silently
    /// speaks plain HTTP over TCP to any such address.
    #[error(
        "unknown scheme `{0}`; use unix://, tcp://, http:// or https:// (Docker would silently speak plain HTTP over TCP)"
    )]
    UnknownScheme(String),
    /// The scheme exists on another platform only (`npipe`, Windows named pipes).
    #[error("`{0}://` addresses (Windows named pipes) are not supported on this platform")]
    UnsupportedPlatform(String),
    /// A `%` not followed by two hex digits.
    #[error("it has a `%` not followed by two hex digits; write a literal `%` as %25")]
    InvalidEscape,
    /// A `[` without its `]` around an IPv6 host.
    #[error("it has `[` without a closing `]` around the IPv6 host; write [::1]:PORT")]
    MissingBracket,
    /// The text between `[` and `]` is not an IPv6 address.
    #[error("the host in brackets is not an IPv6 address; write e.g. [::1]:PORT")]
    InvalidIpv6,
    /// An IPv6 zone (`%25eth0`), which cannot be verified by TLS nor kept portable.
    #[error(
        "IPv6 zone identifiers (`%25...`) are not supported; use a global address or a host name"
    )]
    Ipv6Zone,
    /// A character no host name can hold.
    #[error(
        "the host contains {0:?}, which no host name can hold (an IPv6 address goes in brackets)"
    )]
    InvalidHostCharacter(char),
    /// The port is not a number.
    #[error("the port is not a number; write host:PORT with PORT in 1..=65535")]
    InvalidPort,
    /// The port is 0 or over 65535.
    #[error("the port is out of range; write host:PORT with PORT in 1..=65535")]
    PortOutOfRange,
    /// A TCP or TLS address with no host (`tcp://:8080`, `tcp:host:80`).
    #[error(
        "it has no host; write tcp://HOST:PORT or https://HOST:PORT (127.0.0.1 for this machine)"
    )]
    MissingHost,
    /// `unix://name.sock`: Docker would dial `name.sock` relative to its working
    /// directory and drop the rest of the path.
    #[error(
        "the socket path is relative (`unix://` is followed by a host, `{0}`); write unix:///absolute/path.sock with three slashes"
    )]
    RelativeUnixPath(String),
    /// `unix://` with no path at all.
    #[error("it names no socket path; write unix:///absolute/path.sock")]
    MissingUnixPath,
    /// The unix socket path is longer than [`MAX_UNIX_PATH_LEN`] bytes.
    #[error(
        "the socket path is {0} bytes, over the {MAX_UNIX_PATH_LEN}-byte limit of unix sockets; use a shorter path"
    )]
    UnixPathTooLong(usize),
    /// The unix socket path holds a NUL byte (`%00`).
    #[error("the socket path contains a NUL byte")]
    UnixPathNul,
}

impl Address {
    /// Parses an address URL (the content of a `.spec` file, or a `.json` `Addr`).
    ///
    /// # Errors
    /// [`SpecError::InvalidAddress`] with the [`AddressProblem`]; `path` is `None`.
    pub fn parse(url: &str) -> Result<Self, SpecError> {
        Self::parse_url(url).map_err(|problem| SpecError::InvalidAddress {
            address: url.to_owned(),
            problem,
            path: None,
        })
    }

    /// Parses an address URL, returning only the problem on failure.
    pub(crate) fn parse_url(url: &str) -> Result<Self, AddressProblem> {
        if url.is_empty() {
            return Err(AddressProblem::Empty);
        }
        let split = url::split(url)?;
        let hierarchy = match (split.scheme.as_str(), split.hierarchy) {
            ("npipe", _) => return Err(AddressProblem::UnsupportedPlatform(split.scheme)),
            ("unix" | "tcp" | "http" | "https", Some(hierarchy)) => hierarchy,
            ("unix", None) => {
                let rest = url.split_once(':').map_or("", |(_, rest)| rest);
                return Err(AddressProblem::RelativeUnixPath(rest.to_owned()));
            }
            ("tcp" | "http" | "https", None) => return Err(AddressProblem::MissingHost),
            _ => return Err(AddressProblem::UnknownScheme(split.scheme)),
        };
        let authority = hierarchy.authority.unwrap_or(url::Authority {
            host: "",
            port: None,
        });
        match split.scheme.as_str() {
            "unix" => {
                if !authority.host.is_empty() || authority.port.is_some() {
                    return Err(AddressProblem::RelativeUnixPath(authority.host.to_owned()));
                }
                let path = PathBuf::from(OsString::from_vec(hierarchy.path));
                UnixPath::check(&path).map(|()| Self::Unix(UnixPath(path)))
            }
            scheme => {
                let tls = scheme == "https";
                if authority.host.is_empty() {
                    return Err(AddressProblem::MissingHost);
                }
                let hp = HostPort {
                    host: authority.host.to_owned(),
                    port: authority.port.unwrap_or(if tls { 443 } else { 80 }),
                };
                Ok(if tls { Self::Tls(hp) } else { Self::Tcp(hp) })
            }
        }
    }

    /// A unix socket address.
    ///
    /// # Errors
    /// [`SpecError::InvalidAddress`] if `path` is relative, longer than
    /// [`MAX_UNIX_PATH_LEN`] bytes or holds a NUL byte.
    pub fn unix(path: impl Into<PathBuf>) -> Result<Self, SpecError> {
        UnixPath::new(path).map(Self::Unix)
    }

    /// The socket path, for a unix address.
    pub fn unix_path(&self) -> Option<&UnixPath> {
        match self {
            Self::Unix(path) => Some(path),
            Self::Tcp(_) | Self::Tls(_) => None,
        }
    }

    /// The host and port, for a TCP or TLS address.
    pub fn host_port(&self) -> Option<&HostPort> {
        match self {
            Self::Unix(_) => None,
            Self::Tcp(hp) | Self::Tls(hp) => Some(hp),
        }
    }

    /// Whether calls to this address use TLS (`https://`).
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// The URL scheme [`Display`](fmt::Display) writes: `unix`, `tcp` or `https`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Unix(_) => "unix",
            Self::Tcp(_) => "tcp",
            Self::Tls(_) => "https",
        }
    }
}

impl FromStr for Address {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(path) => write!(f, "unix://{path}"),
            Self::Tcp(hp) => write!(f, "tcp://{hp}"),
            Self::Tls(hp) => write!(f, "https://{hp}"),
        }
    }
}

impl UnixPath {
    /// Checks `path` as a socket path.
    ///
    /// # Errors
    /// [`SpecError::InvalidAddress`] if `path` is relative, longer than
    /// [`MAX_UNIX_PATH_LEN`] bytes or holds a NUL byte.
    pub fn new(path: impl Into<PathBuf>) -> Result<Self, SpecError> {
        let path = path.into();
        match Self::check(&path) {
            Ok(()) => Ok(Self(path)),
            Err(problem) => Err(SpecError::InvalidAddress {
                address: path.to_string_lossy().into_owned(),
                problem,
                path: None,
            }),
        }
    }

    fn check(path: &Path) -> Result<(), AddressProblem> {
        let bytes = path.as_os_str().as_bytes();
        if bytes.is_empty() {
            Err(AddressProblem::MissingUnixPath)
        } else if !path.is_absolute() {
            Err(AddressProblem::RelativeUnixPath(
                path.to_string_lossy().into_owned(),
            ))
        } else if bytes.len() > MAX_UNIX_PATH_LEN {
            Err(AddressProblem::UnixPathTooLong(bytes.len()))
        } else if bytes.contains(&0) {
            Err(AddressProblem::UnixPathNul)
        } else {
            Ok(())
        }
    }

    /// The socket's path.
    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for UnixPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

/// Writes the path as it appears after `unix://`: UTF-8 kept, and `%`, `?`, `#`,
/// control characters and bytes that are not UTF-8 percent-encoded, so that the
/// URL parses back to the same path.
impl fmt::Display for UnixPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.as_os_str().as_bytes().utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '%' | '?' | '#' | '\0'..='\x1f' | '\x7f' => write!(f, "%{:02X}", u32::from(c))?,
                    c => fmt::Write::write_char(f, c)?,
                }
            }
            for byte in chunk.invalid() {
                write!(f, "%{byte:02X}")?;
            }
        }
        Ok(())
    }
}

impl HostPort {
    /// Checks a host and port.
    ///
    /// # Errors
    /// [`SpecError::InvalidAddress`] if the host is empty or not a valid host name
    /// or IP address, or the port is 0.
    pub fn new(host: &str, port: u16) -> Result<Self, SpecError> {
        let checked = if host.is_empty() {
            Err(AddressProblem::MissingHost)
        } else if port == 0 {
            Err(AddressProblem::PortOutOfRange)
        } else if host.contains(':') {
            url::check_ipv6(host)
        } else {
            url::check_reg_name(host)
        };
        let hp = Self {
            host: host.to_owned(),
            port,
        };
        match checked {
            Ok(()) => Ok(hp),
            Err(problem) => Err(SpecError::InvalidAddress {
                address: hp.to_string(),
                problem,
                path: None,
            }),
        }
    }

    /// The host: a DNS name or an IP address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Writes `host:port`, with an IPv6 host in brackets.
impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}
