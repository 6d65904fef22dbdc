//! Journal and snapshot writes, and pruning of what the store no longer needs.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustrade_core::MetricsSink as _;

use super::{Driver, lock};
use crate::metrics::names;

impl Driver {
    /// Deletes the applied-fill records no fill can need again: those of fills whose order the
    /// engine's book no longer tracks (see
    /// [`store::applied_fills`](crate::store::applied_fills)); returns how many.
    pub(crate) async fn prune_fill_records(&self) -> Result<usize, rustrade_core::StoreError> {
        use crate::store::applied_fills;
        let Some(store) = self.store() else {
            return Ok(0);
        };
        let records = applied_fills::records(store.as_ref()).await?;
        let gone: Vec<String> = self
            .read(|e| {
                records
                    .into_iter()
                    .filter(|(_, r)| r.is_some_and(|r| !applied_fills::still_needed(e, r)))
                    .map(|(key, _)| key)
                    .collect()
            })
            .unwrap_or_default();
        applied_fills::delete(store.as_ref(), gone).await
    }
    /// Persists the final snapshot and flushes the store.
    pub(crate) async fn persist_final(&self) {
        let Some(store) = self.store() else { return };
        let now = self.now();
        let queued = {
            let guard = lock(&self.engine);
            guard.engine.as_ref().map(|e| {
                let snapshot = Box::new(e.snapshot(now));
                self.journal.enqueue(
                    e.journal_seq() + 1,
                    Arc::default(),
                    Some(snapshot),
                    now,
                    None,
                )
            })
        };
        if let Some(seq) = queued {
            self.persist(seq).await;
        }
        if let Err(e) = store.flush().await {
            self.store_failed("flush", &e);
        }
    }
    /// Writes the brains' market progress gathered in memory (events they held on).
    pub(crate) async fn write_progress(&self) {
        if self.store().is_some() {
            self.persist(0).await;
        }
    }
    /// Deletes journal records older than `retention` before now that a snapshot makes
    /// redundant; returns how many.
    pub(crate) async fn prune_journal(
        &self,
        retention: std::time::Duration,
    ) -> Result<usize, rustrade_core::StoreError> {
        let Some(store) = self.store() else {
            return Ok(0);
        };
        self.journal
            .prune(store.as_ref(), self.now().saturating_sub(retention))
            .await
    }
    /// Makes the journal durable through record `seq` (writing whatever is queued); `false` if
    /// the store refused.
    pub(super) async fn persist(&self, seq: u64) -> bool {
        let Some(store) = self.store() else {
            return true;
        };
        match self.journal.write_through(store.as_ref(), seq).await {
            Ok(()) => true,
            Err(e) => {
                self.store_failed("journal", &e);
                false
            }
        }
    }
    pub(super) fn store_failed(&self, what: &str, e: &rustrade_core::StoreError) {
        self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
        self.metrics.counter(names::STORE_ERRORS, &[], 1);
        tracing::error!(what, error = %e, "state store write failed");
    }
}
