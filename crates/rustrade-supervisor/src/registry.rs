//! State shared by a [`Supervisor`](crate::Supervisor) and the tasks supervising its services.
//!
//! # Invariants
//!
//! - Slots are kept in spawn order and never removed: snapshots list services in the order they
//!   were spawned, terminated ones included.
//! - The counts and the metrics that mirror them change together inside one `send_modify`, so the
//!   active gauge always equals spawned − terminated.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustrade_core::MetricsSink;
use tokio::sync::watch;

use crate::slot::ServiceSlot;
use crate::{ServiceCounts, SupervisorConfig, TerminationReason, metrics};

pub(crate) struct Registry {
    config: SupervisorConfig,
    metrics: Arc<dyn MetricsSink>,
    slots: Mutex<Vec<Arc<ServiceSlot>>>,
    counts: watch::Sender<ServiceCounts>,
}

impl Registry {
    pub(crate) fn new(config: SupervisorConfig, metrics: Arc<dyn MetricsSink>) -> Self {
        metrics.gauge(metrics::SERVICES_ACTIVE, &[], 0.0);
        Self {
            config,
            metrics,
            slots: Mutex::new(Vec::new()),
            counts: watch::Sender::new(ServiceCounts::default()),
        }
    }

    pub(crate) fn config(&self) -> &SupervisorConfig {
        &self.config
    }

    pub(crate) fn metrics(&self) -> &dyn MetricsSink {
        self.metrics.as_ref()
    }

    /// The slots, in spawn order. Held only briefly: never across an `.await`.
    pub(crate) fn slots(&self) -> MutexGuard<'_, Vec<Arc<ServiceSlot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the slot list, for walking it without holding the lock.
    pub(crate) fn slot_list(&self) -> Vec<Arc<ServiceSlot>> {
        self.slots().clone()
    }

    pub(crate) fn counts(&self) -> ServiceCounts {
        *self.counts.borrow()
    }

    pub(crate) fn subscribe_counts(&self) -> watch::Receiver<ServiceCounts> {
        self.counts.subscribe()
    }

    pub(crate) fn record_spawn(&self) {
        self.counts.send_modify(|c| {
            c.spawned += 1;
            c.active = c.spawned - c.terminated;
            self.metrics
                .counter(metrics::SERVICES_SPAWNED_TOTAL, &[], 1);
            self.publish_active(c.active);
        });
    }

    pub(crate) fn record_termination(&self, service: &str, reason: TerminationReason) {
        self.counts.send_modify(|c| {
            c.terminated += 1;
            c.active = c.spawned.saturating_sub(c.terminated);
            self.metrics.counter(
                metrics::SERVICES_TERMINATED_TOTAL,
                &[("service", service), ("reason", reason.as_str())],
                1,
            );
            self.publish_active(c.active);
        });
    }

    fn publish_active(&self, active: usize) {
        self.metrics
            .gauge(metrics::SERVICES_ACTIVE, &[], active as f64);
    }
}
