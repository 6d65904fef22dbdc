//! The rustrade facade: run one or more [`Brain`](rustrade_core::Brain)s live (or paper) against
//! an exchange adapter, behind the engine's risk gates, under a supervisor, with state that
//! survives a crash.
//!
//! # Overview
//!
//! - [`BotConfig`] (built and validated by [`BotConfig::builder`]) and [`Bot`]: wire an
//!   [`ExchangeClient`](rustrade_core::ExchangeClient), brains, market and fill sources, a state
//!   store and metrics, then [`Bot::run_until_shutdown`].
//! - [`BotHandle`]: the host's cheap, cloneable view — health, shutdown, positions, signals.
//! - The services (one `execution[<brain>]` per brain, market feed, fill routing, candle poller,
//!   order reaper, risk sweep, order sync) all drive **one** `rustrade_engine::Engine`; every
//!   trading rule lives there, none here.
//! - [`store`]: [`SqliteStore`](store::SqliteStore) (the durable default),
//!   [`JsonFileStore`](store::JsonFileStore), [`MemoryStore`](store::MemoryStore); one writer
//!   per file, and a per-store epoch ([`store::epoch`]) so client order ids survive state resets.
//! - [`metrics`]: the Prometheus sink; [`logging`]: `tracing` set-up; [`Secret`]: credentials
//!   that never print.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use rustrade::{Bot, BotConfig};
//! use rustrade::testkit::{candle_event, MockExchange, ScriptedBrain};
//! use rustrade_core::Decision;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! let exchange = Arc::new(MockExchange::new());
//! let brain = Arc::new(ScriptedBrain::new("first-buy", |_, pos, _| {
//!     Ok(if pos.is_flat() { Decision::buy(1.0) } else { Decision::hold() })
//! }));
//! let config = BotConfig::builder().name("demo").symbol("BTCUSDT").without_signal_handler().build()?;
//! let bot = Bot::new(config, exchange.clone(), vec![brain])?
//!     .with_fill_source(exchange.fill_source());
//! let handle = bot.handle();
//! let bus = bot.market_data_bus();
//! let mut signals = handle.subscribe_signals();
//! let task = tokio::spawn(bot.run_until_shutdown());
//!
//! bus.publish(candle_event("BTCUSDT", 60, 100.0));
//! let signal = signals.recv().await?;
//! assert_eq!(signal.brain.as_ref(), "first-buy");
//! while exchange.placed().is_empty() {
//!     tokio::task::yield_now().await;
//! }
//! handle.shutdown();
//! task.await??;
//! assert_eq!(exchange.placed().len(), 1);
//! # Ok(())
//! # }
//! ```

mod bot;
pub mod clock;
mod config;
mod degraded;
mod driver;
mod error;
mod handle;
mod journal;
mod kill_point;
pub mod logging;
pub mod metrics;
pub mod order_tracker;
mod progress;
mod recovery;
mod services;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
mod trade_log;

pub use bot::Bot;
pub use config::{
    BotConfig, BotConfigBuilder, ConfigError, DEFAULT_MARKET_SILENCE, DEFAULT_SNAPSHOT_EVERY,
    MAX_NAME_LEN,
};
pub use error::BotError;
pub use handle::{
    BotHandle, BotHealth, BrainHealthSnapshot, ReconciliationHealth, RefusedExit, RiskView,
};
pub use kill_point::kill_point;
pub use rustrade_core::Secret;
pub use services::{DroppedReport, decode_report, validate_report};
pub use trade_log::{ClosedTradeRecord, TRADE_LOG_CAPACITY};

pub use rustrade_core as core;
pub use rustrade_engine as engine;
pub use rustrade_risk as risk;
pub use rustrade_sim as sim;
pub use rustrade_supervisor as supervisor;

// The Rust code blocks of the project's markdown, run as doc tests of this crate (its
// dependencies and dev-dependencies cover every block), so the guides cannot drift from the API.
// One item per file; the markdown is included, not copied.

/// `README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// `docs/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/README.md")]
pub struct DocsIndexDoctests;

/// `docs/quickstart.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/quickstart.md")]
pub struct QuickstartDoctests;

/// `docs/writing-a-brain.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/writing-a-brain.md")]
pub struct WritingABrainDoctests;

/// `docs/backtesting.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/backtesting.md")]
pub struct BacktestingDoctests;

/// `docs/indicators.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/indicators.md")]
pub struct IndicatorsDoctests;

/// `docs/porting.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/porting.md")]
pub struct PortingDoctests;

/// `docs/configuration.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/configuration.md")]
pub struct ConfigurationDoctests;

/// `docs/operating-a-bot.md`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/operating-a-bot.md")]
pub struct OperatingABotDoctests;
