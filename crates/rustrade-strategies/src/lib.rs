//! Ready-made rustrade strategies and a registry that builds them by name.
//!
//! Five long-only rules over candles, each a [`Rule`] run per symbol by [`RuleBrain`] (a
//! [`Brain`](rustrade_core::Brain), so each runs unchanged in a backtest, in paper trading and
//! live):
//!
//! | name | parameters (defaults) | enters | exits |
//! | --- | --- | --- | --- |
//! | `sma_cross` | `fast` 10, `slow` 30 | fast SMA crosses above slow | crosses below |
//! | `ema_cross` | `fast` 12, `slow` 26 | fast EMA crosses above slow | crosses below |
//! | `rsi_reversion` | `period` 14, `oversold` 30, `overbought` 70 | RSI falls through `oversold` | RSI rises through `overbought` |
//! | `bollinger_breakout` | `period` 20, `std_dev` 2 | close crosses above upper band | close crosses below middle band |
//! | `donchian_breakout` | `entry` 20, `exit` 10 | close above prior `entry`-bar high | close below prior `exit`-bar low |
//!
//! [`build`] takes a name and a JSON parameter object; unknown keys, wrong types and invalid
//! values are [`StrategyError`]s naming the key and the value (`fast: must be < slow (got 30 >=
//! 20)`). [`list`] enumerates the registry with default parameters.
//!
//! A strategy of your own joins a [`Registry`] by implementing [`Strategy`] on its parameter
//! type; it is then parsed, defaulted, validated and listed exactly as the ready ones (the
//! `rustrade` command runs over such a registry: see `rustrade_cli::App`).
//!
//! # Shared indicator series
//!
//! A parameter sweep runs one strategy at many points over the same candles, and points repeat
//! indicators. [`SeriesCache`] computes each [`SeriesKey`] once over a data set; a brain built
//! with [`StrategyInfo::build_shared`] (or [`RuleBrain::shared`]) reads the values instead of
//! updating its own indicator, and decides bit for bit as one built with [`build`]. Every ready
//! strategy names its series ([`Strategy::shared_series`]); `rustrade sweep` builds one cache
//! per data segment.
//!
//! # Indicators
//!
//! [`indicators`] holds the common TA-Lib set as streaming indicators (one `next` call per bar,
//! `None` until warmed up, no allocation after construction): moving averages (SMA, EMA, WMA,
//! DEMA, TEMA), RSI, MACD, ROC, stochastic, CCI, true range, ATR, standard deviation, Bollinger,
//! Keltner and Donchian channels, ADX with +DI/−DI, parabolic SAR, SuperTrend, OBV, MFI and VWAP.
//! After the warm-up their values are TA-Lib's at the same first index; this crate's tests compare
//! every output with columns TA-Lib generated for shipped quotes (`tests/data/gen_talib.py`).
//! They are built on the [`yata`] crate where its arithmetic is TA-Lib's, and written out where it
//! is not (the module docs say which and why). `docs/indicators.md` lists each indicator with its
//! parameters, warm-up and reference.
//!
//! ```
//! use rustrade_core::{Candle, MarketEvent, Position, Symbol, Timestamp, Venue};
//!
//! let brain = rustrade_strategies::build("sma_cross", &serde_json::json!({"fast": 2, "slow": 3}))?;
//! let (venue, symbol) = (Venue::new("sim")?, Symbol::new("BTCUSDT")?);
//! let mut decisions = Vec::new();
//! for (i, close) in [5.0, 4.0, 3.0, 2.0, 6.0].into_iter().enumerate() {
//!     let t = Timestamp::from_secs(i as i64 * 60)?;
//!     let candle = Candle::new(t, close, close, close, close, 1.0)?;
//!     let event = MarketEvent::candle(venue, symbol, t, candle);
//!     decisions.push(brain.on_event(&event, &Position::FLAT)?);
//! }
//! assert!(decisions[..4].iter().all(|d| d.is_hold()));
//! assert_eq!(decisions[4], rustrade_core::Decision::buy(1.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bollinger_breakout;
mod direction;
mod donchian_breakout;
mod ema_cross;
mod error;
pub mod indicators;
mod registry;
mod rsi_reversion;
mod rule;
mod shared;
mod sma_cross;

pub use bollinger_breakout::{BollingerBreakout, BollingerBreakoutState};
pub use direction::Direction;
pub use donchian_breakout::{DonchianBreakout, DonchianBreakoutState};
pub use ema_cross::{EmaCross, EmaCrossState};
pub use error::StrategyError;
pub use registry::{
    Registry, Strategy, StrategyInfo, build, build_named, info, list, resolve_params,
};
pub use rsi_reversion::{RsiReversion, RsiReversionState};
pub use rule::{Rule, RuleBrain, Trigger};
pub use shared::{Computed, Cursor, Series, SeriesCache, SeriesKey, SymbolSeries};
pub use sma_cross::{SmaCross, SmaCrossState};
