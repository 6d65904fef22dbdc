//! [`SmaCross`]: long when the fast simple moving average of closes crosses above the slow one,
//! out when it crosses back below.

use rustrade_core::Candle;

use crate::error::{check_fast_below_slow, check_period};
use crate::indicators::Sma;
use crate::rule::{CrossTracker, Rule, Trigger};
use crate::shared::{Feed, SeriesKey, SymbolSeries};
use crate::{Direction, StrategyError};

/// Parameters of the SMA crossover. Keys: `fast` (default 10), `slow` (default 30); `1 <= fast < slow`.
///
/// The first signal can come on bar `slow + 1`: a cross needs two exact readings of both averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmaCross {
    /// Bars in the fast average.
    pub fast: u16,
    /// Bars in the slow average.
    pub slow: u16,
    /// Which side it trades (`long_only`, `short_only`, `long_short`; see [`Direction`]).
    #[serde(default, skip_serializing_if = "Direction::is_long_only")]
    pub direction: Direction,
}

impl SmaCross {
    /// Checks `1 <= fast < slow`.
    pub fn validate(&self) -> Result<(), StrategyError> {
        check_period("fast", self.fast, 1)?;
        check_period("slow", self.slow, 2)?;
        check_fast_below_slow(self.fast, self.slow)
    }
}

impl Default for SmaCross {
    fn default() -> Self {
        Self {
            fast: 10,
            slow: 30,
            direction: Direction::LongOnly,
        }
    }
}

/// Per-symbol state of [`SmaCross`].
#[derive(Debug, Clone)]
pub struct SmaCrossState {
    fast: Feed<Sma>,
    slow: Feed<Sma>,
    cross: CrossTracker,
}

impl SmaCross {
    fn state(&self, shared: Option<&SymbolSeries<'_>>) -> Result<SmaCrossState, StrategyError> {
        Ok(SmaCrossState {
            fast: Feed::of(shared, SeriesKey::Sma(self.fast), Sma::new(self.fast)?),
            slow: Feed::of(shared, SeriesKey::Sma(self.slow), Sma::new(self.slow)?),
            cross: CrossTracker::default(),
        })
    }
}

impl Rule for SmaCross {
    type State = SmaCrossState;

    fn direction(&self) -> Direction {
        self.direction
    }

    fn start(&self) -> Result<Self::State, StrategyError> {
        self.state(None)
    }

    fn shared_series(&self) -> Vec<SeriesKey> {
        vec![SeriesKey::Sma(self.fast), SeriesKey::Sma(self.slow)]
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
