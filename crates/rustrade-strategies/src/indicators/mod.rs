//! Streaming technical indicators with TA-Lib's values and warm-up.
//!
//! Every indicator takes one bar per `next` call and answers `None` until it has seen enough bars
//! for a value that depends on real inputs only; `lookback()` says how many bars that is (the
//! first value comes with bar number `lookback() + 1`, index `lookback()` counting from 0). After
//! the warm-up the values are TA-Lib's (the C library 0.8, through its Python wrapper), at the
//! same first index, including its seeds and its rules for degenerate windows. Indicators TA-Lib
//! lacks (Keltner, SuperTrend, VWAP) follow the convention named on their type. The full table,
//! with parameters, warm-ups and references, is `docs/indicators.md`.
//!
//! | family | indicators |
//! | --- | --- |
//! | moving averages | [`Sma`], [`Ema`], [`Wma`], [`Dema`], [`Tema`] |
//! | momentum | [`Rsi`], [`Macd`], [`Roc`] |
//! | oscillators | [`Stochastic`], [`Cci`] |
//! | volatility | [`TrueRange`], [`Atr`], [`StdDev`] |
//! | bands and channels | [`Bollinger`], [`Keltner`], [`Donchian`] |
//! | trend | [`Adx`] (with +DI and −DI), [`ParabolicSar`], [`SuperTrend`] |
//! | volume | [`Obv`], [`Mfi`], [`Vwap`] |
//!
//! # Invariants
//!
//! - No allocation after construction: windows are allocated by `new`, `next` only writes them.
//! - `O(1)` per `next` except [`Cci`] (`O(n)`: a mean deviation has no running form); `O(1)`
//!   amortised for the rolling extremes of [`Donchian`] and [`Stochastic`] (`O(n)` when the
//!   extreme leaves the window) and the variance of [`StdDev`] and [`Bollinger`] (`O(n)` when its
//!   shifted sums are rebuilt, at least every `32 n` bars).
//! - Inputs are expected finite (candle prices are). A NaN input makes later values NaN or
//!   meaningless but never panics.
//! - Degenerate windows (no range, no movement, no volume) answer what TA-Lib answers, usually
//!   0, with TA-Lib's zero tests: exact for sums that only grow (true ranges, gains and losses),
//!   relative to the price level (`|x| <= 1e-14 · scale`) for differences of prices, and a fixed
//!   `1e-14` band for dimensionless ratios. Each type documents its rule.
//!
//! # yata or hand-written
//!
//! [`yata`] is used where its arithmetic is TA-Lib's: `WMA`, `EMA` (after seeding it with the
//! simple mean, as TA-Lib does) and Wilder's `RMA` for the smoothing of [`Rsi`] and [`Atr`]. The
//! rest is written here because yata's version differs from TA-Lib's: its `SMA` leaves a
//! different rounding residue where a mean should be exactly 0 (see [`Sma`]), it seeds its
//! averages with the first value instead of a simple mean (DEMA, TEMA, MACD, ADX, SAR), its
//! deviation is the sample one from running sums of squares, which lose digits to cancellation
//! far from zero (standard deviation, Bollinger),
//! it lacks TA-Lib's zero tests (CCI, MFI, stochastic), its rolling extremes panic on a NaN
//! (Donchian, stochastic), or it lacks the indicator (OBV, SuperTrend, VWAP).

mod averages;
mod bands;
mod momentum;
mod oscillators;
mod trend;
mod volatility;
mod volume;
mod window;

pub use averages::{Dema, Ema, Sma, Tema, Wma};
pub use bands::{Bands, Bollinger, Donchian, Keltner};
pub use momentum::{Macd, MacdValue, Roc, Rsi};
pub use oscillators::{Cci, Stochastic, StochasticValue};
pub use trend::{Adx, AdxValue, ParabolicSar, SuperTrend, SuperTrendValue, Trend};
pub use volatility::{Atr, StdDev, TrueRange};
pub use volume::{Mfi, Obv, Vwap};

use yata::core::Method;

use crate::StrategyError;

/// TA-Lib's tolerance in its tests for zero (`TA_EPSILON`).
const EPSILON: f64 = 1e-14;

/// Whether a dimensionless `x` is zero by TA-Lib's fixed band (`TA_IS_ZERO`).
fn is_zero(x: f64) -> bool {
    x.abs() < EPSILON
}

/// Whether a difference `x` of quantities of magnitude `scale` is zero by TA-Lib's relative
/// band (`TA_IS_ZERO_SCALED`): rounding residue of equal prices, whatever the price level.
fn is_zero_scaled(x: f64, scale: f64) -> bool {
    x.abs() <= EPSILON * scale
}

/// Counts down the bars of a warm-up: [`Warmup::step`] is `false` for the first `lookback`
/// bars and `true` from then on.
#[derive(Debug, Clone, Copy)]
struct Warmup {
    remaining: usize,
}

impl Warmup {
    fn new(lookback: usize) -> Self {
        Self {
            remaining: lookback,
        }
    }

    /// Records one bar; whether it is past the warm-up.
    fn step(&mut self) -> bool {
        if self.remaining == 0 {
            return true;
        }
        self.remaining -= 1;
        false
    }
}

/// A yata method over `period`, built from a zero start value, after asking yata whether it
/// accepts `period` (naming `field` if not).
///
/// A windowed yata method started at zero holds only real inputs once `period` values were
/// pushed, and its running value is then exact; callers hide the outputs before that.
fn yata_method<M>(field: &'static str, period: u16) -> Result<M, StrategyError>
where
    M: Method<Params = u16, Input = f64, Output = f64>,
{
    M::new(period, &0.0).map_err(|e| {
        StrategyError::invalid(
            field,
            format!("refused by the indicator library: {e:?} (got {period})"),
        )
    })
}

/// A yata method over `period` starting from `seed`.
///
/// yata refuses only a period it cannot handle (checked by the constructors through
/// [`yata_method`]) or a non-finite start value (these methods accept any), so a refusal here is a
/// broken invariant of this module, not bad input.
fn seeded<M>(period: u16, seed: f64) -> M
where
    M: Method<Params = u16, Input = f64, Output = f64>,
{
    M::new(period, &seed).expect("period validated at construction")
}

/// Checks a multiplier or step is finite and `> 0`.
fn check_positive(field: &'static str, value: f64) -> Result<(), StrategyError> {
    if value.is_finite() && value > 0.0 {
        return Ok(());
    }
    Err(StrategyError::invalid(
        field,
        format!("must be finite and > 0 (got {value})"),
    ))
}
