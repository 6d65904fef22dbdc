//! The replay driver of rustrade: the same engine and risk gates as the live bot, a simulated
//! venue, and historical or synthetic data, in one synchronous deterministic loop.
//!
//! - [`Backtest`] (built with [`Backtest::builder`]): instruments, cash, risk and engine
//!   configuration, venue models (fees, slippage, latency, `trade_on_close`) and brains;
//!   [`Backtest::run`] replays any `Iterator<Item = Result<MarketEvent, DataError>>`.
//! - [`data`]: streaming loaders ([`data::CandleCsv`] for OHLCV CSV and Binance kline dumps) and
//!   a k-way [`data::merge`] of several symbols; [`synthetic`] generates seeded candles.
//! - [`BacktestResult`]: fills, closed trades, equity curve and [`Statistics`] (every formula in
//!   [`stats`]), exported as JSON, fills CSV, trades CSV and equity CSV. [`Backtest::run_with`]
//!   streams fills, trades and the equity curve to the sinks of an [`Outputs`] instead (CSV
//!   files, a downsampled curve, statistics only), so memory need not grow with the history.
//! - [`sweep`]: grid and seeded random parameter searches in parallel, ranked by an objective,
//!   with an optional walk-forward split.
//! - [`brains`]: a hold brain and a periodic one, used by the benchmarks and tests.
//!
//! Determinism: no wall clock, seeded randomness only, ordered maps wherever order reaches output;
//! two runs over the same inputs produce bit-identical results.
//!
//! ```
//! use std::sync::Arc;
//! use rustrade_backtest::data::{CandleCsv, CsvOptions};
//! use rustrade_backtest::{brains::Periodic, Backtest};
//! use rustrade_core::{AssetClass, InstrumentSpec, Symbol};
//!
//! let spy = Symbol::new("SPY")?;
//! let csv = "date,open,high,low,close,volume\n\
//!            2024-01-02,100,101,99,100.5,1000\n\
//!            2024-01-03,100.5,102,100,101.5,1200\n\
//!            2024-01-04,101.5,103,101,102.5,900\n";
//! let data = CandleCsv::from_reader(csv.as_bytes(), "inline.csv", CsvOptions::new(spy))?;
//! let result = Backtest::builder()
//!     .instrument(InstrumentSpec::new(spy, AssetClass::Equity, 0.01, 0.001)?)
//!     .initial_cash(10_000.0)
//!     .brain(Arc::new(Periodic::new(2)))
//!     .build()?
//!     .run(data)?;
//! assert_eq!(result.equity.len(), 4); // n + 1 samples
//! assert_eq!(result.trades.len(), 1); // bought on day 1's decision, closed on day 2's
//! let mut trades_csv = Vec::new();
//! result.write_trades_csv(&mut trades_csv)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backtest;
pub mod brains;
pub mod data;
mod error;
mod result;
mod run;
mod sink;
pub mod stats;
pub mod sweep;
pub mod synthetic;

pub use backtest::{Backtest, BacktestBuilder};
pub use error::{BacktestError, DataError};
pub use result::{BacktestResult, BrainName, EquityPoint, OrderCounts, TradeRecord};
pub use sink::{EquitySink, Outputs, RecordSink};
pub use stats::Statistics;
