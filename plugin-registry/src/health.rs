//! Health probes, opt-in: each active plugin activated again on an interval,
//! on a new connection, under a short deadline.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// A plugin's health, as its probes tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Health {
    /// The registry does not probe it (probes are off, the default).
    Unprobed,
    /// Its last probe succeeded, or fewer probes than the limit failed in a
    /// row.
    Healthy,
    /// Its last [`failures`](HealthProbe::failures) probes in a row failed.
    Unhealthy,
}

impl Health {
    /// `unprobed`, `healthy` or `unhealthy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unprobed => "unprobed",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plugin's health, shared by its handles and its probe.
#[derive(Debug)]
pub(crate) struct HealthCell(AtomicU8);

impl HealthCell {
    pub(crate) fn new(health: Health) -> Self {
        Self(AtomicU8::new(health as u8))
    }

    pub(crate) fn get(&self) -> Health {
        match self.0.load(Ordering::Acquire) {
            1 => Health::Healthy,
            2 => Health::Unhealthy,
            _ => Health::Unprobed,
        }
    }

    /// Sets it; whether it changed.
    pub(crate) fn set(&self, health: Health) -> bool {
        self.0.swap(health as u8, Ordering::AcqRel) != health as u8
    }
}

/// How a registry probes its active plugins
/// ([`RegistryBuilder::health_probe`](crate::RegistryBuilder::health_probe)).
///
/// Docker's protocol has no health method, so a probe is the cheapest honest
/// check there is: a new connection and a `Plugin.Activate` (which every
/// plugin answers, and answers cheaply), under its own deadline. A plugin is
/// unhealthy once [`failures`](Self::failures) probes in a row fail, and
/// healthy again after one succeeds. Probes run every
/// [`interval`](Self::every) from a start spread by
/// [`jitter`](Self::jitter), so that many plugins' probes do not align; a
/// plugin that stops answering is therefore unhealthy within
/// `interval × failures + deadline`.
///
/// ```
/// use std::time::Duration;
/// use plugin_registry::{Discovery, HealthProbe, Registry};
///
/// let registry = Registry::builder(Discovery::docker_defaults())
///     .health_probe(HealthProbe::every(Duration::from_secs(10)).failures(3))
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct HealthProbe {
    pub(crate) interval: Duration,
    pub(crate) deadline: Duration,
    pub(crate) failures: u32,
    pub(crate) jitter: f64,
}

impl HealthProbe {
    /// The longest interval: a day (a longer one is a day). Past that a
    /// probe says little, and the clock's arithmetic stays far from overflow.
    pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

    /// Probes every `interval` (from 1 ms to [`MAX_INTERVAL`](Self::MAX_INTERVAL)),
    /// each with a deadline of 1 s or the interval if shorter, unhealthy
    /// after 3 failures in a row, starts spread by 10% of the interval.
    pub fn every(interval: Duration) -> Self {
        let interval = interval.clamp(Duration::from_millis(1), Self::MAX_INTERVAL);
        Self {
            interval,
            deadline: Duration::from_secs(1).min(interval),
            failures: 3,
            jitter: 0.1,
        }
    }

    /// How long one probe may take, connection included (at most the
    /// interval: one probe at a time). A `Duration`, not an `Option`: a probe
    /// with no deadline would wait forever on a hung plugin, which would then
    /// never be found unhealthy.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline.min(self.interval);
        self
    }

    /// How many probes in a row must fail for a plugin to be unhealthy (at
    /// least 1).
    #[must_use]
    pub fn failures(mut self, failures: u32) -> Self {
        self.failures = failures.max(1);
        self
    }

    /// The first probe of each activation comes up to `fraction` of an
    /// interval early (0 to 1), chosen at random, and the rest follow every
    /// interval from it.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_settings_are_clamped() {
        let probe = HealthProbe::every(Duration::MAX)
            .deadline(Duration::MAX)
            .failures(0)
            .jitter(f64::NAN);
        assert_eq!(probe.interval, HealthProbe::MAX_INTERVAL);
        assert_eq!(probe.deadline, HealthProbe::MAX_INTERVAL);
        assert_eq!((probe.failures, probe.jitter), (1, 0.0));
        // The first tick is computed from now: no overflow at the largest.
        let first = tokio::time::Instant::now().checked_add(probe.interval);
        assert!(first.is_some());
        let tiny = HealthProbe::every(Duration::ZERO).jitter(7.0);
        assert_eq!(
            (tiny.interval, tiny.deadline, tiny.jitter),
            (Duration::from_millis(1), Duration::from_millis(1), 1.0)
        );
    }
}
