//! Fixtures: a plugin directory in a temp dir, and real `plugin-server`
//! plugins in it that count their activations.

#![allow(dead_code, unreachable_pub, unused_imports)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use plugin_registry::{Discovery, Registry};
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};

pub struct Dir {
    pub dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn socket(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.sock"))
    }

    pub fn discovery(&self) -> Discovery {
        Discovery::builder().plugin_dir(self.dir.path()).build()
    }

    pub fn registry(&self) -> Registry {
        Registry::new(self.discovery())
    }
}

pub fn name(name: &str) -> PluginName {
    PluginName::new(name).unwrap()
}

/// A plugin implementing `implements` whose activations are counted; it
/// answers `Echo.Echo` with its body.
pub struct Counted {
    pub activations: Arc<AtomicUsize>,
    pub server: PluginServer,
}

impl Counted {
    pub fn new(plugin: &str, implements: &[&str]) -> Self {
        let activations = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&activations);
        let manifest: Vec<String> = implements.iter().map(|s| (*s).to_owned()).collect();
        let mut server = PluginServer::new(name(plugin))
            .handle("Plugin.Activate", move |(): ()| {
                count.fetch_add(1, Ordering::SeqCst);
                let manifest = manifest.clone();
                async move { Ok::<_, HandlerError>(serde_json::json!({ "Implements": manifest })) }
            })
            .handle_raw("Echo.Echo", |body: Bytes| async move {
                Ok::<_, HandlerError>(body)
            });
        for iface in implements {
            server = server.implements(*iface);
        }
        Self {
            activations,
            server,
        }
    }

    pub fn activations(&self) -> usize {
        self.activations.load(Ordering::SeqCst)
    }

    pub fn serve(&self, dir: &Dir, plugin: &str) -> Serving {
        self.server.serve_unix(dir.socket(plugin)).unwrap()
    }
}

pub use plugin_test_support::errors::chain;
