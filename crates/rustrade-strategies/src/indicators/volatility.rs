//! Volatility: true range, average true range, standard deviation.

use yata::core::Method;
use yata::methods::RMA;

use super::window::Moments;
use super::{seeded, yata_method};
use crate::StrategyError;
use crate::error::check_period;

/// True range: the largest of `high − low`, `|high − previous close|` and
/// `|low − previous close|` (TA-Lib `TRANGE`). Lookback 1: the first bar has no previous close.
#[derive(Debug, Clone, Default)]
pub struct TrueRange {
    prev_close: Option<f64>,
}

impl TrueRange {
    /// A true range, which has no parameter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bars consumed before the first value: 1.
    pub fn lookback(&self) -> usize {
        1
    }

    /// Feeds one bar; its true range from the second bar on.
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        Some(true_range(high, low, prev))
    }
}

/// Wilder's average true range over `n` bars (TA-Lib `ATR`). Lookback `n`.
///
/// Seeded with the mean of the first `n` true ranges (bars 1 to `n`), then
/// `atr = (atr · (n − 1) + tr) / n`.
#[derive(Debug, Clone)]
pub struct Atr {
    period: u16,
    tr: TrueRange,
    seen: u16,
    seed_sum: f64,
    smoothed: Option<RMA>,
}

impl Atr {
    /// An ATR over `period >= 1` bars.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        yata_method::<RMA>("period", period)?;
        Ok(Self {
            period,
            tr: TrueRange::new(),
            seen: 0,
            seed_sum: 0.0,
            smoothed: None,
        })
    }

    /// Bars consumed before the first value: `period`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period)
    }

    /// Feeds one bar; the ATR once `period` true ranges were seen.
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let tr = self.tr.next(high, low, close)?;
        if let Some(m) = &mut self.smoothed {
            return Some(m.next(&tr));
        }
        self.seen += 1;
        self.seed_sum += tr;
        if self.seen < self.period {
            return None;
        }
        let seed = self.seed_sum / f64::from(self.period);
        self.smoothed = Some(seeded(self.period, seed));
        Some(seed)
    }
}

/// Population standard deviation of the last `n` values (TA-Lib `STDDEV` with one deviation),
/// 0 when the variance is within TA-Lib's zero tolerance. Lookback `n − 1`.
#[derive(Debug, Clone)]
pub struct StdDev {
    period: u16,
    moments: Moments,
}

impl StdDev {
    /// A standard deviation over `period >= 2` values.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 2)?;
        Ok(Self {
            period,
            moments: Moments::new(period),
        })
    }

    /// Bars consumed before the first value: `period − 1`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period) - 1
    }

    /// Feeds one value; the deviation once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        let (_, variance) = self.moments.next(x)?;
        Some(variance.sqrt())
    }
}

/// TA-Lib's true range of a bar given the previous close.
pub(super) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    (high - low)
        .max((prev_close - high).abs())
        .max((prev_close - low).abs())
}
