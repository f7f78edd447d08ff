//! `Discovery`: the ordered directories plugins are found in.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use plugin_spec::DOCKER_SOCKET_DIR;

/// Docker's descriptor directories, searched in this order.
pub const DOCKER_SPEC_DIRS: [&str; 2] = ["/etc/docker/plugins", "/usr/lib/docker/plugins"];

/// Where to look for plugins: socket directories, then descriptor (spec)
/// directories, each list searched in order.
///
/// Directories are made absolute when the `Discovery` is built (against the
/// current directory), so every socket address found is absolute.
///
/// ```
/// use plugin_discovery::Discovery;
///
/// let discovery = Discovery::builder()
///     .socket_dir("/run/docker/plugins")
///     .spec_dir("/etc/docker/plugins")
///     .build();
/// assert_eq!(discovery.socket_dirs().len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub(crate) socket_dirs: Vec<PathBuf>,
    pub(crate) spec_dirs: Vec<PathBuf>,
}

/// Builds a [`Discovery`] from directories added in search order.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryBuilder {
    socket_dirs: Vec<PathBuf>,
    spec_dirs: Vec<PathBuf>,
}

impl DiscoveryBuilder {
    /// Adds a directory searched for `NAME.sock` and `NAME/NAME.sock`.
    #[must_use]
    pub fn socket_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.socket_dirs.push(dir.into());
        self
    }

    /// Adds a directory searched for `NAME.spec`, `NAME/NAME.spec`, `NAME.json`
    /// and `NAME/NAME.json`.
    #[must_use]
    pub fn spec_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spec_dirs.push(dir.into());
        self
    }

    /// Adds a directory searched both for sockets and for descriptors.
    #[must_use]
    pub fn plugin_dir(self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        self.socket_dir(dir.clone()).spec_dir(dir)
    }

    /// The finished `Discovery`.
    pub fn build(self) -> Discovery {
        Discovery::from_dirs(self.socket_dirs, self.spec_dirs)
    }
}

impl Discovery {
    /// A builder with no directories.
    pub fn builder() -> DiscoveryBuilder {
        DiscoveryBuilder::default()
    }

    /// A `Discovery` over these socket and spec directories, in search order.
    fn from_dirs<S, D>(socket_dirs: S, spec_dirs: D) -> Self
    where
        S: IntoIterator,
        S::Item: Into<PathBuf>,
        D: IntoIterator,
        D::Item: Into<PathBuf>,
    {
        Self {
            socket_dirs: socket_dirs.into_iter().map(absolute).collect(),
            spec_dirs: spec_dirs.into_iter().map(absolute).collect(),
        }
    }

    /// Docker's directories ([discovery]), read from the process environment;
    /// see [`docker_defaults_from`](Self::docker_defaults_from).
    ///
    /// [discovery]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#discovery
    pub fn docker_defaults() -> Self {
        Self::docker_defaults_from(|key| std::env::var_os(key))
    }

    /// Docker's directories, reading the environment from `env`.
    ///
    /// Sockets: [`DOCKER_SOCKET_DIR`]. Descriptors: [`DOCKER_SPEC_DIRS`], unless
    /// rootless Docker is running (`ROOTLESSKIT_STATE_DIR` non-empty): then
    /// `$XDG_CONFIG_HOME/docker/plugins` (or `$HOME/.config/docker/plugins`),
    /// then `$HOME/.local/lib/docker/plugins`. Where the home or config dir
    /// cannot be resolved (unset, empty or relative), the rootful dir is used in
    /// its place. (Docker since Engine 25 inverts that check for the config dir;
    /// this is the behaviour it means.)
    ///
    /// `env` gives a variable's value (`None` when unset): tests and embedders
    /// pass their own.
    ///
    /// ```
    /// use std::ffi::OsString;
    /// use plugin_discovery::Discovery;
    ///
    /// let discovery = Discovery::docker_defaults_from(|key| match key {
    ///     "ROOTLESSKIT_STATE_DIR" => Some(OsString::from("/run/user/1000/dockerd-rootless")),
    ///     "HOME" => Some(OsString::from("/home/ann")),
    ///     _ => None,
    /// });
    /// assert_eq!(discovery.spec_dirs()[0].to_str(), Some("/home/ann/.config/docker/plugins"));
    /// ```
    pub fn docker_defaults_from(env: impl Fn(&str) -> Option<OsString>) -> Self {
        let rootless = env("ROOTLESSKIT_STATE_DIR").is_some_and(|v| !v.is_empty());
        let [etc, usr_lib] = DOCKER_SPEC_DIRS.map(PathBuf::from);
        let spec_dirs = if rootless {
            let home = absolute_var(&env, "HOME");
            let config_home = absolute_var(&env, "XDG_CONFIG_HOME")
                .or_else(|| home.as_ref().map(|h| h.join(".config")));
            vec![
                config_home.map_or(etc, |c| c.join("docker/plugins")),
                home.map_or(usr_lib, |h| h.join(".local/lib/docker/plugins")),
            ]
        } else {
            vec![etc, usr_lib]
        };
        Self::from_dirs([DOCKER_SOCKET_DIR], spec_dirs)
    }

    /// The socket directories, in search order.
    pub fn socket_dirs(&self) -> &[PathBuf] {
        &self.socket_dirs
    }

    /// The descriptor directories, in search order.
    pub fn spec_dirs(&self) -> &[PathBuf] {
        &self.spec_dirs
    }

    /// Every directory, socket dirs first, each once.
    pub(crate) fn all_dirs(&self) -> Vec<&Path> {
        let mut dirs: Vec<&Path> = Vec::new();
        for dir in self.socket_dirs.iter().chain(&self.spec_dirs) {
            if !dirs.contains(&dir.as_path()) {
                dirs.push(dir);
            }
        }
        dirs
    }
}

fn absolute_var(env: &impl Fn(&str) -> Option<OsString>, key: &str) -> Option<PathBuf> {
    env(key)
        .filter(|v: &OsString| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

fn absolute(dir: impl Into<PathBuf>) -> PathBuf {
    let dir = dir.into();
    std::path::absolute(&dir).unwrap_or(dir)
}
