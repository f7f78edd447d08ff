//! Files that are not regular files, for the tests of hostile paths.

use std::path::Path;

/// Makes a FIFO (named pipe) at `path` with `mkfifo(1)`: opening it for
/// reading blocks until a writer comes, so it shows whether a reader waits.
///
/// ```
/// use std::os::unix::fs::FileTypeExt as _;
///
/// let dir = tempfile::tempdir().unwrap();
/// let fifo = dir.path().join("ca.pem");
/// plugin_test_support::files::fifo(&fifo);
/// assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
/// ```
pub fn fifo(path: &Path) {
    match std::process::Command::new("mkfifo").arg(path).status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("mkfifo {} failed: {status}", path.display()),
        Err(e) => panic!("cannot run mkfifo for {}: {e}", path.display()),
    }
}
