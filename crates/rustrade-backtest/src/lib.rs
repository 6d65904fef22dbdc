//! The replay driver of rustrade: the same engine and risk gates as the live bot, a simulated
//! venue, and historical or synthetic data, in one synchronous deterministic loop.
//!
//! - [`data`]: streaming loaders ([`data::CandleCsv`] for OHLCV CSV and Binance kline dumps), a
//!   k-way [`data::merge`] of several symbols, and [`synthetic`] seeded candles.
//! - [`stats`]: the statistics of a run, with every formula in the module doc.
//! - [`sweep`]: grid and random parameter searches in parallel, with walk-forward splits.
//! - [`BacktestResult`]: fills, closed trades, equity curve, statistics; JSON and CSV exports.
//!
//! Determinism: no wall clock, seeded randomness only, ordered maps wherever order reaches output;
//! two runs over the same inputs produce bit-identical results.

mod backtest;
pub mod brains;
pub mod data;
mod error;
mod result;
pub mod stats;
pub mod sweep;
pub mod synthetic;

pub use backtest::{Backtest, BacktestBuilder};
pub use error::{BacktestError, DataError};
pub use result::{BacktestResult, BrainName, EquityPoint, OrderCounts, TradeRecord};
pub use stats::Statistics;
