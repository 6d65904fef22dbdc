//! Shared helpers of the integration tests: a bot on a [`MockExchange`] with paused time.
#![allow(dead_code, unreachable_pub)]

pub mod parity;

use std::sync::Arc;
use std::time::Duration;

use rustrade::testkit::{ManualClock, MockExchange};
pub use rustrade::testkit::{settle, wait_until};
use rustrade::{Bot, BotConfig, BotConfigBuilder, BotError, BotHandle};
use rustrade_core::{Brain, MemoryMetrics, Symbol, Timestamp};
use tokio::task::JoinHandle;

/// 2024-01-02 12:00:00 UTC.
pub fn noon() -> Timestamp {
    Timestamp::parse_rfc3339("2024-01-02T12:00:00Z").unwrap()
}

pub fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

pub fn config(symbols: &[&str]) -> BotConfigBuilder {
    BotConfig::builder()
        .name("t")
        .symbols(symbols.iter().copied())
        .without_signal_handler()
        .shutdown_timeout(Duration::from_secs(2))
}

/// A running bot and what a test needs to drive and inspect it.
pub struct Running {
    pub handle: BotHandle,
    pub bus: rustrade_core::MarketDataBus,
    pub task: JoinHandle<Result<(), BotError>>,
    pub metrics: Arc<MemoryMetrics>,
    pub clock: Arc<ManualClock>,
}

impl Running {
    /// Requests shutdown and waits for the bot to finish.
    pub async fn stop(self) -> Result<(), BotError> {
        self.handle.shutdown();
        self.task.await.expect("bot task panicked")
    }
}

/// Starts `bot` (already wired) with a memory metrics sink and a manual clock at noon.
pub async fn start(bot: Bot) -> Running {
    let metrics = Arc::new(MemoryMetrics::new());
    let clock = Arc::new(ManualClock::new(noon()));
    start_with(bot, metrics, clock).await
}

pub async fn start_with(bot: Bot, metrics: Arc<MemoryMetrics>, clock: Arc<ManualClock>) -> Running {
    let bot = bot.with_metrics(metrics.clone()).with_clock(clock.clone());
    let handle = bot.handle();
    let bus = bot.market_data_bus();
    let task = tokio::spawn(bot.run_until_shutdown());
    wait_until("services running", || {
        let handle = handle.clone();
        async move { !handle.health().await.services.is_empty() }
    })
    .await;
    Running {
        handle,
        bus,
        task,
        metrics,
        clock,
    }
}

/// A bot on `exchange` with its fill stream wired.
pub fn bot(config: BotConfig, exchange: &Arc<MockExchange>, brains: Vec<Arc<dyn Brain>>) -> Bot {
    Bot::new(config, exchange.clone(), brains)
        .unwrap()
        .with_fill_source(exchange.fill_source())
}

/// A current-thread runtime on paused time, for tests that drop it to kill a bot.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Waits until the venue has received `n` placements, then lets the bot settle.
pub async fn wait_placed(exchange: &Arc<MockExchange>, n: usize) {
    wait_until(&format!("{n} orders placed"), || {
        let e = Arc::clone(exchange);
        async move { e.placed().len() >= n }
    })
    .await;
    settle().await;
}

/// The venue received each client id once.
pub fn assert_no_duplicates(exchange: &MockExchange) {
    let ids: Vec<_> = exchange.placed().iter().map(|o| o.client_id).collect();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "a client id was sent twice: {ids:?}"
    );
    assert_eq!(exchange.duplicate_placements(), 0);
}
