//! The one error type of this crate.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::target::Target;

/// A boxed error kept as a source (tower's), so no dependency's type leaks into ours.
pub(crate) use tower::BoxError;

/// Why a request to a plugin failed. Each variant names the plugin and its
/// address; the underlying error is kept as the
/// [`source`](std::error::Error::source), and only there: `Display` is this
/// layer's own sentence, so a chain reporter (anyhow's `{:#}`, a `source()`
/// loop) prints each cause once.
///
/// Branch with the predicates: [`is_connect`](Self::is_connect) (no request
/// byte was sent, so a retry is safe), [`is_timeout`](Self::is_timeout),
/// [`is_tls`](Self::is_tls), [`is_body_too_large`](Self::is_body_too_large).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The connection could not be made (refused, no such socket, unreachable).
    #[error("cannot connect to {target}")]
    Connect {
        /// The plugin.
        target: Target,
        /// The I/O error.
        source: io::Error,
    },

    /// The custom connector the transport was built with
    /// ([`Transport::with_connector`](crate::Transport::with_connector))
    /// could not open a connection; its error is the source, as it returned
    /// it.
    #[error("cannot connect to {target}: its connector failed")]
    Connector {
        /// The plugin.
        target: Target,
        /// The connector's error.
        source: BoxError,
    },

    /// Connecting (TCP connect and TLS handshake, or the custom connector)
    /// took longer than the timeout.
    #[error("connecting to {target} timed out after {after:?}")]
    ConnectTimeout {
        /// The plugin.
        target: Target,
        /// The connect timeout.
        after: Duration,
    },

    /// The TLS handshake failed: an untrusted or expired certificate, a name
    /// mismatch, a client certificate the plugin refused.
    #[error("TLS handshake with {target} failed: {reason}")]
    TlsHandshake {
        /// The plugin.
        target: Target,
        /// What was wrong and what to do, in words ("the plugin's certificate
        /// has expired ...; renew it").
        reason: String,
        /// The handshake error (a rustls error inside an I/O error).
        source: io::Error,
    },

    /// A TLS file named by the descriptor could not be used.
    #[error("{target}: cannot use TLSConfig.{field} {}: {reason}", file.display())]
    TlsFile {
        /// The plugin.
        target: Target,
        /// The descriptor field: `CAFile`, `CertFile` or `KeyFile`.
        field: &'static str,
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The underlying error, if any.
        source: Option<BoxError>,
    },

    /// TLS could not be set up for the plugin's address.
    #[error("{target}: cannot set up TLS: {reason}")]
    TlsSetup {
        /// The plugin.
        target: Target,
        /// What went wrong.
        reason: String,
        /// The underlying error, if any.
        source: Option<BoxError>,
    },

    /// The address is `https://` but this build has no TLS (feature `tls` off,
    /// as it is by default).
    #[error(
        "{target}: an https:// plugin needs TLS, which this build leaves out: turn on the `tls` feature of the plugin crate you depend on (plugin-registry, plugin-client, plugin-subsystems or plugin-transport)"
    )]
    TlsUnavailable {
        /// The plugin.
        target: Target,
    },

    /// The request failed after it may have reached the plugin (the connection
    /// closed or broke before a complete response). Not safe to retry blindly.
    #[error("request to {target} failed: {what}")]
    Request {
        /// The plugin.
        target: Target,
        /// What happened, in words (the connection closed before the answer,
        /// the answer was not HTTP, ...).
        what: String,
        /// The HTTP error.
        source: BoxError,
    },

    /// No response headers arrived within the response timeout.
    #[error("{target} did not answer within {after:?}")]
    ResponseTimeout {
        /// The plugin.
        target: Target,
        /// The response timeout.
        after: Duration,
    },

    /// The response body is larger than the limit; reading stopped there.
    #[error(
        "{target} sent a response body over the {limit}-byte limit; raise TransportConfig::with_max_response_body if this is expected"
    )]
    BodyTooLarge {
        /// The plugin.
        target: Target,
        /// The limit, in bytes.
        limit: u64,
    },

    /// Reading the response body failed (the plugin closed the connection
    /// mid-body, say).
    #[error("reading the response from {target} failed after {received} bytes: {what}")]
    Body {
        /// The plugin.
        target: Target,
        /// How many bytes of the body had arrived.
        received: u64,
        /// What happened, in words.
        what: String,
        /// The HTTP error.
        source: BoxError,
    },

    /// The request could not be sent as given (its body failed, or its path is
    /// not a valid request target).
    #[error("invalid request to {target}: {reason}")]
    InvalidRequest {
        /// The plugin.
        target: Target,
        /// What is wrong.
        reason: String,
    },
}

impl TransportError {
    /// The plugin the request was for.
    pub fn target(&self) -> &Target {
        match self {
            Self::Connect { target, .. }
            | Self::Connector { target, .. }
            | Self::ConnectTimeout { target, .. }
            | Self::TlsHandshake { target, .. }
            | Self::TlsFile { target, .. }
            | Self::TlsSetup { target, .. }
            | Self::TlsUnavailable { target }
            | Self::Request { target, .. }
            | Self::ResponseTimeout { target, .. }
            | Self::BodyTooLarge { target, .. }
            | Self::Body { target, .. }
            | Self::InvalidRequest { target, .. } => target,
        }
    }

    /// No byte of the request reached the plugin: the connection (or its TLS
    /// handshake, or a custom connector) failed. Retrying cannot repeat a
    /// side effect.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. }
                | Self::Connector { .. }
                | Self::ConnectTimeout { .. }
                | Self::TlsHandshake { .. }
        )
    }

    /// Nothing listens on the plugin's unix socket: connecting was refused, or
    /// the socket file is gone. Unlike a TCP refusal (a host that may still be
    /// booting), this is final until the plugin creates its socket again, so
    /// the client's default retry policy does not wait for it.
    pub fn is_nothing_listening(&self) -> bool {
        match self {
            Self::Connect { target, source } => {
                matches!(target.address(), plugin_spec::Address::Unix(_))
                    && matches!(
                        source.kind(),
                        io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound
                    )
            }
            _ => false,
        }
    }

    /// The connection to the plugin failed or broke: it could not be made, or
    /// it closed or reset before a complete answer. (A host treats the plugin
    /// as possibly restarted.)
    pub fn is_connection_failure(&self) -> bool {
        self.is_connect() || matches!(self, Self::Request { .. } | Self::Body { .. })
    }

    /// A connect or response timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Self::ConnectTimeout { .. } | Self::ResponseTimeout { .. }
        )
    }

    /// A TLS problem: the handshake, a TLS file, or TLS setup.
    pub fn is_tls(&self) -> bool {
        matches!(
            self,
            Self::TlsHandshake { .. }
                | Self::TlsFile { .. }
                | Self::TlsSetup { .. }
                | Self::TlsUnavailable { .. }
        )
    }

    /// The response body was over the limit.
    pub fn is_body_too_large(&self) -> bool {
        matches!(self, Self::BodyTooLarge { .. })
    }
}
