//! The packager on real binaries: a static one built here with glibc's
//! crt-static (rustc, well under a second), and this test (dynamic).

use std::path::Path;

use plugin_managed::{InterfaceType, PackageError, Packager, PluginConfig};
use plugin_spec::SocketName;

fn config(program: &str) -> PluginConfig {
    PluginConfig::new(
        "a test plugin",
        [program],
        InterfaceType::VolumeDriver,
        SocketName::new("t.sock").unwrap(),
    )
}

/// Every path under `dir`, relative, sorted (directories too).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() && !path.is_symlink() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_static_binary_needs_nothing_and_its_rootfs_is_the_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let binary = plugin_test_support::binaries::static_binary(dir.path(), "hello", "hello");
    assert!(plugin_managed::is_static(&binary).unwrap());
    assert!(
        plugin_managed::needed_libraries(&binary)
            .unwrap()
            .is_empty()
    );

    let out = dir.path().join("plugin");
    let packaged = Packager::new(&binary, config("/hello"))
        .build(&out)
        .unwrap();
    assert!(packaged.is_static());
    assert_eq!(packaged.dir(), out);
    assert_eq!(
        packaged.rootfs_bytes(),
        std::fs::metadata(&binary).unwrap().len()
    );
    assert_eq!(
        tree(&out.join("rootfs")),
        ["hello", "run", "run/docker", "run/docker/plugins", "tmp"]
    );
    plugin_managed::check_dir(&out).unwrap();
}

#[test]
fn a_dynamic_binary_brings_its_loader_and_libraries() {
    let me = std::env::current_exe().unwrap();
    assert!(!plugin_managed::is_static(&me).unwrap());
    let libraries = plugin_managed::needed_libraries(&me).unwrap();
    assert!(
        libraries.iter().any(|l| l.ends_with("libc.so.6")),
        "{libraries:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plugin");
    let packaged = Packager::new(&me, config("/bin/test")).build(&out).unwrap();
    assert!(!packaged.is_static());
    assert_eq!(packaged.libraries(), libraries);
    let config = plugin_managed::check_dir(&out).unwrap();
    assert_eq!(config.entrypoint, ["/bin/test"]);

    // A library taken away is named missing.
    let libc = libraries.iter().find(|l| l.ends_with("libc.so.6")).unwrap();
    let inside = out.join("rootfs").join(libc.strip_prefix("/").unwrap());
    std::fs::remove_file(inside).unwrap();
    let err = plugin_managed::check_dir(&out).unwrap_err();
    assert!(
        matches!(&err, PackageError::MissingLibraries { missing, .. } if missing == &["libc.so.6"]),
        "{err:?}"
    );
}

#[test]
fn not_an_elf_binary_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let err = Packager::new(&script, config("/script"))
        .build(dir.path().join("plugin"))
        .unwrap_err();
    assert!(matches!(err, PackageError::NotElf { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{} is not an ELF binary", script.display())
    );
    assert_eq!(tree(dir.path()), ["script"]);
}
