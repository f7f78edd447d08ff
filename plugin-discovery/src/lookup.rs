//! `Discovery::lookup`: one name, Docker's precedence.

use std::fs;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use plugin_spec::{PluginName, PluginSpec};

use crate::discovery::Discovery;
use crate::error::DiscoveryError;
use crate::skipped::{SkipReason, Skipped};

impl Discovery {
    /// Finds the plugin `name`, first hit wins, in Docker's order ([the
    /// protocol's discovery rules][discovery]):
    ///
    /// 1. for each socket dir: `NAME.sock`, then `NAME/NAME.sock`, if it is a
    ///    unix socket (symlinks followed);
    /// 2. for each spec dir: `NAME.spec`, `NAME/NAME.spec`, `NAME.json`,
    ///    `NAME/NAME.json`, if the path exists (symlinks followed).
    ///
    /// A `NAME.sock` that exists but is not a socket is skipped, with a tracing
    /// warning, and named in the [`NotFound`](DiscoveryError::NotFound) error if
    /// nothing else is found.
    ///
    /// # Errors
    /// [`DiscoveryError::NotFound`] at once when nothing matches (no retry loop);
    /// [`DiscoveryError::Descriptor`] when the first descriptor found cannot be
    /// read or parsed (lookup does not fall through to later ones, as in Docker).
    ///
    /// [discovery]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#discovery
    pub fn lookup(&self, name: &PluginName) -> Result<PluginSpec, DiscoveryError> {
        let mut ignored = Vec::new();
        for dir in &self.socket_dirs {
            for path in candidates(dir, name, "sock") {
                match fs::metadata(&path) {
                    Ok(meta) if meta.file_type().is_socket() => {
                        return PluginSpec::from_socket(name.clone(), path).map_err(|source| {
                            DiscoveryError::Descriptor {
                                name: name.clone(),
                                source,
                            }
                        });
                    }
                    Ok(_) => ignore(&mut ignored, path, SkipReason::NotASocket),
                    Err(err) if is_absent(&err) => {}
                    Err(err) => ignore(&mut ignored, path, SkipReason::Stat(err)),
                }
            }
        }
        for dir in &self.spec_dirs {
            let [spec, nested_spec] = candidates(dir, name, "spec");
            let [json, nested_json] = candidates(dir, name, "json");
            for path in [spec, nested_spec, json, nested_json] {
                match fs::metadata(&path) {
                    Ok(_) => {
                        return PluginSpec::from_file(&path).inspect(log_warnings).map_err(
                            |source| DiscoveryError::Descriptor {
                                name: name.clone(),
                                source,
                            },
                        );
                    }
                    Err(err) if is_absent(&err) => {}
                    Err(err) => ignore(&mut ignored, path, SkipReason::Stat(err)),
                }
            }
        }
        Err(DiscoveryError::NotFound {
            name: name.clone(),
            searched: self.all_dirs().into_iter().map(Path::to_owned).collect(),
            ignored,
        })
    }
}

/// The descriptor's warnings (a `TLSConfig` that is not used, say), as
/// tracing events: plugin-spec returns them and logs nothing.
pub(crate) fn log_warnings(spec: &PluginSpec) {
    for warning in spec.warnings() {
        tracing::warn!(
            plugin = %spec.name(),
            path = %spec.source().path().display(),
            "plugin descriptor: {warning}"
        );
    }
}

/// `DIR/NAME.ext` and `DIR/NAME/NAME.ext`.
fn candidates(dir: &Path, name: &PluginName, ext: &str) -> [PathBuf; 2] {
    let file = format!("{name}.{ext}");
    [dir.join(&file), dir.join(name.as_str()).join(file)]
}

/// Errors that mean "nothing there", as opposed to "something we cannot see".
pub(crate) fn is_absent(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn ignore(ignored: &mut Vec<Skipped>, path: PathBuf, reason: SkipReason) {
    let skipped = Skipped::new(path, reason);
    tracing::warn!(entry = %skipped.path().display(), "plugin lookup skipped an entry: {}", skipped.reason());
    ignored.push(skipped);
}
