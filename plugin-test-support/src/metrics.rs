//! A metrics recorder for tests: metrics-util's debugging recorder, installed
//! for the current thread, read back as totals.
//!
//! The debugging recorder's snapshots reset what they read; [`Recorder`]
//! adds every snapshot to running totals, so a gauge's value and a counter's
//! count are what the code under test recorded since the recorder was
//! installed. Use a `current_thread` runtime: the recorder is the thread's.
//!
//! ```
//! use plugin_test_support::metrics::Recorder;
//!
//! let recorder = Recorder::new();
//! let _installed = recorder.install();
//! metrics::counter!("plugin_host_calls_total", "plugin" => "sshfs").increment(2);
//! assert_eq!(recorder.counter("plugin_host_calls_total", &[("plugin", "sshfs")]), 2);
//! assert_eq!(recorder.keys(), ["plugin_host_calls_total{plugin=\"sshfs\"}"]);
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// What was recorded under one name and set of labels.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// A counter's total.
    Counter(u64),
    /// A gauge's value.
    Gauge(f64),
    /// A histogram's samples, in the order recorded.
    Histogram(Vec<f64>),
}

/// A thread-local debugging recorder with running totals.
pub struct Recorder {
    recorder: DebuggingRecorder,
    snapshotter: Snapshotter,
    totals: Mutex<BTreeMap<String, Recorded>>,
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

impl Recorder {
    /// A recorder, not installed yet.
    pub fn new() -> Self {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        Self {
            recorder,
            snapshotter,
            totals: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records this thread's metrics until the guard drops.
    pub fn install(&self) -> metrics::LocalRecorderGuard<'_> {
        metrics::set_default_local_recorder(&self.recorder)
    }

    /// Every name and label set recorded, as `name{label="value",...}`
    /// (labels sorted), sorted.
    pub fn keys(&self) -> Vec<String> {
        self.totals().keys().cloned().collect()
    }

    /// What was recorded under `name` and exactly `labels` (any order).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<Recorded> {
        self.totals().get(&key(name, labels)).cloned()
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
        self.totals()
            .iter()
            .filter_map(|(k, v)| match v {
                Recorded::Counter(n) => k
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix('}'))
                    .map(|labels| (labels.to_owned(), *n)),
                _ => None,
            })
            .collect()
    }

    fn totals(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Recorded>> {
        let mut totals = self
            .totals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (composite, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key_ = composite.key();
            let labels: Vec<(&str, &str)> = key_.labels().map(|l| (l.key(), l.value())).collect();
            let entry = key(key_.name(), &labels);
            match (totals.get_mut(&entry), value) {
                (Some(Recorded::Counter(n)), DebugValue::Counter(more)) => *n += more,
                (Some(Recorded::Gauge(v)), DebugValue::Gauge(more)) => *v += more.0,
                (Some(Recorded::Histogram(v)), DebugValue::Histogram(more)) => {
                    v.extend(more.into_iter().map(|x| x.0));
                }
                (_, value) => {
                    totals.insert(
                        entry,
                        match value {
                            DebugValue::Counter(n) => Recorded::Counter(n),
                            DebugValue::Gauge(v) => Recorded::Gauge(v.0),
                            DebugValue::Histogram(v) => {
                                Recorded::Histogram(v.into_iter().map(|x| x.0).collect())
                            }
                        },
                    );
                }
            }
        }
        totals
    }
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}
