//! A host using a volume plugin as Docker does, through the registry with its
//! default settings: create a volume, mount it, write a file into it, list,
//! unmount, remove. One line per step; on failure, the error and each of its
//! causes once, and exit 1.
//!
//! ```text
//! cargo run -p plugin-subsystems --example dir_volume -- --root /tmp/vols --socket /tmp/plugins/dirvol.sock &
//! cargo run -p plugin-registry --example host -- --plugin-dir /tmp/plugins dirvol
//! ```

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use plugin_registry::{Discovery, PluginService, Registry};
use plugin_subsystems::volume::{self, VolumeDriverClient};

const USAGE: &str = "usage: host --plugin-dir DIR NAME";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (dir, name) = match args() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    match run(&dir, &name).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut cause = error.source();
            while let Some(e) = cause {
                eprintln!("  caused by: {e}");
                cause = e.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn args() -> Result<(PathBuf, String), &'static str> {
    let mut args = std::env::args().skip(1);
    match (
        args.next().as_deref(),
        args.next(),
        args.next(),
        args.next(),
    ) {
        (Some("--plugin-dir"), Some(dir), Some(name), None) => Ok((dir.into(), name)),
        _ => Err(USAGE),
    }
}

async fn run(dir: &Path, name: &str) -> Result<(), Box<dyn Error>> {
    let registry = Registry::new(Discovery::builder().plugin_dir(dir).build());
    let plugin = registry.get(name, volume::IMPLEMENTS).await?;
    println!(
        "got {name} at {}: implements {}",
        plugin.spec().address(),
        plugin.manifest().implements().join(", ")
    );
    let volumes: VolumeDriverClient<PluginService> = plugin.typed();

    let volume = "host-example";
    volumes.create(volume, None).await?;
    println!("created volume {volume}");
    let mountpoint = volumes.mount(volume, "container-1").await?;
    println!("mounted {volume} at {mountpoint}");
    let file = Path::new(&mountpoint).join("hello.txt");
    std::fs::write(&file, "written through the mountpoint\n")?;
    println!(
        "wrote {} ({} bytes)",
        file.display(),
        std::fs::read(&file)?.len()
    );
    let listed: Vec<String> = volumes.list().await?.into_iter().map(|v| v.name).collect();
    println!("listed [{}]", listed.join(", "));
    volumes.unmount(volume, "container-1").await?;
    println!("unmounted {volume}");
    volumes.remove(volume).await?;
    println!("removed {volume}");
    Ok(())
}
