//! [`MetricsSink`]: how library crates emit metrics without depending on a metrics backend.
//!
//! The facade implements it over the `metrics` crate with a Prometheus exporter. Names follow
//! Prometheus conventions (`rustrade_orders_placed_total`); labels are `(name, value)` pairs.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A label: `(name, value)`.
pub type Label<'a> = (&'static str, &'a str);

/// Receives counters, gauges and histogram samples.
///
/// ```
/// use rustrade_core::{Label, MetricsSink};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// /// Counts every counter increment, whatever its name.
/// #[derive(Default)]
/// struct Total(AtomicU64);
///
/// impl MetricsSink for Total {
///     fn counter(&self, _name: &'static str, _labels: &[Label<'_>], delta: u64) {
///         self.0.fetch_add(delta, Ordering::Relaxed);
///     }
///     fn gauge(&self, _: &'static str, _: &[Label<'_>], _: f64) {}
///     fn histogram(&self, _: &'static str, _: &[Label<'_>], _: f64) {}
/// }
/// ```
pub trait MetricsSink: Send + Sync {
    /// Adds `delta` to a counter.
    fn counter(&self, name: &'static str, labels: &[Label<'_>], delta: u64);
    /// Sets a gauge.
    fn gauge(&self, name: &'static str, labels: &[Label<'_>], value: f64);
    /// Records one histogram sample.
    fn histogram(&self, name: &'static str, labels: &[Label<'_>], value: f64);
}

/// Discards everything: the default sink.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopMetrics;

impl MetricsSink for NoopMetrics {
    fn counter(&self, _: &'static str, _: &[Label<'_>], _: u64) {}
    fn gauge(&self, _: &'static str, _: &[Label<'_>], _: f64) {}
    fn histogram(&self, _: &'static str, _: &[Label<'_>], _: f64) {}
}

/// Keeps metrics in memory, keyed by `name{label="value",...}`: for tests and for embedding hosts
/// that want to read values back.
#[derive(Debug, Default)]
pub struct MemoryMetrics {
    counters: Mutex<BTreeMap<String, u64>>,
    gauges: Mutex<BTreeMap<String, f64>>,
    histograms: Mutex<BTreeMap<String, Vec<f64>>>,
}

impl MemoryMetrics {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Current value of a counter (0 if never incremented). `key` is `name` or
    /// `name{a="x",b="y"}` with labels in the order they were given.
    pub fn counter_value(&self, key: &str) -> u64 {
        lock(&self.counters).get(key).copied().unwrap_or(0)
    }

    /// Current value of a gauge.
    pub fn gauge_value(&self, key: &str) -> Option<f64> {
        lock(&self.gauges).get(key).copied()
    }

    /// Samples recorded in a histogram.
    pub fn histogram_samples(&self, key: &str) -> Vec<f64> {
        lock(&self.histograms).get(key).cloned().unwrap_or_default()
    }

    /// The names of every counter, gauge and histogram recorded so far, without labels.
    pub fn names(&self) -> std::collections::BTreeSet<String> {
        let name = |k: &String| k.split('{').next().unwrap_or_default().to_owned();
        let mut names: std::collections::BTreeSet<String> =
            lock(&self.counters).keys().map(name).collect();
        names.extend(lock(&self.gauges).keys().map(name));
        names.extend(lock(&self.histograms).keys().map(name));
        names
    }

    /// Sum of a counter over all label sets.
    pub fn counter_total(&self, name: &str) -> u64 {
        lock(&self.counters)
            .iter()
            .filter(|(k, _)| k.as_str() == name || k.starts_with(&format!("{name}{{")))
            .map(|(_, v)| *v)
            .sum()
    }
}

impl MetricsSink for MemoryMetrics {
    fn counter(&self, name: &'static str, labels: &[Label<'_>], delta: u64) {
        *lock(&self.counters).entry(key(name, labels)).or_default() += delta;
    }

    fn gauge(&self, name: &'static str, labels: &[Label<'_>], value: f64) {
        lock(&self.gauges).insert(key(name, labels), value);
    }

    fn histogram(&self, name: &'static str, labels: &[Label<'_>], value: f64) {
        lock(&self.histograms)
            .entry(key(name, labels))
            .or_default()
            .push(value);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn key(name: &str, labels: &[Label<'_>]) -> String {
    if labels.is_empty() {
        return name.to_owned();
    }
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_metrics_records_by_key() {
        let m = MemoryMetrics::new();
        m.counter("orders_total", &[("brain", "a")], 2);
        m.counter("orders_total", &[("brain", "b")], 1);
        m.counter("orders_total", &[("brain", "a")], 1);
        m.gauge("active", &[], 3.0);
        m.histogram("latency", &[], 1.5);
        assert_eq!(m.counter_value("orders_total{brain=\"a\"}"), 3);
        assert_eq!(m.counter_total("orders_total"), 4);
        assert_eq!(m.gauge_value("active"), Some(3.0));
        assert_eq!(m.histogram_samples("latency"), vec![1.5]);
        assert_eq!(
            m.names().into_iter().collect::<Vec<_>>(),
            ["active", "latency", "orders_total"]
        );
        NoopMetrics.counter("x", &[], 1);
    }
}
