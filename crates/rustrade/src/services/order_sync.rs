//! `order-sync`: reconciles the engine's live orders with the venue's open orders.
//!
//! Every `reconcile_interval` the venue's open orders are fetched and handed to the engine,
//! which acknowledges orders whose acknowledgement was lost, marks our orders missing at the
//! venue, and journals open orders it does not know. Positions are reconciled at start-up.

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
                    let open = self
                        .driver
                        .exchange
                        .open_orders(None)
                        .await
                        .map_err(|e| ServiceError::retryable_from("open orders", e))?;
                    self.driver
                        .step(move |engine, now| engine.handle_venue_open_orders(&open, now))
                        .await;
                }
            }
        }
    }
}
