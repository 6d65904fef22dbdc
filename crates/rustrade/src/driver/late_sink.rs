//! [`LateSink`]: a metrics sink that can be wired after it was handed out.

use std::sync::{Arc, OnceLock};

use rustrade_core::MetricsSink;

/// A metrics sink wired after the supervisor and services captured it: forwards to the sink
/// given by [`Bot::with_metrics`](crate::Bot::with_metrics), or drops everything.
pub(crate) struct LateSink(pub(super) OnceLock<Arc<dyn MetricsSink>>);

impl MetricsSink for LateSink {
    fn counter(&self, name: &'static str, labels: &[rustrade_core::Label<'_>], delta: u64) {
        if let Some(s) = self.0.get() {
            s.counter(name, labels, delta);
        }
    }
    fn gauge(&self, name: &'static str, labels: &[rustrade_core::Label<'_>], value: f64) {
        if let Some(s) = self.0.get() {
            s.gauge(name, labels, value);
        }
    }
    fn histogram(&self, name: &'static str, labels: &[rustrade_core::Label<'_>], value: f64) {
        if let Some(s) = self.0.get() {
            s.histogram(name, labels, value);
        }
    }
}
