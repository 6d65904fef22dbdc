//! `reconciler`: while the bot runs, reconciles fills, open orders and positions with the venue
//! every `reconcile_interval` (the start-up pass is in `recovery.rs`). With periodic
//! reconciliation off and order tracking on, the same service runs as `order-sync` over open
//! orders only, and a pass that fails at the venue ends its run as retryable.
//!
//! One pass: fills the venue lists after the engine's cursor are applied, then open orders
//! (with a status lookup of each of ours the list lacks), then positions. A position is judged
//! only when the venue reports the same quantity before and after a fresh fill catch-up: a fill
//! still on its way would otherwise look like drift and be counted twice when it arrives. What
//! still differs is drift, handled by the engine's drift policy, counted in
//! `rustrade_position_drift_total` and in health. A pass that fails at the venue is logged,
//! counted and shown in health; the next pass tries again.

use std::sync::Arc;
use std::time::Duration;

use rustrade_core::{MetricsSink, Symbol};
use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

use crate::driver::Driver;
use crate::metrics::names;

pub(crate) struct ReconcilerService {
    period: Duration,
    symbols: Vec<Symbol>,
    driver: Arc<Driver>,
    /// Open orders only (`order-sync`), not fills and positions.
    orders_only: bool,
}

impl ReconcilerService {
    /// Fills, open orders and positions (`reconciler`).
    pub(crate) fn new(period: Duration, symbols: Vec<Symbol>, driver: Arc<Driver>) -> Self {
        Self {
            period,
            symbols,
            driver,
            orders_only: false,
        }
    }

    /// Open orders only (`order-sync`): each of ours the venue's list lacks is looked up, with
    /// its fills, before the list is handed to the engine.
    pub(crate) fn open_orders(period: Duration, driver: Arc<Driver>) -> Self {
        Self {
            period,
            symbols: Vec::new(),
            driver,
            orders_only: true,
        }
    }
}

#[async_trait::async_trait]
impl TradingService for ReconcilerService {
    fn name(&self) -> &str {
        if self.orders_only {
            "order-sync"
        } else {
            "reconciler"
        }
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
                    if self.orders_only {
                        crate::recovery::reconcile_open_orders(&self.driver)
                            .await
                            .map_err(|e| ServiceError::retryable_from("open orders", e))?;
                        continue;
                    }
                    let pass = crate::recovery::reconcile_running(&self.driver, &self.symbols).await;
                    if let Err(e) = &pass {
                        self.driver.metrics.counter(names::RECONCILE_ERRORS, &[], 1);
                        tracing::warn!(error = %e, "reconciliation failed at the venue; trying again next interval");
                    }
                    self.driver.reconciliation_done(pass.err().map(|e| e.to_string()));
                }
            }
        }
    }
}
