//! `Discovery::watch`: every kind of change gives the right event, bursts give
//! one, and directories created later are picked up. No sleeps: each test waits
//! for the event it expects, with a timeout.

mod support;

use std::os::unix::net::UnixListener;
use std::time::Duration;

use plugin_discovery::{Discovery, DiscoveryError, Watch, WatchEvent, WatchOptions};
use support::Tree;

const TIMEOUT: Duration = Duration::from_secs(10);

async fn next(watch: &mut Watch) -> WatchEvent {
    tokio::time::timeout(TIMEOUT, watch.next_event())
        .await
        .expect("no watch event within 10 s")
        .expect("the watch ended")
}

/// `added p tcp://h:1`, `removed p`, `changed p tcp://h:2`.
fn line(event: &WatchEvent) -> String {
    match event {
        WatchEvent::Added(spec) => format!("added {} {}", spec.name(), spec.address()),
        WatchEvent::Changed(spec) => format!("changed {} {}", spec.name(), spec.address()),
        WatchEvent::Removed(name) => format!("removed {name}"),
        other => format!("{other:?}"),
    }
}

async fn expect(watch: &mut Watch, expected: &str) {
    assert_eq!(line(&next(watch).await), expected);
}

fn plugin_dir(tree: &Tree) -> Discovery {
    Discovery::builder()
        .plugin_dir(tree.path("plugins"))
        .build()
}

#[tokio::test]
async fn the_snapshot_holds_what_exists_and_events_describe_changes() {
    let mut tree = Tree::new();
    tree.socket("plugins/a.sock");
    let mut watch = plugin_dir(&tree).watch().unwrap();
    let names: Vec<&str> = watch.snapshot().iter().map(|p| p.name().as_str()).collect();
    assert_eq!(names, ["a"]);
    let b = tree.socket("plugins/b.sock");
    expect(&mut watch, &format!("added b unix://{}", b.display())).await;
}

#[tokio::test]
async fn a_socket_created_then_removed_each_event_one_line() {
    let mut tree = Tree::new();
    tree.dir("plugins");
    let mut watch = plugin_dir(&tree).watch().unwrap();
    let path = tree.socket("plugins/p.sock");
    let added = next(&mut watch).await;
    assert_eq!(line(&added), format!("added p unix://{}", path.display()));
    // `Display`: the line `pluginctl watch` prints.
    assert_eq!(
        added.to_string(),
        format!("added    p  unix://{}", path.display())
    );
    let WatchEvent::Added(spec) = added else {
        unreachable!()
    };
    assert_eq!(
        WatchEvent::Changed(spec).to_string(),
        format!("changed  p  unix://{}", path.display())
    );
    std::fs::remove_file(&path).unwrap();
    assert_eq!(next(&mut watch).await.to_string(), "removed  p");
}

#[tokio::test]
async fn a_socket_recreated_at_the_same_path_is_a_change() {
    let tree = Tree::new();
    let path = tree.dir("plugins").join("p.sock");
    let mut watch = plugin_dir(&tree).watch().unwrap();
    let first = UnixListener::bind(&path).unwrap();
    expect(&mut watch, &format!("added p unix://{}", path.display())).await;
    drop(first);
    std::fs::remove_file(&path).unwrap();
    let _second = UnixListener::bind(&path).unwrap();
    // Either one batch (a change) or two (removed, then added): a restart is
    // never silent.
    let event = next(&mut watch).await;
    match line(&event).as_str() {
        "removed p" => expect(&mut watch, &format!("added p unix://{}", path.display())).await,
        changed => assert_eq!(changed, format!("changed p unix://{}", path.display())),
    }
}

#[tokio::test]
async fn a_spec_written_in_place_then_rewritten() {
    let tree = Tree::new();
    tree.dir("plugins");
    let mut watch = plugin_dir(&tree).watch().unwrap();
    tree.file("plugins/p.spec", "tcp://h:1\n");
    expect(&mut watch, "added p tcp://h:1").await;
    tree.file("plugins/p.spec", "tcp://h:2\n");
    expect(&mut watch, "changed p tcp://h:2").await;
    // The same content again changes nothing: the next event is the sentinel's.
    tree.file("plugins/p.spec", "tcp://h:2\n");
    tree.file("plugins/sentinel.spec", "tcp://s:1\n");
    expect(&mut watch, "added sentinel tcp://s:1").await;
}

#[tokio::test]
async fn a_descriptor_renamed_in_atomically() {
    let tree = Tree::new();
    tree.dir("plugins");
    let mut watch = plugin_dir(&tree).watch().unwrap();
    let tmp = tree.file("plugins/.p.json.tmp", r#"{"Addr": "https://h:8443"}"#);
    std::fs::rename(&tmp, tree.path("plugins/p.json")).unwrap();
    expect(&mut watch, "added p https://h:8443").await;
    let tmp = tree.file("plugins/.p.json.tmp", r#"{"Addr": "https://h:9443"}"#);
    std::fs::rename(&tmp, tree.path("plugins/p.json")).unwrap();
    expect(&mut watch, "changed p https://h:9443").await;
}

#[tokio::test]
async fn a_descriptor_that_breaks_removes_the_plugin() {
    let tree = Tree::new();
    tree.file("plugins/p.spec", "tcp://h:1");
    let mut watch = plugin_dir(&tree).watch().unwrap();
    assert_eq!(watch.snapshot().len(), 1);
    tree.file("plugins/p.spec", "ftp://h:1");
    expect(&mut watch, "removed p").await;
}

#[tokio::test]
async fn directories_created_after_the_watch_started() {
    let mut tree = Tree::new();
    // Neither `a` nor anything below it exists yet.
    let discovery = Discovery::builder()
        .plugin_dir(tree.path("a/b/plugins"))
        .build();
    let mut watch = discovery.watch().unwrap();
    assert!(watch.snapshot().is_empty());
    let path = tree.socket("a/b/plugins/p.sock");
    expect(&mut watch, &format!("added p unix://{}", path.display())).await;
    // A nested layout in a subdirectory created now.
    let nested = tree.socket("a/b/plugins/n/n.sock");
    expect(&mut watch, &format!("added n unix://{}", nested.display())).await;
    tree.file("a/b/plugins/d/d.spec", "tcp://d:1");
    expect(&mut watch, "added d tcp://d:1").await;
}

#[tokio::test]
async fn a_plugin_directory_removed_and_recreated() {
    let mut tree = Tree::new();
    tree.socket("plugins/p.sock");
    let mut watch = plugin_dir(&tree).watch().unwrap();
    std::fs::remove_dir_all(tree.path("plugins")).unwrap();
    expect(&mut watch, "removed p").await;
    let path = tree.socket("plugins/q.sock");
    expect(&mut watch, &format!("added q unix://{}", path.display())).await;
}

#[tokio::test]
async fn a_burst_of_writes_gives_one_event() {
    let mut tree = Tree::new();
    tree.dir("plugins");
    let options = WatchOptions::new()
        .debounce(Duration::from_millis(250))
        .max_delay(Duration::from_secs(5));
    let mut watch = plugin_dir(&tree).watch_with(options).unwrap();
    for port in 1..=50 {
        tree.file("plugins/p.spec", &format!("tcp://h:{port}\n"));
    }
    tree.socket("plugins/sentinel.sock");
    let mut about_p = Vec::new();
    loop {
        let event = next(&mut watch).await;
        if event.name() == "sentinel" {
            break;
        }
        about_p.push(line(&event));
    }
    assert_eq!(about_p, ["added p tcp://h:50"]);
}

#[test]
fn watching_needs_a_runtime() {
    let tree = Tree::new();
    let err = plugin_dir(&tree).watch().unwrap_err();
    assert!(matches!(err, DiscoveryError::NoRuntime));
    assert_eq!(
        err.to_string(),
        "Discovery::watch needs a tokio runtime; call it from within one"
    );
}

#[tokio::test]
async fn a_max_delay_of_duration_max_saturates_instead_of_panicking() {
    // `Instant::now() + Duration::MAX` overflows; the watch treats it as "no
    // bound", as `None`, and still reports a change once the burst is quiet.
    for max_delay in [Some(Duration::MAX), None] {
        let mut tree = Tree::new();
        tree.dir("plugins");
        let options = WatchOptions::new()
            .debounce(Duration::from_millis(10))
            .max_delay(max_delay);
        let mut watch = plugin_dir(&tree).watch_with(options).unwrap();
        let path = tree.socket("plugins/p.sock");
        expect(&mut watch, &format!("added p unix://{}", path.display())).await;
    }
}
