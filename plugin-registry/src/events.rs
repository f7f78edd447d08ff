//! Registry events: what happens to plugins, for whoever subscribes.

use std::error::Error as _;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::FutureExt;
use plugin_client::Manifest;
use plugin_spec::{PluginName, PluginSpec};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

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

/// One line, as `pluginctl watch --activate` prints it: the kind padded to 17
/// characters (`health` for [`HealthChanged`](Self::HealthChanged)), the
/// plugin (`-` for none), then what tells the event apart: the address, the
/// generation and the subsystems, the error and its causes joined by `: `,
/// the stale reason, the health, or how many events were missed.
///
/// ```
/// use plugin_registry::{Health, RegistryEvent};
///
/// let event = RegistryEvent::HealthChanged { name: "sshfs".parse()?, health: Health::Unhealthy };
/// assert_eq!(event.to_string(), "health            sshfs  unhealthy");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl fmt::Display for RegistryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::HealthChanged { .. } => "health",
            other => other.kind(),
        };
        let name = self.name().map_or("-", PluginName::as_str);
        write!(f, "{kind:<17} {name}")?;
        match self {
            Self::Discovered { spec } => write!(f, "  {}", spec.address()),
            Self::Activated {
                manifest,
                generation,
                ..
            }
            | Self::Reactivated {
                manifest,
                generation,
                ..
            } => write!(
                f,
                "  #{generation} implements {}",
                crate::error::list(manifest.implements())
            ),
            Self::ActivationFailed { error, .. } => {
                // An event is not an error: its line tells the whole chain.
                write!(f, "  {error}")?;
                let mut cause = error.source();
                while let Some(current) = cause {
                    write!(f, ": {current}")?;
                    cause = current.source();
                }
                Ok(())
            }
            Self::Stale { reason, .. } => write!(f, "  {reason}"),
            Self::HealthChanged { health, .. } => write!(f, "  {health}"),
            Self::Missed { count } => write!(f, "  {count} events (this watch fell behind)"),
            Self::Removed { .. } => Ok(()),
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

/// A subscription to a registry's events ([`Registry::events`](crate::Registry::events)):
/// a [`Stream`] of [`RegistryEvent`]s, as discovery's `Watch` is of its
/// events, with [`next_event`](Self::next_event) for a loop without
/// `StreamExt`.
///
/// Events are kept for a subscriber that falls behind, up to the registry's
/// [`event_capacity`](crate::RegistryBuilder::event_capacity); past that the
/// oldest are dropped and the subscriber gets one
/// [`RegistryEvent::Missed`] saying how many. The registry never waits.
pub struct RegistryEvents {
    /// The receiver, while no receive is under way.
    receiver: Option<broadcast::Receiver<RegistryEvent>>,
    /// A receive under way, which gives the receiver back when it ends.
    receiving: Option<Receiving>,
}

/// One receive, owning the receiver meanwhile (broadcast's `recv` borrows
/// it, and a `Stream` cannot lend).
type Receiving = Pin<
    Box<
        dyn Future<
                Output = (
                    Result<RegistryEvent, RecvError>,
                    broadcast::Receiver<RegistryEvent>,
                ),
            > + Send
            + Sync,
    >,
>;

impl fmt::Debug for RegistryEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("RegistryEvents");
        if let Some(receiver) = &self.receiver {
            debug.field("pending", &receiver.len());
        }
        debug.field("receiving", &self.receiving.is_some()).finish()
    }
}

impl RegistryEvents {
    pub(crate) fn new(receiver: broadcast::Receiver<RegistryEvent>) -> Self {
        Self {
            receiver: Some(receiver),
            receiving: None,
        }
    }

    /// The next event; `None` once the registry is gone.
    pub async fn next_event(&mut self) -> Option<RegistryEvent> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<RegistryEvent> {
        self.next_event().now_or_never().flatten()
    }
}

impl Stream for RegistryEvents {
    type Item = RegistryEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RegistryEvent>> {
        let this = self.get_mut();
        let mut receiving = match (this.receiving.take(), this.receiver.take()) {
            (Some(receiving), _) => receiving,
            (None, Some(mut receiver)) => Box::pin(async move {
                let result = receiver.recv().await;
                (result, receiver)
            }),
            // Not reached: one of the two is always there.
            (None, None) => return Poll::Ready(None),
        };
        match receiving.as_mut().poll(cx) {
            Poll::Pending => {
                this.receiving = Some(receiving);
                Poll::Pending
            }
            Poll::Ready((result, receiver)) => {
                this.receiver = Some(receiver);
                Poll::Ready(match result {
                    Ok(event) => Some(event),
                    Err(RecvError::Lagged(count)) => Some(RegistryEvent::Missed { count }),
                    Err(RecvError::Closed) => None,
                })
            }
        }
    }
}
