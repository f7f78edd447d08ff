//! `pluginctl demo serve --dir DIR`: every bundled plugin (see `plugins`) until
//! SIGINT or SIGTERM; sockets and descriptors in DIR, the demo CA, certificate
//! and key in DIR/tls. On the way out it removes all of them.

use std::path::Path;

use super::Failure;
use crate::plugins::Served;

pub(crate) async fn run(dir: &Path) -> Result<(), Failure> {
    let served = Served::start(dir, &dir.join("tls"))?;
    for (name, serving) in served.list() {
        println!("serving {name} on {}", serving.address());
    }
    crate::signals::terminated().await;
    served.shutdown().await?;
    println!("stopped; sockets and descriptors removed");
    Ok(())
}
