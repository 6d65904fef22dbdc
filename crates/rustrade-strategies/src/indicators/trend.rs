//! Trend: Wilder's directional movement (ADX, +DI, −DI), parabolic SAR, SuperTrend.

use super::volatility::true_range;
use super::{Atr, check_positive, is_zero};
use crate::StrategyError;
use crate::error::check_period;

/// One directional-movement reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdxValue {
    /// +DI, `0..=100`.
    pub plus_di: f64,
    /// −DI, `0..=100`.
    pub minus_di: f64,
    /// ADX, `0..=100`; `None` for the `n − 1` bars after the first DI.
    pub adx: Option<f64>,
}

/// Wilder's directional movement index over `n` bars (TA-Lib `PLUS_DI`, `MINUS_DI` and `ADX`).
/// Lookback `n` for the DIs, `2n − 1` for the ADX.
///
/// Directional movement follows TA-Lib: `+DM = high − prev high` when that is positive and larger
/// than `prev low − low` (and symmetrically for `−DM`), otherwise 0. Sums of `+DM`, `−DM` and the
/// true range start with bars 1 to `n − 1` and then follow Wilder's `s = s − s / n + x`, so the
/// first DI (bar `n`) already includes one smoothing step. `DI = 100 · DM / TR` (0 when `TR` is
/// exactly 0), `DX = 100 · |+DI − −DI| / (+DI + −DI)`, ADX is the mean of the first `n` DX values
/// and then `adx = (adx · (n − 1) + dx) / n`; as in TA-Lib, a bar whose DX is undefined (no range,
/// or DIs summing to less than `1e-14`) counts as 0 in the first mean and later leaves the ADX
/// unchanged.
#[derive(Debug, Clone)]
pub struct Adx {
    period: u16,
    prev: Option<(f64, f64, f64)>,
    /// Bars seen after the first.
    bars: u32,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    dx_sum: f64,
    adx: Option<f64>,
}

impl Adx {
    /// A directional movement index over `period >= 2` bars.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        check_period("period", period, 2)?;
        Ok(Self {
            period,
            prev: None,
            bars: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            dx_sum: 0.0,
            adx: None,
        })
    }

    /// Bars consumed before the first ADX: `2 · period − 1`.
    pub fn lookback(&self) -> usize {
        2 * usize::from(self.period) - 1
    }

    /// Bars consumed before the first +DI and −DI: `period`.
    pub fn di_lookback(&self) -> usize {
        usize::from(self.period)
    }

    /// Feeds one bar; the DIs from bar `period` on, the ADX from bar `2 · period − 1` on.
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<AdxValue> {
        let (prev_high, prev_low, prev_close) = self.prev.replace((high, low, close))?;
        let (up, down) = (high - prev_high, prev_low - low);
        let plus = if up > 0.0 && up > down { up } else { 0.0 };
        let minus = if down > 0.0 && up < down { down } else { 0.0 };
        let tr = true_range(high, low, prev_close);
        self.bars = self.bars.saturating_add(1);
        let n = u32::from(self.period);
        if self.bars < n {
            self.plus_dm += plus;
            self.minus_dm += minus;
            self.tr += tr;
            return None;
        }
        let p = f64::from(self.period);
        self.plus_dm = self.plus_dm - self.plus_dm / p + plus;
        self.minus_dm = self.minus_dm - self.minus_dm / p + minus;
        self.tr = self.tr - self.tr / p + tr;
        let has_range = self.tr > 0.0;
        let (plus_di, minus_di) = if has_range {
            (
                100.0 * (self.plus_dm / self.tr),
                100.0 * (self.minus_dm / self.tr),
            )
        } else {
            (0.0, 0.0)
        };
        let sum = plus_di + minus_di;
        let dx = (has_range && !is_zero(sum)).then(|| 100.0 * ((minus_di - plus_di).abs() / sum));
        match self.adx {
            Some(adx) => {
                if let Some(dx) = dx {
                    self.adx = Some((adx * (p - 1.0) + dx) / p);
                }
            }
            None => {
                self.dx_sum += dx.unwrap_or(0.0);
                if self.bars == 2 * n - 1 {
                    self.adx = Some(self.dx_sum / p);
                }
            }
        }
        Some(AdxValue {
            plus_di,
            minus_di,
            adx: self.adx,
        })
    }
}

/// Welles Wilder's parabolic stop and reverse (TA-Lib `SAR`). Lookback 1.
///
/// The value on a bar is the stop for that bar, computed from the bars before it. The first
/// direction is short when the second bar's low falls by more than its high rises (TA-Lib's
/// `−DM` test), long otherwise; the first stop is the first bar's low (long) or high (short).
/// The acceleration starts at `acceleration`, grows by it with each new extreme up to `maximum`,
/// and resets on a reversal; a stop never enters the range of the current or previous bar.
#[derive(Debug, Clone)]
pub struct ParabolicSar {
    step: f64,
    maximum: f64,
    state: SarState,
}

impl ParabolicSar {
    /// A SAR with `0 < acceleration <= maximum` (the usual 0.02 and 0.2).
    pub fn new(acceleration: f64, maximum: f64) -> Result<Self, StrategyError> {
        check_positive("acceleration", acceleration)?;
        check_positive("maximum", maximum)?;
        if acceleration > maximum {
            return Err(StrategyError::invalid(
                "acceleration",
                format!("must be <= maximum (got {acceleration} > {maximum})"),
            ));
        }
        Ok(Self {
            step: acceleration,
            maximum,
            state: SarState::Empty,
        })
    }

    /// Bars consumed before the first value: 1.
    pub fn lookback(&self) -> usize {
        1
    }

    /// Feeds one bar's high and low; the stop for this bar from the second bar on.
    pub fn next(&mut self, high: f64, low: f64) -> Option<f64> {
        let (mut long, mut sar, mut extreme, mut af, prev_high, prev_low) = match self.state {
            SarState::Empty => {
                self.state = SarState::First { high, low };
                return None;
            }
            SarState::First {
                high: first_high,
                low: first_low,
            } => {
                let (up, down) = (high - first_high, first_low - low);
                let long = !(down > 0.0 && up < down);
                let (sar, extreme) = if long {
                    (first_low, high)
                } else {
                    (first_high, low)
                };
                // TA-Lib takes the second bar as its own previous bar on this first step.
                (long, sar, extreme, self.step, high, low)
            }
            SarState::Running {
                long,
                sar,
                extreme,
                af,
                prev_high,
                prev_low,
            } => (long, sar, extreme, af, prev_high, prev_low),
        };
        let out;
        if long {
            if low <= sar {
                long = false;
                sar = extreme.max(prev_high).max(high);
                out = sar;
                af = self.step;
                extreme = low;
                sar = (sar + af * (extreme - sar)).max(prev_high).max(high);
            } else {
                out = sar;
                if high > extreme {
                    extreme = high;
                    af = (af + self.step).min(self.maximum);
                }
                sar = (sar + af * (extreme - sar)).min(prev_low).min(low);
            }
        } else if high >= sar {
            long = true;
            sar = extreme.min(prev_low).min(low);
            out = sar;
            af = self.step;
            extreme = high;
            sar = (sar + af * (extreme - sar)).min(prev_low).min(low);
        } else {
            out = sar;
            if low < extreme {
                extreme = low;
                af = (af + self.step).min(self.maximum);
            }
            sar = (sar + af * (extreme - sar)).max(prev_high).max(high);
        }
        self.state = SarState::Running {
            long,
            sar,
            extreme,
            af,
            prev_high: high,
            prev_low: low,
        };
        Some(out)
    }
}

/// Where a [`ParabolicSar`] is in its stream.
#[derive(Debug, Clone, Copy)]
enum SarState {
    Empty,
    /// One bar seen.
    First {
        high: f64,
        low: f64,
    },
    Running {
        long: bool,
        sar: f64,
        extreme: f64,
        af: f64,
        prev_high: f64,
        prev_low: f64,
    },
}

/// Direction of a trend-following indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Rising: the line is below the price.
    Up,
    /// Falling: the line is above the price.
    Down,
}

/// One SuperTrend reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuperTrendValue {
    /// The lower band in an up trend, the upper band in a down trend.
    pub line: f64,
    /// The trend the line belongs to.
    pub trend: Trend,
}

/// SuperTrend over an [`Atr`] of `n` bars and a multiplier `k`. Lookback `n`.
///
/// TA-Lib has no SuperTrend. This is Stock Indicators' `GetSuperTrend`, whose published values
/// are checked in this crate's tests: basic bands `(high + low) / 2 ± k · atr`; the upper band
/// only falls (and the lower only rises) unless the previous close was beyond it; the first bar
/// is in an up trend when its close is at or above `(high + low) / 2`; a close at or below the
/// band of the current trend's side (the lower band in an up trend) makes or keeps the trend
/// down, any other close makes or keeps it up. The ATR is TA-Lib's, which is also Stock
/// Indicators'. TradingView's `ta.supertrend` differs on the first bar (it starts in a down
/// trend, and its ATR also counts bar 0's range) and turns down only on a close strictly below
/// the lower band; once its seed has decayed the lines agree.
#[derive(Debug, Clone)]
pub struct SuperTrend {
    k: f64,
    atr: Atr,
    prev_close: Option<f64>,
    /// Final upper band, final lower band, trend of the previous bar.
    state: Option<(f64, f64, Trend)>,
}

impl SuperTrend {
    /// A SuperTrend over `period >= 1` bars at `multiplier > 0` ATRs (the usual 10 and 3).
    pub fn new(period: u16, multiplier: f64) -> Result<Self, StrategyError> {
        check_period("period", period, 1)?;
        check_positive("multiplier", multiplier)?;
        Ok(Self {
            k: multiplier,
            atr: Atr::new(period)?,
            prev_close: None,
            state: None,
        })
    }

    /// Bars consumed before the first value: `period`.
    pub fn lookback(&self) -> usize {
        self.atr.lookback()
    }

    /// Feeds one bar; the line and its trend once the ATR has a value.
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<SuperTrendValue> {
        let prev_close = self.prev_close.replace(close);
        let atr = self.atr.next(high, low, close)?;
        let mid = (high + low) / 2.0;
        let (basic_upper, basic_lower) = (mid + self.k * atr, mid - self.k * atr);
        let (upper, lower, trend) = match (self.state, prev_close) {
            (Some((upper, lower, trend)), Some(pc)) => {
                let upper = if basic_upper < upper || pc > upper {
                    basic_upper
                } else {
                    upper
                };
                let lower = if basic_lower > lower || pc < lower {
                    basic_lower
                } else {
                    lower
                };
                (upper, lower, trend)
            }
            _ => {
                let trend = if close >= mid { Trend::Up } else { Trend::Down };
                (basic_upper, basic_lower, trend)
            }
        };
        let side = match trend {
            Trend::Up => lower,
            Trend::Down => upper,
        };
        let trend = if close <= side {
            Trend::Down
        } else {
            Trend::Up
        };
        self.state = Some((upper, lower, trend));
        Some(SuperTrendValue {
            line: match trend {
                Trend::Up => lower,
                Trend::Down => upper,
            },
            trend,
        })
    }
}
