//! A registry-wide tower stack: every plugin's calls get a header, share one
//! concurrency limit, and are counted. The plugin is served in a temporary
//! directory, so this runs anywhere:
//!
//! ```text
//! cargo run -p plugin-registry --example layered
//! ```
//!
//! The stack is applied once per activation (each plugin gets its own copy),
//! so the limit is a `GlobalConcurrencyLimitLayer`, whose semaphore the copies
//! share: a `ConcurrencyLimitLayer` would limit each plugin on its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Request};
use plugin_registry::{Discovery, Registry, RequestBody};
use plugin_server::{HandlerError, PluginServer};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::util::{MapRequestLayer, MapResultLayer};

const SOURCE: HeaderName = HeaderName::from_static("x-request-source");
const LIMIT: usize = 4;
const CALLS: usize = 32;

/// What the stack saw.
#[derive(Default)]
struct Counts {
    calls: AtomicUsize,
    with_header: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let _slow = PluginServer::new("slow-echo".parse()?)
        .implements("Echo")
        .handle_raw("Echo.Echo", |body: bytes::Bytes| async move {
            // Slow enough for callers to queue at the limit.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, HandlerError>(body)
        })
        .serve_unix(dir.path().join("slow-echo.sock"))?;

    let counts = Arc::new(Counts::default());
    let (outer, inner, done) = (
        Arc::clone(&counts),
        Arc::clone(&counts),
        Arc::clone(&counts),
    );
    let stack = ServiceBuilder::new()
        // Outermost: count every call and name the caller.
        .layer(MapRequestLayer::new(
            move |mut request: Request<RequestBody>| {
                outer.calls.fetch_add(1, Ordering::Relaxed);
                request
                    .headers_mut()
                    .insert(SOURCE, HeaderValue::from_static("layered-example"));
                request
            },
        ))
        // One limit for every plugin in this process.
        .layer(GlobalConcurrencyLimitLayer::new(LIMIT))
        // Below the limit: how many are in flight at once, and the header.
        .layer(MapRequestLayer::new(
            move |request: Request<RequestBody>| {
                if request.headers().get(SOURCE).is_some() {
                    inner.with_header.fetch_add(1, Ordering::Relaxed);
                }
                let now = inner.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                inner.peak.fetch_max(now, Ordering::Relaxed);
                request
            },
        ))
        .layer(MapResultLayer::new(move |result| {
            done.in_flight.fetch_sub(1, Ordering::Relaxed);
            result
        }))
        .into_inner();
    let registry = Registry::builder(Discovery::builder().plugin_dir(dir.path()).build())
        .layer(stack)
        .build();

    let plugin = registry.get("slow-echo", "Echo").await?;
    println!("activated slow-echo through the stack");
    let calls = (0..CALLS).map(|i| {
        let client = plugin.client().clone();
        tokio::spawn(async move { client.call_raw("Echo.Echo", format!("{i}")).await })
    });
    for call in futures_util::future::join_all(calls).await {
        call??;
    }
    let seen = |n: &AtomicUsize| n.load(Ordering::Relaxed);
    println!(
        "{CALLS} concurrent calls answered; the stack counted {} requests (the activation too), {} with the header, at most {} in flight (limit {LIMIT})",
        seen(&counts.calls),
        seen(&counts.with_header),
        seen(&counts.peak)
    );
    if seen(&counts.calls) != CALLS + 1
        || seen(&counts.with_header) != CALLS + 1
        || seen(&counts.peak) > LIMIT
    {
        return Err("the stack did not see what it should have".into());
    }
    Ok(())
}
