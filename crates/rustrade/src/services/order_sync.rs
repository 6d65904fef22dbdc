//! `order-sync`: reconciles the engine's live orders with the venue's open orders.
//!
//! Every `reconcile_interval` the venue's open orders are fetched; our orders the list lacks
//! are looked up first (the venue's answer, and any fills it made that the engine lacks, are
//! applied), then the list is handed to the engine, which acknowledges orders whose
//! acknowledgement was lost, marks our orders missing at the venue, and journals open orders
//! it does not know. Positions are reconciled at start-up.

use std::sync::Arc;
use std::time::Duration;

use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

use crate::driver::Driver;

pub(crate) struct OrderSyncService {
    period: Duration,
    driver: Arc<Driver>,
}

impl OrderSyncService {
    pub(crate) fn new(period: Duration, driver: Arc<Driver>) -> Self {
        Self { period, driver }
    }
}

#[async_trait::async_trait]
impl TradingService for OrderSyncService {
    fn name(&self) -> &str {
        "order-sync"
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::Always
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let mut ticker = tokio::time::interval(self.period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                _ = ticker.tick() => {
                    // As at start-up: an order missing from the open list is looked up (and its
                    // fills listed) before the list is handed over, so an order that filled
                    // while its fills were still on their way is not retired without them.
                    crate::recovery::reconcile_open_orders(&self.driver)
                        .await
                        .map_err(|e| ServiceError::retryable_from("open orders", e))?;
                }
            }
        }
    }
}
