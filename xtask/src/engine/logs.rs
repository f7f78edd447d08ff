//! The log driver case through dockerd, against demo-log.

use super::docker::Docker;
use super::{Row, Run, case, expect};

/// The log driver case through dockerd: `docker logs` of a container logged
/// by demo-log.
pub(super) fn cases(run: &Run, docker: &Docker, image: &str, rows: &mut Vec<Row>) {
    let log_driver = run.plugin("log");
    case(
        rows,
        "docker",
        "docker logs of a --log-driver demo-log container, and --tail 1",
        || {
            docker.run(&[
                "run",
                "--name",
                "logged-1",
                "--network",
                "none",
                "--log-driver",
                &log_driver,
                image,
                "sh",
                "-c",
                "echo first; echo second; echo third",
            ])?;
            let all = docker.run(&["logs", "logged-1"])?;
            let tail = docker.run(&["logs", "--tail", "1", "logged-1"])?;
            docker.run(&["rm", "logged-1"])?;
            expect(
                all == "first\nsecond\nthird" && tail == "third",
                format!("logs {:?}, --tail 1 {tail:?}", all.replace('\n', "|")),
            )
        },
    );
}
