//! `pluginctl demo serve --dir DIR [--state STATE]`: every demo plugin (see
//! plugin-demo) until SIGINT, SIGTERM or `--timeout`; sockets and descriptors in
//! DIR, the demo CA, certificate and key in DIR/tls, what the plugins keep in
//! STATE. On the way out it removes all of them but STATE.

use std::path::Path;
use std::time::Duration;

use plugin_demo::Served;

use super::Failure;

pub(crate) async fn run(
    dir: &Path,
    state: &Path,
    timeout: Option<Duration>,
) -> Result<(), Failure> {
    let served = Served::start(dir, state, &dir.join("tls"))?;
    for (name, serving) in served.list() {
        println!("serving {name} on {}", serving.address());
    }
    let deadline = async {
        match timeout {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = crate::signals::terminated() => {}
        () = deadline => {}
    }
    served.shutdown().await?;
    println!("stopped; sockets and descriptors removed");
    Ok(())
}

/// `pluginctl demo volume`: demo-volume alone, on `socket` or as a managed
/// plugin on `managed` in /run/docker/plugins, until SIGINT or SIGTERM.
pub(crate) async fn volume(
    socket: Option<&Path>,
    managed: Option<&str>,
    state: &Path,
) -> Result<(), Failure> {
    let server = plugin_demo::demo_volume(state)?;
    let serving = match (socket, managed) {
        (_, Some(name)) => server.serve_managed(name)?,
        (Some(path), None) => server.serve_unix(path)?,
        (None, None) => return Err("give --socket PATH or --managed NAME".into()),
    };
    until_stopped(serving).await
}

/// `pluginctl demo metrics`: demo-metrics alone, as a managed plugin on
/// `managed`, until SIGINT or SIGTERM.
pub(crate) async fn metrics(managed: &str, state: &Path) -> Result<(), Failure> {
    let serving = plugin_demo::demo_metrics(state)?.serve_managed(managed)?;
    until_stopped(serving).await
}

async fn until_stopped(serving: plugin_server::Serving) -> Result<(), Failure> {
    println!("serving {} on {}", serving.spec().name(), serving.address());
    crate::signals::terminated().await;
    serving.shutdown().await;
    println!("stopped; socket removed");
    Ok(())
}
