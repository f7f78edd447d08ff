//! The demo's TLS files: the private key is its owner's alone from the moment
//! it exists (issue 31, point 13), whatever was in the directory before.

use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use plugin_demo::demo_tls;

/// The file's permission bits, in octal as `ls -l` and `chmod` write them.
fn mode(file: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(file).unwrap().permissions().mode() & 0o777
    )
}

#[test]
fn the_demo_key_is_written_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    demo_tls(&tls).unwrap();
    assert_eq!(mode(&tls.join("key.pem")), "600");
    assert!(
        std::fs::read_to_string(tls.join("key.pem"))
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    // The certificates are public (0644 less the umask): at least the owner reads them.
    for cert in ["cert.pem", "ca.pem"] {
        let bits = std::fs::metadata(tls.join(cert))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(bits & 0o600, 0o600, "{cert}");
    }
}

#[test]
fn a_world_readable_key_left_from_before_is_replaced_by_an_owner_only_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&key)
        .unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    demo_tls(dir.path()).unwrap();
    assert_eq!(mode(&key), "600");
    assert!(std::fs::metadata(&key).unwrap().len() > 0);
}
