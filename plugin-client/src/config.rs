//! `ClientConfig`: timeouts, retries, and the error field a 200 may carry.

use std::time::Duration;

use crate::decode::ErrorField;
use crate::retry::RetryConfig;

/// How a [`Client`](crate::Client) calls.
///
/// | setting | default | why |
/// | --- | --- | --- |
/// | activation timeout | 20 s | longer than any retry schedule here (even [`RetryConfig::docker`]'s 15 s), so a plugin still starting gets its retries; Docker has none, and a hung plugin hangs it |
/// | call timeout | 60 s | Docker's per-attempt timeout for most volume calls; for some calls only, configure a clone of the client ([`Client::with_config`](crate::Client::with_config)) |
/// | retries | [`RetryConfig::default`] | connection failures only: none for a refused or missing unix socket (nothing listens; fails at once), 250 ms, 500 ms, 1 s within 2 s for TCP and TLS |
/// | error body read | 64 KiB | enough for any message; a huge error body is cut there |
/// | error field | none | set it (`Err`, or `Error` for IPAM) for a subsystem whose 200 answers report failures in a field, as Docker's typed layer reads them; plugin-subsystems' clients set it |
///
/// How bytes move (connect timeout, body limit, pool) is the transport's:
/// [`Client::for_spec`](crate::Client::for_spec) uses the default
/// [`TransportConfig`](crate::TransportConfig); for others, build
/// the [`Transport`](crate::Transport) and use
/// [`Client::new`](crate::Client::new).
///
/// The timeouts cover the whole call: connecting, retries, and reading the
/// answer. For [`stream`](crate::Client::stream) they end when the answer
/// starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    pub(crate) activation_timeout: Option<Duration>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) retry: RetryConfig,
    pub(crate) max_error_body: usize,
    pub(crate) error_field: Option<ErrorField>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            activation_timeout: Some(Duration::from_secs(20)),
            call_timeout: Some(Duration::from_secs(60)),
            retry: RetryConfig::default(),
            max_error_body: 64 * 1024,
            error_field: None,
        }
    }
}

impl ClientConfig {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// The activation timeout (a `Duration`, or an `Option` of one); `None`
    /// means never: the activation waits as long as the plugin takes
    /// (Docker's behaviour).
    #[must_use]
    pub fn activation_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.activation_timeout = timeout.into();
        self
    }

    /// The call timeout (a `Duration`, or an `Option` of one); `None` means
    /// never: a call waits as long as the plugin takes.
    #[must_use]
    pub fn call_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.call_timeout = timeout.into();
        self
    }

    /// How calls that never reached the plugin are retried
    /// ([`RetryConfig::none`] turns retries off).
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// How much of an error answer is read, in bytes.
    #[must_use]
    pub fn max_error_body(mut self, bytes: usize) -> Self {
        self.max_error_body = bytes;
        self
    }

    /// The field in which a 200 answer reports a failure (`Err`; `Error` for
    /// IPAM): with it, a 200 whose field is a non-empty string is
    /// [`ClientError::Reported`](crate::ClientError::Reported), as Docker's
    /// typed layer treats it. `None` (the default) decodes every 200.
    #[must_use]
    pub fn error_field(mut self, field: Option<ErrorField>) -> Self {
        self.error_field = field;
        self
    }
}
