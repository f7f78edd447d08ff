//! `pluginctl package`, `validate` and `demo package`: managed plugin
//! directories built from a real binary (pluginctl itself), checked, and run
//! from their rootfs with only the libraries copied.

use std::path::Path;
use std::process::Output;

use tokio::process::Command;

fn pluginctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pluginctl"))
}

async fn run(args: &[&str]) -> Output {
    pluginctl().args(args).output().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The directory's entries, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|id| id == "0"))
        .unwrap()
}

#[tokio::test]
async fn a_packaged_binary_runs_in_its_rootfs_with_only_the_libraries_copied() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plugin");
    let packaged = run(&[
        "package",
        "--binary",
        env!("CARGO_BIN_EXE_pluginctl"),
        "--out",
        out.to_str().unwrap(),
        "--type",
        "volumedriver",
        "--socket",
        "p.sock",
        "--propagated-mount",
        "/data",
        "--",
        "demo",
        "volume",
        "--managed",
        "p.sock",
        "--state",
        "/data",
    ])
    .await;
    assert!(packaged.status.success(), "{}", text(&packaged.stderr));
    assert!(
        text(&packaged.stdout).contains(
            "(docker.volumedriver/1.0 on /run/docker/plugins/p.sock): rootfs/pluginctl with "
        ),
        "{}",
        text(&packaged.stdout)
    );
    assert_eq!(entries(&out), ["config.json", "rootfs"]);
    // Nothing else was left beside it.
    assert_eq!(entries(dir.path()), ["plugin"]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!([
            "/pluginctl",
            "demo",
            "volume",
            "--managed",
            "p.sock",
            "--state",
            "/data"
        ])
    );
    assert_eq!(
        config["Interface"]["Types"],
        serde_json::json!(["docker.volumedriver/1.0"])
    );
    let rootfs = out.join("rootfs");
    for dir in ["run/docker/plugins", "tmp", "data"] {
        assert!(rootfs.join(dir).is_dir(), "{dir}");
    }

    let valid = run(&["validate", out.to_str().unwrap()]).await;
    assert!(valid.status.success(), "{}", text(&valid.stderr));
    assert_eq!(
        text(&valid.stdout),
        format!(
            "{}: a valid plugin directory: docker.volumedriver/1.0 on /run/docker/plugins/p.sock, entrypoint /pluginctl demo volume --managed p.sock --state /data\n",
            out.display()
        )
    );

    // The binary runs inside the rootfs, with what was copied and nothing else.
    let mut chroot = if is_root() {
        let mut c = Command::new("chroot");
        c.arg(&rootfs);
        c
    } else {
        // Unprivileged: a user namespace in which we may chroot.
        let mut c = Command::new("unshare");
        c.args(["--user", "--map-root-user", "chroot"]).arg(&rootfs);
        c
    };
    let ran = chroot
        .args(["/pluginctl", "--version"])
        .output()
        .await
        .unwrap();
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        format!("pluginctl {}\n", env!("CARGO_PKG_VERSION"))
    );

    // A library taken away is found missing.
    let libc = walk(&rootfs)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "libc.so.6"))
        .unwrap();
    std::fs::remove_file(&libc).unwrap();
    let invalid = run(&["validate", out.to_str().unwrap()]).await;
    assert!(!invalid.status.success());
    assert_eq!(
        text(&invalid.stderr),
        format!(
            "error: {}: the entrypoint needs libc.so.6, missing from rootfs/\n",
            out.display()
        )
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn bad_input_is_an_error_naming_it_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plugin");
    let out_arg = out.to_str().unwrap();
    let failed = |output: &Output| {
        assert!(!output.status.success());
        text(&output.stderr)
    };

    let missing = dir.path().join("no-such-binary");
    let err = failed(
        &run(&[
            "package",
            "--binary",
            missing.to_str().unwrap(),
            "--out",
            out_arg,
            "--type",
            "volumedriver",
        ])
        .await,
    );
    assert!(
        err.starts_with(&format!(
            "error: cannot use the binary {}: ",
            missing.display()
        )),
        "{err}"
    );

    let err = failed(
        &run(&[
            "package",
            "--binary",
            env!("CARGO_BIN_EXE_pluginctl"),
            "--out",
            out_arg,
            "--type",
            "volumedrivr",
        ])
        .await,
    );
    assert!(
        err.starts_with("error: config.json: Interface.Types[0]: docker.volumedrivr/1.0 is not a type the engine knows ("),
        "{err}"
    );

    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"Description": "d", "Entrypoint": ["/pluginctl"], "Interface": {"Socket": "p.sock", "Types": ["docker.volumedriver/1.0"]}, "Mountz": []}"#,
    )
    .unwrap();
    let err = failed(
        &run(&[
            "package",
            "--binary",
            env!("CARGO_BIN_EXE_pluginctl"),
            "--out",
            out_arg,
            "--config",
            config.to_str().unwrap(),
        ])
        .await,
    );
    assert_eq!(
        err,
        format!(
            "error: {}: config.json: Mountz: unknown field (a typo? the engine would ignore it)\n",
            config.display()
        )
    );

    // An entrypoint the rootfs will not hold: caught before anything stays.
    std::fs::write(
        &config,
        r#"{"Description": "d", "Entrypoint": ["/elsewhere/p"], "Interface": {"Socket": "p.sock", "Types": ["docker.volumedriver/1.0"]}}"#,
    )
    .unwrap();
    let copied = run(&[
        "package",
        "--binary",
        env!("CARGO_BIN_EXE_pluginctl"),
        "--out",
        out_arg,
        "--config",
        config.to_str().unwrap(),
    ])
    .await;
    assert!(copied.status.success(), "{}", text(&copied.stderr));
    assert!(out.join("rootfs/elsewhere/p").is_file());

    // OUT exists now: refused, and left as it was.
    let err = failed(
        &run(&[
            "package",
            "--binary",
            env!("CARGO_BIN_EXE_pluginctl"),
            "--out",
            out_arg,
            "--type",
            "authz",
        ])
        .await,
    );
    assert_eq!(
        err,
        format!(
            "error: {} already exists; remove it or give another --out\n",
            out.display()
        )
    );
    assert_eq!(entries(dir.path()), ["config.json", "plugin"]);

    // A directory with a config.json but no rootfs is not a plugin.
    let err = failed(&run(&["validate", dir.path().to_str().unwrap()]).await);
    assert!(
        err.starts_with(&format!(
            "error: {}: config.json: Entrypoint[0]: {}/rootfs/elsewhere/p is not in the rootfs (",
            dir.path().display(),
            dir.path().display()
        )),
        "{err}"
    );
    assert_eq!(entries(dir.path()), ["config.json", "plugin"]);
}

#[tokio::test]
async fn demo_package_makes_the_managed_demo_volume_and_demo_metrics() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args, kind) in [
        ("volume", &[][..], "docker.volumedriver/1.0"),
        ("metrics", &["--metrics"][..], "docker.metricscollector/1.0"),
    ] {
        let out = dir.path().join(name);
        let mut command = vec!["demo", "package", "--out", out.to_str().unwrap()];
        command.extend(args);
        let made = run(&command).await;
        assert!(made.status.success(), "{}", text(&made.stderr));
        let valid = run(&["validate", out.to_str().unwrap()]).await;
        assert!(
            text(&valid.stdout).contains(&format!(
                ": a valid plugin directory: {kind} on /run/docker/plugins/demo-{name}.sock"
            )),
            "{}{}",
            text(&valid.stdout),
            text(&valid.stderr)
        );
    }
}
