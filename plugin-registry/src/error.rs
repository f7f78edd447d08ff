//! The one error type of this crate.

use std::sync::Arc;
use std::time::Duration;

use plugin_client::ClientError;
use plugin_discovery::DiscoveryError;
use plugin_spec::{PluginName, SpecError};
use plugin_transport::TransportError;

/// Why a plugin could not be had. Cheap to clone: every caller waiting on one
/// activation gets the same error.
///
/// `Display` is this layer's own sentence and the cause is the
/// [`source`](std::error::Error::source) only, so a chain reporter prints each
/// cause once. Where the registry adds nothing to discovery's or the
/// transport's sentence ([`NotFound`](Self::NotFound),
/// [`Descriptor`](Self::Descriptor), [`Setup`](Self::Setup)), the error is
/// transparent: it reads as that sentence, and its source is that error's.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RegistryError {
    /// The name given is not a plugin name (`"../etc"`); nothing was looked
    /// up.
    InvalidName {
        /// Which rule it broke.
        source: Arc<SpecError>,
    },

    /// No plugin of that name is in any plugin directory (answered at once:
    /// use [`get_or_wait`](crate::Registry::get_or_wait) to wait for one).
    NotFound {
        /// The plugin asked for.
        name: PluginName,
        /// What discovery says (the directories searched).
        source: Arc<DiscoveryError>,
    },

    /// The plugin's descriptor cannot be read or parsed.
    Descriptor {
        /// The plugin.
        name: PluginName,
        /// What is wrong with its descriptor.
        source: Arc<DiscoveryError>,
    },

    /// The plugin's transport could not be set up (its TLS files, say).
    Setup {
        /// The plugin.
        name: PluginName,
        /// The transport's error.
        source: Arc<TransportError>,
    },

    /// The plugin could not be activated (`Plugin.Activate` failed).
    Activation {
        /// The plugin.
        name: PluginName,
        /// The client's error.
        source: Arc<ClientError>,
    },

    /// The plugin is there but its manifest does not list the subsystem
    /// asked for ([`is_subsystem_missing`](Self::is_subsystem_missing)).
    SubsystemMissing {
        /// The plugin.
        name: PluginName,
        /// The subsystem asked for.
        iface: String,
        /// What it implements.
        implements: Vec<String>,
    },

    /// [`get_or_wait`](crate::Registry::get_or_wait) gave up.
    WaitTimeout {
        /// The plugin.
        name: PluginName,
        /// How long it waited.
        after: Duration,
    },

    /// Waiting needs a watch of the plugin directories, and it could not start.
    Watch {
        /// The plugin.
        name: PluginName,
        /// The discovery error.
        source: Arc<DiscoveryError>,
    },

    /// [`events`](crate::Registry::events) needs a watch of the plugin
    /// directories, and it could not start.
    EventWatch {
        /// The discovery error.
        source: Arc<DiscoveryError>,
    },

    /// The activation was abandoned (its task ended without an answer).
    Interrupted {
        /// The plugin.
        name: PluginName,
    },
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidName { source } => source.fmt(f),
            Self::NotFound { source, .. } | Self::Descriptor { source, .. } => source.fmt(f),
            Self::Setup { source, .. } => source.fmt(f),
            Self::Activation { name, .. } => {
                write!(f, "activating plugin {:?} failed", name.as_str())
            }
            Self::SubsystemMissing {
                name,
                iface,
                implements,
            } => write!(
                f,
                "plugin {:?} does not implement {iface} (it implements: {})",
                name.as_str(),
                list(implements)
            ),
            Self::WaitTimeout { name, after } => {
                write!(
                    f,
                    "plugin {:?} did not appear within {after:?}",
                    name.as_str()
                )
            }
            Self::Watch { name, .. } => write!(f, "cannot wait for plugin {:?}", name.as_str()),
            Self::EventWatch { .. } => {
                f.write_str("cannot watch the plugin directories for events")
            }
            Self::Interrupted { name } => write!(
                f,
                "activating plugin {:?} was interrupted; try again",
                name.as_str()
            ),
        }
    }
}

impl std::error::Error for RegistryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent: the wrapped error's own cause.
            Self::InvalidName { source } => source.source(),
            Self::NotFound { source, .. } | Self::Descriptor { source, .. } => source.source(),
            Self::Setup { source, .. } => source.source(),
            Self::Activation { source, .. } => Some(source.as_ref()),
            Self::Watch { source, .. } | Self::EventWatch { source } => Some(source.as_ref()),
            Self::SubsystemMissing { .. } | Self::WaitTimeout { .. } | Self::Interrupted { .. } => {
                None
            }
        }
    }
}

pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
}

impl RegistryError {
    /// The plugin the error is about (`None` for a name that is not valid).
    pub fn name(&self) -> Option<&PluginName> {
        match self {
            Self::InvalidName { .. } | Self::EventWatch { .. } => None,
            Self::NotFound { name, .. }
            | Self::Descriptor { name, .. }
            | Self::Setup { name, .. }
            | Self::Activation { name, .. }
            | Self::SubsystemMissing { name, .. }
            | Self::WaitTimeout { name, .. }
            | Self::Watch { name, .. }
            | Self::Interrupted { name } => Some(name),
        }
    }

    /// No such plugin.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// The plugin exists but its manifest does not list the subsystem asked
    /// for (nothing was called but `Plugin.Activate`). Not to be confused
    /// with [`ClientError::is_not_implemented`]: that is a plugin answering
    /// 404 to a method it was called with.
    pub fn is_subsystem_missing(&self) -> bool {
        matches!(self, Self::SubsystemMissing { .. })
    }

    /// The plugin could not be reached (nothing listens on its address).
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Activation { source, .. } if source.is_connect())
    }

    /// Nothing listens on the plugin's unix socket (a plugin that stopped or
    /// is restarting): [`get_or_wait`](crate::Registry::get_or_wait) waits for
    /// its socket to be made again.
    pub fn is_nothing_listening(&self) -> bool {
        matches!(self, Self::Activation { source, .. } if source.is_nothing_listening())
    }

    /// Activation (or waiting) timed out.
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Activation { source, .. } => source.is_timeout(),
            Self::WaitTimeout { .. } => true,
            _ => false,
        }
    }
}
