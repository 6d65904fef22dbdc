//! Momentum: Wilder's RSI, MACD, rate of change.

use yata::core::Method;
use yata::methods::RMA;

use super::window::Ring;
use super::{Ema, seeded, yata_method};
use crate::StrategyError;
use crate::error::{check_fast_below_slow, check_period};

/// Wilder's relative strength index over `n` changes (TA-Lib `RSI`). Lookback `n`.
///
/// Average gain and loss are seeded with the simple mean of the first `n` changes, then smoothed
/// with `α = 1 / n`; the value is `100 · gain / (gain + loss)`, which is 100 when there were no
/// losses and, as in TA-Lib, 0 when there was no movement at all (both averages exactly 0).
#[derive(Debug, Clone)]
pub struct Rsi {
    period: u16,
    prev: Option<f64>,
    changes: u16,
    gain_sum: f64,
    loss_sum: f64,
    smoothed: Option<(RMA, RMA)>,
}

impl Rsi {
    /// An RSI over `period >= 2` changes (TA-Lib's range).
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 2)?;
        yata_method::<RMA>("period", period)?;
        Ok(Self {
            period,
            prev: None,
            changes: 0,
            gain_sum: 0.0,
            loss_sum: 0.0,
            smoothed: None,
        })
    }

    /// Bars consumed before the first value: `period` (the first bar has no change).
    pub fn lookback(&self) -> usize {
        usize::from(self.period)
    }

    /// Feeds one close; the RSI (0..=100) once `period` changes (`period + 1` closes) were seen.
    pub fn next(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let change = close - prev;
        let (gain, loss) = (change.max(0.0), (-change).max(0.0));
        if let Some((g, l)) = &mut self.smoothed {
            return Some(rsi(g.next(&gain), l.next(&loss)));
        }
        self.changes += 1;
        self.gain_sum += gain;
        self.loss_sum += loss;
        if self.changes < self.period {
            return None;
        }
        let n = f64::from(self.period);
        let (avg_gain, avg_loss) = (self.gain_sum / n, self.loss_sum / n);
        self.smoothed = Some((seeded(self.period, avg_gain), seeded(self.period, avg_loss)));
        Some(rsi(avg_gain, avg_loss))
    }
}

/// One MACD reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// Fast EMA minus slow EMA.
    pub line: f64,
    /// EMA of the line.
    pub signal: f64,
    /// Line minus signal.
    pub histogram: f64,
}

/// Moving average convergence/divergence (TA-Lib `MACD`). Lookback `(slow − 1) + (signal − 1)`.
///
/// As in TA-Lib, the fast EMA starts `slow − fast` bars late, so that both averages are seeded on
/// the same bar; the signal line is the [`Ema`] of the MACD line, and all three outputs start
/// together once the signal is seeded. (Libraries that seed the fast EMA on the first bar, such
/// as Stock Indicators, differ in the first values; the gap shrinks geometrically.)
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Bars still to skip before the fast EMA starts.
    fast_delay: u16,
}

impl Macd {
    /// A MACD with `1 <= fast < slow` and `signal >= 1` (the usual 12, 26, 9).
    pub fn new(fast: u16, slow: u16, signal: u16) -> Result<Self, StrategyError> {
        check_period("fast", fast, 1)?;
        check_fast_below_slow(fast, slow)?;
        check_period("signal", signal, 1)?;
        Ok(Self {
            fast: Ema::new(fast)?,
            slow: Ema::new(slow)?,
            signal: Ema::new(signal)?,
            fast_delay: slow - fast,
        })
    }

    /// Bars consumed before the first value: `(slow − 1) + (signal − 1)`.
    pub fn lookback(&self) -> usize {
        self.slow.lookback() + self.signal.lookback()
    }

    /// Feeds one close; line, signal and histogram once the signal line is seeded.
    pub fn next(&mut self, close: f64) -> Option<MacdValue> {
        let slow = self.slow.next(close);
        let fast = if self.fast_delay > 0 {
            self.fast_delay -= 1;
            None
        } else {
            self.fast.next(close)
        };
        let line = fast? - slow?;
        let signal = self.signal.next(line)?;
        Some(MacdValue {
            line,
            signal,
            histogram: line - signal,
        })
    }
}

/// Rate of change in percent, `100 · (x / x[n bars ago] − 1)`, and 0 when the old value is 0
/// (TA-Lib `ROC`). Lookback `n`.
#[derive(Debug, Clone)]
pub struct Roc {
    period: u16,
    past: Ring<f64>,
}

impl Roc {
    /// A rate of change over `period >= 1` bars.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        Ok(Self {
            period,
            past: Ring::new(usize::from(period)),
        })
    }

    /// Bars consumed before the first value: `period`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period)
    }

    /// Feeds one value; the change against the value `period` bars before, once there is one.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        let old = self.past.push(x)?;
        Some(if old == 0.0 {
            0.0
        } else {
            (x / old - 1.0) * 100.0
        })
    }
}

/// TA-Lib's RSI from smoothed gain and loss.
fn rsi(avg_gain: f64, avg_loss: f64) -> f64 {
    let total = avg_gain + avg_loss;
    if total > 0.0 {
        100.0 * (avg_gain / total)
    } else {
        0.0
    }
}
