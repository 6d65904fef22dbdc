//! `market-feed[<source>]`: pulls a [`MarketSource`] and publishes its events on the market bus.
//!
//! Connects on every (re)start; a source error ends the run as retryable so the supervisor
//! reconnects with backoff; a finished source (`Ok(None)`) completes the service.

use rustrade_core::{MarketDataBus, MarketSource, Symbol};
use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

pub(crate) struct MarketFeedService {
    name: String,
    source: tokio::sync::Mutex<Box<dyn MarketSource>>,
    symbols: Vec<Symbol>,
    bus: MarketDataBus,
}

impl MarketFeedService {
    pub(crate) fn new(
        source: Box<dyn MarketSource>,
        symbols: Vec<Symbol>,
        bus: MarketDataBus,
    ) -> Self {
        Self {
            name: format!("market-feed[{}]", source.name()),
            source: tokio::sync::Mutex::new(source),
            symbols,
            bus,
        }
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
        source
            .connect(&self.symbols)
            .await
            .map_err(|e| ServiceError::retryable_from("market source connect", e))?;
        // One cancellation waiter for the whole run: registering and dropping one per message
        // cost two locks of the token's tree per message.
        let cancelled = cancel.cancelled();
        tokio::pin!(cancelled);
        loop {
            let next = tokio::select! {
                biased;
                () = &mut cancelled => return Ok(()),
                n = source.next_event() => n,
            };
            match next {
                Ok(Some(event)) => {
                    self.bus.publish(event);
                }
                Ok(None) => return Ok(()),
                Err(e) => return Err(ServiceError::retryable_from("market source", e)),
            }
        }
    }
}
