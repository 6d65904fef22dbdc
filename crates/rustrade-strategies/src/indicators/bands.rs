//! Bands and channels around a price: Bollinger, Keltner, Donchian.

use super::window::{Moments, RollingMax};
use super::{Atr, Ema, check_positive};
use crate::StrategyError;
use crate::error::check_period;

/// One reading of a band indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// The upper band.
    pub upper: f64,
    /// The centre line.
    pub middle: f64,
    /// The lower band.
    pub lower: f64,
}

/// Bollinger bands: the SMA of the last `n` values ± `k` population standard deviations (TA-Lib
/// `BBANDS` with a simple average, its default). Lookback `n − 1`.
#[derive(Debug, Clone)]
pub struct Bollinger {
    period: u16,
    k: f64,
    moments: Moments,
}

impl Bollinger {
    /// Bands over `period >= 2` values at `k > 0` deviations.
    pub fn new(period: u16, k: f64) -> Result<Self, StrategyError> {
        check_period("period", period, 2)?;
        check_positive("std_dev", k)?;
        Ok(Self {
            period,
            k,
            moments: Moments::new(period),
        })
    }

    /// Bars consumed before the first value: `period − 1`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period) - 1
    }

    /// Feeds one value; the bands once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<Bands> {
        let (mean, deviation) = self.moments(x)?;
        let width = self.k * deviation;
        Some(Bands {
            upper: mean + width,
            middle: mean,
            lower: mean - width,
        })
    }
}

impl Bollinger {
    /// Feeds one value; the mean and the population standard deviation the bands are built
    /// from (`upper = mean + k · deviation`), once `period` values were seen.
    pub(crate) fn moments(&mut self, x: f64) -> Option<(f64, f64)> {
        let (mean, variance) = self.moments.next(x)?;
        Some((mean, variance.sqrt()))
    }
}

/// Keltner channel: the [`Ema`] of the close over `n` bars ± `k` times the [`Atr`] over `m` bars.
/// Lookback `max(n − 1, m)`.
///
/// TA-Lib has no Keltner channel. This is the convention of StockCharts and of Stock Indicators'
/// `GetKeltner` (EMA centre, ATR width; defaults 20, 2, 10), with TA-Lib's EMA and ATR; Keltner's
/// original version (a 10-day SMA of the typical price ± the SMA of the high−low range) is not
/// offered.
#[derive(Debug, Clone)]
pub struct Keltner {
    k: f64,
    ema: Ema,
    atr: Atr,
}

impl Keltner {
    /// A channel with an EMA over `period >= 1` bars and `multiplier > 0` ATRs over
    /// `atr_period >= 1` bars.
    pub fn new(period: u16, multiplier: f64, atr_period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        check_positive("multiplier", multiplier)?;
        check_period("atr_period", atr_period, 1)?;
        Ok(Self {
            k: multiplier,
            ema: Ema::new(period)?,
            atr: Atr::new(atr_period)?,
        })
    }

    /// Bars consumed before the first value: `max(period − 1, atr_period)`.
    pub fn lookback(&self) -> usize {
        self.ema.lookback().max(self.atr.lookback())
    }

    /// Feeds one bar; the channel once both the EMA and the ATR have values.
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<Bands> {
        let middle = self.ema.next(close);
        let atr = self.atr.next(high, low, close);
        let (middle, atr) = (middle?, atr?);
        Some(Bands {
            upper: middle + self.k * atr,
            middle,
            lower: middle - self.k * atr,
        })
    }
}

/// Donchian channel: the highest high and the lowest low of the last `n` bars, and their mean
/// (TA-Lib `MAX` of the highs and `MIN` of the lows). Lookback `n − 1`.
///
/// The current bar is part of the window; a breakout rule compares a close with the channel of
/// the bars before it by keeping the previous reading.
#[derive(Debug, Clone)]
pub struct Donchian {
    period: u16,
    highest: RollingMax,
    /// Highest of the negated lows.
    lowest: RollingMax,
}

impl Donchian {
    /// A channel over `period >= 1` bars.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        Ok(Self {
            period,
            highest: RollingMax::new(usize::from(period)),
            lowest: RollingMax::new(usize::from(period)),
        })
    }

    /// Bars consumed before the first value: `period − 1`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period) - 1
    }

    /// Feeds one bar's high and low; the channel once `period` bars were seen.
    pub fn next(&mut self, high: f64, low: f64) -> Option<Bands> {
        let upper = self.highest.next(high);
        let lower = self.lowest.next(-low).map(|l| -l);
        let (upper, lower) = (upper?, lower?);
        Some(Bands {
            upper,
            middle: (upper + lower) / 2.0,
            lower,
        })
    }
}
