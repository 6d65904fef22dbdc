//! [`Bus`]: a broadcast channel that keeps count of what slow subscribers missed.
//!
//! A lagging consumer is never silent: whoever receives `RecvError::Lagged(n)` reports it with
//! [`Bus::record_lag`], and the total is surfaced in health and metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

/// A cloneable broadcast bus for `T`. Clones share the channel and the lag counter.
#[derive(Debug)]
pub struct Bus<T> {
    tx: broadcast::Sender<T>,
    lagged: Arc<AtomicU64>,
}

impl<T: Clone> Bus<T> {
    /// A bus whose subscribers may fall `capacity` messages behind before they lag (`capacity`
    /// is raised to 1 if 0).
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self {
            tx,
            lagged: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A new receiver that sees messages published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<T> {
        self.tx.subscribe()
    }

    /// Number of live receivers.
    pub fn subscriber_count(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Sends `msg` to every receiver; returns how many there were (0 is not an error).
    pub fn publish(&self, msg: T) -> usize {
        self.tx.send(msg).unwrap_or(0)
    }

    /// Records that a receiver skipped `missed` messages.
    pub fn record_lag(&self, missed: u64) {
        self.lagged.fetch_add(missed, Ordering::Relaxed);
    }

    /// Total messages skipped by lagging receivers since the bus was made.
    pub fn lagged_total(&self) -> u64 {
        self.lagged.load(Ordering::Relaxed)
    }
}

impl<T> Clone for Bus<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            lagged: Arc::clone(&self.lagged),
        }
    }
}

/// The bus of market events fanned out to brains.
pub type MarketDataBus = Bus<crate::MarketEvent>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publish_subscribe_and_lag_accounting() {
        let bus: Bus<u32> = Bus::new(2);
        assert_eq!(bus.publish(0), 0, "no subscribers is fine");
        let mut rx = bus.subscribe();
        let clone = bus.clone();
        assert_eq!(clone.subscriber_count(), 1);
        for i in 1..=4 {
            clone.publish(i);
        }
        match rx.recv().await {
            Err(broadcast::error::RecvError::Lagged(n)) => bus.record_lag(n),
            other => panic!("expected lag, got {other:?}"),
        }
        assert_eq!(clone.lagged_total(), 2);
        assert_eq!(rx.recv().await.unwrap(), 3);
        drop(rx);
        assert_eq!(bus.subscriber_count(), 0);
    }
}
