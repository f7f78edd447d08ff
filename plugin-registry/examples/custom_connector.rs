//! A registry whose plugins are reached through a connector of its own, not
//! at the address their descriptors give: here, as for plugins in microVMs
//! reached over vsock, each plugin's descriptor names the socket it listens
//! on inside its VM, and the connector maps the plugin's name to where the
//! host reaches it. The "VM" is a temporary directory, so this runs anywhere:
//!
//! ```text
//! cargo run -p plugin-registry --example custom_connector
//! ```
//!
//! With tokio-vsock the connector's body would be
//! `VsockStream::connect(VsockAddr::new(cid_of(target.name()), 5000))`; the
//! pool, the HTTP handling, the connect timeout, the retries and the errors
//! stay the transport's and the client's.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use plugin_registry::{Discovery, Registry, Target};
use plugin_server::{HandlerError, PluginServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let (plugins, vm) = (tmp.path().join("plugins"), tmp.path().join("vm"));
    std::fs::create_dir_all(&plugins)?;
    std::fs::create_dir_all(&vm)?;

    // The plugin, in its "VM".
    let _serving = PluginServer::new("sshfs".parse()?)
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: bytes::Bytes| async move {
            Ok::<_, HandlerError>(body)
        })
        .serve_unix(vm.join("sshfs.sock"))?;
    // Its descriptor on the host names the socket as the VM sees it.
    std::fs::write(
        plugins.join("sshfs.spec"),
        "unix:///run/docker/plugins/sshfs.sock\n",
    )?;

    // The connector: a tower service from the plugin's target to a stream.
    let opened = Arc::new(AtomicUsize::new(0));
    let connector = {
        let opened = Arc::clone(&opened);
        tower::service_fn(move |target: Target| {
            opened.fetch_add(1, Ordering::Relaxed);
            let socket: PathBuf = vm.join(format!("{}.sock", target.name()));
            tokio::net::UnixStream::connect(socket)
        })
    };
    let registry = Registry::builder(Discovery::builder().plugin_dir(&plugins).build())
        .connector(connector)
        .build();

    let plugin = registry.get("sshfs", "Echo").await?;
    println!(
        "activated sshfs (its descriptor says {}) through the connector",
        plugin.spec().address()
    );
    for i in 0..3 {
        let answer = plugin
            .client()
            .call_raw("Echo.Echo", format!("call {i}"))
            .await?;
        if answer != format!("call {i}") {
            return Err(format!("sshfs answered {answer:?}").into());
        }
    }
    let opened = opened.load(Ordering::Relaxed);
    println!("3 calls answered over {opened} connection(s) the connector opened");
    if opened != 1 {
        return Err("the pool did not keep the connector's connection".into());
    }
    Ok(())
}
