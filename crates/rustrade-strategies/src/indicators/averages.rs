//! Moving averages: simple, exponential, weighted, double and triple exponential.

use yata::core::Method;
use yata::methods::{EMA, WMA};

use super::window::Ring;
use super::{Warmup, seeded, yata_method};
use crate::StrategyError;
use crate::error::check_period;

/// Simple moving average: the mean of the last `n` values (TA-Lib `SMA`). Lookback `n − 1`.
///
/// A running sum updated in TA-Lib's order (add the new value, divide, then drop the oldest), so
/// the rounding residue is TA-Lib's too, bit for bit: it shows where a mean should be exactly 0,
/// such as the slow %K of a [`Stochastic`](super::Stochastic) over flat bars. (yata's `SMA`
/// updates the mean itself, `mean += (x − old) / n`, and leaves a different residue.)
#[derive(Debug, Clone)]
pub struct Sma {
    period: u16,
    window: Ring<f64>,
    sum: f64,
}

impl Sma {
    /// An SMA over `period >= 1` values.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        Ok(Self {
            period,
            window: Ring::new(usize::from(period)),
            sum: 0.0,
        })
    }

    /// Bars consumed before the first value: `period − 1`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period) - 1
    }

    /// Feeds one value; the mean once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        self.sum += x;
        if !self.window.is_full() {
            return None;
        }
        let mean = self.sum / f64::from(self.period);
        self.sum -= self.window.oldest().unwrap_or(0.0);
        Some(mean)
    }
}

/// Exponential moving average with `α = 2 / (n + 1)`, seeded with the SMA of the first `n`
/// values, then `ema += α (x − ema)` (TA-Lib `EMA`). Lookback `n − 1`.
#[derive(Debug, Clone)]
pub struct Ema {
    period: u16,
    seen: u16,
    seed_sum: f64,
    inner: Option<EMA>,
}

impl Ema {
    /// An EMA over `period >= 1` values.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        yata_method::<EMA>("period", period)?;
        Ok(Self {
            period,
            seen: 0,
            seed_sum: 0.0,
            inner: None,
        })
    }

    /// Bars consumed before the first value: `period − 1`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period) - 1
    }

    /// Feeds one value; the average once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        if let Some(m) = &mut self.inner {
            return Some(m.next(&x));
        }
        self.seen += 1;
        self.seed_sum += x;
        if self.seen < self.period {
            return None;
        }
        let seed = self.seed_sum / f64::from(self.period);
        self.inner = Some(seeded(self.period, seed));
        Some(seed)
    }
}

/// Linearly weighted moving average: weights `1..=n`, the newest value weighing `n` (TA-Lib
/// `WMA`). Lookback `n − 1`.
#[derive(Debug, Clone)]
pub struct Wma {
    period: u16,
    warmup: Warmup,
    inner: WMA,
}

impl Wma {
    /// A WMA over `period >= 1` values.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        Ok(Self {
            period,
            warmup: Warmup::new(usize::from(period) - 1),
            inner: yata_method("period", period)?,
        })
    }

    /// Bars consumed before the first value: `period − 1`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period) - 1
    }

    /// Feeds one value; the weighted mean once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        let v = self.inner.next(&x);
        self.warmup.step().then_some(v)
    }
}

/// Double exponential moving average `2 e1 − e2`, where `e1` is the [`Ema`] of the input and `e2`
/// the [`Ema`] of `e1`, each seeded with its own first SMA (TA-Lib `DEMA`). Lookback
/// `2 (n − 1)`.
#[derive(Debug, Clone)]
pub struct Dema {
    e1: Ema,
    e2: Ema,
}

impl Dema {
    /// A DEMA over `period >= 1` values.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        Ok(Self {
            e1: Ema::new(period)?,
            e2: Ema::new(period)?,
        })
    }

    /// Bars consumed before the first value: `2 (period − 1)`.
    pub fn lookback(&self) -> usize {
        self.e1.lookback() + self.e2.lookback()
    }

    /// Feeds one value; the DEMA once both averages are seeded.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        let a = self.e1.next(x)?;
        let b = self.e2.next(a)?;
        Some(2.0 * a - b)
    }
}

/// Triple exponential moving average `3 e1 − 3 e2 + e3` over a chain of three [`Ema`]s (TA-Lib
/// `TEMA`). Lookback `3 (n − 1)`.
#[derive(Debug, Clone)]
pub struct Tema {
    e1: Ema,
    e2: Ema,
    e3: Ema,
}

impl Tema {
    /// A TEMA over `period >= 1` values.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        Ok(Self {
            e1: Ema::new(period)?,
            e2: Ema::new(period)?,
            e3: Ema::new(period)?,
        })
    }

    /// Bars consumed before the first value: `3 (period − 1)`.
    pub fn lookback(&self) -> usize {
        self.e1.lookback() * 3
    }

    /// Feeds one value; the TEMA once all three averages are seeded.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        let a = self.e1.next(x)?;
        let b = self.e2.next(a)?;
        let c = self.e3.next(b)?;
        Some(3.0 * a - 3.0 * b + c)
    }
}
