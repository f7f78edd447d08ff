//! The `echo` plugin: implements `Echo`, and `Echo.Echo` answers its request
//! body. Serves until SIGINT or SIGTERM, then removes its socket or descriptor.
//!
//! ```sh
//! cargo run -p plugin-server --example echo -- --unix /tmp/echo.sock
//! curl --unix-socket /tmp/echo.sock -X POST http://plugin/Plugin.Activate
//! curl --unix-socket /tmp/echo.sock -X POST http://plugin/Echo.Echo -d '{"a":1}'
//! ```

use std::path::PathBuf;

use clap::Parser;
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};

/// Serve the echo plugin.
#[derive(Debug, Parser)]
struct Args {
    /// Serve on this unix socket.
    #[arg(long, conflicts_with_all = ["tcp", "systemd"])]
    unix: Option<PathBuf>,
    /// Serve plain HTTP on this address (e.g. 127.0.0.1:0) ...
    #[arg(long, requires = "spec_dir", conflicts_with = "systemd")]
    tcp: Option<String>,
    /// ... and write echo.spec in this directory.
    #[arg(long)]
    spec_dir: Option<PathBuf>,
    /// Serve on the socket systemd passed (LISTEN_FDS).
    #[arg(long)]
    systemd: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let server = PluginServer::new(PluginName::new("echo")?)
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: bytes::Bytes| async move {
            Ok::<_, HandlerError>(body)
        });
    let serving: Serving = match (&args.unix, &args.tcp, &args.spec_dir) {
        (Some(path), _, _) => server.serve_unix(path)?,
        (None, Some(addr), Some(dir)) => server.serve_tcp(addr.as_str(), dir)?,
        _ if args.systemd => server.serve_systemd()?,
        _ => return Err("give --unix PATH, --tcp ADDR --spec-dir DIR, or --systemd".into()),
    };
    println!("echo plugin serving on {}", serving.address());
    let stopped_by = serving.run_until_signal().await?;
    println!("echo plugin stopped ({stopped_by:?})");
    Ok(())
}
