//! [`RsiReversion`]: buy when Wilder's RSI falls through the oversold level, sell the long when it
//! rises through the overbought level.

use rustrade_core::Candle;

use crate::error::{check_open_range, check_period};
use crate::indicators::Rsi;
use crate::rule::{Rule, Trigger};
use crate::shared::{Feed, SeriesKey, SymbolSeries};
use crate::{Direction, StrategyError};

/// Parameters of the RSI mean-reversion rule. Keys: `period` (default 14, `>= 2`), `oversold`
/// (default 30), `overbought` (default 70); `0 < oversold < overbought < 100`.
///
/// Signals are edge-triggered: an entry when the RSI goes from `>= oversold` to `< oversold`, an
/// exit when it goes from `<= overbought` to `> overbought`. The first reading is on bar
/// `period + 1`, the first signal on bar `period + 2`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RsiReversion {
    /// Look-back of the RSI, in price changes.
    pub period: u16,
    /// Level whose downward crossing opens a long.
    pub oversold: f64,
    /// Level whose upward crossing closes the long.
    pub overbought: f64,
    /// Which side it trades (`long_only`, `short_only`, `long_short`; see [`Direction`]).
    #[serde(default, skip_serializing_if = "Direction::is_long_only")]
    pub direction: Direction,
}

impl RsiReversion {
    /// Checks the period and `0 < oversold < overbought < 100`.
    pub fn validate(&self) -> Result<(), StrategyError> {
        check_period("period", self.period, 2)?;
        check_open_range("oversold", self.oversold, 0.0, 100.0)?;
        check_open_range("overbought", self.overbought, 0.0, 100.0)?;
        if self.oversold >= self.overbought {
            return Err(StrategyError::invalid(
                "oversold",
                format!(
                    "must be < overbought (got {} >= {})",
                    self.oversold, self.overbought
                ),
            ));
        }
        Ok(())
    }
}

impl Default for RsiReversion {
    fn default() -> Self {
        Self {
            period: 14,
            oversold: 30.0,
            overbought: 70.0,
            direction: Direction::LongOnly,
        }
    }
}

/// Per-symbol state of [`RsiReversion`].
#[derive(Debug, Clone)]
pub struct RsiReversionState {
    rsi: Feed<Rsi>,
    prev: Option<f64>,
}

impl RsiReversion {
    fn state(&self, shared: Option<&SymbolSeries<'_>>) -> Result<RsiReversionState, StrategyError> {
        Ok(RsiReversionState {
            rsi: Feed::of(shared, SeriesKey::Rsi(self.period), Rsi::new(self.period)?),
            prev: None,
        })
    }
}

impl Rule for RsiReversion {
    type State = RsiReversionState;

    fn direction(&self) -> Direction {
        self.direction
    }

    fn start(&self) -> Result<Self::State, StrategyError> {
        self.state(None)
    }

    fn shared_series(&self) -> Vec<SeriesKey> {
        vec![SeriesKey::Rsi(self.period)]
    }

    fn start_shared(&self, shared: &SymbolSeries<'_>) -> Result<Self::State, StrategyError> {
        self.state(Some(shared))
    }

    fn step(&self, s: &mut Self::State, candle: &Candle) -> Option<Trigger> {
        let close = candle.close().get();
        let rsi = s.rsi.next(|i| i.next(close))?;
        let prev = s.prev.replace(rsi)?;
        if prev >= self.oversold && rsi < self.oversold {
            Some(Trigger::Enter)
        } else if prev <= self.overbought && rsi > self.overbought {
            Some(Trigger::Exit)
        } else {
            None
        }
    }
}
