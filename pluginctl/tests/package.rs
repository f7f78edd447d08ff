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
    let packaged = package_pluginctl(
        &out,
        &["--socket", "p.sock", "--propagated-mount", "/data"],
        &["demo", "volume", "--managed", "p.sock", "--state", "/data"],
    )
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
    let ran = in_chroot(&rootfs, &["/pluginctl", "--version"]).await;
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
            "error: cannot use the binary {}\n  caused by: ",
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
        err.starts_with("error: invalid plugin config\n  caused by: Interface.Types[0]: docker.volumedrivr/1.0 is not a type the engine knows ("),
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
    // The file named once, the field once.
    assert_eq!(
        err,
        format!(
            "error: invalid plugin config {}\n  caused by: Mountz: unknown field (a typo? the engine would ignore it)\n",
            config.display()
        )
    );
    assert_eq!(err.matches("config.json").count(), 1, "{err}");

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
            "error: {} already exists; remove it or give another destination\n",
            out.display()
        )
    );
    assert_eq!(entries(dir.path()), ["config.json", "plugin"]);

    // A directory with a config.json but no rootfs is not a plugin.
    let err = failed(&run(&["validate", dir.path().to_str().unwrap()]).await);
    assert!(
        err.starts_with(&format!(
            "error: invalid rootfs in {}\n  caused by: Entrypoint[0]: /elsewhere/p is not in the rootfs (",
            dir.path().display(),
        )),
        "{err}"
    );
    assert_eq!(entries(dir.path()), ["config.json", "plugin"]);
}

#[cfg(feature = "demo")]
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

/// `pluginctl package` of pluginctl itself (a dynamic binary) into `out`,
/// with `extra` flags before `--` and `args` after.
async fn package_pluginctl(out: &Path, extra: &[&str], args: &[&str]) -> Output {
    let mut command = vec![
        "package",
        "--binary",
        env!("CARGO_BIN_EXE_pluginctl"),
        "--out",
        out.to_str().unwrap(),
        "--type",
        "volumedriver",
    ];
    command.extend(extra);
    command.push("--");
    command.extend(args);
    run(&command).await
}

/// Runs `program` inside `rootfs` (chroot, in a user namespace unless root).
async fn in_chroot(rootfs: &Path, program: &[&str]) -> Output {
    let mut chroot = if is_root() {
        Command::new("chroot")
    } else {
        let mut c = Command::new("unshare");
        c.args(["--user", "--map-root-user", "chroot"]);
        c
    };
    chroot.arg(rootfs).args(program).output().await.unwrap()
}

#[tokio::test]
async fn the_loader_is_copied_once_and_a_host_symlink_stays_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plugin");
    let packaged = package_pluginctl(&out, &[], &["--version"]).await;
    assert!(packaged.status.success(), "{}", text(&packaged.stderr));
    let rootfs = out.join("rootfs");
    let files: Vec<_> = walk(&rootfs)
        .into_iter()
        .filter(|p| !p.is_symlink() && p.is_file())
        .collect();
    // No file is in the rootfs twice.
    for (i, a) in files.iter().enumerate() {
        for b in &files[i + 1..] {
            assert!(
                std::fs::read(a).unwrap() != std::fs::read(b).unwrap(),
                "{} and {} are copies of one file",
                a.display(),
                b.display()
            );
        }
    }
    let loaders: Vec<_> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("ld-linux")
        })
        .collect();
    assert_eq!(loaders.len(), 1, "{loaders:?}");
    // Each library path that is a symlink here is one in the rootfs, to the same target.
    let mut links = 0;
    for line in text(&packaged.stdout).split(['(', ')', ',', ' ']) {
        let host = Path::new(line);
        if line.starts_with('/') && host.is_symlink() && !line.starts_with("/run") {
            let inside = rootfs.join(line.trim_start_matches('/'));
            assert!(inside.is_symlink(), "{}", inside.display());
            assert_eq!(
                std::fs::read_link(&inside).unwrap(),
                std::fs::read_link(host).unwrap()
            );
            links += 1;
        }
    }
    if Path::new("/lib64/ld-linux-x86-64.so.2").is_symlink() {
        assert!(links >= 1, "{}", text(&packaged.stdout));
    }
    // The plugin runs on the loader reached through the link.
    let ran = in_chroot(&rootfs, &["/pluginctl", "--version"]).await;
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    let valid = run(&["validate", out.to_str().unwrap()]).await;
    assert!(valid.status.success(), "{}", text(&valid.stderr));
}

#[tokio::test]
async fn strip_strips_the_copies_and_says_when_strip_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plugin");
    let packaged = package_pluginctl(&out, &["--strip"], &[]).await;
    assert!(packaged.status.success(), "{}", text(&packaged.stderr));
    let copy = std::fs::read(out.join("rootfs/pluginctl")).unwrap();
    let host = std::fs::read(env!("CARGO_BIN_EXE_pluginctl")).unwrap();
    assert!(copy.len() < host.len(), "{} >= {}", copy.len(), host.len());
    let sections = |bytes: &[u8]| -> Vec<String> {
        let elf = goblin::elf::Elf::parse(bytes).unwrap();
        elf.section_headers
            .iter()
            .filter_map(|h| elf.shdr_strtab.get_at(h.sh_name).map(str::to_owned))
            .collect()
    };
    assert!(sections(&host).contains(&".symtab".to_owned()));
    assert!(!sections(&copy).contains(&".symtab".to_owned()));
    let ran = in_chroot(&out.join("rootfs"), &["/pluginctl", "--version"]).await;
    assert!(ran.status.success(), "{}", text(&ran.stderr));

    // No strip on PATH: a clear error, and nothing left behind.
    let empty = tempfile::tempdir().unwrap();
    let other = dir.path().join("other");
    let failed = pluginctl()
        .env("PATH", empty.path())
        .args([
            "package",
            "--binary",
            env!("CARGO_BIN_EXE_pluginctl"),
            "--out",
            other.to_str().unwrap(),
            "--type",
            "authz",
            "--strip",
        ])
        .output()
        .await
        .unwrap();
    assert!(!failed.status.success());
    assert!(
        text(&failed.stderr).starts_with(
            "error: cannot strip: `strip` (GNU binutils) is not on PATH; install binutils, or package without stripping\n  caused by: "
        ),
        "{}",
        text(&failed.stderr)
    );
    assert_eq!(entries(dir.path()), ["plugin"]);
}

#[tokio::test]
async fn the_socket_is_asked_once_and_a_disagreement_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // Named by the entrypoint's arguments only: that is Interface.Socket.
    let out = dir.path().join("derived");
    let packaged = package_pluginctl(&out, &[], &["demo", "volume", "--managed", "q.sock"]).await;
    assert!(packaged.status.success(), "{}", text(&packaged.stderr));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["Interface"]["Socket"], "q.sock");

    // Two names: refused, naming both.
    let err = package_pluginctl(
        &dir.path().join("two"),
        &["--socket", "p.sock"],
        &["demo", "volume", "--managed", "q.sock"],
    )
    .await;
    assert!(!err.status.success());
    assert_eq!(
        text(&err.stderr),
        "error: invalid plugin config\n  caused by: Entrypoint[4]: names the socket \"q.sock\", but Interface.Socket is \"p.sock\" (the engine waits for that one); give one name in both\n"
    );
    assert_eq!(entries(dir.path()), ["derived"]);

    // A plugin directory whose config.json disagrees fails validate.
    let edited = std::fs::read_to_string(out.join("config.json"))
        .unwrap()
        .replace("\"Socket\": \"q.sock\"", "\"Socket\": \"p.sock\"");
    std::fs::write(out.join("config.json"), edited).unwrap();
    let invalid = run(&["validate", out.to_str().unwrap()]).await;
    assert_eq!(
        text(&invalid.stderr),
        format!(
            "error: invalid plugin config {}\n  caused by: Entrypoint[4]: names the socket \"q.sock\", but Interface.Socket is \"p.sock\" (the engine waits for that one); give one name in both\n",
            out.join("config.json").display()
        )
    );
}

#[tokio::test]
async fn a_static_binary_is_its_rootfs_alone() {
    let dir = tempfile::tempdir().unwrap();
    // glibc's crt-static: a static-pie binary, no other toolchain needed.
    let binary = plugin_test_support::binaries::static_binary(
        dir.path(),
        "hello",
        "hello from a static plugin",
    );
    let out = dir.path().join("plugin");
    let packaged = run(&[
        "package",
        "--binary",
        binary.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--type",
        "volumedriver",
    ])
    .await;
    assert!(packaged.status.success(), "{}", text(&packaged.stderr));
    let size = std::fs::metadata(&binary).unwrap().len();
    assert_eq!(
        text(&packaged.stdout),
        format!(
            "packaged {} as {} (docker.volumedriver/1.0 on /run/docker/plugins/hello.sock): rootfs/hello with no shared libraries (static); {size} bytes in rootfs/\n",
            binary.display(),
            out.display()
        )
    );
    let rootfs = out.join("rootfs");
    let mut all: Vec<String> = walk(&rootfs)
        .into_iter()
        .map(|p| p.strip_prefix(&rootfs).unwrap().display().to_string())
        .collect();
    all.sort();
    // The one file, and the (empty) socket directory and /tmp.
    assert_eq!(all, ["hello"]);
    assert_eq!(entries(&rootfs), ["hello", "run", "tmp"]);
    assert!(rootfs.join("run/docker/plugins").is_dir());
    assert!(entries(&rootfs.join("run/docker/plugins")).is_empty());
    assert!(entries(&rootfs.join("tmp")).is_empty());
    let ran = in_chroot(&rootfs, &["/hello"]).await;
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    assert_eq!(text(&ran.stdout), "hello from a static plugin\n");
}
