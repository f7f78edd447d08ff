//! Retrying calls that never reached the plugin, as a tower retry policy.

use std::time::Duration;

use http::Request;
use tokio::time::Instant;
use tower::util::rng::{HasherRng, Rng};

use crate::body::{BoxError, RequestBody};
use crate::error::transport_error;

/// When to retry a call (the settings; [`RetryPolicy`] is the tower policy
/// they make): only when the plugin could not be reached at all (no request
/// byte was sent, so nothing can happen twice), with exponential backoff and
/// jitter, until the retry window would be passed.
///
/// The default fails fast where waiting cannot help and retries briefly where
/// it can:
///
/// | failure | default | why |
/// | --- | --- | --- |
/// | unix socket refused, or gone | no retry: fails in well under a millisecond | nothing listens until the plugin creates its socket again; a host that wants to ride out a restart waits for the socket to reappear (the registry's `get_or_wait`), or turns this on with [`unix_refused_retries`](Self::unix_refused_retries) |
/// | TCP or TLS connect failure | retries after 250 ms, 500 ms and 1 s (±20% jitter), giving up once the time elapsed plus the next delay would pass 2 s | a host that is booting or a port not yet open: worth a short wait an interactive program can live with (about 1.75 s, at most 2.1 s with jitter, plus the connect timeout of each attempt) |
///
/// Docker retries every connection failure for about 15 s (1 s, 2 s, 4 s, 8 s,
/// within 30 s), which stalls a host on every stale socket (moby #22653);
/// [`RetryConfig::docker`] is that schedule, for hosts that want it.
///
/// A client takes them in its [`ClientConfig::retry`](crate::ClientConfig::retry);
/// [`policy`](Self::policy) makes the [`tower::retry::Policy`] for a
/// `tower::retry::RetryLayer` of your own.
///
/// ```
/// use std::time::Duration;
/// use plugin_client::RetryConfig;
///
/// let fast = RetryConfig::default()
///     .initial_backoff(Duration::from_millis(100))
///     .window(Duration::from_secs(2));
/// assert!(RetryConfig::none().is_disabled());
/// assert_eq!(fast.nominal_delays().collect::<Vec<_>>().len(), 4); // 0.1 + 0.2 + 0.4 + 0.8 s
/// assert_eq!(RetryConfig::default().nominal_delays().count(), 3); // 0.25 + 0.5 + 1 s
/// assert_eq!(RetryConfig::docker().nominal_delays().count(), 4); // 1 + 2 + 4 + 8 s
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    enabled: bool,
    initial: Duration,
    window: Option<Duration>,
    jitter: f64,
    unix_refused: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            initial: Duration::from_millis(250),
            window: Some(Duration::from_secs(2)),
            jitter: 0.2,
            unix_refused: false,
        }
    }
}

impl RetryConfig {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Docker's schedule: every connection failure, unix sockets included,
    /// retried after 1 s, 2 s, 4 s, 8 s, ... until the time elapsed plus the
    /// next delay would pass 30 s (about 15 s and 5 attempts), here with ±20%
    /// jitter.
    pub fn docker() -> Self {
        Self {
            enabled: true,
            initial: Duration::from_secs(1),
            window: Some(Duration::from_secs(30)),
            jitter: 0.2,
            unix_refused: true,
        }
    }

    /// Whether a refused (or missing) unix socket is retried too; default
    /// `false`, since nothing listens there until the plugin starts again.
    #[must_use]
    pub fn unix_refused_retries(mut self, retry: bool) -> Self {
        self.unix_refused = retry;
        self
    }

    /// Whether retries are off.
    pub fn is_disabled(&self) -> bool {
        !self.enabled
    }

    /// The first delay (then doubled each time); default 250 ms.
    #[must_use]
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// Give up once the time since the first attempt plus the next delay would
    /// pass this; default 2 s. `None` never gives up for the window's sake:
    /// retries go on (the delay doubling, up to `Duration::MAX`) until the
    /// client's call or activation timeout ends the call.
    #[must_use]
    pub fn window(mut self, window: impl Into<Option<Duration>>) -> Self {
        self.window = window.into();
        self
    }

    /// Spread each delay by up to this fraction either way (0 to 1); default 0.2.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction.clamp(0.0, 1.0);
        self
    }

    /// The delays before each retry, without jitter, as long as the window
    /// allows them (with no window, until the doubling would overflow: 32
    /// delays from 1 s).
    pub fn nominal_delays(&self) -> impl Iterator<Item = Duration> + '_ {
        let mut elapsed = Some(Duration::ZERO);
        (0u32..)
            // Ends where a delay or the sum would overflow, so even no window
            // gives a short, finite list.
            .map_while(|n| {
                2u32.checked_pow(n)
                    .and_then(|f| self.initial.checked_mul(f))
            })
            .take_while(move |delay| {
                elapsed = elapsed.and_then(|e| e.checked_add(*delay));
                self.enabled
                    && elapsed.is_some_and(|e| self.window.is_none_or(|window| e <= window))
            })
    }

    /// The [`tower::retry::Policy`] for one call (its window counts from its
    /// first attempt).
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            config: self.clone(),
            retries: 0,
            started: None,
            rng: HasherRng::default(),
        }
    }

    /// The policy for a call starting now (its window counts from here).
    pub(crate) fn starting_now(&self) -> RetryPolicy {
        let mut retry = self.policy();
        if self.enabled {
            retry.started = Some(Instant::now());
        }
        retry
    }
}

/// The retry policy of one call, made by [`RetryConfig::policy`]: implements
/// [`tower::retry::Policy`], so it also works as a layer of its own
/// (`tower::retry::RetryLayer::new(config.policy())`).
///
/// ```
/// use plugin_client::RetryConfig;
/// use tower::retry::RetryLayer;
///
/// let layer = RetryLayer::new(RetryConfig::default().policy());
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    config: RetryConfig,
    retries: u32,
    started: Option<Instant>,
    rng: HasherRng,
}

impl RetryPolicy {
    fn delay(&mut self) -> Duration {
        let base = self
            .config
            .initial
            .saturating_mul(2u32.saturating_pow(self.retries));
        let spread = (self.rng.next_f64() * 2.0 - 1.0) * self.config.jitter;
        // Saturates: a delay past `Duration::MAX` (from a huge initial backoff)
        // is `Duration::MAX`, never a panic.
        Duration::try_from_secs_f64(base.as_secs_f64() * (1.0 + spread).max(0.0))
            .unwrap_or(Duration::MAX)
    }
}

impl RetryPolicy {
    /// Whether the policy retries at all.
    pub(crate) fn policy_enabled(&self) -> bool {
        self.config.enabled
    }

    /// How long to wait before trying again after `error`, or `None` when it
    /// is not retried: not a connect failure, nothing listening on a unix
    /// socket (unless the policy says so), or the window spent.
    pub(crate) fn after(&mut self, error: &(dyn std::error::Error + 'static)) -> Option<Duration> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let transport = transport_error(error)?;
        if !self.config.enabled || !transport.is_connect() {
            return None;
        }
        if transport.is_nothing_listening() && !self.config.unix_refused {
            tracing::debug!("nothing listens on the plugin's socket: not retried");
            return None;
        }
        let delay = self.delay();
        if self
            .config
            .window
            .is_some_and(|window| started.elapsed().saturating_add(delay) > window)
        {
            tracing::debug!(
                attempts = self.retries + 1,
                "giving up: the retry window is spent"
            );
            return None;
        }
        self.retries += 1;
        let attempt = self.retries + 1;
        tracing::Span::current().record("attempt", attempt);
        tracing::warn!(
            error = %error,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            attempt,
            "plugin unreachable; retrying"
        );
        Some(delay)
    }
}

impl<Res> tower::retry::Policy<Request<RequestBody>, Res, BoxError> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        _request: &mut Request<RequestBody>,
        result: &mut Result<Res, BoxError>,
    ) -> Option<Self::Future> {
        let Err(error) = result else { return None };
        self.after(error.as_ref()).map(tokio::time::sleep)
    }

    fn clone_request(&mut self, request: &Request<RequestBody>) -> Option<Request<RequestBody>> {
        self.started.get_or_insert_with(Instant::now);
        if !self.config.enabled {
            return None;
        }
        let body = request.body().try_clone()?;
        let mut copy = Request::new(body);
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        *copy.headers_mut() = request.headers().clone();
        if let Some(limit) = request
            .extensions()
            .get::<plugin_transport::ResponseBodyLimit>()
        {
            copy.extensions_mut().insert(*limit);
        }
        Some(copy)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn duration_max_saturates_instead_of_panicking() {
        let huge = RetryConfig::default().initial_backoff(Duration::MAX);
        let mut retry = huge.policy();
        for retries in [0, 1, 40, u32::MAX] {
            retry.retries = retries;
            // Jitter takes up to 20% off; nothing overflows.
            assert!(retry.delay() >= Duration::MAX.mul_f64(0.79));
        }
        assert_eq!(
            huge.nominal_delays().count(),
            0,
            "the first delay is past the window"
        );

        let endless = RetryConfig::docker().window(None);
        let delays: Vec<Duration> = endless.nominal_delays().collect();
        // 1 s, 2 s, 4 s, ... while the doubling factor fits.
        assert_eq!(delays.len(), 32);
        assert_eq!(delays[0], Duration::from_secs(1));
        assert_eq!(delays[31], Duration::from_secs(1 << 31));
    }
}
