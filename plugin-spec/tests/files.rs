//! Descriptor files on disk: names from file names, bounded reads, and files that
//! are not descriptors.

mod support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use plugin_spec::{MAX_DESCRIPTOR_LEN, NameRule, PluginName, PluginSpec, SourceKind};
use support::{Dir, error_variant, summary};

#[test]
fn spec_file_is_named_by_its_file_name() {
    let dir = Dir::new();
    let path = dir.write("sshfs.spec", "unix:///run/docker/plugins/sshfs.sock\n");
    let spec = PluginSpec::from_file(&path).unwrap();
    assert_eq!(spec.name(), "sshfs");
    assert_eq!(
        spec.address().to_string(),
        "unix:///run/docker/plugins/sshfs.sock"
    );
    assert_eq!(spec.source().kind(), SourceKind::Spec);
    assert_eq!(spec.source().path(), path);
}

#[test]
fn json_file_is_named_by_its_file_name_not_its_name_field() {
    let dir = Dir::new();
    let path = dir.write(
        "vault.json",
        r#"{"Name":"other","Addr":"https://v:8443","TLSConfig":{"CAFile":"/ca.pem"}}"#,
    );
    let spec = PluginSpec::from_file(&path).unwrap();
    assert_eq!(spec.name(), "vault");
    assert_eq!(spec.source().kind(), SourceKind::Json);
    assert_eq!(
        summary(&Ok(spec)),
        "https://v:8443 tls(skip=false ca=/ca.pem cert=- key=-) warn[NameMismatch { declared: \"other\" }]"
    );
}

#[test]
fn only_the_last_extension_is_removed() {
    let dir = Dir::new();
    let spec = PluginSpec::from_file(dir.write("a.b.spec", "tcp://h:1")).unwrap();
    assert_eq!(spec.name(), "a.b");
}

#[test]
fn other_extensions_are_not_descriptors() {
    let dir = Dir::new();
    for name in ["p.txt", "p.sock", "p", "p.SPEC", "p.Json", ".spec"] {
        let path = dir.write(name, "tcp://h:1");
        let err = PluginSpec::from_file(&path).unwrap_err();
        assert_eq!(error_variant(&err), "UnknownExtension", "{name}");
        assert_eq!(err.path(), Some(path.as_path()));
        assert!(
            err.to_string()
                .ends_with("is not a plugin descriptor: its name must end in .spec or .json")
        );
    }
}

#[test]
fn file_names_that_are_not_plugin_names_are_rejected() {
    let dir = Dir::new();
    let path = dir.write(OsStr::from_bytes(b"bad\xff.spec"), "tcp://h:1");
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(err.name_rule(), Some(NameRule::NotUtf8));
    assert_eq!(err.path(), Some(path.as_path()));

    let path = dir.write("tab\there.spec", "tcp://h:1");
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(err.name_rule(), Some(NameRule::ControlCharacter));
    assert!(
        err.to_string()
            .contains(&format!("(from file {})", path.display()))
    );
}

#[test]
fn errors_inside_a_file_name_the_file() {
    let dir = Dir::new();
    let path = dir.write("p.spec", "unix://rel.sock");
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(
        err.to_string()
            .contains(&format!("(in {})", path.display())),
        "{err}"
    );
}

#[test]
fn a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused() {
    let dir = Dir::new();
    let url = "tcp://h:1";
    let limit = usize::try_from(MAX_DESCRIPTOR_LEN).unwrap();
    let at_limit = format!("{url}{}", " ".repeat(limit - url.len()));
    let spec = PluginSpec::from_file(dir.write("ok.spec", &at_limit)).unwrap();
    assert_eq!(spec.address().to_string(), url);

    let over = format!("{at_limit} ");
    let path = dir.write("big.spec", &over);
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(error_variant(&err), "TooLarge(65537>65536)");
    assert_eq!(
        err.to_string(),
        format!(
            "plugin descriptor {} is 65537 bytes, over the 65536-byte limit; a descriptor holds one address and a few paths, so this is not a descriptor",
            path.display()
        )
    );
}

#[test]
fn a_huge_sparse_file_is_refused_without_reading_it() {
    let dir = Dir::new();
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(1 << 40).unwrap();
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(
        error_variant(&err),
        format!("TooLarge({}>65536)", 1u64 << 40)
    );
}

#[test]
fn invalid_utf8_is_refused_with_the_offset() {
    let dir = Dir::new();
    let path = dir.write("p.spec", b"tcp://h\xff:1");
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(error_variant(&err), "NotUtf8(7)");
    assert!(support::chain(&err).ends_with(
        "is not valid UTF-8; save it as UTF-8: invalid utf-8 sequence of 1 bytes from index 7"
    ));
    let path = dir.write("q.json", b"{\"Addr\": \"tcp://h:1\xc3\"}");
    assert_eq!(
        error_variant(&PluginSpec::from_file(&path).unwrap_err()),
        "NotUtf8(19)"
    );
}

#[test]
fn a_byte_order_mark_is_skipped_with_a_warning() {
    let dir = Dir::new();
    let spec =
        PluginSpec::from_file(dir.write("p.json", "\u{feff}{\"Addr\":\"tcp://h:1\"}")).unwrap();
    assert_eq!(summary(&Ok(spec)), "tcp://h:1 warn[ByteOrderMark]");
}

#[test]
fn a_directory_is_not_a_file() {
    let dir = Dir::new();
    let path = dir.path().join("p.spec");
    std::fs::create_dir(&path).unwrap();
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(error_variant(&err), "NotAFile(directory)");
    assert!(err.to_string().contains("is a directory, not a file"));
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = Dir::new();
    let path = dir.path().join("p.spec");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(error_variant(&err), "NotAFile(fifo)");
    // Blocking would never return; this only guards against a slow path.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_socket_is_not_a_descriptor_file() {
    let dir = Dir::new();
    let path = dir.path().join("p.json");
    let _listener = UnixListener::bind(&path).unwrap();
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(error_variant(&err), "NotAFile(socket)");
}

#[test]
fn a_missing_file_is_a_read_error() {
    let dir = Dir::new();
    let path = dir.path().join("gone.spec");
    let err = PluginSpec::from_file(&path).unwrap_err();
    assert_eq!(error_variant(&err), "Read(NotFound)");
    assert!(err.is_not_found());
    assert_eq!(
        support::chain(&err),
        format!(
            "cannot read plugin descriptor {}: No such file or directory (os error 2)",
            path.display()
        )
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn a_symlink_to_a_descriptor_is_followed() {
    let dir = Dir::new();
    let target = dir.write("real.txt", "tcp://h:1");
    let link = dir.path().join("p.spec");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let spec = PluginSpec::from_file(&link).unwrap();
    assert_eq!(
        (spec.name().as_str(), spec.source().path()),
        ("p", link.as_path())
    );
}

#[test]
fn sockets_become_unix_addresses() {
    let name = PluginName::new("p").unwrap();
    let spec = PluginSpec::from_socket(name.clone(), "/run/docker/plugins/p.sock").unwrap();
    assert_eq!(
        spec.address().to_string(),
        "unix:///run/docker/plugins/p.sock"
    );
    assert_eq!(spec.source().kind(), SourceKind::Sock);
    assert!(spec.tls().is_none() && spec.warnings().is_empty());

    let err = PluginSpec::from_socket(name.clone(), "rel/p.sock").unwrap_err();
    assert_eq!(
        error_variant(&err),
        "InvalidAddress(RelativeUnixPath(\"rel/p.sock\"))"
    );
    assert_eq!(err.path(), Some(Path::new("rel/p.sock")));

    let long = format!("/{}.sock", "d".repeat(200));
    let err = PluginSpec::from_socket(name, &long).unwrap_err();
    assert_eq!(error_variant(&err), "InvalidAddress(UnixPathTooLong(206))");
}
