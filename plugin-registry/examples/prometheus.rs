//! A host exposing its plugins' metrics for Prometheus to scrape: the
//! registry's metrics (feature `metrics`) recorded into
//! metrics-exporter-prometheus, served as text on `GET /metrics`.
//!
//! ```text
//! cargo run -p plugin-registry --features metrics --example prometheus -- --listen 127.0.0.1:9464
//! curl http://127.0.0.1:9464/metrics
//! ```
//!
//! With `--plugin-dir DIR` it activates the plugins in DIR (and probes their
//! health every 5 s); without, it serves an echo plugin of its own in a
//! temporary directory and calls it once a second. `--once` makes its calls,
//! scrapes its own endpoint once over HTTP, prints what it got and exits.

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use plugin_registry::{Discovery, HealthProbe, Registry};
use plugin_server::{HandlerError, PluginServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USAGE: &str = "usage: prometheus [--plugin-dir DIR] [--listen ADDR] [--once]";

struct Args {
    plugin_dir: Option<PathBuf>,
    listen: SocketAddr,
    once: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
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

fn args() -> Result<Args, &'static str> {
    let mut parsed = Args {
        plugin_dir: None,
        listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
        once: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--plugin-dir" => parsed.plugin_dir = Some(args.next().ok_or(USAGE)?.into()),
            "--listen" => parsed.listen = args.next().ok_or(USAGE)?.parse().map_err(|_| USAGE)?,
            "--once" => parsed.once = true,
            _ => return Err(USAGE),
        }
    }
    Ok(parsed)
}

async fn run(args: Args) -> Result<(), Box<dyn Error>> {
    // The recorder first: metrics recorded before it is installed go nowhere.
    // Durations as histograms with buckets (which Prometheus can aggregate
    // across hosts), from 100 us to 10 s.
    let recorder = PrometheusBuilder::new()
        .set_buckets(&[
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            2.5, 5.0, 10.0,
        ])?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)?;
    // Each metric's help text and unit, for the exposition's `# HELP` lines.
    plugin_registry::metrics::describe();
    // Histograms are kept as raw samples until upkeep folds them in: run it
    // now and then, or they grow with every call.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });

    // The plugins: the directory given, or an echo plugin of our own.
    let own = tempfile::tempdir()?;
    let (dir, _echo) = match &args.plugin_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let echo = PluginServer::new("echo".parse()?)
                .implements("Echo")
                .handle_raw("Echo.Echo", |body: Bytes| async move {
                    Ok::<_, HandlerError>(body)
                })
                .serve_unix(own.path().join("echo.sock"))?;
            (own.path().to_owned(), Some(echo))
        }
    };
    let registry = Registry::builder(Discovery::builder().plugin_dir(&dir).build())
        .health_probe(HealthProbe::every(Duration::from_secs(5)))
        .build();

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let address = listener.local_addr()?;
    tokio::spawn(serve_metrics(listener, handle));
    eprintln!("metrics on http://{address}/metrics");

    loop {
        use_plugins(&registry).await;
        if args.once {
            print!("{}", scrape(address).await?);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Activates every plugin found, and calls `Echo.Echo` on those that
/// implement `Echo`; failures are counted in the metrics, not fatal.
async fn use_plugins(registry: &Registry) {
    let (specs, _skipped) = registry.discovery().scan().into_parts();
    for spec in specs {
        if let Ok(plugin) = registry.activate(spec.name()).await {
            if plugin.implements("Echo") {
                let _ = plugin.client().call_raw("Echo.Echo", "{}").await;
            }
        }
    }
}

/// Answers every request on `listener` with the metrics in Prometheus's text
/// format.
async fn serve_metrics(listener: tokio::net::TcpListener, handle: PrometheusHandle) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let text = handle.render();
                async move {
                    let response = http::Response::builder()
                        .header("content-type", "text/plain; version=0.0.4")
                        .body(Full::new(Bytes::from(text)));
                    Ok::<_, Infallible>(response.unwrap_or_default())
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// `GET /metrics` from `address`, as a scraper sends it; the body.
async fn scrape(address: SocketAddr) -> Result<String, Box<dyn Error>> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: prometheus\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let (head, body) = answer.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("the scrape was answered {head:?}").into());
    }
    Ok(body.to_owned())
}
