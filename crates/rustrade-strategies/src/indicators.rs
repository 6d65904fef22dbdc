//! Streaming indicators the strategies are built from, on top of the `yata` crate.
//!
//! Each indicator takes one value per bar through `next` and answers `None` until it has seen
//! enough bars for a value that does not depend on made-up history. From then on the values equal
//! the textbook definitions (and the published reference values checked in this crate's tests):
//!
//! - [`Sma`]: the mean of the last `n` values.
//! - [`Ema`]: seeded with the SMA of the first `n` values, then `ema += α (x − ema)`,
//!   `α = 2 / (n + 1)`.
//! - [`Rsi`]: Wilder's RSI. Average gain and loss are seeded with the simple mean of the first `n`
//!   changes, then smoothed with `α = 1 / n`; `rsi = 100 − 100 / (1 + gain / loss)`, and 100 when
//!   the average loss is zero.
//! - [`Bollinger`]: SMA ± `k` population standard deviations of the last `n` values.
//! - [`Channel`]: highest high and lowest low of the last `n` bars (Donchian channel).
//!
//! `yata` methods start from an initial value as if the whole window had held it; the wrappers
//! feed that value once and hide outputs until the window holds only real values, so the warm-up
//! is exact rather than approximate. Memory per indicator is `O(n)` and every step is `O(1)`
//! amortised (the channel rescans its window only when the extreme leaves it).

use yata::core::Method;
use yata::methods::{EMA, Highest, Lowest, RMA, SMA, StDev};

use crate::StrategyError;

/// Simple moving average of the last `n` values.
#[derive(Debug, Clone)]
pub struct Sma {
    period: u16,
    seen: u32,
    inner: Option<SMA>,
}

impl Sma {
    /// An SMA over `period` values; `period >= 1`.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        crate::error::check_period("period", period, 1)?;
        check::<SMA>("period", period)?;
        Ok(Self {
            period,
            seen: 0,
            inner: None,
        })
    }

    /// Feeds one value; the mean once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        self.seen = self.seen.saturating_add(1);
        let v = match &mut self.inner {
            Some(m) => m.next(&x),
            None => {
                self.inner = Some(init::<SMA>(self.period, x));
                x
            }
        };
        (self.seen >= u32::from(self.period)).then_some(v)
    }
}

/// Exponential moving average, seeded with the SMA of the first `n` values.
#[derive(Debug, Clone)]
pub struct Ema {
    period: u16,
    seen: u32,
    seed_sum: f64,
    inner: Option<EMA>,
}

impl Ema {
    /// An EMA with `α = 2 / (period + 1)`; `period >= 1`.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        crate::error::check_period("period", period, 1)?;
        check::<EMA>("period", period)?;
        Ok(Self {
            period,
            seen: 0,
            seed_sum: 0.0,
            inner: None,
        })
    }

    /// Feeds one value; the average once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<f64> {
        if let Some(m) = &mut self.inner {
            return Some(m.next(&x));
        }
        self.seen += 1;
        self.seed_sum += x;
        if self.seen < u32::from(self.period) {
            return None;
        }
        let seed = self.seed_sum / f64::from(self.period);
        self.inner = Some(init::<EMA>(self.period, seed));
        Some(seed)
    }
}

/// Wilder's relative strength index over `n` changes.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: u16,
    prev: Option<f64>,
    changes: u32,
    gain_sum: f64,
    loss_sum: f64,
    smoothed: Option<(RMA, RMA)>,
}

impl Rsi {
    /// An RSI over `period` changes; `period >= 1`.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        crate::error::check_period("period", period, 1)?;
        check::<RMA>("period", period)?;
        Ok(Self {
            period,
            prev: None,
            changes: 0,
            gain_sum: 0.0,
            loss_sum: 0.0,
            smoothed: None,
        })
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
        if self.changes < u32::from(self.period) {
            return None;
        }
        let n = f64::from(self.period);
        let (avg_gain, avg_loss) = (self.gain_sum / n, self.loss_sum / n);
        self.smoothed = Some((
            init::<RMA>(self.period, avg_gain),
            init::<RMA>(self.period, avg_loss),
        ));
        Some(rsi(avg_gain, avg_loss))
    }
}

/// One Bollinger-band reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// The SMA.
    pub middle: f64,
    /// `middle + k σ`.
    pub upper: f64,
    /// `middle − k σ`.
    pub lower: f64,
}

/// Bollinger bands: SMA ± `k` population standard deviations over `n` values.
#[derive(Debug, Clone)]
pub struct Bollinger {
    period: u16,
    k: f64,
    seen: u32,
    inner: Option<(SMA, StDev)>,
}

impl Bollinger {
    /// Bands over `period >= 2` values at `k > 0` deviations.
    pub fn new(period: u16, k: f64) -> Result<Self, StrategyError> {
        crate::error::check_period("period", period, 2)?;
        crate::error::check_open_range("std_dev", k, 0.0, f64::MAX)?;
        check::<SMA>("period", period)?;
        check::<StDev>("period", period)?;
        Ok(Self {
            period,
            k,
            seen: 0,
            inner: None,
        })
    }

    /// Feeds one value; the bands once `period` values were seen.
    pub fn next(&mut self, x: f64) -> Option<Bands> {
        self.seen = self.seen.saturating_add(1);
        let (mean, sample_sd) = match &mut self.inner {
            Some((m, s)) => (m.next(&x), s.next(&x)),
            None => {
                self.inner = Some((init::<SMA>(self.period, x), init::<StDev>(self.period, x)));
                (x, 0.0)
            }
        };
        if self.seen < u32::from(self.period) {
            return None;
        }
        // yata's StDev divides by n − 1; the bands use the population deviation (divide by n).
        let n = f64::from(self.period);
        let sd = sample_sd * ((n - 1.0) / n).sqrt();
        Some(Bands {
            middle: mean,
            upper: mean + self.k * sd,
            lower: mean - self.k * sd,
        })
    }
}

/// Donchian channel: highest high and lowest low of the last `n` bars.
#[derive(Debug, Clone)]
pub struct Channel {
    period: u16,
    seen: u32,
    inner: Option<(Highest, Lowest)>,
}

impl Channel {
    /// A channel over `period >= 1` bars.
    pub fn new(period: u16) -> Result<Self, StrategyError> {
        crate::error::check_period("period", period, 1)?;
        check::<Highest>("period", period)?;
        check::<Lowest>("period", period)?;
        Ok(Self {
            period,
            seen: 0,
            inner: None,
        })
    }

    /// Feeds one bar's high and low; `(highest, lowest)` once `period` bars were seen.
    pub fn next(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        self.seen = self.seen.saturating_add(1);
        let out = match &mut self.inner {
            Some((h, l)) => (h.next(&high), l.next(&low)),
            None => {
                self.inner = Some((
                    init::<Highest>(self.period, high),
                    init::<Lowest>(self.period, low),
                ));
                (high, low)
            }
        };
        (self.seen >= u32::from(self.period)).then_some(out)
    }
}

/// Builds a yata method over `period` starting from `first`.
///
/// yata refuses only a period it cannot handle or a non-finite start value. Every constructor
/// above runs [`check`] on its period first and candle values are finite core prices, so a refusal
/// here is a broken invariant of this module, not bad input.
fn init<M>(period: u16, first: f64) -> M
where
    M: Method<Params = u16, Input = f64, Output = f64>,
{
    M::new(period, &first).expect("period validated by check() and input finite")
}

/// Asks yata whether it accepts `period` for method `M`, naming `field` if not.
fn check<M>(field: &'static str, period: u16) -> Result<(), StrategyError>
where
    M: Method<Params = u16, Input = f64, Output = f64>,
{
    M::new(period, &0.0).map(drop).map_err(|e| {
        StrategyError::invalid(
            field,
            format!("refused by the indicator library: {e:?} (got {period})"),
        )
    })
}

fn rsi(avg_gain: f64, avg_loss: f64) -> f64 {
    if avg_loss == 0.0 {
        100.0
    } else {
        100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    }
}
