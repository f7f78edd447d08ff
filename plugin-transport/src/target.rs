//! Who a transport talks to: the plugin's name and its address.

use std::fmt;
use std::sync::Arc;

use plugin_spec::{Address, PluginName};

/// The plugin a [`Transport`](crate::Transport) sends to; errors carry it so
/// that every message names the plugin and where it was reached. Cheap to
/// clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target(Arc<Inner>);

#[derive(Debug, PartialEq, Eq, Hash)]
struct Inner {
    name: PluginName,
    address: Address,
}

impl Target {
    pub(crate) fn new(name: PluginName, address: Address) -> Self {
        Self(Arc::new(Inner { name, address }))
    }

    /// The plugin's name.
    pub fn name(&self) -> &PluginName {
        &self.0.name
    }

    /// The plugin's address.
    pub fn address(&self) -> &Address {
        &self.0.address
    }
}

/// `plugin "name" at unix:///path.sock`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {:?} at {}", self.0.name.as_str(), self.0.address)
    }
}
