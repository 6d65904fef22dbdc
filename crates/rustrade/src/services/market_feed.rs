//! `market-feed[<source>]`: pulls a [`MarketSource`] and publishes its events on the market bus.
//!
//! Connects on every (re)start; a source error ends the run as retryable so the supervisor
//! reconnects with backoff; a finished source (`Ok(None)`) completes the service. With a silence
//! timeout, a source that delivers nothing for that long is treated the same as one that failed:
//! a connection that stays open but carries no data is the disconnect users most often miss.
//! A failed or silent source raises the engine's `market_data_silent` entry block; the next
//! event clears it before it is published, so no brain decides on it while the block stands.

use std::sync::Arc;
use std::time::Duration;

use rustrade_core::{MarketDataBus, MarketSource, Symbol};
use rustrade_engine::EntryBlock;
use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

use crate::driver::Driver;

pub(crate) struct MarketFeedService {
    name: String,
    source: tokio::sync::Mutex<Box<dyn MarketSource>>,
    symbols: Vec<Symbol>,
    bus: MarketDataBus,
    silence_timeout: Option<Duration>,
    driver: Arc<Driver>,
}

impl MarketFeedService {
    pub(crate) fn new(
        source: Box<dyn MarketSource>,
        symbols: Vec<Symbol>,
        bus: MarketDataBus,
        silence_timeout: Option<Duration>,
        driver: Arc<Driver>,
    ) -> Self {
        Self {
            name: format!("market-feed[{}]", source.name()),
            source: tokio::sync::Mutex::new(source),
            symbols,
            bus,
            silence_timeout,
            driver,
        }
    }

    async fn report_down(&self) {
        self.driver
            .report_condition(EntryBlock::MarketData, true)
            .await;
    }
}

#[async_trait::async_trait]
impl TradingService for MarketFeedService {
    fn name(&self) -> &str {
        &self.name
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::OnFailure
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let mut source = self.source.lock().await;
        if let Err(e) = source.connect(&self.symbols).await {
            self.report_down().await;
            return Err(ServiceError::retryable_from("market source connect", e));
        }
        // One cancellation waiter for the whole run: registering and dropping one per message
        // cost two locks of the token's tree per message.
        let cancelled = cancel.cancelled();
        tokio::pin!(cancelled);
        loop {
            let next = tokio::select! {
                biased;
                () = &mut cancelled => return Ok(()),
                n = next_within(&mut **source, self.silence_timeout) => n,
            };
            match next {
                Ok(Some(event)) => {
                    if self.driver.holds_block(EntryBlock::MarketData) {
                        self.driver
                            .report_condition(EntryBlock::MarketData, false)
                            .await;
                    }
                    self.bus.publish(event);
                }
                Ok(None) => return Ok(()),
                Err(NoEvent::Silent(limit)) => {
                    tracing::warn!(service = %self.name, ?limit, "market source silent; reconnecting");
                    self.report_down().await;
                    return Err(ServiceError::retryable(format!(
                        "market source silent for {limit:?}"
                    )));
                }
                Err(NoEvent::Failed(e)) => {
                    self.report_down().await;
                    return Err(ServiceError::retryable_from("market source", e));
                }
            }
        }
    }
}

/// Why no event came.
enum NoEvent {
    /// Nothing arrived within the silence timeout.
    Silent(Duration),
    /// The source failed.
    Failed(rustrade_core::ExchangeError),
}

/// The source's next event, or [`NoEvent::Silent`] once `limit` passes without one.
async fn next_within(
    source: &mut dyn MarketSource,
    limit: Option<Duration>,
) -> Result<Option<rustrade_core::MarketEvent>, NoEvent> {
    match limit {
        None => source.next_event().await.map_err(NoEvent::Failed),
        Some(limit) => match tokio::time::timeout(limit, source.next_event()).await {
            Ok(next) => next.map_err(NoEvent::Failed),
            Err(_) => Err(NoEvent::Silent(limit)),
        },
    }
}
