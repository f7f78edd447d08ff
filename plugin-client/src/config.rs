//! `ClientConfig`: timeouts, retries and the transport settings.

use std::time::Duration;

use plugin_transport::TransportConfig;

use crate::retry::RetryPolicy;

/// How a [`Client`](crate::Client) calls.
///
/// | setting | default | why |
/// | --- | --- | --- |
/// | activation timeout | 20 s | longer than any retry schedule here (even [`RetryPolicy::docker`]'s 15 s), so a plugin still starting gets its retries; Docker has none, and a hung plugin hangs it |
/// | call timeout | 60 s | Docker's per-attempt timeout for most volume calls; set per call with [`Client::with_timeout`](crate::Client::with_timeout) |
/// | retries | [`RetryPolicy::default`] | connection failures only: none for a refused or missing unix socket (nothing listens; fails at once), 250 ms, 500 ms, 1 s within 2 s for TCP and TLS |
/// | error body read | 64 KiB | enough for any message; a huge error body is cut there |
///
/// The timeouts cover the whole call: connecting, retries, and reading the
/// answer. For [`stream`](crate::Client::stream) they end when the answer
/// starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    pub(crate) activation_timeout: Option<Duration>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_error_body: usize,
    pub(crate) transport: TransportConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            activation_timeout: Some(Duration::from_secs(20)),
            call_timeout: Some(Duration::from_secs(60)),
            retry: RetryPolicy::default(),
            max_error_body: 64 * 1024,
            transport: TransportConfig::default(),
        }
    }
}

impl ClientConfig {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// The activation timeout; `None` waits forever (Docker's behaviour).
    #[must_use]
    pub fn with_activation_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.activation_timeout = timeout;
        self
    }

    /// The call timeout; `None` waits forever.
    #[must_use]
    pub fn with_call_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The retry policy ([`RetryPolicy::none`] turns retries off).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How much of an error answer is read, in bytes.
    #[must_use]
    pub fn with_max_error_body(mut self, bytes: usize) -> Self {
        self.max_error_body = bytes;
        self
    }

    /// The transport settings used by [`Client::for_spec`](crate::Client::for_spec).
    #[must_use]
    pub fn with_transport(mut self, transport: TransportConfig) -> Self {
        self.transport = transport;
        self
    }

    /// The activation timeout.
    pub fn activation_timeout(&self) -> Option<Duration> {
        self.activation_timeout
    }

    /// The call timeout.
    pub fn call_timeout(&self) -> Option<Duration> {
        self.call_timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The transport settings.
    pub fn transport(&self) -> &TransportConfig {
        &self.transport
    }
}
