//! `pluginctl demo serve --dir DIR [--state STATE]`: every bundled plugin (see
//! `plugins`) until SIGINT, SIGTERM or `--timeout`; sockets and descriptors in
//! DIR, the demo CA, certificate and key in DIR/tls, what the plugins keep in
//! STATE. On the way out it removes all of them but STATE.

use std::path::Path;
use std::time::Duration;

use super::Failure;
use crate::plugins::Served;

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
