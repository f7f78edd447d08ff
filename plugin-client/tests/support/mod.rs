//! Fixtures: real `plugin-server` plugins on unix sockets and TCP, and a raw
//! server that answers canned bytes and records what it was sent.

#![allow(dead_code, unreachable_pub, unused_imports)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use plugin_client::{Client, ClientConfig};
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

#[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct Named {
    #[serde(rename = "Name")]
    pub name: String,
}

/// A plugin with methods for each kind of answer.
pub fn plugin() -> PluginServer {
    PluginServer::new(PluginName::new("testplug").unwrap())
        .implements("VolumeDriver")
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
        .handle("Volume.Get", |req: Named| async move {
            Ok::<_, HandlerError>(req)
        })
        .handle("Volume.Fail", |(): ()| async move {
            Err::<(), _>(HandlerError::new("no space left on device"))
        })
        .handle("Volume.Reported", |(): ()| async move {
            Ok::<_, HandlerError>(serde_json::json!({"Err": "reported in a 200", "Volume": null}))
        })
        .handle("Ipam.Reported", |(): ()| async move {
            Ok::<_, HandlerError>(serde_json::json!({"Error": "pool exhausted"}))
        })
        .handle(
            "Test.Empty",
            |(): ()| async move { Ok::<_, HandlerError>(()) },
        )
        .handle("Test.Forever", |(): ()| async move {
            std::future::pending::<()>().await;
            Ok::<_, HandlerError>(())
        })
        .handle_stream("Logs.Read", |n: u32| async move {
            let chunks =
                (0..n).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("line {i}\n"))));
            Ok::<_, HandlerError>(futures_util::stream::iter(chunks))
        })
}

pub struct Served {
    pub dir: tempfile::TempDir,
    pub serving: Serving,
}

impl Served {
    pub fn client(&self) -> Client {
        Client::for_spec(self.serving.spec(), &ClientConfig::default()).unwrap()
    }
}

pub fn serve_unix(server: &PluginServer) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let serving = server.serve_unix(dir.path().join("testplug.sock")).unwrap();
    Served { dir, serving }
}

pub fn serve_tcp(server: &PluginServer) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let serving = server.serve_tcp("127.0.0.1:0", dir.path()).unwrap();
    Served { dir, serving }
}

pub use plugin_test_support::errors::chain;
pub use plugin_test_support::http::{Answering, response};

/// A client for the raw plugin `answering`.
pub fn client_for(answering: &Answering) -> Client {
    let spec = plugin_client::PluginSpec::from_socket(
        PluginName::new("rawplug").unwrap(),
        answering.path(),
    )
    .unwrap();
    Client::for_spec(&spec, &ClientConfig::default()).unwrap()
}

pub fn socket_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
