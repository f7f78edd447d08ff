//! Small real binaries built at test time, for the packager's tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A static binary (glibc's `crt-static`, `x86_64-unknown-linux-gnu`: no
/// interpreter, no `DT_NEEDED`) named `name` in `dir`, that prints `message`
/// and a newline. Built with `rustc` (`$RUSTC` if set), in well under a
/// second.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let binary = plugin_test_support::binaries::static_binary(dir.path(), "hello", "hi");
/// let ran = std::process::Command::new(&binary).output().unwrap();
/// assert_eq!(ran.stdout, b"hi\n");
/// ```
pub fn static_binary(dir: &Path, name: &str, message: &str) -> PathBuf {
    let source = dir.join(format!("{name}.rs"));
    std::fs::write(&source, format!("fn main() {{ println!({message:?}); }}\n"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", source.display()));
    let binary = dir.join(name);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let built = Command::new(&rustc)
        .args([
            "-C",
            "target-feature=+crt-static",
            "--target",
            "x86_64-unknown-linux-gnu",
            "-o",
        ])
        .arg(&binary)
        .arg(&source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {rustc}: {e}"));
    assert!(
        built.status.success(),
        "{rustc} could not build a static binary: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    binary
}
