//! A metrics recorder for tests, installed for the current thread and read
//! back by name and labels.
//!
//! It keeps what it is given in metrics-util's registry with atomic storage,
//! and reading never resets anything (metrics-util's debugging recorder
//! resets gauges and counters at each snapshot, so a gauge read twice in a
//! test would be wrong). Use a `current_thread` runtime: the recorder is the
//! thread's.
//!
//! ```
//! use plugin_test_support::metrics::Recorder;
//!
//! let recorder = Recorder::new();
//! let _installed = recorder.install();
//! metrics::counter!("plugin_host_calls_total", "plugin" => "sshfs").increment(2);
//! metrics::gauge!("plugin_host_healthy", "plugin" => "sshfs").set(1.0);
//! metrics::gauge!("plugin_host_healthy", "plugin" => "sshfs").set(0.0);
//! assert_eq!(recorder.counter("plugin_host_calls_total", &[("plugin", "sshfs")]), 2);
//! assert_eq!(recorder.gauge("plugin_host_healthy", &[("plugin", "sshfs")]), 0.0);
//! assert_eq!(
//!     recorder.keys(),
//!     ["plugin_host_calls_total{plugin=\"sshfs\"}", "plugin_host_healthy{plugin=\"sshfs\"}"]
//! );
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};

/// What was recorded under one name and set of labels.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// A counter's total.
    Counter(u64),
    /// A gauge's value.
    Gauge(f64),
    /// A histogram's samples.
    Histogram(Vec<f64>),
}

/// A recorder that keeps everything, for one thread.
pub struct Recorder {
    registry: Arc<Registry<Key, AtomicStorage>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl metrics::Recorder for Recorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |c| Counter::from_arc(Arc::clone(c)))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.registry
            .get_or_create_gauge(key, |g| Gauge::from_arc(Arc::clone(g)))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |h| Histogram::from_arc(Arc::clone(h)))
    }
}

impl Recorder {
    /// A recorder, not installed yet.
    pub fn new() -> Self {
        Self {
            registry: Arc::new(Registry::atomic()),
        }
    }

    /// Records this thread's metrics until the guard drops.
    pub fn install(&self) -> metrics::LocalRecorderGuard<'_> {
        metrics::set_default_local_recorder(self)
    }

    /// Every name and label set recorded, as `name{label="value",...}`
    /// (labels sorted), sorted.
    pub fn keys(&self) -> Vec<String> {
        self.all().into_keys().collect()
    }

    /// What was recorded under `name` and exactly `labels` (any order).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<Recorded> {
        self.all().remove(&key(name, labels))
    }

    /// A counter's total (0 if never recorded).
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.get(name, labels) {
            Some(Recorded::Counter(n)) => n,
            _ => 0,
        }
    }

    /// A gauge's value (0 if never recorded).
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.get(name, labels) {
            Some(Recorded::Gauge(v)) => v,
            _ => 0.0,
        }
    }

    /// A histogram's samples (none if never recorded).
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        match self.get(name, labels) {
            Some(Recorded::Histogram(v)) => v,
            _ => Vec::new(),
        }
    }

    /// The counters recorded under `name`, by their labels as
    /// `label="value",...`, sorted.
    pub fn counters(&self, name: &str) -> Vec<(String, u64)> {
        let prefix = format!("{name}{{");
        self.all()
            .into_iter()
            .filter_map(|(k, v)| match v {
                Recorded::Counter(n) => k
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix('}'))
                    .map(|labels| (labels.to_owned(), n)),
                _ => None,
            })
            .collect()
    }

    fn all(&self) -> BTreeMap<String, Recorded> {
        let mut all = BTreeMap::new();
        let name = |k: &Key| {
            let labels: Vec<(&str, &str)> = k.labels().map(|l| (l.key(), l.value())).collect();
            key(k.name(), &labels)
        };
        self.registry.visit_counters(|k, c| {
            all.insert(name(k), Recorded::Counter(c.load(Ordering::SeqCst)));
        });
        self.registry.visit_gauges(|k, g| {
            all.insert(
                name(k),
                Recorded::Gauge(f64::from_bits(g.load(Ordering::SeqCst))),
            );
        });
        self.registry.visit_histograms(|k, h| {
            all.insert(name(k), Recorded::Histogram(h.data()));
        });
        all
    }
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}
