//! The shape every typed client shares: a wrapper over a `Client<S>` that
//! checks its subsystem's error field. Each client's calls are a plain
//! `impl<S: ClientService>` block beside it.

/// Defines a typed client: the struct, `new`, `client` and `From<Client>`
/// (what a registry plugin's `typed()` calls), with `field` the error field
/// its 200 answers are checked for.
macro_rules! typed_client {
    ($(#[$meta:meta])* $name:ident($field:expr)) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name<S = plugin_client::Transport> {
            client: plugin_client::Client<S>,
        }

        impl<S> $name<S> {
            /// Typed calls over `client` (which is set to check this
            /// subsystem's error field in 200 answers, as Docker does).
            pub fn new(client: plugin_client::Client<S>) -> Self {
                let config = client.config().clone().error_field($field);
                Self { client: client.with_config(config) }
            }

            /// The client underneath.
            pub fn client(&self) -> &plugin_client::Client<S> {
                &self.client
            }
        }

        /// Typed calls over `client` (so a registry `Plugin` gives one with
        /// `plugin.typed()`).
        impl<S> From<plugin_client::Client<S>> for $name<S> {
            fn from(client: plugin_client::Client<S>) -> Self {
                Self::new(client)
            }
        }
    };
}

pub(crate) use typed_client;
