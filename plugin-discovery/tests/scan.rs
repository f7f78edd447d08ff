//! Scan (docs/protocol.md, "Discovery"): every plugin once, every skipped entry with its reason.

mod support;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;

use plugin_discovery::{Discovery, Scan, SkipReason};
use plugin_spec::{NameRule, SourceKind};
use support::{Tree, name};

fn names(scan: &Scan) -> Vec<String> {
    scan.plugins()
        .iter()
        .map(|p| p.name().to_string())
        .collect()
}

/// (path relative to the tree, reason variant) for each skipped entry, sorted.
fn skipped(tree: &Tree, scan: &Scan) -> Vec<(String, String)> {
    let root = tree.path("");
    let mut out: Vec<(String, String)> = scan
        .skipped()
        .iter()
        .map(|s| {
            let rel = s
                .path()
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let reason = match s.reason() {
                SkipReason::InvalidName(e) => format!("InvalidName({:?})", e.name_rule().unwrap()),
                SkipReason::NotASocket => "NotASocket".to_owned(),
                SkipReason::NoSockExtension => "NoSockExtension".to_owned(),
                SkipReason::Stat(e) => format!("Stat({:?})", e.kind()),
                SkipReason::BadDescriptor(e) => format!("BadDescriptor({e})"),
                SkipReason::UnreadableDir(e) => format!("UnreadableDir({:?})", e.kind()),
                other => format!("{other:?}"),
            };
            (rel, reason)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn flat_and_nested_layouts_of_every_kind_are_listed() {
    let mut tree = Tree::new();
    tree.socket("sock/a.sock");
    tree.socket("sock/b/b.sock");
    tree.file("spec1/c.spec", "tcp://c:1");
    tree.file("spec1/d/d.spec", "tcp://d:1");
    tree.file("spec2/e.json", r#"{"Addr":"https://e:1"}"#);
    tree.file("spec2/f/f.json", r#"{"Addr":"tcp://f:1"}"#);
    let scan = tree.discovery().scan();
    assert_eq!(names(&scan), ["a", "b", "c", "d", "e", "f"]);
    let kinds: Vec<SourceKind> = scan.plugins().iter().map(|p| p.source().kind()).collect();
    use SourceKind::{Json, Sock, Spec};
    assert_eq!(kinds, [Sock, Sock, Spec, Spec, Json, Json]);
    assert_eq!(
        scan.plugins()[1].source().path(),
        tree.path("sock/b/b.sock")
    );
    assert!(scan.skipped().is_empty());
}

#[test]
fn a_name_in_every_dir_is_listed_once_as_lookup_finds_it() {
    let mut tree = Tree::new();
    tree.socket("sock/p.sock");
    tree.file("spec1/p.spec", "tcp://one:1");
    // Losers are never read: this broken descriptor is not reported.
    tree.file("spec2/p.json", "{ broken");
    let discovery = tree.discovery();
    let scan = discovery.scan();
    assert_eq!(names(&scan), ["p"]);
    assert_eq!(scan.plugins()[0].source().kind(), SourceKind::Sock);
    assert!(scan.skipped().is_empty());
    assert_eq!(scan.plugins()[0], discovery.lookup(&name("p")).unwrap());
}

#[test]
fn nested_spec_beats_flat_json_in_the_same_dir() {
    let tree = Tree::new();
    tree.file("spec1/p.json", r#"{"Addr":"tcp://json:1"}"#);
    tree.file("spec1/p/p.spec", "tcp://nested:1");
    // Docker's scan would skip this dir: its first entry named `p.*` is `p.a`.
    tree.file("spec1/p/p.a", "");
    let scan = tree.discovery().scan();
    assert_eq!(scan.plugins()[0].address().to_string(), "tcp://nested:1");
}

#[test]
fn the_winning_descriptor_when_broken_is_reported_not_replaced() {
    let tree = Tree::new();
    tree.file("spec1/p.spec", "unix://relative.sock");
    tree.file("spec2/p.spec", "tcp://fine:1");
    let scan = tree.discovery().scan();
    assert!(scan.plugins().is_empty());
    let reasons = skipped(&tree, &scan);
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0].0, "spec1/p.spec");
    assert!(
        reasons[0].1.contains("the socket path is relative"),
        "{}",
        reasons[0].1
    );
}

#[test]
fn entries_that_are_not_plugins_are_skipped_with_the_reason() {
    let mut tree = Tree::new();
    tree.socket("sock/good.sock");
    tree.file("sock/file.sock", "");
    tree.socket("sock/noext");
    tree.symlink(tree.path("missing.sock"), "sock/dangling.sock");
    tree.symlink("loop.sock", "sock/loop.sock");
    tree.file("sock/nested/nested.sock", "a file, not a socket");
    tree.file("spec1/.hidden.spec", "tcp://h:1");
    tree.file("spec1/bad\tname.json", r#"{"Addr":"tcp://h:1"}"#);
    tree.file("spec1/empty.spec", "   \n");
    tree.file("spec1/garbage.json", "[1, 2]");
    tree.symlink(tree.path("missing.spec"), "spec1/gone.spec");
    // Ignored without a word: not plugin files at all.
    tree.file("spec1/README.txt", "hello");
    tree.file("spec1/x.spec~", "tcp://h:1");
    tree.file("spec1/x.spec.swp", "");
    tree.dir("spec1/emptydir");
    let scan = tree.discovery().scan();
    assert_eq!(names(&scan), ["good"]);
    let expected = [
        ("sock/dangling.sock", "Stat(NotFound)"),
        ("sock/file.sock", "NotASocket"),
        ("sock/loop.sock", "Stat(FilesystemLoop)"),
        ("sock/nested/nested.sock", "NotASocket"),
        ("sock/noext", "NoSockExtension"),
        ("spec1/.hidden.spec", "InvalidName(LeadingDot)"),
        ("spec1/bad\tname.json", "InvalidName(ControlCharacter)"),
        ("spec1/gone.spec", "Stat(NotFound)"),
    ];
    let got = skipped(&tree, &scan);
    let (bad_descriptors, others): (Vec<_>, Vec<_>) = got
        .iter()
        .partition(|(_, r)| r.starts_with("BadDescriptor"));
    let others: Vec<(&str, &str)> = others
        .iter()
        .map(|(p, r)| (p.as_str(), r.as_str()))
        .collect();
    assert_eq!(others, expected);
    let bad: Vec<&str> = bad_descriptors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(bad, ["spec1/empty.spec", "spec1/garbage.json"]);
    // Each reason reads as a sentence with what to do.
    let dangling = scan
        .skipped()
        .iter()
        .find(|s| s.path().ends_with("dangling.sock"))
        .unwrap();
    assert_eq!(
        dangling.to_string(),
        format!(
            "{}: a symlink whose target does not exist; fix or remove it",
            dangling.path().display()
        )
    );
}

#[test]
fn a_file_name_that_is_not_utf8_is_skipped() {
    let tree = Tree::new();
    let dir = tree.dir("spec1");
    std::fs::write(
        dir.join(std::ffi::OsStr::from_bytes(b"bad\xff.spec")),
        "tcp://h:1",
    )
    .unwrap();
    let scan = tree.discovery().scan();
    assert!(scan.plugins().is_empty());
    assert!(matches!(
        scan.skipped()[0].reason(),
        SkipReason::InvalidName(e) if e.name_rule() == Some(NameRule::NotUtf8)
    ));
}

#[test]
fn a_symlinked_socket_is_listed_as_lookup_finds_it() {
    let mut tree = Tree::new();
    let real = tree.socket("elsewhere/real.sock");
    tree.symlink(&real, "sock/p.sock");
    let scan = tree.discovery().scan();
    assert_eq!(names(&scan), ["p"]);
}

#[test]
fn missing_directories_are_fine() {
    let tree = Tree::new();
    let scan = tree.discovery().scan();
    assert!(scan.plugins().is_empty() && scan.skipped().is_empty());
}

#[test]
fn a_directory_that_cannot_be_listed_is_reported_and_the_rest_listed() {
    let tree = Tree::new();
    tree.file("sock", "a file where a directory should be");
    tree.file("spec1/p.spec", "tcp://h:1");
    let scan = tree.discovery().scan();
    assert_eq!(names(&scan), ["p"]);
    assert_eq!(
        skipped(&tree, &scan),
        [("sock".to_owned(), "UnreadableDir(NotADirectory)".to_owned())]
    );
}

#[test]
fn a_directory_without_read_permission_is_reported() {
    let tree = Tree::new();
    let dir = tree.dir("spec1");
    tree.file("spec1/p.spec", "tcp://h:1");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = std::fs::read_dir(&dir).is_ok();
    let scan = tree.discovery().scan();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if readable_anyway {
        // Root (CAP_DAC_OVERRIDE) reads it anyway; the ENOTDIR test above covers
        // the reporting path.
        assert_eq!(names(&scan), ["p"]);
    } else {
        assert!(scan.plugins().is_empty());
        assert_eq!(
            skipped(&tree, &scan),
            [(
                "spec1".to_owned(),
                "UnreadableDir(PermissionDenied)".to_owned()
            )]
        );
    }
}

#[test]
fn scan_agrees_with_lookup_for_every_name() {
    let mut tree = Tree::new();
    tree.socket("sock/a/a.sock");
    tree.file("spec1/a.spec", "tcp://a:1");
    tree.file("spec1/b.json", r#"{"Addr":"tcp://b:1"}"#);
    tree.file("spec2/b/b.spec", "tcp://b2:1");
    tree.file("spec2/c/c.json", r#"{"Addr":"tcp://c:1"}"#);
    tree.file("spec1/c.spec", "tcp://c1:1");
    let discovery = tree.discovery();
    let scan = discovery.scan();
    assert_eq!(names(&scan), ["a", "b", "c"]);
    for plugin in scan.plugins() {
        assert_eq!(&discovery.lookup(plugin.name()).unwrap(), plugin);
    }
}

#[test]
fn into_parts_gives_both_lists() {
    let mut tree = Tree::new();
    tree.socket("sock/a.sock");
    tree.file("sock/b.sock", "");
    let (plugins, skipped) = Discovery::builder()
        .socket_dir(tree.path("sock"))
        .build()
        .scan()
        .into_parts();
    assert_eq!((plugins.len(), skipped.len()), (1, 1));
}
