//! The authorization case through dockerd, against demo-authz.

use std::path::Path;

use super::docker::Docker;
use super::plugins::call_volume;
use super::{Row, Run, case, expect};

/// The authorization case through dockerd (demo-authz is its
/// authorization plugin).
pub(super) fn cases(pluginctl: &Path, run: &Run, docker: &Docker, rows: &mut Vec<Row>) {
    let volume_driver = run.plugin("volume");
    case(
        rows,
        "docker",
        "authz: volume rm locked-1 denied, other commands pass",
        || {
            docker.run(&["volume", "create", "-d", &volume_driver, "locked-1"])?;
            let denied = docker
                .run(&["volume", "rm", "locked-1"])
                .err()
                .unwrap_or_default();
            let listed = docker.run(&["volume", "ls", "-q"])?;
            let log = std::fs::read_to_string(run.path("plugins.log")).unwrap_or_default();
            // Let it go, through the plugin directly (the engine never may).
            let removed = call_volume(
                pluginctl,
                run,
                "VolumeDriver.Remove",
                r#"{"Name":"locked-1"}"#,
            );
            expect(
                denied.contains("authorization denied by plugin")
                    && denied.contains("demo-authz: deleting locked- objects is not allowed")
                    && listed.lines().any(|l| l == "locked-1")
                    && log.contains("demo-authz decision")
                    && removed.is_ok(),
                format!("denied: {denied:?}"),
            )
        },
    );
}
