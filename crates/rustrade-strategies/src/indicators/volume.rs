//! Volume-weighted: on-balance volume, money flow index, VWAP.

use super::is_zero_scaled;
use super::window::Ring;
use crate::StrategyError;
use crate::error::check_period;

/// On-balance volume (TA-Lib `OBV`). Lookback 0.
///
/// Starts at the first bar's volume (TA-Lib's seed; Stock Indicators starts at 0, so its values
/// are offset by that volume), then adds the volume of a bar that closes higher than the one
/// before and subtracts it when the close is lower.
#[derive(Debug, Clone, Default)]
pub struct Obv {
    state: Option<(f64, f64)>,
}

impl Obv {
    /// An OBV, which has no parameter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bars consumed before the first value: 0.
    pub fn lookback(&self) -> usize {
        0
    }

    /// Feeds one bar's close and volume; the running OBV (always a value).
    pub fn next(&mut self, close: f64, volume: f64) -> Option<f64> {
        let obv = match self.state {
            None => volume,
            Some((prev_close, obv)) if close > prev_close => obv + volume,
            Some((prev_close, obv)) if close < prev_close => obv - volume,
            Some((_, obv)) => obv,
        };
        self.state = Some((close, obv));
        Some(obv)
    }
}

/// Money flow index over `n` bars (TA-Lib `MFI`). Lookback `n`.
///
/// The raw flow of a bar is `tp · volume` with `tp = (high + low + close) / 3`; it counts as
/// positive when `tp` rose from the previous bar, negative when it fell, and not at all when the
/// change is zero relative to the two prices. The value is `100 · positive / (positive +
/// negative)` over the last `n` flows, and 0 when the window holds no flow at all. As in TA-Lib,
/// the running sums are reset to exactly 0 once a whole window of empty flows has passed (so
/// sliding-sum residue cannot fake a reading), and the ratio is clamped into `0..=100`.
#[derive(Debug, Clone)]
pub struct Mfi {
    period: u16,
    prev_tp: Option<f64>,
    flows: Ring<(f64, f64)>,
    positive: f64,
    negative: f64,
    /// Consecutive bars that added no flow.
    empty_run: u16,
}

impl Mfi {
    /// An MFI over `period >= 1` bars.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        Ok(Self {
            period,
            prev_tp: None,
            flows: Ring::new(usize::from(period)),
            positive: 0.0,
            negative: 0.0,
            empty_run: 0,
        })
    }

    /// Bars consumed before the first value: `period`.
    pub fn lookback(&self) -> usize {
        usize::from(self.period)
    }

    /// Feeds one bar; the MFI (0..=100) once `period` flows (`period + 1` bars) were seen.
    pub fn next(&mut self, high: f64, low: f64, close: f64, volume: f64) -> Option<f64> {
        let tp = (high + low + close) / 3.0;
        let prev = self.prev_tp.replace(tp)?;
        let change = tp - prev;
        let flow = if is_zero_scaled(change, tp.abs() + prev.abs()) {
            0.0
        } else {
            tp * volume
        };
        let signed = if change < 0.0 {
            (0.0, flow)
        } else {
            (flow, 0.0)
        };
        if let Some((pos, neg)) = self.flows.push(signed) {
            self.positive -= pos;
            self.negative -= neg;
        }
        self.positive += signed.0;
        self.negative += signed.1;
        self.empty_run = if flow == 0.0 {
            self.empty_run.saturating_add(1).min(self.period)
        } else {
            0
        };
        if self.empty_run >= self.period {
            self.positive = 0.0;
            self.negative = 0.0;
        }
        if !self.flows.is_full() {
            return None;
        }
        let total = self.positive + self.negative;
        Some(if total > 0.0 {
            100.0 * (self.positive.clamp(0.0, total) / total)
        } else {
            0.0
        })
    }
}

/// Volume-weighted average price: `Σ tp · volume / Σ volume` with the typical price
/// `tp = (high + low + close) / 3`, over every bar since construction or the last
/// [`reset`](Self::reset). Lookback 0; no value while the summed volume is 0.
///
/// TA-Lib has no VWAP. This is the cumulative VWAP of Stock Indicators' `GetVwap` and, reset at
/// each session start, TradingView's session-anchored `ta.vwap`: the caller anchors it by calling
/// `reset` on the first bar of a session, since an indicator sees values, not clock times.
#[derive(Debug, Clone, Default)]
pub struct Vwap {
    price_volume: f64,
    volume: f64,
}

impl Vwap {
    /// A VWAP anchored at the first bar it is fed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bars consumed before the first value: 0 (with a non-zero volume).
    pub fn lookback(&self) -> usize {
        0
    }

    /// Starts a new anchor: the next bar is the first of the average.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Feeds one bar; the VWAP since the anchor, once some volume traded.
    pub fn next(&mut self, high: f64, low: f64, close: f64, volume: f64) -> Option<f64> {
        let tp = (high + low + close) / 3.0;
        self.price_volume += tp * volume;
        self.volume += volume;
        (self.volume != 0.0).then(|| self.price_volume / self.volume)
    }
}
