//! Arbitrary bytes on a plugin server's socket. The server (typed
//! VolumeDriver routes, a raw echo) never panics, answers with HTTP (1.1, or
//! 1.0 to a 1.0 request) or closes, and keeps answering well-formed requests
//! afterwards.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};
use plugin_subsystems::PluginServerExt;
use plugin_subsystems::volume::{self, VolumeDriver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Nothing;

impl VolumeDriver for Nothing {
    async fn create(&self, _: volume::CreateRequest) -> Result<(), HandlerError> {
        Ok(())
    }
    async fn remove(&self, _: volume::RemoveRequest) -> Result<(), HandlerError> {
        Err(HandlerError::new("no such volume"))
    }
    async fn path(&self, _: volume::PathRequest) -> Result<volume::PathResponse, HandlerError> {
        Ok(volume::PathResponse::default())
    }
    async fn mount(&self, _: volume::MountRequest) -> Result<volume::MountResponse, HandlerError> {
        Ok(volume::MountResponse::default())
    }
    async fn unmount(&self, _: volume::UnmountRequest) -> Result<(), HandlerError> {
        Ok(())
    }
    async fn get(&self, _: volume::GetRequest) -> Result<volume::GetResponse, HandlerError> {
        Ok(volume::GetResponse::default())
    }
    async fn list(&self) -> Result<volume::ListResponse, HandlerError> {
        Ok(volume::ListResponse::default())
    }
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    socket: PathBuf,
    _serving: Serving,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // Any panic, even one the server would catch, is a finding.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("panic: {info}");
            std::process::abort();
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("fuzz.sock");
        let serving = runtime.block_on(async {
            PluginServer::new(PluginName::new("fuzz").unwrap())
                .volume_driver(Nothing)
                .handle_raw("Echo.Echo", |body: Bytes| async move {
                    Ok::<_, HandlerError>(body)
                })
                .max_request_body(64 * 1024)
                .serve_unix(&socket)
                .unwrap()
        });
        Fixture {
            runtime,
            socket,
            _serving: serving,
            _dir: dir,
        }
    })
}

async fn exchange(socket: &PathBuf, bytes: &[u8]) -> Vec<u8> {
    let mut stream = tokio::net::UnixStream::connect(socket).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the server neither answered nor closed within 5 s")
        .ok();
    answer
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    fixture.runtime.block_on(async {
        let answer = exchange(&fixture.socket, data).await;
        // hyper answers an HTTP/1.0 request in HTTP/1.0.
        assert!(
            answer.is_empty()
                || answer.starts_with(b"HTTP/1.1 ")
                || answer.starts_with(b"HTTP/1.0 "),
            "not HTTP: {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(64)])
        );
        let check = b"POST /Echo.Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        let answer = exchange(&fixture.socket, check).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 200 OK\r\n"),
            "the server stopped answering"
        );
    });
});
