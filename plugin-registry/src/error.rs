//! The one error type of this crate.

use std::sync::Arc;
use std::time::Duration;

use plugin_client::ClientError;
use plugin_discovery::DiscoveryError;
use plugin_spec::PluginName;
use plugin_transport::TransportError;

/// Why a plugin could not be had. Cheap to clone: every caller waiting on one
/// activation gets the same error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No plugin of that name is in any plugin directory (answered at once:
    /// use [`get_or_wait`](crate::Registry::get_or_wait) to wait for one).
    #[error("{source}")]
    NotFound {
        /// The plugin asked for.
        name: PluginName,
        /// What discovery says (the directories searched).
        source: Arc<DiscoveryError>,
    },

    /// The plugin's descriptor cannot be read or parsed.
    #[error("{source}")]
    Descriptor {
        /// The plugin.
        name: PluginName,
        /// What is wrong with its descriptor.
        source: Arc<DiscoveryError>,
    },

    /// The plugin's transport could not be set up (its TLS files, say).
    #[error("plugin {:?}: {source}", name.as_str())]
    Setup {
        /// The plugin.
        name: PluginName,
        /// The transport's error.
        source: Arc<TransportError>,
    },

    /// The plugin could not be activated (`Plugin.Activate` failed).
    #[error("activating plugin {:?} failed: {source}", name.as_str())]
    Activation {
        /// The plugin.
        name: PluginName,
        /// The client's error.
        source: Arc<ClientError>,
    },

    /// The plugin is there but does not implement the subsystem asked for.
    #[error("plugin {:?} does not implement {iface} (it implements: {})", name.as_str(), list(implements))]
    DoesNotImplement {
        /// The plugin.
        name: PluginName,
        /// The subsystem asked for.
        iface: String,
        /// What it implements.
        implements: Vec<String>,
    },

    /// [`get_or_wait`](crate::Registry::get_or_wait) gave up.
    #[error("plugin {:?} did not appear within {after:?}", name.as_str())]
    WaitTimeout {
        /// The plugin.
        name: PluginName,
        /// How long it waited.
        after: Duration,
    },

    /// Waiting needs a watch of the plugin directories, and it could not start.
    #[error("cannot wait for plugin {:?}: {source}", name.as_str())]
    Watch {
        /// The plugin.
        name: PluginName,
        /// The discovery error.
        source: Arc<DiscoveryError>,
    },

    /// The activation was abandoned (its task ended without an answer).
    #[error("activating plugin {:?} was interrupted; try again", name.as_str())]
    Interrupted {
        /// The plugin.
        name: PluginName,
    },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
}

impl RegistryError {
    /// The plugin the error is about.
    pub fn name(&self) -> &PluginName {
        match self {
            Self::NotFound { name, .. }
            | Self::Descriptor { name, .. }
            | Self::Setup { name, .. }
            | Self::Activation { name, .. }
            | Self::DoesNotImplement { name, .. }
            | Self::WaitTimeout { name, .. }
            | Self::Watch { name, .. }
            | Self::Interrupted { name } => name,
        }
    }

    /// No such plugin.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// The plugin exists but does not implement the subsystem.
    pub fn is_does_not_implement(&self) -> bool {
        matches!(self, Self::DoesNotImplement { .. })
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
