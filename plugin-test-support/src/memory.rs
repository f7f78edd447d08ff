//! This process's memory, for tests that bound it.

/// This process's resident set, from `/proc/self/status` (`VmRSS`), in MiB.
///
/// ```
/// assert!(plugin_test_support::memory::resident_mib() > 0.0);
/// ```
pub fn resident_mib() -> f64 {
    let status = match std::fs::read_to_string("/proc/self/status") {
        Ok(status) => status,
        Err(e) => panic!("cannot read /proc/self/status: {e}"),
    };
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS line in /proc/self/status"));
    kib / 1024.0
}
