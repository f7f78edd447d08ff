//! Lookup (docs/protocol.md, "Discovery"): Docker's precedence, sockets only if they are
//! sockets, symlinks followed, no fall-through past a broken descriptor.

mod support;

use plugin_discovery::{Discovery, DiscoveryError, SkipReason};
use plugin_spec::{AddressProblem, SpecError};
use support::{Tree, name};

/// Every place a plugin `p` can be, in lookup order.
const ORDER: [&str; 10] = [
    "sock/p.sock",
    "sock/p/p.sock",
    "spec1/p.spec",
    "spec1/p/p.spec",
    "spec1/p.json",
    "spec1/p/p.json",
    "spec2/p.spec",
    "spec2/p/p.spec",
    "spec2/p.json",
    "spec2/p/p.json",
];

#[test]
fn precedence_is_sockets_then_each_spec_dir_spec_before_json_flat_before_nested() {
    let mut tree = Tree::new();
    for (i, rel) in ORDER.iter().enumerate() {
        if rel.ends_with(".sock") {
            tree.socket(rel);
        } else if rel.ends_with(".spec") {
            tree.file(rel, &format!("tcp://h{i}:1\n"));
        } else {
            tree.file(rel, &format!(r#"{{"Addr": "tcp://h{i}:1"}}"#));
        }
    }
    let discovery = tree.discovery();
    for rel in ORDER {
        let spec = discovery.lookup(&name("p")).unwrap();
        assert_eq!(
            spec.source().path(),
            tree.path(rel),
            "expected {rel} to win"
        );
        // The scan keeps the same winner, once.
        let scan = discovery.scan();
        assert_eq!(
            scan.plugins(),
            [spec],
            "scan disagrees with lookup at {rel}"
        );
        assert!(scan.skipped().is_empty(), "{:?}", scan.skipped());
        std::fs::remove_file(tree.path(rel)).unwrap();
    }
    assert!(discovery.lookup(&name("p")).unwrap_err().is_not_found());
}

#[test]
fn socket_dirs_are_searched_in_order() {
    let mut tree = Tree::new();
    tree.socket("b/p.sock");
    tree.socket("a/p/p.sock");
    let discovery = Discovery::builder()
        .socket_dir(tree.path("a"))
        .socket_dir(tree.path("b"))
        .build();
    let spec = discovery.lookup(&name("p")).unwrap();
    assert_eq!(spec.source().path(), tree.path("a/p/p.sock"));
    assert_eq!(
        spec.address().to_string(),
        format!("unix://{}", tree.path("a/p/p.sock").display())
    );
}

#[test]
fn a_regular_file_named_sock_is_skipped_not_used() {
    let tree = Tree::new();
    let fake = tree.file("sock/p.sock", "not a socket");
    tree.file("spec2/p.spec", "tcp://h:1");
    let discovery = tree.discovery();
    assert_eq!(
        discovery.lookup(&name("p")).unwrap().source().path(),
        tree.path("spec2/p.spec")
    );

    std::fs::remove_file(tree.path("spec2/p.spec")).unwrap();
    let err = discovery.lookup(&name("p")).unwrap_err();
    let DiscoveryError::NotFound { ignored, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].path(), fake);
    assert!(matches!(ignored[0].reason(), SkipReason::NotASocket));
    assert!(
        err.to_string().contains(&format!(
            "(ignored {}: named .sock but not a unix socket",
            fake.display()
        )),
        "{err}"
    );
}

#[test]
fn a_symlink_to_a_socket_is_followed() {
    let mut tree = Tree::new();
    let real = tree.socket("elsewhere/real.sock");
    let link = tree.symlink(&real, "sock/p.sock");
    let spec = tree.discovery().lookup(&name("p")).unwrap();
    assert_eq!(spec.source().path(), link);
    assert_eq!(spec.address().unix_path().unwrap().as_path(), link);
}

#[test]
fn a_dangling_symlink_is_not_a_plugin() {
    let tree = Tree::new();
    tree.symlink(tree.path("nowhere.sock"), "sock/p.sock");
    tree.symlink(tree.path("nowhere.spec"), "spec1/p.spec");
    let discovery = tree.discovery();
    assert!(discovery.lookup(&name("p")).unwrap_err().is_not_found());
    // As in Docker (stat fails), lookup goes on past it.
    tree.file("spec2/p.json", r#"{"Addr":"tcp://h:2"}"#);
    assert_eq!(
        discovery.lookup(&name("p")).unwrap().address().to_string(),
        "tcp://h:2"
    );
}

#[test]
fn a_symlink_loop_is_reported_and_passed() {
    let tree = Tree::new();
    tree.symlink("p.sock", "sock/p.sock");
    let err = tree.discovery().lookup(&name("p")).unwrap_err();
    let DiscoveryError::NotFound { ignored, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(ignored[0].reason(), SkipReason::Stat(e) if e.raw_os_error() == Some(40)),
        "{err}"
    );
}

#[test]
fn a_broken_descriptor_fails_the_lookup_without_falling_through() {
    let tree = Tree::new();
    tree.file("spec1/p.spec", "ftp://x");
    tree.file("spec2/p.spec", "tcp://h:1");
    let err = tree.discovery().lookup(&name("p")).unwrap_err();
    match &err {
        DiscoveryError::Descriptor {
            name,
            source: SpecError::InvalidAddress { problem, path, .. },
        } => {
            assert_eq!(name, "p");
            assert_eq!(problem, &AddressProblem::UnknownScheme("ftp".into()));
            assert_eq!(path.as_deref(), Some(tree.path("spec1/p.spec").as_path()));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_not_found());
    assert_eq!(err.to_string(), "cannot use the descriptor of plugin \"p\"");
    let chain = support::chain(&err);
    assert!(
        chain.starts_with(
            "cannot use the descriptor of plugin \"p\": invalid plugin address \"ftp://x\""
        ),
        "{chain}"
    );
}

#[test]
fn any_existing_path_is_a_hit_even_a_directory() {
    let tree = Tree::new();
    tree.dir("spec1/p.spec");
    tree.file("spec1/p.json", r#"{"Addr":"tcp://h:1"}"#);
    let err = tree.discovery().lookup(&name("p")).unwrap_err();
    assert!(
        matches!(
            err,
            DiscoveryError::Descriptor {
                source: SpecError::NotAFile {
                    kind: "directory",
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn not_found_names_every_directory_searched() {
    let tree = Tree::new();
    let err = tree.discovery().lookup(&name("ghost")).unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!(
            "plugin \"ghost\" not found in {}, {}, {}",
            tree.path("sock").display(),
            tree.path("spec1").display(),
            tree.path("spec2").display()
        )
    );
}

#[test]
fn relative_directories_are_made_absolute() {
    let discovery = Discovery::builder().plugin_dir("rel/plugins").build();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(discovery.socket_dirs(), [cwd.join("rel/plugins")]);
    assert_eq!(discovery.spec_dirs(), [cwd.join("rel/plugins")]);
}
