//! The volume cases through dockerd, against demo-volume.

use std::path::Path;
use std::sync::Mutex;

use super::docker::Docker;
use super::plugins::{call_volume, serve_plugins};
use super::teardown::{Teardown, stop, with};
use super::{Row, Run, case, expect};

/// The volume cases through dockerd: options, data shared by two
/// containers, removal of a volume in use, and a plugin restart.
pub(super) fn cases(
    pluginctl: &Path,
    run: &Run,
    docker: &Docker,
    image: &str,
    teardown: &Mutex<Teardown>,
    rows: &mut Vec<Row>,
) {
    let volume_driver = run.plugin("volume");
    case(
        rows,
        "docker",
        "volume create/ls/inspect/rm with options",
        || {
            docker.run(&[
                "volume",
                "create",
                "-d",
                &volume_driver,
                "-o",
                "size=1G",
                "-o",
                "tier=fast",
                "opts-1",
            ])?;
            let listed = docker.run(&["volume", "ls", "--format", "{{.Driver}} {{.Name}}"])?;
            let status = docker.run(&["volume", "inspect", "-f", "{{json .Status}}", "opts-1"])?;
            docker.run(&["volume", "rm", "opts-1"])?;
            let after = docker.run(&["volume", "ls", "-q"])?;
            expect(
                listed.contains(&format!("{volume_driver} opts-1"))
                    && status == r#"{"size":"1G","tier":"fast"}"#
                    && !after.lines().any(|l| l == "opts-1"),
                format!("listed [{listed}], status {status}, gone after rm"),
            )
        },
    );

    case(
        rows,
        "docker",
        "a container writes into a volume, a second reads it",
        || {
            docker.run(&["volume", "create", "-d", &volume_driver, "data-1"])?;
            docker.run(&[
                "run",
                "--rm",
                "--network",
                "none",
                "-v",
                "data-1:/data",
                image,
                "sh",
                "-c",
                "echo written-by-first > /data/file",
            ])?;
            let read = read_data(docker, image)?;
            expect(
                read == "written-by-first",
                format!("second container read {read:?}"),
            )
        },
    );

    case(rows, "docker", "volume rm of a volume in use fails", || {
        let id = docker.run(&[
            "run",
            "-d",
            "--network",
            "none",
            "-v",
            "data-1:/data",
            image,
            "sleep",
            "600",
        ])?;
        let engine = docker
            .run(&["volume", "rm", "data-1"])
            .err()
            .unwrap_or_default();
        docker.run(&["rm", "-f", &id])?;
        // Held mounted by another host of the plugin, which the engine
        // cannot know: the plugin's own refusal comes through.
        call_volume(
            pluginctl,
            run,
            "VolumeDriver.Mount",
            r#"{"Name":"data-1","ID":"outside-the-engine"}"#,
        )
        .map_err(|e| format!("pluginctl could not mount: {e}"))?;
        let plugin = docker
            .run(&["volume", "rm", "data-1"])
            .err()
            .unwrap_or_default();
        let released = call_volume(
            pluginctl,
            run,
            "VolumeDriver.Unmount",
            r#"{"Name":"data-1","ID":"outside-the-engine"}"#,
        );
        expect(
            engine.contains("volume is in use")
                && plugin.contains("demo-volume: volume data-1 is in use (1 mount)")
                && released.is_ok(),
            format!("engine: {engine:?}; plugin: {plugin:?}"),
        )
    });

    case(
        rows,
        "docker",
        "plugin restarted with the same STATE keeps the volume and its data",
        || {
            let restarted = with(teardown, |t| -> Result<(), String> {
                let index = t
                    .children
                    .iter()
                    .position(|(name, _)| name == "pluginctl demo serve")
                    .ok_or_else(|| "the plugins are not running".to_owned())?;
                let (name, mut old) = t.children.remove(index);
                stop(&name, &mut old);
                let new = serve_plugins(pluginctl, run)?;
                t.children.insert(index, (name, new));
                Ok(())
            });
            restarted?;
            let listed = docker.run(&["volume", "ls", "-q"])?;
            let read = read_data(docker, image)?;
            docker.run(&["volume", "rm", "data-1"])?;
            expect(
                listed.lines().any(|l| l == "data-1") && read == "written-by-first",
                format!(
                    "after the restart: volumes [{}], file {read:?}",
                    listed.replace('\n', ", ")
                ),
            )
        },
    );
}

/// What a new container sees in `/data/file` of volume `data-1`.
fn read_data(docker: &Docker, image: &str) -> Result<String, String> {
    docker.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "data-1:/data",
        image,
        "cat",
        "/data/file",
    ])
}
