//! Errors read once: walking `source()` of a failure gives each layer's own
//! sentence, and no sentence says what another one already says, so a chain
//! reporter (anyhow's `{:#}`, eyre, pluginctl) prints each cause once.

mod support;

use plugin_test_support::errors::{assert_each_cause_once, causes};
use support::{Dir, name};

#[tokio::test]
async fn a_stale_socket_failure_reads_each_cause_once() {
    let dir = Dir::new();
    let socket = dir.socket("stale");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let err = dir
        .registry()
        .get(&name("stale"), "VolumeDriver")
        .await
        .unwrap_err();
    let layers = causes(&err);
    assert_each_cause_once(&err);
    assert_eq!(
        layers,
        [
            "activating plugin \"stale\" failed".to_owned(),
            "Plugin.Activate: calling plugin \"stale\" failed".to_owned(),
            format!(
                "cannot connect to plugin \"stale\" at unix://{}",
                socket.display()
            ),
            "Connection refused (os error 111)".to_owned(),
        ]
    );
}

#[tokio::test]
async fn a_not_found_failure_reads_once() {
    let dir = Dir::new();
    let err = dir
        .registry()
        .get(&name("ghost"), "VolumeDriver")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    let layers = causes(&err);
    assert_each_cause_once(&err);
    assert_eq!(
        layers,
        [format!(
            "plugin \"ghost\" not found in {}",
            dir.dir.path().display()
        )]
    );
}

#[tokio::test]
async fn a_broken_descriptor_failure_reads_each_cause_once() {
    let dir = Dir::new();
    std::fs::write(dir.dir.path().join("broken.json"), "{\"Addr\": 5}").unwrap();
    let err = dir
        .registry()
        .get(&name("broken"), "VolumeDriver")
        .await
        .unwrap_err();
    let layers = causes(&err);
    assert_each_cause_once(&err);
    assert_eq!(layers.len(), 3, "{layers:#?}");
    assert_eq!(layers[0], "cannot use the descriptor of plugin \"broken\"");
    assert!(
        layers[1].starts_with(&format!(
            "plugin descriptor {} is not a valid JSON descriptor",
            dir.dir.path().join("broken.json").display()
        )),
        "{layers:#?}"
    );
    assert!(
        layers[2].starts_with("invalid type: integer `5`"),
        "{layers:#?}"
    );
}
