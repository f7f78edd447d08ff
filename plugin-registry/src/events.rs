//! Registry events: what happens to plugins, for whoever subscribes.

use std::fmt;
use std::sync::{Arc, OnceLock};

use futures_core::Stream;
use plugin_client::Manifest;
use plugin_spec::{PluginName, PluginSpec};
use tokio::sync::broadcast;

use crate::error::RegistryError;
use crate::health::Health;

/// Something that happened to a plugin, as [`Registry::events`](crate::Registry::events)
/// reports it, in the order it happened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RegistryEvent {
    /// A plugin was found: its socket or descriptor appeared in a plugin
    /// directory, or the registry looked it up for the first time.
    Discovered {
        /// How it is found and reached.
        spec: PluginSpec,
    },
    /// A plugin answered its first `Plugin.Activate` in this registry.
    Activated {
        /// The plugin.
        name: PluginName,
        /// Its answer: the subsystems it implements.
        manifest: Manifest,
        /// The activation's number, unique in the registry.
        generation: u64,
    },
    /// An activation failed (it is not cached: the next `get` tries again).
    ActivationFailed {
        /// The plugin.
        name: PluginName,
        /// Why.
        error: RegistryError,
    },
    /// An active plugin is stale: the next `get` activates it again.
    Stale {
        /// The plugin.
        name: PluginName,
        /// What made it stale.
        reason: StaleReason,
    },
    /// A plugin that had been active was activated again (after a restart,
    /// say), and its handlers ran again.
    Reactivated {
        /// The plugin.
        name: PluginName,
        /// Its answer this time.
        manifest: Manifest,
        /// The activation's number, unique in the registry.
        generation: u64,
    },
    /// A plugin's socket or descriptor is gone from the plugin directories.
    Removed {
        /// The plugin.
        name: PluginName,
    },
    /// A health probe changed a plugin's health
    /// ([`RegistryBuilder::health_probe`](crate::RegistryBuilder::health_probe)).
    HealthChanged {
        /// The plugin.
        name: PluginName,
        /// Its health now.
        health: Health,
    },
    /// This subscriber fell behind and `count` events were dropped for it
    /// (the registry never waits for a subscriber).
    Missed {
        /// How many.
        count: u64,
    },
}

impl RegistryEvent {
    /// The plugin the event is about (`None` for [`Missed`](Self::Missed)).
    pub fn name(&self) -> Option<&PluginName> {
        match self {
            Self::Discovered { spec } => Some(spec.name()),
            Self::Activated { name, .. }
            | Self::ActivationFailed { name, .. }
            | Self::Stale { name, .. }
            | Self::Reactivated { name, .. }
            | Self::Removed { name }
            | Self::HealthChanged { name, .. } => Some(name),
            Self::Missed { .. } => None,
        }
    }

    /// A short name for the kind of event: `discovered`, `activated`,
    /// `activation_failed`, `stale`, `reactivated`, `removed`,
    /// `health_changed` or `missed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Discovered { .. } => "discovered",
            Self::Activated { .. } => "activated",
            Self::ActivationFailed { .. } => "activation_failed",
            Self::Stale { .. } => "stale",
            Self::Reactivated { .. } => "reactivated",
            Self::Removed { .. } => "removed",
            Self::HealthChanged { .. } => "health_changed",
            Self::Missed { .. } => "missed",
        }
    }
}

/// Why a plugin became stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StaleReason {
    /// A call could not connect, or its connection broke.
    Connection,
    /// Its socket or descriptor changed on disk (re-created by a restart,
    /// rewritten).
    Changed,
    /// Its socket or descriptor was removed.
    Removed,
}

impl StaleReason {
    /// The label value: `connection`, `changed` or `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::Changed => "changed",
            Self::Removed => "removed",
        }
    }
}

impl fmt::Display for StaleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sending side, shared by the registry and every plugin's service. The
/// channel (its buffer allocated whole) is made at the first subscription:
/// a registry nobody subscribes to holds none.
#[derive(Clone)]
pub(crate) struct Events(Arc<Channel>);

struct Channel {
    capacity: usize,
    sender: OnceLock<broadcast::Sender<RegistryEvent>>,
}

impl Events {
    pub(crate) fn new(capacity: usize) -> Self {
        Self(Arc::new(Channel {
            capacity: capacity.max(1),
            sender: OnceLock::new(),
        }))
    }

    /// Sends the event `make` builds, if anybody listens (nothing is built
    /// otherwise).
    pub(crate) fn emit(&self, make: impl FnOnce() -> RegistryEvent) {
        if let Some(sender) = self.0.sender.get() {
            if sender.receiver_count() > 0 {
                // Fails only when the last subscriber just left: nobody to
                // tell.
                let _ = sender.send(make());
            }
        }
    }

    fn sender(&self) -> &broadcast::Sender<RegistryEvent> {
        self.0
            .sender
            .get_or_init(|| broadcast::Sender::new(self.0.capacity))
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<RegistryEvent> {
        self.sender().subscribe()
    }

    pub(crate) fn receiver_count(&self) -> usize {
        self.0
            .sender
            .get()
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Resolves once every subscriber has gone.
    pub(crate) async fn unwatched(&self) {
        self.sender().closed().await;
    }
}

/// A subscription to a registry's events ([`Registry::events`](crate::Registry::events)).
///
/// Events are kept for a subscriber that falls behind, up to the registry's
/// [`event_capacity`](crate::RegistryBuilder::event_capacity); past that the
/// oldest are dropped and the subscriber gets one
/// [`RegistryEvent::Missed`] saying how many. The registry never waits.
pub struct RegistryEvents {
    pub(crate) receiver: broadcast::Receiver<RegistryEvent>,
}

impl fmt::Debug for RegistryEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryEvents")
            .field("pending", &self.receiver.len())
            .finish()
    }
}

impl RegistryEvents {
    /// The next event; `None` once the registry is gone.
    pub async fn next(&mut self) -> Option<RegistryEvent> {
        match self.receiver.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(count)) => {
                Some(RegistryEvent::Missed { count })
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<RegistryEvent> {
        match self.receiver.try_recv() {
            Ok(event) => Some(event),
            Err(broadcast::error::TryRecvError::Lagged(count)) => {
                Some(RegistryEvent::Missed { count })
            }
            Err(_) => None,
        }
    }

    /// The events as a [`Stream`].
    pub fn into_stream(self) -> impl Stream<Item = RegistryEvent> + Send + Unpin + 'static {
        Box::pin(futures_util::stream::unfold(
            self,
            |mut events| async move { events.next().await.map(|event| (event, events)) },
        ))
    }
}
