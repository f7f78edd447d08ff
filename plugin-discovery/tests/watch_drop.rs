//! Dropping a `Watch` stops its watcher: the inotify instance is closed. Alone in
//! its own test binary so that no other test's watcher is counted.

use std::time::Duration;

use plugin_discovery::Discovery;

/// The number of inotify instances this process holds open.
fn inotify_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            std::fs::read_link(entry.path())
                .is_ok_and(|target| target.to_string_lossy() == "anon_inode:inotify")
        })
        .count()
}

#[tokio::test]
async fn dropping_the_watch_closes_its_inotify_instance() {
    let dir = tempfile::tempdir().unwrap();
    let before = inotify_fds();
    let watch = Discovery::builder()
        .plugin_dir(dir.path())
        .build()
        .watch()
        .unwrap();
    assert_eq!(inotify_fds(), before + 1);
    drop(watch);
    // The watcher's thread closes the instance once told to stop: wait for it.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while inotify_fds() != before {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the inotify instance is still open 10 s after the drop"
    );
}
