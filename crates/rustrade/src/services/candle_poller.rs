//! `candle-poller`: polls a [`CandleSource`] for closed bars and publishes each bar once.
//!
//! Polls overlap (a venue returns the last N bars every time); the poller remembers the newest
//! open time published per symbol and publishes only later bars, in time order. Bars `100..=103`
//! then `102..=105` publish `100, 101, 102, 103, 104, 105`, once each. The memory lives in the
//! service object, so a restart does not publish a bar again.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use rustrade_core::{
    CandleSource, MarketDataBus, MarketEvent, MetricsSink, Symbol, Timestamp, Venue,
};
use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

use crate::driver::{Driver, lock};
use crate::metrics::names;

/// Bars asked for per poll.
const POLL_LIMIT: usize = 10;

pub(crate) struct CandlePollerService {
    source: Arc<dyn CandleSource>,
    symbols: Vec<Symbol>,
    venue: Venue,
    bus: MarketDataBus,
    driver: Arc<Driver>,
    newest: Mutex<BTreeMap<Symbol, Timestamp>>,
}

impl CandlePollerService {
    pub(crate) fn new(
        source: Arc<dyn CandleSource>,
        symbols: Vec<Symbol>,
        venue: Venue,
        bus: MarketDataBus,
        driver: Arc<Driver>,
    ) -> Self {
        Self {
            source,
            symbols,
            venue,
            bus,
            driver,
            newest: Mutex::new(BTreeMap::new()),
        }
    }

    async fn poll_once(&self) -> Result<(), ServiceError> {
        let interval = self.source.interval();
        for symbol in &self.symbols {
            let mut bars = self
                .source
                .fetch_candles(symbol, POLL_LIMIT)
                .await
                .map_err(|e| ServiceError::retryable_from("candle source", e))?;
            bars.sort_by_key(|c| c.open_time());
            for bar in bars {
                let fresh = {
                    let mut newest = lock(&self.newest);
                    let fresh = newest.get(symbol).is_none_or(|t| bar.open_time() > *t);
                    if fresh {
                        newest.insert(*symbol, bar.open_time());
                    }
                    fresh
                };
                if fresh {
                    let time = bar.open_time().saturating_add(interval);
                    self.bus
                        .publish(MarketEvent::candle(self.venue, *symbol, time, bar));
                    self.driver
                        .counters
                        .candles_published
                        .fetch_add(1, Ordering::Relaxed);
                    self.driver.metrics.counter(
                        names::CANDLES_PUBLISHED,
                        &[("symbol", symbol.as_str())],
                        1,
                    );
                }
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl TradingService for CandlePollerService {
    fn name(&self) -> &str {
        "candle-poller"
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::OnFailure
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let period = self
            .source
            .interval()
            .max(std::time::Duration::from_millis(1));
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                _ = ticker.tick() => self.poll_once().await?,
            }
        }
    }
}
