//! A simulated venue for rustrade: deterministic matching of our orders against candles, trades
//! or top-of-book quotes, with pluggable fee, slippage, latency and funding models, a simulated
//! wallet, and a paper exchange that puts the same venue behind the live bot's
//! [`ExchangeClient`](rustrade_core::ExchangeClient).
//!
//! - [`SimVenue`] — the synchronous, I/O-free venue a backtest drives: `submit` / `cancel`
//!   orders, `on_market` events, `poll_report` execution reports. Its module documents the call
//!   protocol and the order life cycle; [`matching`] documents every fill rule. On request
//!   ([`SimVenue::with_history`]) it keeps the account history crash recovery asks for:
//!   finished orders by client id ([`SimVenue::order_state`]) and fills after a cursor
//!   ([`SimVenue::fills_after`]).
//! - [`FeeModel`], [`SlippageModel`], [`LatencyModel`], [`FundingModel`] — the models, each with
//!   its formula in its documentation; [`SimConfig`] gathers them.
//! - [`Wallet`] — cash and funding, with positions, PnL and fees from each symbol's core
//!   [`Ledger`](rustrade_core::Ledger), and the accounting identity.
//! - [`PaperExchange`] and [`PaperFills`] — the live face: an `ExchangeClient` and a
//!   `FillSource` over a shared `SimVenue`, recording its history.
//!
//! The default fill model has no look-ahead: an order decided on bar *t* fills at the open of
//! bar *t + 1* at the earliest.
//!
//! ```
//! use rustrade_core::*;
//! use rustrade_sim::{FeeModel, SimConfig, SimVenue};
//!
//! let sym = Symbol::new("BTCUSDT")?;
//! let config = SimConfig::default().with_fees(FeeModel::rates(0.0002, 0.0005));
//! let mut venue = SimVenue::new(config)?;
//! venue.add_instrument(InstrumentSpec::new(sym, AssetClass::CryptoSpot, 0.01, 0.001)?)?;
//! let bar = |t: i64, o, h, l, c| {
//!     let candle = Candle::new(Timestamp::from_nanos(t), o, h, l, c, 50.0).unwrap();
//!     MarketEvent::candle(Venue::new("sim").unwrap(), sym, Timestamp::from_nanos(t + 1), candle)
//! };
//!
//! venue.on_market(&bar(0, 100.0, 101.0, 99.0, 100.0)); // decision bar closes at 100
//! let price = Price::new(95.0)?;
//! let order = Order::limit(ClientOrderId::new("b-0-1")?, sym, Side::Buy, Quantity::new(1.0)?, price);
//! venue.submit(&order).expect("received");
//! venue.on_market(&bar(2, 99.0, 99.5, 94.0, 96.0)); // low 94 crosses the limit
//! let fill = std::iter::from_fn(|| venue.poll_report())
//!     .find_map(|r| match r { ExecutionReport::Fill(f) => Some(f), _ => None })
//!     .expect("filled");
//! assert_eq!(fill.price.get(), 95.0);
//! assert_eq!(fill.liquidity, Liquidity::Maker);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client_ids;
mod config;
mod error;
mod fees;
mod funding;
mod history;
mod ids;
mod latency;
pub mod matching;
mod paper;
mod slippage;
mod venue;
mod wallet;

pub use client_ids::ENDED_ID_RETENTION;
pub use config::SimConfig;
pub use error::SimError;
pub use fees::FeeModel;
pub use funding::{FundingModel, FundingPayment, FundingRate};
pub use latency::LatencyModel;
pub use paper::{PaperExchange, PaperFills};
pub use slippage::SlippageModel;
pub use venue::{OcoGroup, SimVenue};
pub use wallet::Wallet;
