//! Issue 31, point 12: `ReadLogs` with `Tail: 1` read the whole log into
//! memory (933 MB peak for a large one). It now skips over the frames it
//! does not return. Alone in its test binary, so the process's peak
//! resident set is this test's.

use std::io::Write;

use futures_util::StreamExt;
use plugin_client::{Client, ClientConfig};
use plugin_subsystems::logdriver::{self, Info, LogDriverClient, LogEntry, ReadConfig};

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap()
        .to_owned();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn entry(i: usize) -> LogEntry {
    LogEntry {
        source: "stdout".to_owned(),
        time_nano: 1,
        line: format!("{i:08} {}", "y".repeat(1000)).into_bytes(),
        ..LogEntry::default()
    }
}

async fn read(logs: &LogDriverClient, tail: i64) -> Vec<Vec<u8>> {
    let info = Info {
        container_id: "big".to_owned(),
        ..Info::default()
    };
    let config = ReadConfig {
        tail,
        ..ReadConfig::default()
    };
    logs.read_logs(info, config)
        .await
        .unwrap()
        .map(|entry| entry.unwrap().line)
        .collect()
        .await
}

#[tokio::test]
async fn tail_1_of_a_large_log_returns_the_last_entry_without_holding_the_log() {
    const ENTRIES: usize = 48 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let logs_dir = state.join("logs");
    std::fs::create_dir_all(&logs_dir).unwrap();
    // A log of about 48 MiB (as one left by a driver that did not rotate),
    // written without holding it.
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(logs_dir.join("big.frames")).unwrap());
    for i in 0..ENTRIES {
        file.write_all(&logdriver::frame(&entry(i))).unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let size = std::fs::metadata(logs_dir.join("big.frames"))
        .unwrap()
        .len();
    assert!(size > 48 << 20, "{size} bytes");

    let serving = plugin_demo::demo_log(&state)
        .unwrap()
        .serve_unix(dir.path().join("demo-log.sock"))
        .unwrap();
    let client = Client::for_spec(serving.spec(), &ClientConfig::default()).unwrap();
    let logs = LogDriverClient::from(client);
    assert!(logs.capabilities().await.unwrap().cap.read_logs);
    let before = peak_kib();

    let last = read(&logs, 1).await;
    let expected = {
        let mut line = entry(ENTRIES - 1).line;
        line.push(b'\n');
        line
    };
    assert_eq!(last, [expected]);
    let grown = peak_kib().saturating_sub(before);
    // Reading the whole log took the peak up by its size and more.
    assert!(
        grown < 16 * 1024,
        "the peak resident set grew by {grown} KiB for a {size}-byte log"
    );
    eprintln!("Tail: 1 of a {size}-byte log: peak resident set grew by {grown} KiB");
    assert!(read(&logs, 0).await.is_empty());
}
