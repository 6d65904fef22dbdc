//! Range oscillators: the slow stochastic and the commodity channel index.

use super::window::{Ring, RollingMax};
use super::{Sma, is_zero_scaled};
use crate::StrategyError;
use crate::error::check_period;

/// One slow-stochastic reading, both in `0..=100`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochasticValue {
    /// Slow %K: the SMA over `k_smooth` bars of the fast %K.
    pub k: f64,
    /// %D: the SMA over `d_period` bars of the slow %K.
    pub d: f64,
}

/// Slow stochastic oscillator (TA-Lib `STOCH` with simple averages, its default). Lookback
/// `(k_period − 1) + (k_smooth − 1) + (d_period − 1)`.
///
/// Fast %K is `100 · (close − lowest low) / (highest high − lowest low)` over the last
/// `k_period` bars, and 0 when that range is zero relative to the prices (TA-Lib's rule). As in
/// TA-Lib, both outputs start on the bar where %D has its first value.
#[derive(Debug, Clone)]
pub struct Stochastic {
    highest: RollingMax,
    /// Highest of the negated lows.
    lowest: RollingMax,
    slow_k: Sma,
    d: Sma,
    lookback: usize,
}

impl Stochastic {
    /// A stochastic over `k_period` bars, %K smoothed over `k_smooth` bars and %D over
    /// `d_period` bars, all `>= 1` (the usual 14, 3, 3).
    pub fn new(k_period: u16, k_smooth: u16, d_period: u16) -> Result<Self, StrategyError> {
        check_period("k_period", k_period, 1)?;
        check_period("k_smooth", k_smooth, 1)?;
        check_period("d_period", d_period, 1)?;
        let lookback = usize::from(k_period) + usize::from(k_smooth) + usize::from(d_period) - 3;
        Ok(Self {
            highest: RollingMax::new(usize::from(k_period)),
            lowest: RollingMax::new(usize::from(k_period)),
            slow_k: Sma::new(k_smooth)?,
            d: Sma::new(d_period)?,
            lookback,
        })
    }

    /// Bars consumed before the first value.
    pub fn lookback(&self) -> usize {
        self.lookback
    }

    /// Feeds one bar; slow %K and %D once %D has a value.
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<StochasticValue> {
        let highest = self.highest.next(high);
        let lowest = self.lowest.next(-low).map(|l| -l);
        let (highest, lowest) = (highest?, lowest?);
        let fast_k = if is_zero_scaled(highest - lowest, highest.abs() + lowest.abs()) {
            0.0
        } else {
            (close - lowest) / (highest - lowest) * 100.0
        };
        let k = self.slow_k.next(fast_k)?;
        let d = self.d.next(k)?;
        Some(StochasticValue { k, d })
    }
}

/// Commodity channel index over `n` bars (TA-Lib `CCI`). Lookback `n − 1`.
///
/// With the typical price `tp = (high + low + close) / 3`, its mean `m` and mean absolute
/// deviation `md` over the last `n` bars, the value is `(tp − m) / (0.015 · md)`, and 0 when
/// either `tp − m` or `md` is zero relative to `|m|` (a flat window, whatever the price level).
#[derive(Debug, Clone)]
pub struct Cci {
    period: u16,
    window: Ring<f64>,
}

impl Cci {
    /// A CCI over `period >= 2` bars.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 2)?;
        Ok(Self {
            period,
            window: Ring::new(usize::from(period)),
        })
    }

    /// Bars consumed before the first value: `period − 1`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period) - 1
    }

    /// Feeds one bar; the CCI once `period` bars were seen.
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let tp = (high + low + close) / 3.0;
        self.window.push(tp);
        if !self.window.is_full() {
            return None;
        }
        let n = f64::from(self.period);
        let values = self.window.values();
        let mean = values.iter().sum::<f64>() / n;
        let mean_dev = values.iter().map(|v| (v - mean).abs()).sum::<f64>() / n;
        let dist = tp - mean;
        let scale = mean.abs();
        Some(
            if !is_zero_scaled(dist, scale) && !is_zero_scaled(mean_dev, scale) {
                dist / (0.015 * mean_dev)
            } else {
                0.0
            },
        )
    }
}
