//! The one error type of this crate.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use plugin_spec::PluginName;
use plugin_transport::TransportError;

use crate::body::BoxError;

/// Why a call to a plugin failed. Every variant names the plugin and the
/// method; messages start `<Method>`, as Docker's do. `Display` is this
/// layer's own sentence; the cause (the transport's error, a JSON error) is
/// the [`source`](std::error::Error::source) only, so a chain reporter prints
/// each cause once.
///
/// Branch with the predicates: [`is_plugin_error`](Self::is_plugin_error)
/// (the plugin answered, with an error), [`is_not_implemented`](Self::is_not_implemented)
/// (404), [`is_connect`](Self::is_connect) (it could not be reached; nothing
/// was sent), [`is_timeout`](Self::is_timeout).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The plugin answered with a status other than 200. The message is its
    /// `Err` field when the body is JSON with one, else the body's text.
    #[error("{method}: {} (plugin {:?}, HTTP {})", Message(message), plugin.as_str(), status.as_u16())]
    Status {
        /// The plugin.
        plugin: PluginName,
        /// The method called.
        method: String,
        /// The status.
        status: StatusCode,
        /// The plugin's message (bounded; lossy UTF-8 when not JSON).
        message: String,
    },

    /// The plugin answered 200 with a non-empty error field (`Err`, or `Error`
    /// for IPAM): Docker treats that as a failure.
    #[error("{method}: {message} (plugin {:?})", plugin.as_str())]
    Reported {
        /// The plugin.
        plugin: PluginName,
        /// The method called.
        method: String,
        /// The error field's text.
        message: String,
    },

    /// The call did not complete: no connection, a broken connection, TLS, an
    /// oversized answer. The transport's error is the source.
    #[error("{method}: calling plugin {:?} failed", plugin.as_str())]
    Transport {
        /// The plugin.
        plugin: PluginName,
        /// The method called.
        method: String,
        /// What went wrong underneath (a [`TransportError`] with the default
        /// transport).
        source: BoxError,
    },

    /// No complete answer in time: within the client's own timeout
    /// ([`ClientConfig`](crate::ClientConfig)'s activation or call timeout,
    /// `after`), or before a tower timeout layer (`tower::timeout`) in the
    /// service's stack gave up (`after` is `None`, and tower's `Elapsed` is
    /// the source).
    #[error("{method}: {}", TimedOut(plugin, *after))]
    Timeout {
        /// The plugin.
        plugin: PluginName,
        /// The method called.
        method: String,
        /// The client's timeout; `None` when a timeout layer in the stack
        /// gave up (its own duration is not known here).
        after: Option<Duration>,
        /// The timeout layer's error (`tower::timeout::error::Elapsed`);
        /// `None` for the client's own timeout.
        source: Option<BoxError>,
    },

    /// The answer is not what the method returns.
    #[error("{method}: plugin {:?} answered something that is not the expected JSON (answer: {excerpt:?})", plugin.as_str())]
    Decode {
        /// The plugin.
        plugin: PluginName,
        /// The method called.
        method: String,
        /// The start of the answer.
        excerpt: String,
        /// Why it does not decode.
        source: plugin_spec::wire::BodyError,
    },

    /// The request could not be encoded as JSON.
    #[error("{method}: the request cannot be encoded as JSON")]
    Encode {
        /// The plugin.
        plugin: PluginName,
        /// The method called.
        method: String,
        /// The encoding error.
        source: serde_json::Error,
    },

    /// The method name cannot be sent as a request path.
    #[error("{method:?} is not a valid method name for a request path: {reason}")]
    InvalidMethod {
        /// The plugin.
        plugin: PluginName,
        /// The method given.
        method: String,
        /// Why.
        reason: String,
    },
}

/// The sentence of a [`ClientError::Timeout`], after the method.
struct TimedOut<'a>(&'a PluginName, Option<Duration>);

impl fmt::Display for TimedOut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(after) => write!(
                f,
                "no answer from plugin {:?} within {after:?}",
                self.0.as_str()
            ),
            None => write!(
                f,
                "calling plugin {:?} timed out (a timeout layer in its stack gave up)",
                self.0.as_str()
            ),
        }
    }
}

/// `(empty answer)` for an empty message.
struct Message<'a>(&'a str);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(empty answer)")
        } else {
            f.write_str(self.0)
        }
    }
}

impl ClientError {
    /// The error for a failure of the service under a client, or of an
    /// answer's body: a [`Timeout`](Self::Timeout) when a tower timeout layer
    /// in the stack gave up, else [`Transport`](Self::Transport).
    pub(crate) fn from_service(plugin: &PluginName, method: &str, source: BoxError) -> Self {
        if is_elapsed(source.as_ref()) {
            return Self::Timeout {
                plugin: plugin.clone(),
                method: method.to_owned(),
                after: None,
                source: Some(source),
            };
        }
        Self::Transport {
            plugin: plugin.clone(),
            method: method.to_owned(),
            source,
        }
    }

    /// The plugin called.
    pub fn plugin(&self) -> &PluginName {
        match self {
            Self::Status { plugin, .. }
            | Self::Reported { plugin, .. }
            | Self::Transport { plugin, .. }
            | Self::Timeout { plugin, .. }
            | Self::Decode { plugin, .. }
            | Self::Encode { plugin, .. }
            | Self::InvalidMethod { plugin, .. } => plugin,
        }
    }

    /// The method called.
    pub fn method(&self) -> &str {
        match self {
            Self::Status { method, .. }
            | Self::Reported { method, .. }
            | Self::Transport { method, .. }
            | Self::Timeout { method, .. }
            | Self::Decode { method, .. }
            | Self::Encode { method, .. }
            | Self::InvalidMethod { method, .. } => method,
        }
    }

    /// The HTTP status the plugin answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::Reported { .. } | Self::Decode { .. } => Some(StatusCode::OK),
            _ => None,
        }
    }

    /// The plugin's own error message, if it sent one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Status { message, .. } | Self::Reported { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The plugin answered, with an error (a non-200 status, or a 200 with an
    /// error field).
    pub fn is_plugin_error(&self) -> bool {
        matches!(self, Self::Status { .. } | Self::Reported { .. })
    }

    /// The plugin answered 404: by convention, it does not implement the method.
    pub fn is_not_implemented(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }

    /// The plugin could not be reached, and no byte of the request was sent.
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Transport { source, .. } if transport_error(source.as_ref()).is_some_and(TransportError::is_connect))
    }

    /// Nothing listens on the plugin's unix socket (refused, or the file is
    /// gone): see `TransportError::is_nothing_listening`.
    pub fn is_nothing_listening(&self) -> bool {
        matches!(self, Self::Transport { source, .. } if transport_error(source.as_ref()).is_some_and(TransportError::is_nothing_listening))
    }

    /// The call timed out: the client's activation or call timeout, a tower
    /// timeout layer in the service's stack, or a transport timeout
    /// (connecting, or waiting for the answer's headers).
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Transport { source, .. } => {
                transport_error(source.as_ref()).is_some_and(TransportError::is_timeout)
            }
            _ => false,
        }
    }
}

/// Whether a tower timeout layer (`tower::timeout::error::Elapsed`) is in an
/// error's source chain.
pub(crate) fn is_elapsed(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(err) = current {
        if err.is::<tower::timeout::error::Elapsed>() {
            return true;
        }
        current = err.source();
    }
    false
}

/// The [`TransportError`] in an error's source chain, if any.
pub(crate) fn transport_error<'a>(
    error: &'a (dyn StdError + 'static),
) -> Option<&'a TransportError> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(transport) = err.downcast_ref::<TransportError>() {
            return Some(transport);
        }
        current = err.source();
    }
    None
}
