//! `pluginctl demo serve --dir DIR`: the bundled plugins on unix sockets until
//! SIGINT or SIGTERM.

use std::path::Path;

use super::Failure;
use crate::plugins;

pub(crate) async fn run(dir: &Path) -> Result<(), Failure> {
    let volume =
        plugins::demo_volume()?.serve_unix(dir.join(format!("{}.sock", plugins::DEMO_VOLUME)))?;
    let echo =
        plugins::echo(plugins::ECHO)?.serve_unix(dir.join(format!("{}.sock", plugins::ECHO)))?;
    println!("serving {} on {}", plugins::DEMO_VOLUME, volume.address());
    println!("serving {} on {}", plugins::ECHO, echo.address());
    crate::signals::terminated().await;
    let (volume, echo) = (volume.shutdown(), echo.shutdown());
    futures_util::future::join(volume, echo).await;
    println!("stopped; sockets removed");
    Ok(())
}
