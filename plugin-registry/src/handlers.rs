//! Handlers: code the host runs after each activation of a plugin that
//! implements a subsystem.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt;
use plugin_client::Client;
use plugin_spec::PluginName;
use tracing::Instrument;

use crate::plugin::Plugin;
use crate::service::PluginService;

type HandlerFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type HandlerFn = Arc<dyn Fn(PluginName, Client<PluginService>) -> HandlerFuture + Send + Sync>;

/// One registered handler.
#[derive(Clone)]
pub(crate) struct Handler {
    id: u64,
    run: HandlerFn,
}

impl Handler {
    pub(crate) fn new<F, Fut>(id: u64, f: F) -> Self
    where
        F: Fn(PluginName, Client<PluginService>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            id,
            run: Arc::new(move |name, client| Box::pin(f(name, client))),
        }
    }
}

/// The handlers, per subsystem, in registration order.
#[derive(Default)]
pub(crate) struct Handlers {
    next_id: u64,
    by_iface: HashMap<String, Vec<Handler>>,
}

impl Handlers {
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn add(&mut self, iface: String, handler: Handler) {
        self.by_iface.entry(iface).or_default().push(handler);
    }

    /// The handlers that apply to `plugin`: for each subsystem in its
    /// manifest's order, that subsystem's handlers in registration order.
    pub(crate) fn for_plugin(&self, plugin: &Plugin) -> Vec<(String, Handler)> {
        plugin
            .manifest()
            .implements()
            .iter()
            .flat_map(|iface| {
                self.by_iface
                    .get(iface)
                    .into_iter()
                    .flatten()
                    .map(move |handler| (iface.clone(), handler.clone()))
            })
            .collect()
    }
}

/// Runs `handlers` for `plugin`, each at most once per activation, one after
/// the other; a panicking handler is logged and the others still run. No lock
/// is held: a handler may call the registry.
pub(crate) async fn run(plugin: &Plugin, handlers: Vec<(String, Handler)>) {
    for (iface, handler) in handlers {
        if !plugin.mark_handled(handler.id) {
            continue;
        }
        let span = tracing::info_span!("plugin.handler", plugin = %plugin.name(), iface = %iface, handler = handler.id);
        let future = (handler.run)(plugin.name().clone(), plugin.client().clone());
        let outcome = AssertUnwindSafe(future)
            .catch_unwind()
            .instrument(span.clone())
            .await;
        if outcome.is_err() {
            tracing::error!(parent: &span, "a handler for {iface} panicked while handling plugin {}", plugin.name());
        }
    }
}
