//! The demo drivers served on real unix sockets in temp dirs and called
//! through plugin-subsystems' typed clients: what an engine would do, without
//! an engine.

use std::path::Path;

use futures_util::StreamExt;
use plugin_client::{Client, ClientConfig};
use plugin_subsystems::authz::{AuthzClient, AuthzRequest};
use plugin_subsystems::logdriver::{self, Info, LogDriverClient, LogEntry, ReadConfig};
use plugin_subsystems::volume::VolumeDriverClient;
use plugin_subsystems::{PluginServer, Serving};

use plugin_demo::{AUTHZ_DENIED, demo_authz, demo_log, demo_volume};

fn serve(server: PluginServer, dir: &Path) -> (Serving, Client) {
    let serving = server
        .serve_unix(dir.join(format!("{}.sock", server.name())))
        .unwrap();
    let client = Client::for_spec(serving.spec(), &ClientConfig::default()).unwrap();
    (serving, client)
}

/// Every path below `root`, relative, sorted.
fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn bad_volume_names_are_refused_naming_the_rule_and_nothing_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (_serving, client) = serve(demo_volume(&state).unwrap(), dir.path());
    let volumes = VolumeDriverClient::from(client);
    let before = tree(dir.path());
    for (name, rule) in [
        ("", "it is empty"),
        ("a/b", "it contains '/'"),
        ("../escape", "it contains '/'"),
        ("..", "it contains '..' or is '.'"),
        (".", "it contains '..' or is '.'"),
        ("a\0b", "it contains a NUL byte"),
    ] {
        let err = volumes.create(name, None).await.unwrap_err();
        assert_eq!(
            err.message(),
            Some(format!("demo-volume: invalid volume name {name:?}: {rule}").as_str())
        );
        let err = volumes.mount(name, "c1").await.unwrap_err();
        assert!(
            err.message().unwrap().contains("invalid volume name"),
            "{err}"
        );
    }
    assert_eq!(tree(dir.path()), before);
    assert!(!dir.path().join("escape").exists());
}

/// demo-volume serving in `dir`, its state in `dir/state`.
fn serve_volumes(dir: &Path) -> (Serving, VolumeDriverClient) {
    let (serving, client) = serve(demo_volume(&dir.join("state")).unwrap(), dir);
    (serving, VolumeDriverClient::from(client))
}

/// Makes volume v1 (size=1G), mounted by c1, its directory holding `file`
/// ("kept"); its mountpoint.
async fn mounted_v1(volumes: &VolumeDriverClient) -> String {
    volumes
        .create("v1", Some([("size".to_owned(), "1G".to_owned())].into()))
        .await
        .unwrap();
    let mountpoint = volumes.mount("v1", "c1").await.unwrap();
    std::fs::write(Path::new(&mountpoint).join("file"), "kept").unwrap();
    mountpoint
}

/// What removing v1 while c1 holds it answers.
const V1_IN_USE: &str = "demo-volume: volume v1 is in use (1 mount)";

#[tokio::test]
async fn volumes_their_data_and_mounts_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (serving, volumes) = serve_volumes(dir.path());
    let mountpoint = mounted_v1(&volumes).await;
    assert_eq!(
        Path::new(&mountpoint),
        std::fs::canonicalize(dir.path().join("state"))
            .unwrap()
            .join("volumes/v1")
    );
    serving.shutdown().await;

    let (_serving, volumes) = serve_volumes(dir.path());
    let listed = volumes.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "v1");
    assert_eq!(listed[0].status["size"], "1G");
    assert_eq!(
        std::fs::read_to_string(Path::new(&listed[0].mountpoint).join("file")).unwrap(),
        "kept"
    );
    // The mount made before the restart still holds the volume.
    let err = volumes.remove("v1").await.unwrap_err();
    assert_eq!(err.message(), Some(V1_IN_USE));
    volumes.unmount("v1", "c1").await.unwrap();
    volumes.remove("v1").await.unwrap();
    assert!(!Path::new(&mountpoint).exists());
    assert_eq!(
        volumes.get("v1").await.unwrap_err().message(),
        Some("demo-volume: no such volume: v1")
    );
}

/// As Docker's `local` driver (moby `volume/local/local.go`, `Root::Create`):
/// a Create of a name that exists succeeds and returns the volume as it is;
/// the options of the second Create are ignored, and nothing of the volume
/// (its options, creation time, data or mounts) changes.
#[tokio::test]
async fn creating_an_existing_volume_succeeds_and_keeps_it_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (serving, volumes) = serve_volumes(dir.path());
    let mountpoint = mounted_v1(&volumes).await;
    let before = volumes.get("v1").await.unwrap().unwrap();
    let table = std::fs::read(state.join("volumes.json")).unwrap();

    volumes.create("v1", None).await.unwrap();
    volumes
        .create("v1", Some([("size".to_owned(), "2G".to_owned())].into()))
        .await
        .unwrap();

    assert_eq!(volumes.get("v1").await.unwrap(), Some(before.clone()));
    assert_eq!(before.status["size"], "1G");
    assert_eq!(std::fs::read(state.join("volumes.json")).unwrap(), table);
    assert_eq!(
        std::fs::read_to_string(Path::new(&mountpoint).join("file")).unwrap(),
        "kept"
    );
    assert_eq!(volumes.list().await.unwrap().len(), 1);
    // Still mounted: the mount made before the second Create holds it.
    assert_eq!(
        volumes.remove("v1").await.unwrap_err().message(),
        Some(V1_IN_USE)
    );
    // And so after a restart.
    serving.shutdown().await;
    let (_serving, volumes) = serve_volumes(dir.path());
    assert_eq!(volumes.get("v1").await.unwrap(), Some(before));
}

#[tokio::test]
async fn a_damaged_volume_table_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("volumes.json"), "not json").unwrap();
    let err = demo_volume(&state).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{} is not a demo-volume table",
            std::fs::canonicalize(&state)
                .unwrap()
                .join("volumes.json")
                .display()
        )),
        "{err}"
    );
    // Nothing was lost: the file is as it was.
    assert_eq!(
        std::fs::read_to_string(state.join("volumes.json")).unwrap(),
        "not json"
    );
}

#[tokio::test]
async fn authz_denies_deleting_locked_objects_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_serving, client) = serve(demo_authz().unwrap(), dir.path());
    let authz = AuthzClient::from(client);
    let ask = |method: &str, uri: &str| AuthzRequest {
        request_method: method.to_owned(),
        request_uri: uri.to_owned(),
        ..AuthzRequest::default()
    };
    let denied = authz
        .authz_request(&ask("DELETE", "/v1.41/volumes/locked-1"))
        .await
        .unwrap();
    assert!(!denied.allow);
    assert_eq!(denied.msg, AUTHZ_DENIED);
    let allowed = authz
        .authz_request(&ask("POST", "/v1.41/volumes/create"))
        .await
        .unwrap();
    assert!(allowed.allow);
    let response = authz
        .authz_response(&ask("DELETE", "/v1.41/volumes/locked-1"))
        .await
        .unwrap();
    assert!(response.allow, "AuthZRes allows");
}

fn entry(line: &str) -> LogEntry {
    LogEntry {
        source: "stdout".to_owned(),
        time_nano: 1,
        line: line.as_bytes().to_vec(),
        ..LogEntry::default()
    }
}

fn fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Makes the FIFO `path` and starts logging `info`'s container through it:
/// the engine's end, open for writing.
async fn start_logging(logs: &LogDriverClient, path: &Path, info: Info) -> tokio::fs::File {
    fifo(path);
    // The engine opens its end for writing; the plugin opens the other.
    let writer = tokio::spawn({
        let path = path.to_owned();
        async move { tokio::fs::OpenOptions::new().write(true).open(path).await }
    });
    logs.start_logging(path.to_str().unwrap(), info)
        .await
        .unwrap();
    writer.await.unwrap().unwrap()
}

async fn lines(
    logs: &LogDriverClient,
    container: &str,
    tail: i64,
    follow: bool,
) -> impl futures_util::Stream<Item = String> + use<> {
    let info = Info {
        container_id: container.to_owned(),
        ..Info::default()
    };
    let config = ReadConfig {
        tail,
        follow,
        ..ReadConfig::default()
    };
    logs.read_logs(info, config)
        .await
        .unwrap()
        .map(|entry| String::from_utf8(entry.unwrap().line).unwrap())
}

#[tokio::test]
async fn the_log_driver_keeps_the_engines_frames_and_reads_them_back() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (_serving, client) = serve(demo_log(&state).unwrap(), dir.path());
    let logs = LogDriverClient::from(client);
    assert!(logs.capabilities().await.unwrap().cap.read_logs);

    let path = dir.path().join("c1.fifo");
    let info = Info {
        container_id: "c0ffee".to_owned(),
        ..Info::default()
    };
    let mut writer = start_logging(&logs, &path, info).await;
    // A follower from the start sees every line once, then the end.
    let follower = lines(&logs, "c0ffee", -1, true).await;
    for line in ["one", "two", "three"] {
        writer
            .write_all(&logdriver::frame(&entry(line)))
            .await
            .unwrap();
    }
    writer.flush().await.unwrap();
    let followed: Vec<String> = follower.take(3).collect().await;
    assert_eq!(followed, ["one\n", "two\n", "three\n"]);

    logs.stop_logging(path.to_str().unwrap()).await.unwrap();
    drop(writer);
    let all: Vec<String> = lines(&logs, "c0ffee", -1, false).await.collect().await;
    assert_eq!(all, ["one\n", "two\n", "three\n"]);
    let last: Vec<String> = lines(&logs, "c0ffee", 1, false).await.collect().await;
    assert_eq!(last, ["three\n"]);
    // Kept where the engine's frames were written, in the same framing.
    let kept = std::fs::read(state.join("logs/c0ffee.frames")).unwrap();
    let expected: Vec<u8> = ["one", "two", "three"]
        .iter()
        .flat_map(|l| logdriver::frame(&entry(l)).to_vec())
        .collect();
    assert_eq!(kept, expected);
}

#[tokio::test]
async fn a_container_id_that_is_not_one_never_becomes_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (_serving, client) = serve(demo_log(&state).unwrap(), dir.path());
    let logs = LogDriverClient::from(client);
    let info = Info {
        container_id: "../../x".to_owned(),
        ..Info::default()
    };
    let err = logs
        .read_logs(info, ReadConfig::default())
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.message(),
        Some("demo-log: \"../../x\" is not a container ID")
    );
}

/// Issue 31, point 8: two demo-volumes on one STATE would each rewrite
/// `volumes.json` from their own table and lose what the other acknowledged.
/// The second is refused, naming STATE; once the first is gone, a new one
/// starts and has the first one's volumes.
#[tokio::test]
async fn a_second_demo_volume_on_one_state_is_refused_until_the_first_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (serving, volumes) = serve_volumes(dir.path());
    volumes.create("v1", None).await.unwrap();

    let err = demo_volume(&state).unwrap_err();
    let canonical = std::fs::canonicalize(&state).unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "another demo-volume holds the state directory {} (lock file {}); stop it, or give this one another STATE",
            canonical.display(),
            canonical.join("demo-volume.lock").display()
        )
    );
    assert!(matches!(err, plugin_demo::DemoError::StateLocked { .. }));
    // The first one is untouched and still serves.
    assert_eq!(volumes.list().await.unwrap().len(), 1);

    serving.shutdown().await;
    let (_serving, volumes) = serve_volumes(dir.path());
    assert_eq!(volumes.list().await.unwrap()[0].name, "v1");
}

/// demo-volume serving in a new temp dir, its state in `DIR/state`.
fn fresh_volumes() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Serving,
    VolumeDriverClient,
) {
    let dir = tempfile::tempdir().unwrap();
    let (serving, volumes) = serve_volumes(dir.path());
    let state = dir.path().join("state");
    (dir, state, serving, volumes)
}

/// Issue 31, point 10: a link planted at `volumes.json.tmp` is never written
/// through: the file it points at, outside STATE, is untouched by a Create.
#[tokio::test]
async fn a_link_planted_at_the_temporary_table_is_not_written_through() {
    let (dir, state, _serving, volumes) = fresh_volumes();
    let outside = dir.path().join("outside");
    std::fs::write(&outside, "precious").unwrap();
    std::os::unix::fs::symlink(&outside, state.join("volumes.json.tmp")).unwrap();

    volumes.create("v1", None).await.unwrap();
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    assert!(
        !std::fs::symlink_metadata(state.join("volumes.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(volumes.list().await.unwrap()[0].name, "v1");
}

/// Issue 31, point 10: a link planted at `volumes/NAME` is refused by Create,
/// Mount and Path, never adopted or answered as a mountpoint.
#[tokio::test]
async fn a_link_planted_at_a_volumes_path_is_refused_never_a_mountpoint() {
    let (dir, state, _serving, volumes) = fresh_volumes();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let planted = std::fs::canonicalize(&state).unwrap().join("volumes/v1");
    std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
    let refused = format!(
        "demo-volume: refusing {}: it is a symbolic link or not a directory",
        planted.display()
    );

    let err = volumes.create("v1", None).await.unwrap_err();
    assert_eq!(err.message(), Some(refused.as_str()));
    assert_eq!(volumes.list().await.unwrap().len(), 0);

    // A volume made, then its directory replaced by a link: Mount and Path
    // refuse it.
    volumes.create("v2", None).await.unwrap();
    let v2 = planted.with_file_name("v2");
    std::fs::remove_dir(&v2).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &v2).unwrap();
    let refused = refused.replace("volumes/v1", "volumes/v2");
    let err = volumes.mount("v2", "c1").await.unwrap_err();
    assert_eq!(err.message(), Some(refused.as_str()));
    let err = volumes.path("v2").await.unwrap_err();
    assert_eq!(err.message(), Some(refused.as_str()));
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
}

/// Issue 31, point 12: whoever can call StartLogging could feed its FIFO
/// without limit. What is kept is rotated as Docker's `json-file` rotates
/// (`max-size`, `max-file` from the container's log options): more than
/// `max-size` × `max-file` written, the files stay within the bound and the
/// newest entries are the ones kept, in order.
#[tokio::test]
async fn the_log_driver_rotates_within_max_size_and_max_file_keeping_the_newest() {
    use tokio::io::AsyncWriteExt;

    const MAX_SIZE: u64 = 64 * 1024;
    const ENTRIES: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (_serving, client) = serve(demo_log(&state).unwrap(), dir.path());
    let logs = LogDriverClient::from(client);
    let path = dir.path().join("c1.fifo");
    let info = Info {
        container_id: "c1".to_owned(),
        config: [("max-size", "64k"), ("max-file", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..Info::default()
    };
    let mut writer = start_logging(&logs, &path, info).await;
    let line = |i: usize| format!("{i:05} {}", "x".repeat(250));
    let follower = lines(&logs, "c1", 0, true).await;
    let writing = tokio::spawn(async move {
        let mut written = 0usize;
        for i in 0..ENTRIES {
            let frame = logdriver::frame(&entry(&line(i)));
            written += frame.len();
            writer.write_all(&frame).await.unwrap();
        }
        writer.flush().await.unwrap();
        (writer, written)
    });
    // Every entry has been kept once the follower has seen the last.
    let followed: Vec<String> = follower.take(ENTRIES).collect().await;
    assert_eq!(
        followed.last().unwrap(),
        &format!("{}\n", line(ENTRIES - 1))
    );
    let (writer, written) = writing.await.unwrap();
    assert!(written as u64 > 3 * MAX_SIZE, "{written} bytes written");
    logs.stop_logging(path.to_str().unwrap()).await.unwrap();
    drop(writer);

    let logs_dir = state.join("logs");
    assert_eq!(tree(&logs_dir), ["c1.frames", "c1.frames.1", "c1.frames.2"]);
    for file in tree(&logs_dir) {
        let len = std::fs::metadata(logs_dir.join(&file)).unwrap().len();
        assert!(len <= MAX_SIZE, "{file} is {len} bytes");
    }
    // The newest are kept, oldest first, with no gap.
    let all: Vec<String> = lines(&logs, "c1", -1, false).await.collect().await;
    assert!(all.len() < ENTRIES && all.len() > 2 * (MAX_SIZE as usize / 300));
    let first = ENTRIES - all.len();
    let expected: Vec<String> = (first..ENTRIES).map(|i| format!("{}\n", line(i))).collect();
    assert_eq!(all, expected);
    // A tail across the rotated files.
    let tail: Vec<String> = lines(&logs, "c1", 500, false).await.collect().await;
    assert_eq!(tail, expected[expected.len() - 500..]);
    let last: Vec<String> = lines(&logs, "c1", 1, false).await.collect().await;
    assert_eq!(last, [format!("{}\n", line(ENTRIES - 1))]);
}
