//! `cargo xtask soak [--seconds N]`: the long runs kept out of CI. The
//! restart-under-load fault test for N seconds (release build), then the
//! memory soak: 1,000,000 calls through the registry, the resident set
//! sampled every 100,000.

use std::path::Path;

use crate::ci::cargo;
use crate::command::step;

pub(crate) fn run(root: &Path, seconds: u64) -> Result<(), String> {
    let mut faults = cargo(&[
        "test",
        "--release",
        "--locked",
        "-p",
        "plugin-registry",
        "--test",
        "faults",
        "--",
        "--nocapture",
    ]);
    faults.env("FAULTS_SECONDS", seconds.to_string());
    step("restart under load", root, faults)?;
    step(
        "memory soak",
        root,
        cargo(&["bench", "--locked", "-p", "benches", "--bench", "memory"]),
    )
}
