//! A plugin's files changing on disk, seen by the next `get` after many gets
//! that found them unchanged (those are answered without a stat while the
//! directory's inotify watch reports nothing): each change re-activates the
//! plugin exactly once, and gets between changes activate nothing.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use plugin_registry::{Discovery, Registry};
use support::{Counted, Dir, name};

/// Gets `vol` 100 times; the plugin's activations after them.
async fn gets(registry: &Registry, plugin: &Counted) -> usize {
    for _ in 0..100 {
        registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    }
    plugin.activations()
}

#[tokio::test]
async fn every_change_to_a_descriptor_is_seen_by_the_next_get() {
    let dir = Dir::new();
    let registry = dir.registry();
    // A TCP plugin with a descriptor of the test's own: the plugin keeps
    // serving while its descriptor changes.
    let elsewhere = tempfile::tempdir().unwrap();
    let vol = Counted::new("vol", &["VolumeDriver"]);
    let serving = vol
        .server
        .serve_tcp("127.0.0.1:0", elsewhere.path())
        .unwrap();
    let descriptor = dir.dir.path().join("vol.spec");
    let text = format!("{}\n", serving.address());
    std::fs::write(&descriptor, &text).unwrap();
    assert_eq!(gets(&registry, &vol).await, 1);

    // Rewritten in place: the same file, another size (a change within one
    // tick of the kernel's file clock keeps the times).
    std::fs::write(&descriptor, format!("{text}\n")).unwrap();
    let plugin = registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    assert_eq!(vol.activations(), 2, "rewritten in place");
    assert_eq!(gets(&registry, &vol).await, 2);
    assert!(!plugin.is_stale());

    // Replaced by a rename, as descriptors are written atomically.
    let next = dir.dir.path().join(".vol.spec.new");
    std::fs::write(&next, &text).unwrap();
    std::fs::rename(&next, &descriptor).unwrap();
    assert!(plugin.is_stale(), "replaced by a rename");
    assert_eq!(gets(&registry, &vol).await, 3);

    // Its mode changed (only the inode's change time moves).
    let plugin = registry.get(&name("vol"), "VolumeDriver").await.unwrap();
    std::fs::set_permissions(&descriptor, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(plugin.is_stale(), "chmod");
    assert_eq!(gets(&registry, &vol).await, 4);

    // Removed: not found, at once.
    std::fs::remove_file(&descriptor).unwrap();
    let err = registry
        .get(&name("vol"), "VolumeDriver")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn a_plugin_restarted_on_its_socket_is_seen_by_the_next_get() {
    let dir = Dir::new();
    let registry = dir.registry();
    let v1 = Counted::new("vol", &["VolumeDriver"]);
    let serving = v1.serve(&dir, "vol");
    assert_eq!(gets(&registry, &v1).await, 1);
    serving.shutdown().await;
    let v2 = Counted::new("vol", &["VolumeDriver"]);
    let _serving = v2.serve(&dir, "vol");
    assert_eq!(gets(&registry, &v2).await, 1);
    assert_eq!(v1.activations(), 1);
}

/// The plugin directory itself removed and made again (its watch ends with
/// it): the plugin served in the new one is activated by the next get.
#[tokio::test]
async fn a_plugin_directory_made_again_is_seen_by_the_next_get() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let registry = Registry::new(Discovery::builder().plugin_dir(&plugins).build());
    let v1 = Counted::new("vol", &["VolumeDriver"]);
    let serving = v1.server.serve_unix(plugins.join("vol.sock")).unwrap();
    assert_eq!(gets(&registry, &v1).await, 1);
    serving.shutdown().await;
    std::fs::remove_dir_all(&plugins).unwrap();
    std::fs::create_dir(&plugins).unwrap();
    let v2 = Counted::new("vol", &["VolumeDriver"]);
    let _serving = v2.server.serve_unix(plugins.join("vol.sock")).unwrap();
    assert_eq!(gets(&registry, &v2).await, 1);
}

/// A plugin directory reached through a symbolic link is not watched: the
/// link pointed at another directory is seen by the next get.
#[tokio::test]
async fn a_symbolic_link_pointed_elsewhere_is_seen_by_the_next_get() {
    let root = tempfile::tempdir().unwrap();
    let (one, two, link) = (
        root.path().join("one"),
        root.path().join("two"),
        root.path().join("plugins"),
    );
    std::fs::create_dir(&one).unwrap();
    std::fs::create_dir(&two).unwrap();
    std::os::unix::fs::symlink(&one, &link).unwrap();
    let registry = Registry::new(Discovery::builder().plugin_dir(&link).build());
    let v1 = Counted::new("vol", &["VolumeDriver"]);
    let _one = v1.server.serve_unix(one.join("vol.sock")).unwrap();
    let v2 = Counted::new("vol", &["VolumeDriver"]);
    let _two = v2.server.serve_unix(two.join("vol.sock")).unwrap();
    assert_eq!(gets(&registry, &v1).await, 1);
    repoint(&link, &two, root.path());
    assert_eq!(gets(&registry, &v2).await, 1);
    assert_eq!(v1.activations(), 1);
}

/// Points the symbolic link `link` at `target`, atomically.
fn repoint(link: &Path, target: &Path, scratch: &Path) {
    let next = scratch.join(".link.new");
    std::os::unix::fs::symlink(target, &next).unwrap();
    std::fs::rename(&next, link).unwrap();
}

/// A change inotify cannot see (here a parent of the plugin directory moved
/// away and another put in its place; a mount over it is the same) is seen
/// once the plugin's files are looked at again, at most a second after the
/// last look. The clock is tokio's, moved on by the test.
#[tokio::test]
async fn a_change_no_watch_can_see_is_seen_within_a_second() {
    let root = tempfile::tempdir().unwrap();
    let (parent, moved) = (root.path().join("parent"), root.path().join("moved"));
    let plugins = parent.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let registry = Registry::new(Discovery::builder().plugin_dir(&plugins).build());
    let v1 = Counted::new("vol", &["VolumeDriver"]);
    let _v1 = v1.server.serve_unix(plugins.join("vol.sock")).unwrap();
    assert_eq!(gets(&registry, &v1).await, 1);
    // The directory watched moves with its parent, and sees nothing of the
    // new one made at its old path.
    std::fs::rename(&parent, &moved).unwrap();
    std::fs::create_dir_all(&plugins).unwrap();
    let v2 = Counted::new("vol", &["VolumeDriver"]);
    let _v2 = v2.server.serve_unix(plugins.join("vol.sock")).unwrap();
    tokio::time::pause();
    tokio::time::advance(Duration::from_millis(1_001)).await;
    tokio::time::resume();
    assert_eq!(gets(&registry, &v2).await, 1);
    assert_eq!(v1.activations(), 1);
}
