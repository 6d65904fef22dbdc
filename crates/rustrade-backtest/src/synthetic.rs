//! Seeded synthetic candles for tests and benchmarks.
//!
//! A geometric random walk: each bar's close is `open × exp(σ·z)` with `z` approximately
//! standard normal (the sum of four uniforms, rescaled), the next bar opens at the previous
//! close, and the high and low extend past the body by `σ/2 × u` with `u` uniform in `[0, 1)`.
//! The same seed and parameters always yield the same bits on every machine: the generator is
//! `fastrand::Rng::with_seed` and only IEEE-exact operations plus `exp` are used.

use std::time::Duration;

use rustrade_core::{Candle, MarketEvent, Symbol, Timestamp, Venue};

use crate::DataError;
use crate::data::default_venue;

/// Shape of a generated walk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkParams {
    /// Open of the first bar, `> 0`.
    pub start_price: f64,
    /// Per-bar standard deviation of the log return.
    pub volatility: f64,
    /// Bar length; event times are bar closes.
    pub interval: Duration,
    /// Open time of the first bar.
    pub start: Timestamp,
}

impl Default for WalkParams {
    /// 100.0, 1 % per bar, one-minute bars from 2024-01-01T00:00:00Z.
    fn default() -> Self {
        Self {
            start_price: 100.0,
            volatility: 0.01,
            interval: Duration::from_secs(60),
            start: Timestamp::from_nanos(1_704_067_200_000_000_000),
        }
    }
}

/// `n` candles of symbol `SYN` with default parameters.
///
/// ```
/// let bars: Vec<_> = rustrade_backtest::synthetic::random_walk(7, 100).collect::<Result<_, _>>()?;
/// assert_eq!(bars.len(), 100);
/// let again: Vec<_> = rustrade_backtest::synthetic::random_walk(7, 100).collect::<Result<_, _>>()?;
/// assert_eq!(bars, again);
/// # Ok::<(), rustrade_backtest::DataError>(())
/// ```
pub fn random_walk(seed: u64, n: usize) -> RandomWalk {
    random_walk_for(synthetic_symbol(), seed, n, WalkParams::default())
}

/// `n` candles of `symbol` with the given parameters.
pub fn random_walk_for(symbol: Symbol, seed: u64, n: usize, params: WalkParams) -> RandomWalk {
    RandomWalk {
        rng: fastrand::Rng::with_seed(seed),
        venue: default_venue(),
        symbol,
        params,
        price: params.start_price,
        index: 0,
        n,
    }
}

/// The symbol [`random_walk`] uses.
pub fn synthetic_symbol() -> Symbol {
    Symbol::new("SYN").expect("`SYN` is a valid symbol")
}

/// Iterator of generated candle events; exact size.
#[derive(Debug, Clone)]
pub struct RandomWalk {
    rng: fastrand::Rng,
    venue: Venue,
    symbol: Symbol,
    params: WalkParams,
    price: f64,
    index: usize,
    n: usize,
}

impl Iterator for RandomWalk {
    type Item = Result<MarketEvent, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.n {
            return None;
        }
        let p = self.params;
        let nanos = i64::try_from(p.interval.as_nanos()).unwrap_or(i64::MAX);
        let i = i64::try_from(self.index).unwrap_or(i64::MAX);
        let open_time =
            Timestamp::from_nanos(p.start.as_nanos().saturating_add(nanos.saturating_mul(i)));
        let close_time = Timestamp::from_nanos(open_time.as_nanos().saturating_add(nanos));
        self.index += 1;
        let z =
            (self.rng.f64() + self.rng.f64() + self.rng.f64() + self.rng.f64() - 2.0) * 3f64.sqrt();
        let open = self.price;
        let close = open * (p.volatility * z).exp();
        let high = open.max(close) * (1.0 + p.volatility * 0.5 * self.rng.f64());
        let low = open.min(close) * (1.0 - (p.volatility * 0.5 * self.rng.f64()).min(0.5));
        let volume = 1_000.0 * (0.5 + self.rng.f64());
        self.price = close;
        Some(
            Candle::new(open_time, open, high, low, close, volume)
                .map(|c| MarketEvent::candle(self.venue, self.symbol, close_time, c))
                .map_err(|e| DataError::BadValue {
                    file: "synthetic".to_owned(),
                    line: self.index as u64,
                    column: "candle".to_owned(),
                    value: format!("{open} {high} {low} {close}"),
                    reason: e.to_string(),
                }),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.n - self.index;
        (left, Some(left))
    }
}

impl ExactSizeIterator for RandomWalk {}
