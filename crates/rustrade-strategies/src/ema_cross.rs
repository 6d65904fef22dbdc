//! [`EmaCross`]: long when the fast exponential moving average of closes crosses above the slow one,
//! out when it crosses back below.

use rustrade_core::Candle;

use crate::error::{check_fast_below_slow, check_period};
use crate::indicators::Ema;
use crate::rule::{CrossTracker, Rule, Trigger};
use crate::shared::{Feed, SeriesKey, SymbolSeries};
use crate::{Direction, StrategyError};

/// Parameters of the EMA crossover. Keys: `fast` (default 12), `slow` (default 26); `1 <= fast < slow`.
///
/// Each average is seeded with the simple mean of its first `n` closes, so the first signal can
/// come on bar `slow + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmaCross {
    /// Bars in the fast average.
    pub fast: u16,
    /// Bars in the slow average.
    pub slow: u16,
    /// Which side it trades (`long_only`, `short_only`, `long_short`; see [`Direction`]).
    #[serde(default, skip_serializing_if = "Direction::is_long_only")]
    pub direction: Direction,
}

impl EmaCross {
    /// Checks `1 <= fast < slow`.
    pub fn validate(&self) -> Result<(), StrategyError> {
        check_period("fast", self.fast, 1)?;
        check_period("slow", self.slow, 2)?;
        check_fast_below_slow(self.fast, self.slow)
    }
}

impl Default for EmaCross {
    fn default() -> Self {
        Self {
            fast: 12,
            slow: 26,
            direction: Direction::LongOnly,
        }
    }
}

/// Per-symbol state of [`EmaCross`].
#[derive(Debug, Clone)]
pub struct EmaCrossState {
    fast: Feed<Ema>,
    slow: Feed<Ema>,
    cross: CrossTracker,
}

impl EmaCross {
    fn state(&self, shared: Option<&SymbolSeries<'_>>) -> Result<EmaCrossState, StrategyError> {
        Ok(EmaCrossState {
            fast: Feed::of(shared, SeriesKey::Ema(self.fast), Ema::new(self.fast)?),
            slow: Feed::of(shared, SeriesKey::Ema(self.slow), Ema::new(self.slow)?),
            cross: CrossTracker::default(),
        })
    }
}

impl Rule for EmaCross {
    type State = EmaCrossState;

    fn direction(&self) -> Direction {
        self.direction
    }

    fn start(&self) -> Result<Self::State, StrategyError> {
        self.state(None)
    }

    fn shared_series(&self) -> Vec<SeriesKey> {
        vec![SeriesKey::Ema(self.fast), SeriesKey::Ema(self.slow)]
    }

    fn start_shared(&self, shared: &SymbolSeries<'_>) -> Result<Self::State, StrategyError> {
        self.state(Some(shared))
    }

    fn step(&self, s: &mut Self::State, candle: &Candle) -> Option<Trigger> {
        let close = candle.close().get();
        let fast = s.fast.next(|i| i.next(close));
        let slow = s.slow.next(|i| i.next(close))?;
        s.cross.update(fast? - slow)
    }
}
