//! Domain types and the contracts every other rustrade crate is written against.
//!
//! Values that reach money — [`Price`], [`Quantity`], [`Money`], [`Timestamp`] — are validated
//! newtypes: NaN and infinities cannot be represented, and every constructor error names the field
//! and the value ([`ValueError`]). Identifiers ([`Symbol`], [`ClientOrderId`], ...) are inline,
//! `Copy` strings, so a [`MarketEvent`] fans out to many brains without a heap allocation.
//!
//! [`Ledger`] is the one position accounting from fills (average entry, realised PnL, fees of
//! both legs, flatness in lots, value with the contract value) that the engine and the simulated
//! venue share.
//!
//! The traits: [`Brain`] (a strategy), [`ExchangeClient`] (order entry), [`MarketSource`],
//! [`FillSource`] and [`CandleSource`] (venue streams), [`StateStore`] (persistence) and
//! [`MetricsSink`]. [`Resampler`] and [`OnTimeframe`] run a brain on longer bars built from its
//! feed. This crate does no I/O and never reads the clock: time is always an argument.
//!
//! ```
//! use rustrade_core::{AssetClass, Decision, InstrumentSpec, Price, Symbol};
//!
//! let spec = InstrumentSpec::new(Symbol::new("BTCUSDT")?, AssetClass::CryptoPerp, 0.1, 0.001)?;
//! let limit = spec.round_price(30_123.456);
//! let decision = Decision::buy(0.9).with_limit_price(limit).with_stop(Price::new(29_000.0)?);
//! assert_eq!(spec.render_price(limit), "30123.5");
//! assert!(!decision.is_hold());
//! # Ok::<(), rustrade_core::ValueError>(())
//! ```

mod account;
mod brain;
mod bus;
mod decision;
mod error;
mod exchange;
mod fill;
mod id_hash;
mod ids;
mod inline_str;
mod instrument;
mod ledger;
mod market;
mod metrics;
mod money;
mod order;
mod position;
mod price;
mod print_index;
mod print_slab;
mod quantity;
mod resample;
mod secret;
mod side;
mod signal;
mod small_map;
mod source;
mod store;
mod timeframe;
mod timestamp;

pub use async_trait::async_trait;

pub use account::{AccountView, BrainContext, NoAccount};
pub use brain::{Brain, BrainHealth};
pub use bus::{Bus, MarketDataBus};
pub use decision::{Action, Decision, SizeHint};
pub use error::{BrainError, ExchangeError, StoreError, ValueError};
pub use exchange::{Balance, Capability, ExchangeClient, FillCursor, OrderState};
pub use fill::{ExecutionReport, Fill, Liquidity, RejectReason};
pub use id_hash::{IdBuildHasher, IdHasher};
pub use ids::{Asset, ClientOrderId, ClientOrderIdPrefix, FillId, OrderId, Symbol, Venue};
pub use instrument::{AssetClass, InstrumentSpec};
pub use ledger::{ClosedTrade, FillEffect, Ledger};
pub use market::{Candle, MarketData, MarketEvent, Quote, Trade};
pub use metrics::{Label, MemoryMetrics, MetricsSink, NoopMetrics};
pub use money::Money;
pub use order::{OpenOrder, Order, OrderKind, OrderStatus, Protection, TimeInForce};
pub use position::{Position, QTY_EPSILON};
pub use price::Price;
pub use print_index::PrintIndex;
pub use print_slab::PrintSlab;
pub use quantity::Quantity;
pub use resample::{Closed, ResampledBar, Resampler};
pub use secret::Secret;
pub use side::Side;
pub use signal::{Signal, SignalBus};
pub use small_map::SmallMap;
pub use source::{CandleSource, FillSource, MarketSource};
pub use store::{MemoryStore, StateStore, StoreOp, validate_key, validate_ops};
pub use timeframe::OnTimeframe;
pub use timestamp::Timestamp;
