//! [`DonchianBreakout`]: buy when the close exceeds the highest high of the previous `entry` bars,
//! sell the long when it falls below the lowest low of the previous `exit` bars.

use rustrade_core::Candle;

use crate::error::check_period;
use crate::indicators::Donchian;
use crate::rule::{Rule, Trigger};
use crate::shared::{Feed, SeriesKey, SymbolSeries};
use crate::{Direction, StrategyError};

/// Parameters of the Donchian-channel breakout. Keys: `entry` (default 20) and `exit`
/// (default 10), both `>= 1`.
///
/// The channels exclude the current bar, so a breakout compares today's close with the range of
/// the bars before it. An entry can come from bar `entry + 1` on, an exit from bar `exit + 1` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DonchianBreakout {
    /// Bars in the channel whose high an entry must exceed.
    pub entry: u16,
    /// Bars in the channel whose low an exit must undercut.
    pub exit: u16,
    /// Which side it trades (`long_only`, `short_only`, `long_short`; see [`Direction`]).
    #[serde(default, skip_serializing_if = "Direction::is_long_only")]
    pub direction: Direction,
}

impl DonchianBreakout {
    /// Checks both periods are `>= 1`.
    pub fn validate(&self) -> Result<(), StrategyError> {
        check_period("entry", self.entry, 1)?;
        check_period("exit", self.exit, 1)
    }
}

impl Default for DonchianBreakout {
    fn default() -> Self {
        Self {
            entry: 20,
            exit: 10,
            direction: Direction::LongOnly,
        }
    }
}

/// Per-symbol state of [`DonchianBreakout`].
#[derive(Debug, Clone)]
pub struct DonchianBreakoutState {
    entry: Feed<Donchian>,
    exit: Feed<Donchian>,
    /// Highest high of the previous `entry` bars and lowest low of the previous `exit` bars.
    prev: (Option<f64>, Option<f64>),
}

impl DonchianBreakout {
    fn state(
        &self,
        shared: Option<&SymbolSeries<'_>>,
    ) -> Result<DonchianBreakoutState, StrategyError> {
        let (entry, exit) = (
            SeriesKey::DonchianUpper(self.entry),
            SeriesKey::DonchianLower(self.exit),
        );
        Ok(DonchianBreakoutState {
            entry: Feed::of(shared, entry, Donchian::new(self.entry)?),
            exit: Feed::of(shared, exit, Donchian::new(self.exit)?),
            prev: (None, None),
        })
    }
}

impl Rule for DonchianBreakout {
    type State = DonchianBreakoutState;

    fn direction(&self) -> Direction {
        self.direction
    }

    fn start(&self) -> Result<Self::State, StrategyError> {
        self.state(None)
    }

    fn shared_series(&self) -> Vec<SeriesKey> {
        vec![
            SeriesKey::DonchianUpper(self.entry),
            SeriesKey::DonchianLower(self.exit),
        ]
    }

    fn start_shared(&self, shared: &SymbolSeries<'_>) -> Result<Self::State, StrategyError> {
        self.state(Some(shared))
    }

    fn step(&self, s: &mut Self::State, candle: &Candle) -> Option<Trigger> {
        let (high, low, close) = (
            candle.high().get(),
            candle.low().get(),
            candle.close().get(),
        );
        let (upper, lower) = s.prev;
        s.prev = (
            s.entry.next(|i| i.next(high, low).map(|c| c.upper)),
            s.exit.next(|i| i.next(high, low).map(|c| c.lower)),
        );
        if upper.is_some_and(|u| close > u) {
            Some(Trigger::Enter)
        } else if lower.is_some_and(|l| close < l) {
            Some(Trigger::Exit)
        } else {
            None
        }
    }
}
