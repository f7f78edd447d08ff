//! The workspace's crates, as `cargo metadata` describes them.

use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};
use serde_json::Value;

/// One crate of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Crate {
    pub(crate) name: String,
    pub(crate) version: Version,
    /// Its directory.
    pub(crate) dir: PathBuf,
    /// Its directory relative to the workspace root, `/`-separated.
    pub(crate) rel: String,
    /// `publish` is not `false`.
    pub(crate) publish: bool,
    /// Its dependencies on other crates of the workspace.
    pub(crate) deps: Vec<Dep>,
    /// Its `repository` URL, if it sets one.
    pub(crate) repository: Option<String>,
}

/// A dependency on another crate of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Dep {
    pub(crate) name: String,
    /// The version requirement; `*` when only a path is given.
    pub(crate) req: VersionReq,
    /// `normal`, `dev` or `build`.
    pub(crate) kind: String,
}

impl Crate {
    /// The crate's manifest.
    pub(crate) fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    /// The crate's changelog.
    pub(crate) fn changelog(&self) -> PathBuf {
        self.dir.join("CHANGELOG.md")
    }

    /// Its tag for `version`: `<crate>-v<version>`.
    pub(crate) fn tag(&self, version: &Version) -> String {
        format!("{}-v{version}", self.name)
    }
}

/// Every crate of the workspace at `root`, in `cargo metadata`'s order.
pub(crate) fn load(root: &Path) -> Result<Vec<Crate>, String> {
    let metadata = crate::ci::metadata(root, &["--no-deps", "--offline"])?;
    let root = std::fs::canonicalize(root)
        .map_err(|e| format!("cannot resolve {}: {e}", root.display()))?;
    let packages = metadata
        .get("packages")
        .and_then(Value::as_array)
        .ok_or("cargo metadata listed no packages")?;
    let names: Vec<&str> = packages
        .iter()
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
    packages
        .iter()
        .map(|package| parse(package, &root, &names))
        .collect()
}

fn parse(package: &Value, root: &Path, members: &[&str]) -> Result<Crate, String> {
    let text = |key: &str| {
        package
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("cargo metadata: a package without {key}"))
    };
    let name = text("name")?.to_owned();
    let version = Version::parse(text("version")?)
        .map_err(|e| format!("{name}: its version does not parse: {e}"))?;
    let dir = Path::new(text("manifest_path")?)
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{name}: its manifest has no directory"))?;
    let rel = dir
        .strip_prefix(root)
        .map_err(|_| format!("{name} is outside the workspace root {}", root.display()))?
        .to_string_lossy()
        .replace('\\', "/");
    // `publish`: null when publishable anywhere, a list of registries
    // otherwise (empty for `publish = false`).
    let publish = package
        .get("publish")
        .and_then(Value::as_array)
        .is_none_or(|registries| !registries.is_empty());
    let deps = package
        .get("dependencies")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|dep| {
            let dep_name = dep.get("name")?.as_str()?;
            if !members.contains(&dep_name) || dep.get("path").is_none() {
                return None;
            }
            Some(Dep {
                name: dep_name.to_owned(),
                req: dep
                    .get("req")
                    .and_then(Value::as_str)
                    .and_then(|req| VersionReq::parse(req).ok())
                    .unwrap_or(VersionReq::STAR),
                kind: dep
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("normal")
                    .to_owned(),
            })
        })
        .collect();
    let repository = package
        .get("repository")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Crate {
        name,
        version,
        dir,
        rel,
        publish,
        deps,
        repository,
    })
}
