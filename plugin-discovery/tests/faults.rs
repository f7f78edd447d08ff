//! Scale and hostile layouts: a spec directory with 100,000 entries.

use std::time::Instant;

use plugin_discovery::Discovery;
use plugin_spec::PluginName;

#[test]
fn a_directory_of_100000_entries_is_scanned_whole_and_looked_up_at_once() {
    const ENTRIES: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    // 99,000 descriptors and 1,000 files that are not plugins.
    for i in 0..ENTRIES {
        if i % 100 == 99 {
            std::fs::write(dir.path().join(format!("notes-{i}.txt")), "").unwrap();
        } else {
            let port = 1024 + i % 60_000;
            std::fs::write(
                dir.path().join(format!("p{i}.spec")),
                format!("tcp://127.0.0.1:{port}\n"),
            )
            .unwrap();
        }
    }
    let discovery = Discovery::builder().plugin_dir(dir.path()).build();
    let started = Instant::now();
    let scan = discovery.scan();
    let scanned = started.elapsed();
    assert_eq!(scan.plugins().len(), ENTRIES - ENTRIES / 100);
    assert!(scan.skipped().is_empty(), "{:?}", &scan.skipped()[..3]);
    let started = Instant::now();
    let found = discovery
        .lookup(&PluginName::new("p98765").unwrap())
        .unwrap();
    let looked_up = started.elapsed();
    assert_eq!(found.address().to_string(), "tcp://127.0.0.1:39789");
    eprintln!(
        "{ENTRIES} entries: scan listed {} plugins in {scanned:?}; one lookup took {looked_up:?}",
        scan.plugins().len()
    );
}
