//! `cargo xtask bump CRATE major|minor|patch`: a crate's version, and the
//! requirements of the workspace crates that depend on it.

use std::path::Path;

use semver::{Version, VersionReq};
use toml_edit::{DocumentMut, Item, Table};

use super::changelog;
use super::workspace::{self, Crate};

/// Which part of the version to raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Level {
    Major,
    Minor,
    Patch,
}

/// `version` raised at `level`, the lower parts reset.
pub(crate) fn next(version: &Version, level: Level) -> Version {
    match level {
        Level::Major => Version::new(version.major + 1, 0, 0),
        Level::Minor => Version::new(version.major, version.minor + 1, 0),
        Level::Patch => Version::new(version.major, version.minor, version.patch + 1),
    }
}

/// The requirement dependents write for `version`: `1.2` for 1.2.x, `0.3` for
/// 0.3.x, `0.0.4` for 0.0.4 (the style of this workspace's manifests).
pub(crate) fn requirement(version: &Version) -> String {
    if version.major > 0 {
        format!("{}.{}", version.major, version.minor)
    } else if version.minor > 0 {
        format!("0.{}", version.minor)
    } else {
        format!("0.0.{}", version.patch)
    }
}

fn read(path: &Path) -> Result<DocumentMut, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .parse::<DocumentMut>()
        .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))
}

fn write(path: &Path, document: &DocumentMut) -> Result<(), String> {
    std::fs::write(path, document.to_string())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The dependency tables of a manifest: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]`, and the same under each `[target.*]`.
fn dependency_tables(document: &mut DocumentMut) -> Vec<&mut Table> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut tables = Vec::new();
    for (key, item) in document.as_table_mut().iter_mut() {
        if KINDS.contains(&key.get()) {
            if let Some(table) = item.as_table_mut() {
                tables.push(table);
            }
        } else if key.get() == "target" {
            if let Some(targets) = item.as_table_mut() {
                for (_, target) in targets.iter_mut() {
                    if let Some(target) = target.as_table_mut() {
                        for (kind, table) in target.iter_mut() {
                            if KINDS.contains(&kind.get()) {
                                if let Some(table) = table.as_table_mut() {
                                    tables.push(table);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    tables
}

/// Sets the `version` of dependency `name` in `table` to `req` if it does not
/// admit `version`; says whether it changed.
fn update_requirement(table: &mut Table, name: &str, version: &Version, req: &str) -> bool {
    let Some(entry) = table.get_mut(name) else {
        return false;
    };
    let current = match entry {
        Item::Value(value) => value
            .as_inline_table_mut()
            .and_then(|t| t.get_mut("version")),
        Item::Table(t) => t.get_mut("version").and_then(Item::as_value_mut),
        _ => None,
    };
    let Some(current) = current else {
        return false;
    };
    let admits = current
        .as_str()
        .and_then(|text| VersionReq::parse(text).ok())
        .is_some_and(|r| r.matches(version));
    if admits {
        return false;
    }
    let decor = current.decor().clone();
    *current = toml_edit::Value::from(req);
    *current.decor_mut() = decor;
    true
}

/// Bumps crate `name` at `level` in the workspace at `root`; returns what it
/// changed, one line each.
pub(crate) fn bump(root: &Path, name: &str, level: Level) -> Result<Vec<String>, String> {
    let crates = workspace::load(root)?;
    let krate = crates
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("{name} is not a crate of this workspace"))?;
    let version = next(&krate.version, level);
    let mut document = read(&krate.manifest())?;
    let slot = document
        .get_mut("package")
        .and_then(Item::as_table_mut)
        .and_then(|package| package.get_mut("version"))
        .and_then(Item::as_value_mut)
        .filter(|v| v.is_str())
        .ok_or_else(|| {
            format!(
                "{}/Cargo.toml has no `version = \"...\"` of its own under [package]",
                krate.rel
            )
        })?;
    let decor = slot.decor().clone();
    *slot = toml_edit::Value::from(version.to_string());
    *slot.decor_mut() = decor;
    write(&krate.manifest(), &document)?;
    let mut changed = vec![format!("{name}: {} -> {version}", krate.version)];
    let req = requirement(&version);
    for dependent in crates
        .iter()
        .filter(|c| c.deps.iter().any(|d| d.name == name))
    {
        changed.extend(update_dependent(dependent, name, &version, &req)?);
    }
    Ok(changed)
}

fn update_dependent(
    dependent: &Crate,
    name: &str,
    version: &Version,
    req: &str,
) -> Result<Option<String>, String> {
    let mut document = read(&dependent.manifest())?;
    let mut updated = false;
    for table in dependency_tables(&mut document) {
        updated |= update_requirement(table, name, version, req);
    }
    if !updated {
        return Ok(None);
    }
    write(&dependent.manifest(), &document)?;
    let path = dependent.changelog();
    if let Ok(text) = std::fs::read_to_string(&path) {
        let line = format!("- Requires `{name}` {req} ({version}).");
        std::fs::write(&path, changelog::add_line(&text, &line))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(Some(format!(
        "{}: requires {name} = \"{req}\" (Cargo.toml and CHANGELOG.md)",
        dependent.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_reset_the_lower_parts() {
        let v = Version::new(0, 3, 7);
        assert_eq!(next(&v, Level::Patch), Version::new(0, 3, 8));
        assert_eq!(next(&v, Level::Minor), Version::new(0, 4, 0));
        assert_eq!(next(&v, Level::Major), Version::new(1, 0, 0));
    }

    #[test]
    fn requirements_follow_cargo_compatibility() {
        assert_eq!(requirement(&Version::new(1, 2, 3)), "1.2");
        assert_eq!(requirement(&Version::new(0, 3, 1)), "0.3");
        assert_eq!(requirement(&Version::new(0, 0, 4)), "0.0.4");
    }

    #[test]
    fn a_requirement_is_changed_only_when_it_excludes_the_version_and_keeps_its_style() {
        let mut document: DocumentMut = r#"[dependencies]
alpha = { version = "0.1", path = "../alpha" } # ours
other = "1"

[target.'cfg(unix)'.dev-dependencies.alpha]
version = "0.1"
path = "../alpha"
"#
        .parse()
        .unwrap();
        let v = Version::new(0, 2, 0);
        let changed: Vec<bool> = dependency_tables(&mut document)
            .into_iter()
            .map(|t| update_requirement(t, "alpha", &v, "0.2"))
            .collect();
        assert_eq!(changed, [true, true]);
        assert_eq!(
            document.to_string(),
            r#"[dependencies]
alpha = { version = "0.2", path = "../alpha" } # ours
other = "1"

[target.'cfg(unix)'.dev-dependencies.alpha]
version = "0.2"
path = "../alpha"
"#
        );
        let patch = Version::new(0, 2, 1);
        assert!(
            dependency_tables(&mut document)
                .into_iter()
                .all(|t| !update_requirement(t, "alpha", &patch, "0.2"))
        );
    }
}
