//! A server under abuse: 10,000 idle connections held open by another
//! process, and clients that give up halfway through a request. The server
//! keeps answering, promptly.

mod support;

use plugin_test_support::memory::resident_mib;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Dir, docker_request, exchange};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One call on a fresh connection: answered right, and how long it took.
async fn timed_call(path: &std::path::Path) -> Duration {
    let started = Instant::now();
    let raw = tokio::time::timeout(
        Duration::from_secs(10),
        exchange(path, &docker_request("Echo.Echo", r#"{"still":"here"}"#)),
    )
    .await
    .expect("the server stopped answering");
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert_eq!(raw.body_text(), r#"{"still":"here"}"#);
    started.elapsed()
}

/// Opens `count` connections to `path` from a Python child (so their file
/// descriptors are not this process's) and holds them until stdin closes.
/// With a request (argument 3), each connection first makes that call and
/// reads the start of its answer, so the server holds it as an idle keep-alive
/// connection; without, it never sends a byte.
const HOLDER: &str = r#"
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
path, count = sys.argv[1], int(sys.argv[2])
request = sys.argv[3].encode() if len(sys.argv) > 3 else None
held = []
for i in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if request is not None:
        s.sendall(request)
        if not s.recv(4096).startswith(b"HTTP/1.1 200 OK"):
            sys.exit("not answered 200")
    held.append(s)
print("holding", len(held), flush=True)
sys.stdin.read()
"#;

/// Holds `count` connections to `path` (each after one call, with `used`),
/// measures a call and this process's resident set while they are held, and
/// lets them go: (the call's time, resident MiB while held).
async fn while_holding(path: &std::path::Path, count: usize, used: bool) -> (Duration, f64) {
    let mut command = tokio::process::Command::new("python3");
    command
        .arg("-c")
        .arg(HOLDER)
        .arg(path)
        .arg(count.to_string());
    if used {
        let request = docker_request("Echo.Echo", r#"{"once":"then idle"}"#);
        command.arg(String::from_utf8(request).unwrap());
    }
    let mut holder = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 is needed for this test (.ci/run installs it)");
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    let said = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("opening the connections took over 60 s")
        .unwrap();
    assert_eq!(said, Some(format!("holding {count}")));
    let busy = timed_call(path).await;
    let during = resident_mib();
    // Let go of them all at once.
    drop(holder.stdin.take());
    assert!(holder.wait().await.unwrap().success());
    (busy, during)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_idle_connections_do_not_stop_the_server_answering() {
    const IDLE: usize = 10_000;
    let needed = IDLE as u64 + 1024;
    let allowed = rlimit::increase_nofile_limit(needed).unwrap();
    assert!(
        allowed >= needed,
        "this test holds {IDLE} connections and needs {needed} file descriptors; the hard limit here allows {allowed} (raise it with ulimit -Hn)"
    );
    let dir = Dir::new();
    let path = dir.join("busy.sock");
    let _serving = support::test_server()
        .max_connections(IDLE + 64)
        .serve_unix(&path)
        .unwrap();
    let quiet_call = timed_call(&path).await;
    let before = resident_mib();
    let (silent_call, silent_mib) = while_holding(&path, IDLE, false).await;
    let after_silent = timed_call(&path).await;
    let (kept_call, kept_mib) = while_holding(&path, IDLE, true).await;
    let after = timed_call(&path).await;
    let per_connection_kib = |mib: f64| (mib - before) * 1024.0 / IDLE as f64;
    eprintln!(
        "{IDLE} idle connections: a call took {quiet_call:?} before; \
         {silent_call:?} while {IDLE} that never sent were held ({silent_mib:.1} MiB resident, \
         {:.1} KiB each), {after_silent:?} after; \
         {kept_call:?} while {IDLE} kept alive after one call were held ({kept_mib:.1} MiB, \
         {:.1} KiB each), {after:?} after; {before:.1} MiB resident before",
        per_connection_kib(silent_mib),
        per_connection_kib(kept_mib),
    );
    for busy in [silent_call, kept_call] {
        assert!(
            busy < Duration::from_secs(1),
            "{busy:?} with {IDLE} idle connections"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_disconnect_mid_request_leave_the_server_answering() {
    let dir = Dir::new();
    let path = dir.join("cut.sock");
    let _serving = support::test_server().serve_unix(&path).unwrap();
    let full = docker_request("Echo.Echo", r#"{"a":"some body that gets cut"}"#);
    // Cut in the request line, in the headers, between headers and body, and
    // inside the body; 100 clients each.
    let head_end = full.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let cuts = [5, head_end / 2, head_end, head_end + 5];
    let mut tasks = Vec::new();
    for cut in cuts {
        for _ in 0..100 {
            let (path, part) = (path.clone(), full[..cut].to_vec());
            tasks.push(tokio::spawn(async move {
                let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
                stream.write_all(&part).await.unwrap();
                // Gone: the rest never comes.
                drop(stream);
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let took = timed_call(&path).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
}

/// Some clients shut down their sending side once the request is out
/// (`nc -N`, scripts); Go's server still answers them. (Found by fuzzing:
/// without half-close support the server sometimes closed first.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    use tokio::io::AsyncReadExt;
    let dir = Dir::new();
    let path = dir.join("half.sock");
    let _serving = support::test_server().serve_unix(&path).unwrap();
    let request = docker_request("Echo.Echo", r#"{"half":"closed"}"#);
    let mut unanswered = 0;
    for _ in 0..500 {
        let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
        stream.write_all(&request).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("neither an answer nor a close within 5 s")
            .unwrap();
        if !answer.starts_with(b"HTTP/1.1 200 OK\r\n") {
            unanswered += 1;
        }
    }
    assert_eq!(unanswered, 0, "requests left unanswered out of 500");
}
