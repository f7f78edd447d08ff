//! The real `pluginctl` binary against real plugins in temp dirs: each
//! command's human and `--json` output (the README's shapes), exit codes, stdin
//! bodies, `watch`, `bench`, `demo` and `demo serve`.

use plugin_test_support::certs::CertFiles;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use plugin_server::{HandlerError, PluginName, PluginServer, Serving, TlsFiles};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pluginctl");

fn pluginctl() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("RUST_LOG")
        .env_remove("PLUGINCTL_SOCKET_DIRS")
        .env_remove("PLUGINCTL_SPEC_DIRS")
        .kill_on_drop(true);
    cmd
}

async fn run(args: &[&str]) -> Output {
    run_with_stdin(args, None).await
}

async fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = pluginctl();
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("pluginctl hung")
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn echo(name: &str) -> PluginServer {
    PluginServer::new(PluginName::new(name).unwrap())
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
        .handle("Echo.Fail", |(): ()| async {
            Err::<(), _>(HandlerError::new("echo refuses"))
        })
}

/// A plugin dir with one plugin of each descriptor kind: `sock` (unix), `spec`
/// (TCP) and `json` (TLS with a CA).
struct Plugins {
    dir: tempfile::TempDir,
    _servings: Vec<Serving>,
    tcp_port: u16,
    tls_port: u16,
    ca: PathBuf,
}

impl Plugins {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn arg(&self) -> String {
        self.path().to_str().unwrap().to_owned()
    }
}

fn tls_files(dir: &Path) -> (TlsFiles, PathBuf) {
    let files = CertFiles::write(dir, &["localhost"]);
    (
        TlsFiles::new(files.cert, files.key)
            .ca_file(&files.ca)
            .host("localhost"),
        files.ca,
    )
}

fn plugins() -> Plugins {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = tempfile::tempdir().unwrap().keep();
    let (tls, ca) = tls_files(&tls_dir);
    let unix = echo("alpha")
        .serve_unix(dir.path().join("alpha.sock"))
        .unwrap();
    let tcp = echo("bravo").serve_tcp("127.0.0.1:0", dir.path()).unwrap();
    let secure = echo("charlie")
        .serve_tls("127.0.0.1:0", &tls, dir.path())
        .unwrap();
    let tcp_port = tcp.address().host_port().unwrap().port();
    let tls_port = secure.address().host_port().unwrap().port();
    Plugins {
        dir,
        _servings: vec![unix, tcp, secure],
        tcp_port,
        tls_port,
        ca,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_json_has_one_plugin_of_each_kind() {
    let p = plugins();
    let out = run(&["--plugin-dir", &p.arg(), "--json", "ls"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = p.path().display();
    let expected = json!({
        "plugins": [
            {"name": "alpha", "address": format!("unix://{dir}/alpha.sock"), "source": {"kind": "sock", "path": format!("{dir}/alpha.sock")}},
            {"name": "bravo", "address": format!("tcp://127.0.0.1:{}", p.tcp_port), "source": {"kind": "spec", "path": format!("{dir}/bravo.spec")}},
            {"name": "charlie", "address": format!("https://localhost:{}", p.tls_port), "source": {"kind": "json", "path": format!("{dir}/charlie.json")}},
        ],
        "skipped": [],
    });
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        expected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_human_is_an_aligned_table_and_reports_skipped_entries() {
    let p = plugins();
    std::fs::write(p.path().join("broken.spec"), "ftp://x").unwrap();
    let out = run(&["--plugin-dir", &p.arg(), "ls"]).await;
    assert!(out.status.success());
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("NAME     ADDRESS"), "{text}");
    let (address, source) = (
        lines[0].find("ADDRESS").unwrap(),
        lines[0].find("SOURCE").unwrap(),
    );
    for line in &lines[1..] {
        let at_address = &line[address..];
        assert!(
            ["unix://", "tcp://", "https://"]
                .iter()
                .any(|s| at_address.starts_with(s)),
            "{text}"
        );
        let at_source = &line[source..];
        assert!(
            ["sock ", "spec ", "json "]
                .iter()
                .any(|s| at_source.starts_with(s)),
            "{text}"
        );
        assert_eq!(&line[source - 2..source], "  ", "{text}");
    }
    assert!(lines[1].starts_with("alpha    unix://"), "{text}");
    assert!(
        stderr(&out).contains("broken.spec: invalid plugin address \"ftp://x\""),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_activate_shows_what_each_implements_or_why_not() {
    let p = plugins();
    drop(std::os::unix::net::UnixListener::bind(p.path().join("dead.sock")).unwrap());
    let out = run(&["--plugin-dir", &p.arg(), "--json", "ls", "--activate"]).await;
    // A health check: one plugin did not activate, so it exits 1, after the listing.
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: 1 of 4 plugins failed to activate\n");
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let plugins = json["plugins"].as_array().unwrap();
    let by_name = |name: &str| plugins.iter().find(|p| p["name"] == name).unwrap().clone();
    for name in ["alpha", "bravo", "charlie"] {
        assert_eq!(
            by_name(name)["implements"],
            json!(["Echo"]),
            "{name}: {}",
            by_name(name)
        );
    }
    let dead = by_name("dead");
    assert!(dead.get("implements").is_none());
    assert!(
        dead["error"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{dead}"
    );
    let human = run(&["--plugin-dir", &p.arg(), "ls", "--activate"]).await;
    assert_eq!(human.status.code(), Some(1));
    std::fs::remove_file(p.path().join("dead.sock")).unwrap();
    let healthy = run(&["--plugin-dir", &p.arg(), "ls", "--activate"]).await;
    assert!(healthy.status.success(), "{}", stderr(&healthy));
    assert!(
        stdout(&human)
            .lines()
            .next()
            .unwrap()
            .ends_with("IMPLEMENTS")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_whose_ca_file_is_a_fifo_fails_at_once_and_the_others_are_listed() {
    // Opening the FIFO for reading waited for a writer in open(2), on the
    // CLI's only runtime thread: `ls --activate` and `inspect` hung for good.
    let p = plugins();
    let files = tempfile::tempdir().unwrap();
    let fifo = files.path().join("ca.pem");
    plugin_test_support::files::fifo(&fifo);
    std::fs::write(
        p.path().join("fifo.json"),
        format!(
            r#"{{"Addr": "https://localhost:1", "TLSConfig": {{"CAFile": "{}"}}}}"#,
            fifo.display()
        ),
    )
    .unwrap();
    let refused = format!(
        "plugin \"fifo\" at https://localhost:1: cannot use TLSConfig.CAFile {}: it is a FIFO, not a regular file; TLS files must be regular files",
        fifo.display()
    );

    let started = std::time::Instant::now();
    let out = run(&["--plugin-dir", &p.arg(), "--json", "ls", "--activate"]).await;
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "error: 1 of 4 plugins failed to activate\n");
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let plugins = json["plugins"].as_array().unwrap();
    let by_name = |name: &str| plugins.iter().find(|p| p["name"] == name).unwrap().clone();
    for name in ["alpha", "bravo", "charlie"] {
        assert_eq!(by_name(name)["implements"], json!(["Echo"]), "{name}");
    }
    assert_eq!(by_name("fifo")["error"], json!(refused));
    assert!(took < Duration::from_secs(10), "{took:?}");

    let out = run(&["--plugin-dir", &p.arg(), "--json", "inspect", "fifo"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["error"], json!(refused));
    assert_eq!(json["manifest"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_the_descriptor_and_the_activation() {
    let p = plugins();
    let out = run(&["--plugin-dir", &p.arg(), "--json", "inspect", "charlie"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["name"], "charlie");
    assert_eq!(json["source"]["kind"], "json");
    assert_eq!(
        json["tls"],
        json!({"insecure_skip_verify": false, "ca_file": p.ca.to_str(), "cert_file": null, "key_file": null})
    );
    assert_eq!(json["warnings"], json!([]));
    assert_eq!(json["manifest"], json!({"Implements": ["Echo"]}));
    assert_eq!(json["error"], Value::Null);
    assert!(json["activation_us"].as_u64().unwrap() > 0);
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "activation_us",
            "address",
            "error",
            "manifest",
            "name",
            "source",
            "tls",
            "warnings"
        ]
    );

    let human = run(&["--plugin-dir", &p.arg(), "inspect", "bravo"]).await;
    let text = stdout(&human);
    assert!(text.contains("name:        bravo\n"), "{text}");
    assert!(
        text.contains(&format!("address:     tcp://127.0.0.1:{}\n", p.tcp_port)),
        "{text}"
    );
    assert!(text.contains("implements:  Echo\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_prints_the_answer_and_reads_a_body_from_stdin() {
    let p = plugins();
    let out = run(&[
        "--plugin-dir",
        &p.arg(),
        "--json",
        "call",
        "alpha",
        "Echo.Echo",
        r#"{"a":1}"#,
    ])
    .await;
    assert!(out.status.success());
    assert_eq!(stdout(&out), r#"{"a":1}"#, "unchanged with --json");
    let out = run_with_stdin(
        &[
            "--plugin-dir",
            &p.arg(),
            "call",
            "charlie",
            "Echo.Echo",
            "-",
        ],
        Some("{\"from\": \"stdin\"}\n"),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{\"from\": \"stdin\"}\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_1_with_the_message_on_stderr() {
    let p = plugins();
    let out = run(&["--plugin-dir", &p.arg(), "call", "alpha", "Echo.Fail"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: Echo.Fail: echo refuses (plugin \"alpha\", HTTP 500)\n"
    );
    assert!(out.stdout.is_empty());
    let out = run(&["--plugin-dir", &p.arg(), "call", "nobody", "Echo.Echo"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: plugin \"nobody\" not found in ")
            && stderr(&out).ends_with(
                "\n  hint: check the name, and that the plugin has written its socket or descriptor in one of those directories (pluginctl ls lists what is there)\n"
            ),
        "{}",
        stderr(&out)
    );
    // A plugin that is not running: each cause on its own line, once, and a hint.
    let dead = p.path().join("stopped.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let out = run(&["--plugin-dir", &p.arg(), "call", "stopped", "Echo.Echo"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: Plugin.Activate: calling plugin \"stopped\" failed\n  caused by: cannot connect to plugin \"stopped\" at unix://{}\n  caused by: Connection refused (os error 111)\n  hint: is the plugin running? Nothing listens on its socket.\n",
            dead.display()
        )
    );
    let out = run(&["--plugin-dir", &p.arg(), "inspect", "stopped"]).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "inspect exits 1 when activation fails"
    );
    assert!(
        stdout(&out).contains("error:       Plugin.Activate: calling plugin"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_file(&dead).unwrap();
    let out = run(&[
        "--plugin-dir",
        &p.arg(),
        "call",
        "alpha",
        "Echo.Echo",
        "{not json",
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: the request body is not valid JSON: "),
        "{}",
        stderr(&out)
    );
    let out = run(&["--plugin-dir", &p.arg(), "inspect", "../etc"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid plugin name \"../etc\""),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["call", "only-a-name"],
        &["--timeout", "soon", "ls"],
        &["bench", "x", "Y", "-n", "many"],
    ] {
        let out = run(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("error:"), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_vars_name_the_dirs_when_no_flag_does() {
    let p = plugins();
    let mut cmd = pluginctl();
    cmd.args(["--json", "ls"])
        .env("PLUGINCTL_SOCKET_DIRS", format!("/nonexistent:{}", p.arg()))
        .env("PLUGINCTL_SPEC_DIRS", "/nonexistent");
    let out = cmd.output().await.unwrap();
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<&str> = json["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha"], "sockets only: the spec dir is elsewhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_an_added_socket_and_ends_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = pluginctl()
        .args([
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "-v",
            "watch",
            "--timeout",
            "5s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is watching (it says so at -v), then add a plugin.
    let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
    watching(&mut errors).await;
    let socket = dir.path().join("late.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(line, format!("added    late  unix://{}", socket.display()));
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "--timeout ends watch cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = pluginctl()
        .args([
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "-v",
            "--json",
            "watch",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
    while !errors
        .next_line()
        .await
        .unwrap()
        .unwrap()
        .contains("watching for plugins")
    {}
    std::fs::write(dir.path().join("gamma.spec"), "tcp://127.0.0.1:9\n").unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap(),
        json!({"event": "added", "name": "gamma", "address": "tcp://127.0.0.1:9"})
    );
    std::fs::remove_file(dir.path().join("gamma.spec")).unwrap();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap(),
        json!({"event": "removed", "name": "gamma", "address": null})
    );
    terminate(child.id().unwrap());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "SIGTERM ends watch cleanly");
}

/// The next line `child` prints, within 10 s.
async fn next_line(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line within 10 s")
        .unwrap()
        .expect("pluginctl still running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_activate_prints_the_registrys_events_as_they_happen() {
    let dir = tempfile::tempdir().unwrap();
    let first = echo("alpha")
        .serve_unix(dir.path().join("alpha.sock"))
        .unwrap();
    let mut child = pluginctl()
        .args([
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "watch",
            "--activate",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let socket = dir.path().join("alpha.sock");
    assert_eq!(
        next_line(&mut lines).await,
        format!("discovered        alpha  unix://{}", socket.display())
    );
    assert_eq!(
        next_line(&mut lines).await,
        "activated         alpha  #1 implements Echo"
    );
    // Killed, then restarted: stale, removed, found again, activated again.
    first.shutdown().await;
    assert_eq!(
        next_line(&mut lines).await,
        "stale             alpha  removed"
    );
    assert_eq!(next_line(&mut lines).await, "removed           alpha");
    let _second = echo("alpha").serve_unix(&socket).unwrap();
    assert_eq!(
        next_line(&mut lines).await,
        format!("discovered        alpha  unix://{}", socket.display())
    );
    assert_eq!(
        next_line(&mut lines).await,
        "reactivated       alpha  #2 implements Echo"
    );
    terminate(child.id().unwrap());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "SIGTERM ends watch --activate cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_activate_json_reports_failures_and_health() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this one: its activation fails.
    let dead = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    // This one answers its first Plugin.Activate and hangs on every other:
    // its health probes fail.
    let answered = Arc::new(AtomicBool::new(false));
    let _hangs = PluginServer::new(PluginName::new("hangs").unwrap())
        .handle("Plugin.Activate", move |(): ()| {
            let again = answered.swap(true, Ordering::SeqCst);
            async move {
                if again {
                    std::future::pending::<()>().await;
                }
                Ok::<_, HandlerError>(json!({"Implements": ["Echo"]}))
            }
        })
        .serve_unix(dir.path().join("hangs.sock"))
        .unwrap();
    let mut child = pluginctl()
        .args([
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "--json",
            "watch",
            "--activate",
            "--probe",
            "50ms",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        seen.push(serde_json::from_str::<Value>(&next_line(&mut lines).await).unwrap());
    }
    let of =
        |name: &str| -> Vec<Value> { seen.iter().filter(|e| e["name"] == name).cloned().collect() };
    let dead_events = of("dead");
    assert_eq!(
        dead_events[0],
        json!({"event": "discovered", "name": "dead", "address": format!("unix://{}", dead.display())})
    );
    assert_eq!(dead_events[1]["event"], "activation_failed");
    assert!(
        dead_events[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("activating plugin \"dead\" failed: "),
        "{}",
        dead_events[1]
    );
    let hangs: Vec<Value> = of("hangs");
    assert_eq!(
        hangs[1],
        json!({"event": "activated", "name": "hangs", "generation": hangs[1]["generation"], "implements": ["Echo"]})
    );
    // Three probes in a row failed.
    assert_eq!(
        hangs[2],
        json!({"event": "health", "name": "hangs", "health": "unhealthy"})
    );
    terminate(child.id().unwrap());
    assert!(child.wait().await.unwrap().success());
}

fn terminate(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_prints_one_line() {
    let p = plugins();
    let out = run(&[
        "--plugin-dir",
        &p.arg(),
        "bench",
        "alpha",
        "Echo.Echo",
        "{}",
        "-n",
        "2000",
        "-c",
        "4",
    ])
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    let fields: Vec<(&str, &str)> = text
        .trim()
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "calls_per_s",
            "p50_us",
            "p99_us",
            "max_us",
            "errors",
            "cpu_us"
        ]
    );
    for (key, value) in &fields {
        assert!(value.parse::<u64>().is_ok(), "{key}={value}");
    }
    assert_eq!(fields[4], ("errors", "0"));
    let out = run(&[
        "--plugin-dir",
        &p.arg(),
        "--json",
        "bench",
        "alpha",
        "Echo.Echo",
        "-n",
        "300",
    ])
    .await;
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (
            json["calls"].as_u64(),
            json["concurrency"].as_u64(),
            json["errors"].as_u64()
        ),
        (Some(300), Some(8), Some(0))
    );
    // The CPU time is read from /proc: a number on Linux.
    assert!(json["cpu_us"].is_u64(), "{json}");
    assert!(json["calls_per_s"].is_u64(), "a whole number: {json}");
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "calls",
            "calls_per_s",
            "concurrency",
            "cpu_us",
            "errors",
            "max_us",
            "p50_us",
            "p99_us"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_histogram_counts_every_call_once() {
    let p = plugins();
    let args = [
        "--plugin-dir",
        &p.arg(),
        "bench",
        "alpha",
        "Echo.Echo",
        "-n",
        "500",
        "--histogram",
    ];
    let out = run(&args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<(u64, u64)> = text
        .lines()
        .skip(1)
        .map(|row| {
            let mut cells = row.split_whitespace();
            let le = cells
                .next()
                .unwrap()
                .trim_start_matches("<=")
                .trim_end_matches("us");
            (le.parse().unwrap(), cells.next().unwrap().parse().unwrap())
        })
        .collect();
    assert!(!rows.is_empty(), "{text}");
    assert_eq!(rows.iter().map(|(_, n)| n).sum::<u64>(), 500, "{text}");
    assert!(rows.windows(2).all(|w| w[1].0 == w[0].0 * 2), "{text}");

    let mut json_args = vec!["--json"];
    json_args.extend_from_slice(&args);
    let json: Value = serde_json::from_str(&stdout(&run(&json_args).await)).unwrap();
    let buckets = json["histogram"].as_array().unwrap();
    let total: u64 = buckets.iter().map(|b| b["calls"].as_u64().unwrap()).sum();
    assert_eq!(total, 500, "{json}");
    assert!(
        buckets
            .iter()
            .all(|b| b["le_us"].as_u64().unwrap().is_power_of_two())
    );
}

#[cfg(feature = "demo")]
#[tokio::test]
async fn demo_exits_0_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pluginctl()
        .arg("demo")
        .env("TMPDIR", tmp.path())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for step in [
        "discovered 8 plugins: demo-authz (sock unix://",
        "demo-ipam (sock unix://",
        "demo-log (sock unix://",
        "demo-net (sock unix://",
        "demo-volume (sock unix://",
        "echo (sock unix://",
        "echo-tcp (spec tcp://127.0.0.1:",
        "echo-tls (json https://localhost:",
        "activated demo-volume: implements VolumeDriver",
        "activated demo-ipam: implements IpamDriver",
        "IpamDriver.RequestPool -> 10.77.0.0/24, RequestAddress -> 10.77.0.1/24",
        "VolumeDriver.Create demo-data",
        "/state/volumes/demo-data\n",
        "VolumeDriver.List -> [demo-data]",
        "VolumeDriver.Remove demo-data while mounted, refused: VolumeDriver.Remove: demo-volume: volume demo-data is in use (1 mount)",
        "VolumeDriver.Unmount, then Remove demo-data (its directory deleted)",
        "an error decoded from the plugin: VolumeDriver.Remove: demo-volume: no such volume: no-such-volume",
        "not-there: not found, answered in",
        "demo-net: NetworkDriver.GetCapabilities -> scope local",
        "demo-authz: DELETE locked-1 denied (demo-authz: deleting locked- objects is not allowed), DELETE free-1 allowed",
        "demo-log: LogDriver.Capabilities -> ReadLogs true",
        "restarted demo-volume: the registry saw the new socket and activated the new instance, which kept its 1 volume (left-behind) in ",
        "stopped the plugins and removed",
    ] {
        assert!(text.contains(step), "missing {step:?} in\n{text}");
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[cfg(feature = "demo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serve_serves_until_sigterm_then_removes_its_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = pluginctl()
        .args(["demo", "serve", "--dir", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for name in [
        "demo-volume",
        "demo-ipam",
        "demo-net",
        "demo-authz",
        "demo-log",
        "echo",
    ] {
        let line = lines.next_line().await.unwrap().unwrap();
        assert_eq!(
            line,
            format!(
                "serving {name} on unix://{}/{name}.sock",
                dir.path().display()
            )
        );
    }
    for prefix in [
        "serving echo-tcp on tcp://127.0.0.1:",
        "serving echo-tls on https://",
    ] {
        let line = lines.next_line().await.unwrap().unwrap();
        assert!(
            line.starts_with(prefix),
            "{line:?} should start with {prefix:?}"
        );
    }
    let mut listed: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    // Each unix socket has its server's lock beside it (`.NAME.sock.lock`,
    // which discovery passes over), held while it serves.
    assert_eq!(
        listed,
        [
            ".demo-authz.sock.lock",
            ".demo-ipam.sock.lock",
            ".demo-log.sock.lock",
            ".demo-net.sock.lock",
            ".demo-volume.sock.lock",
            ".echo.sock.lock",
            "demo-authz.sock",
            "demo-ipam.sock",
            "demo-log.sock",
            "demo-net.sock",
            "demo-volume.sock",
            "echo-tcp.spec",
            "echo-tls.json",
            "echo.sock",
            "state",
            "tls"
        ]
    );
    let out = run(&[
        "--plugin-dir",
        dir.path().to_str().unwrap(),
        "call",
        "demo-volume",
        "VolumeDriver.Create",
        r#"{"Name":"v"}"#,
    ])
    .await;
    assert_eq!(stdout(&out), "{}\n");
    for echo in ["echo", "echo-tcp", "echo-tls"] {
        let out = run(&[
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "call",
            echo,
            "Echo.Echo",
            "[1,2]",
        ])
        .await;
        assert_eq!(stdout(&out), "[1,2]\n", "{echo}: {}", stderr(&out));
    }
    terminate(child.id().unwrap());
    assert!(child.wait().await.unwrap().success());
    assert_eq!(
        lines.next_line().await.unwrap().unwrap(),
        "stopped; sockets and descriptors removed"
    );
    // Only the state is kept: the volume created above, for the next start;
    // the sockets went, and their locks with them.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["state"]);
    assert!(dir.path().join("state/volumes/v").is_dir());
}

#[tokio::test]
async fn completions_for_bash() {
    let out = run(&["completions", "bash"]).await;
    assert!(out.status.success());
    assert!(stdout(&out).contains("_pluginctl()"));
}

#[tokio::test]
async fn completions_into_a_closed_pipe_do_not_panic() {
    let mut child = pluginctl()
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the script is written, as `| head -1` does.
    drop(child.stdout.take());
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_initial_prints_the_plugins_already_there_first() {
    let dir = tempfile::tempdir().unwrap();
    let _b = std::os::unix::net::UnixListener::bind(dir.path().join("b.sock")).unwrap();
    let _a = std::os::unix::net::UnixListener::bind(dir.path().join("a.sock")).unwrap();
    let out = run(&[
        "--plugin-dir",
        dir.path().to_str().unwrap(),
        "--timeout",
        "300ms",
        "watch",
        "--initial",
    ])
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let at = |name: &str| format!("unix://{}", dir.path().join(name).display());
    assert_eq!(
        stdout(&out),
        format!(
            "present  a  {}\npresent  b  {}\n",
            at("a.sock"),
            at("b.sock")
        )
    );
}

#[cfg(feature = "demo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serve_with_a_timeout_stops_cleanly_and_leaves_only_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let out = run(&[
        "--timeout",
        "500ms",
        "demo",
        "serve",
        "--dir",
        dir.path().to_str().unwrap(),
        "--state",
        state.path().to_str().unwrap(),
    ])
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let mut kept: Vec<_> = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    kept.sort();
    // demo-volume's lock file stays, unlocked: removing it would let an
    // instance that opened it just before, and one that makes it afresh,
    // each hold a lock on a different file.
    assert_eq!(kept, ["demo-volume.lock", "logs", "volumes"]);
}

#[cfg(feature = "demo")]
#[tokio::test]
async fn help_says_what_demo_serve_serves() {
    let serve = stdout(&run(&["demo", "serve", "--help"]).await);
    for plugin in [
        "demo-volume",
        "demo-ipam",
        "demo-net",
        "demo-authz",
        "demo-log",
        "echo-tcp",
        "echo-tls",
        "--state",
    ] {
        assert!(serve.contains(plugin), "{serve}");
    }
}

/// Without the `demo` feature there is no `demo` command, and the help
/// names no demo.
#[tokio::test]
async fn the_demo_command_exists_only_with_the_demo_feature() {
    let help = stdout(&run(&["--help"]).await);
    assert_eq!(help.contains("\n  demo "), cfg!(feature = "demo"), "{help}");
    assert_eq!(help.contains("demo"), cfg!(feature = "demo"), "{help}");
    let demo = run(&["demo", "--help"]).await;
    assert_eq!(demo.status.success(), cfg!(feature = "demo"), "{demo:?}");
}

#[tokio::test]
async fn help_says_what_bench_prints() {
    let bench = stdout(&run(&["bench", "--help"]).await);
    for field in [
        "calls_per_s",
        "p50_us",
        "p99_us",
        "max_us",
        "errors",
        "cpu_us",
    ] {
        assert!(bench.contains(field), "{bench}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_bounds_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let _serving = PluginServer::new(PluginName::new("slow").unwrap())
        .handle("Slow.Forever", |(): ()| async {
            std::future::pending::<()>().await;
            Ok::<_, HandlerError>(())
        })
        .serve_unix(dir.path().join("slow.sock"))
        .unwrap();
    let out = run(&[
        "--plugin-dir",
        dir.path().to_str().unwrap(),
        "--timeout",
        "300ms",
        "call",
        "slow",
        "Slow.Forever",
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: timed out after 300ms\n");
}

/// Reads `watch -v`'s stderr until it says it is watching.
async fn watching(errors: &mut tokio::io::Lines<BufReader<tokio::process::ChildStderr>>) {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), errors.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if line.contains("watching for plugins") {
            break;
        }
    }
}

/// A stdout whose reader is gone: every write to it fails with a broken pipe.
fn unread_stdout() -> Stdio {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(theirs);
    Stdio::from(std::os::fd::OwnedFd::from(ours))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_ends_the_command_quietly() {
    // `pluginctl ls | head -0`: exit 0, nothing on stderr.
    let p = plugins();
    let out = pluginctl()
        .args(["--plugin-dir", &p.arg(), "ls"])
        .stdout(unread_stdout())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");

    // `pluginctl watch | head -1`: the first line written after the reader
    // left ends it, long before its timeout.
    let dir = tempfile::tempdir().unwrap();
    let mut child = pluginctl()
        .args(["--plugin-dir", dir.path().to_str().unwrap(), "-v"])
        .args(["watch", "--timeout", "120s"])
        .stdout(unread_stdout())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
    watching(&mut errors).await;
    let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("late.sock")).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("watch ended at the broken pipe")
        .unwrap();
    assert!(status.success());
    let mut rest = Vec::new();
    while let Some(line) = errors.next_line().await.unwrap() {
        rest.push(line);
    }
    assert!(rest.iter().all(|line| !line.contains("error")), "{rest:?}");
}
