//! A registry with a custom connector (`RegistryBuilder::connector`): every
//! plugin it activates, calls and probes is reached through it, and never
//! at the address its descriptor gives.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use plugin_registry::{Health, HealthProbe, Registry, RegistryError, Target};
use plugin_server::PluginServer;
use plugin_transport::Address;
use support::{Counted, Dir, name};
use tower::ServiceExt;

/// Writes `vol.spec` naming a socket in `dir` that nothing listens on.
fn unreachable_descriptor(dir: &Dir) -> std::path::PathBuf {
    let socket = dir.socket("vol");
    std::fs::write(
        dir.dir.path().join("vol.spec"),
        format!("unix://{}\n", socket.display()),
    )
    .unwrap();
    socket
}

/// A connector that serves each connection from `server`, in this process,
/// over an in-memory pipe, counting the connections and noting the targets.
#[derive(Clone)]
struct InMemory {
    server: PluginServer,
    targets: Arc<Mutex<Vec<Target>>>,
}

impl InMemory {
    fn new(server: PluginServer) -> Self {
        Self {
            server,
            targets: Arc::default(),
        }
    }

    fn opened(&self) -> usize {
        self.targets.lock().unwrap().len()
    }

    fn service(
        &self,
    ) -> impl tower::Service<
        Target,
        Response = tokio::io::DuplexStream,
        Error = std::io::Error,
        Future = std::future::Ready<std::io::Result<tokio::io::DuplexStream>>,
    > + Clone
    + Send
    + Sync
    + 'static {
        let this = self.clone();
        tower::service_fn(move |target: Target| {
            this.targets.lock().unwrap().push(target);
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            let server = this.server.clone();
            let answer = hyper::service::service_fn(move |request| server.clone().oneshot(request));
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(theirs), answer),
            );
            std::future::ready(Ok(ours))
        })
    }
}

#[tokio::test]
async fn a_registry_with_a_custom_connector_activates_and_calls_a_plugin_through_it() {
    let dir = Dir::new();
    let socket = unreachable_descriptor(&dir);
    let plugin = Counted::new("vol", &["VolumeDriver"]);
    let connector = InMemory::new(plugin.server.clone());
    let registry = Registry::builder(dir.discovery())
        .connector(connector.service())
        .build();

    let vol = registry.get("vol", "VolumeDriver").await.unwrap();
    assert_eq!(vol.manifest().implements(), ["VolumeDriver"]);
    assert_eq!(
        vol.client().call_raw("Echo.Echo", "hi").await.unwrap(),
        "hi"
    );
    let again = registry.get("vol", "VolumeDriver").await.unwrap();
    assert_eq!(
        again.client().call_raw("Echo.Echo", "again").await.unwrap(),
        "again"
    );

    assert_eq!(plugin.activations(), 1);
    assert_eq!(
        connector.opened(),
        1,
        "activation and calls share one pooled connection"
    );
    let targets = connector.targets.lock().unwrap().clone();
    assert_eq!(targets[0].name(), &name("vol"));
    assert!(matches!(targets[0].address(), Address::Unix(path) if path.as_path() == socket));

    // The same plugin directory without the connector: nothing is there.
    let err = dir.registry().get("vol", "VolumeDriver").await.unwrap_err();
    assert!(
        matches!(&err, RegistryError::Activation { source, .. } if source.is_nothing_listening()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failing_connector_is_a_connect_error_of_the_activation() {
    let dir = Dir::new();
    unreachable_descriptor(&dir);
    let connector = tower::service_fn(|_: Target| async {
        Err::<tokio::io::DuplexStream, _>(std::io::Error::other("no route to the microVM"))
    });
    let registry = Registry::builder(dir.discovery())
        .client_config(
            plugin_registry::ClientConfig::default().retry(plugin_registry::RetryConfig::none()),
        )
        .connector(connector)
        .build();

    let err = registry.get("vol", "VolumeDriver").await.unwrap_err();

    let RegistryError::Activation { source, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(source.is_connect(), "{source:?}");
    let causes = plugin_test_support::errors::causes(&err);
    assert!(
        causes.iter().any(
            |c| c.starts_with("cannot connect to plugin \"vol\" at unix://")
                && c.ends_with(": its connector failed")
        ),
        "{causes:#?}"
    );
    assert_eq!(causes.last().unwrap(), "no route to the microVM");
}

#[tokio::test]
async fn health_probes_go_through_the_connector_too() {
    let dir = Dir::new();
    unreachable_descriptor(&dir);
    let (probed, mut probes) = tokio::sync::mpsc::unbounded_channel();
    let server = PluginServer::new(name("vol"))
        .implements("VolumeDriver")
        .handle("Plugin.Activate", move |(): ()| {
            let _ = probed.send(());
            async {
                Ok::<_, plugin_server::HandlerError>(
                    serde_json::json!({"Implements": ["VolumeDriver"]}),
                )
            }
        });
    let connector = InMemory::new(server);
    let registry = Registry::builder(dir.discovery())
        .connector(connector.service())
        .health_probe(
            HealthProbe::every(Duration::from_millis(20))
                .failures(1)
                .jitter(0.0),
        )
        .build();

    let vol = registry.get("vol", "VolumeDriver").await.unwrap();
    // The activation, then two probes.
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(10), probes.recv())
            .await
            .expect("a probe reached the plugin")
            .unwrap();
    }
    assert_eq!(vol.health(), Health::Healthy);
    // Each probe opens a new connection, through the connector.
    assert!(
        connector.opened() >= 3,
        "{} connections",
        connector.opened()
    );
}
