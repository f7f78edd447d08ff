//! Fixtures: a test plugin with every kind of handler, served on real sockets
//! in temp dirs, and a raw HTTP/1.1 exchange for byte-exact assertions.

#![allow(dead_code, unreachable_pub, unused_imports)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use plugin_server::{HandlerError, PluginName, PluginServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// `VolumeDriver.Create`'s request, as Docker's Go type has it.
#[derive(Debug, serde::Deserialize)]
pub struct Create {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Opts", default)]
    pub opts: Option<HashMap<String, String>>,
}

/// `VolumeDriver.List`'s answer.
#[derive(Debug, serde::Serialize)]
pub struct List {
    #[serde(rename = "Volumes")]
    pub volumes: Vec<Volume>,
}

#[derive(Debug, serde::Serialize)]
pub struct Volume {
    #[serde(rename = "Name")]
    pub name: String,
}

/// A plugin with a handler for each kind of answer.
pub fn test_server() -> PluginServer {
    PluginServer::new(PluginName::new("test").unwrap())
        .implements("VolumeDriver")
        .handle("VolumeDriver.Create", |req: Create| async move {
            if req.name == "fail" {
                return Err(HandlerError::new(
                    "volume fail cannot be created: disk full",
                ));
            }
            Ok(())
        })
        .handle("VolumeDriver.List", |(): ()| async move {
            Ok::<_, HandlerError>(List {
                volumes: vec![Volume { name: "v1".into() }],
            })
        })
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
        .handle("Test.Panic", |(): ()| async move {
            if true {
                panic!("handler bug");
            }
            Ok::<_, HandlerError>(())
        })
        .handle("Test.Teapot", |(): ()| async move {
            Err::<(), _>(HandlerError::with_status(
                http::StatusCode::IM_A_TEAPOT,
                "short and stout",
            ))
        })
        .handle("Test.Parse", |n: String| async move {
            Ok::<_, HandlerError>(n.parse::<u32>()?)
        })
}

/// A temp dir with a socket path in it.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.path().join(rel)
    }
}

pub use plugin_test_support::errors::chain;
pub use plugin_test_support::http::{docker_request, exchange, exchange_on, read_response};

/// A wire capture from `tests/fixtures/wire/`: the exact bytes Docker's own
/// client sent, recorded by `cargo xtask interop --record`.
pub fn wire(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
