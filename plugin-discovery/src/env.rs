//! Where `Discovery::docker_defaults` reads environment variables from.

use std::ffi::OsString;

/// A source of environment variables.
///
/// [`Discovery::docker_defaults`](crate::Discovery::docker_defaults) reads the
/// process environment through [`ProcessEnv`]; tests and embedders pass their own
/// source to [`Discovery::docker_defaults_from`](crate::Discovery::docker_defaults_from),
/// for instance a closure:
///
/// ```
/// use std::ffi::OsString;
/// use plugin_discovery::Discovery;
///
/// let env = |key: &str| match key {
///     "ROOTLESSKIT_STATE_DIR" => Some(OsString::from("/run/user/1000/dockerd-rootless")),
///     "HOME" => Some(OsString::from("/home/ann")),
///     _ => None,
/// };
/// let discovery = Discovery::docker_defaults_from(&env);
/// assert_eq!(discovery.spec_dirs()[0].to_str(), Some("/home/ann/.config/docker/plugins"));
/// ```
pub trait EnvSource {
    /// The value of `key`, or `None` when it is not set.
    fn var_os(&self, key: &str) -> Option<OsString>;
}

/// The process environment (`std::env::var_os`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var_os(&self, key: &str) -> Option<OsString> {
        std::env::var_os(key)
    }
}

impl<F: Fn(&str) -> Option<OsString>> EnvSource for F {
    fn var_os(&self, key: &str) -> Option<OsString> {
        self(key)
    }
}
