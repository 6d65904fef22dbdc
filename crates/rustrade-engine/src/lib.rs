//! The sans-IO trading state machine of rustrade, shared by the backtest, paper trading and the
//! live bot.
//!
//! An [`Engine`] owns every trading rule once: it runs each brain's entry through the risk gate
//! chain of `rustrade-risk`, builds the orders (kinds honoured or refused, prices snapped,
//! deterministic client ids), tracks them through acknowledgements, cancels and fills, keeps
//! positions and realised PnL per brain and per symbol (fees of both legs, contract value),
//! protects entries with brackets — venue-held OCO legs or stops and trailing stops it emulates
//! from market events — cancels stale resting orders, and reconciles with the venue's reports.
//! It never does I/O and never reads a clock: inputs arrive through `handle_*` methods with their
//! time, outputs leave through [`Engine::poll_command`] and [`Engine::poll_event`] (see the call
//! protocol on [`Engine`]). [`EngineEvent`]s are the journal; [`EngineSnapshot`] is the state at
//! rest. The [`testkit`] pairs the engine with a scripted venue and a manual clock.
//!
//! ```
//! use rustrade_core::{AssetClass, Candle, Decision, InstrumentSpec, MarketEvent, Symbol, Timestamp, Venue};
//! use rustrade_engine::{Command, Engine, EngineConfig};
//! use rustrade_risk::RiskConfig;
//!
//! let btc = Symbol::new("BTCUSDT")?;
//! let spec = InstrumentSpec::new(btc, AssetClass::CryptoSpot, 0.01, 0.001)?;
//! let config = EngineConfig::new("bot1", RiskConfig::default())
//!     .with_brain("trend")
//!     .with_instrument(spec);
//! let now = Timestamp::from_secs(1_700_000_000)?;
//! let mut engine = Engine::new(config, now)?;
//! let trend = engine.brain_id("trend").unwrap();
//!
//! let candle = Candle::new(now, 100.0, 101.0, 99.0, 100.0, 5.0)?;
//! let event = MarketEvent::candle(Venue::new("sim")?, btc, now, candle);
//! engine.handle_market(&event);
//! engine.handle_decision(trend, &event, &Decision::buy(1.0), now);
//!
//! // Journal first, then act.
//! while let Some(event) = engine.poll_event() {
//!     let _line = serde_json::to_string(&event)?;
//! }
//! let Some(Command::Place(place)) = engine.poll_command() else { panic!("an order") };
//! assert_eq!(place.order.client_id.as_str(), "bot1-0-1");
//! assert_eq!(place.order.quantity.get(), 1.0); // 100 margin × 1 at 100
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod account;
mod bracket;
mod brackets;
mod brains;
mod command;
mod config;
mod decide;
mod engine;
mod entry_block;
mod error;
mod event;
mod execution;
mod exit_retry;
mod fill_check;
mod fill_memory;
mod gate;
mod ids;
mod invariants;
mod journal;
mod market;
mod orders;
mod outbox;
mod positions;
mod reconcile;
mod replay;
mod roster;
mod snapshot;
mod symbol_map;
pub mod testkit;
mod working;

pub use account::BrainAccount;
pub use bracket::{Bracket, BracketPrices};
pub use brains::BrainStats;
pub use command::{CancelOrder, CancelReason, Command, PlaceOrder};
pub use config::{EngineConfig, JournalDetail, LegRejectedPolicy};
pub use engine::Engine;
pub use entry_block::{DriftPolicy, EntryBlock, EntryBlocks};
pub use error::EngineError;
pub use event::{EngineEvent, FillField, Malformed, PositionField};
pub use exit_retry::ExitRetry;
pub use fill_check::{InvalidFill, check_fill};
pub use gate::{RefusalReason, RefusalRecord};
pub use ids::{BrainId, ClientIdSequence, SymbolSlot};
pub use invariants::InvariantViolation;
pub use journal::{JOURNAL_FORMAT, JournalRecord};
pub use orders::{ExitReason, OrderBook, OrderRole, TrackedOrder};
pub use roster::{BrainRoster, RosterError};
/// The one ledger lives in core, where the simulated venue shares it; re-exported here, where the
/// engine's positions and journal use it.
pub use rustrade_core::{ClosedTrade, FillEffect, Ledger};
pub use snapshot::{ENGINE_SNAPSHOT_VERSION, EngineSnapshot};
