//! [`BollingerBreakout`]: buy when the close breaks above the upper Bollinger band, sell the long
//! when the close falls back below the middle band.

use rustrade_core::Candle;

use crate::error::{check_open_range, check_period};
use crate::indicators::Bollinger;
use crate::rule::{Rule, Trigger};
use crate::shared::{Cursor, SeriesKey, SymbolSeries};
use crate::{Direction, StrategyError};

/// Parameters of the Bollinger-band breakout. Keys: `period` (default 20, `>= 2`) and `std_dev`
/// (default 2.0, within `(0, 10)`).
///
/// Entry when the close goes from at-or-below the upper band to above it; exit when it goes from
/// at-or-above the middle band (the SMA) to below it. Bands use the population standard deviation
/// of the last `period` closes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BollingerBreakout {
    /// Bars in the average and the deviation.
    pub period: u16,
    /// Width of the bands in standard deviations.
    pub std_dev: f64,
    /// Which side it trades (`long_only`, `short_only`, `long_short`; see [`Direction`]).
    #[serde(default, skip_serializing_if = "Direction::is_long_only")]
    pub direction: Direction,
}

impl BollingerBreakout {
    /// Checks `period >= 2` and `0 < std_dev < 10`.
    pub fn validate(&self) -> Result<(), StrategyError> {
        check_period("period", self.period, 2)?;
        check_open_range("std_dev", self.std_dev, 0.0, 10.0)
    }
}

impl Default for BollingerBreakout {
    fn default() -> Self {
        Self {
            period: 20,
            std_dev: 2.0,
            direction: Direction::LongOnly,
        }
    }
}

/// The bands, computed or read from a shared mean and deviation.
#[derive(Debug, Clone)]
enum BandsFeed {
    Own(Bollinger),
    Shared { middle: Cursor, deviation: Cursor },
}

/// Per-symbol state of [`BollingerBreakout`].
#[derive(Debug, Clone)]
pub struct BollingerBreakoutState {
    bands: BandsFeed,
    /// Previous close minus previous upper band, and minus previous middle band.
    prev: Option<(f64, f64)>,
}

impl BollingerBreakout {
    fn state(
        &self,
        shared: Option<&SymbolSeries<'_>>,
    ) -> Result<BollingerBreakoutState, StrategyError> {
        let own = Bollinger::new(self.period, self.std_dev)?;
        let cursors = shared.and_then(|v| {
            let middle = v.cursor(SeriesKey::BollingerMiddle(self.period))?;
            let deviation = v.cursor(SeriesKey::BollingerDeviation(self.period))?;
            Some(BandsFeed::Shared { middle, deviation })
        });
        Ok(BollingerBreakoutState {
            bands: cursors.unwrap_or(BandsFeed::Own(own)),
            prev: None,
        })
    }
}

impl Rule for BollingerBreakout {
    type State = BollingerBreakoutState;

    fn direction(&self) -> Direction {
        self.direction
    }

    fn start(&self) -> Result<Self::State, StrategyError> {
        self.state(None)
    }

    fn shared_series(&self) -> Vec<SeriesKey> {
        vec![
            SeriesKey::BollingerMiddle(self.period),
            SeriesKey::BollingerDeviation(self.period),
        ]
    }

    fn start_shared(&self, shared: &SymbolSeries<'_>) -> Result<Self::State, StrategyError> {
        self.state(Some(shared))
    }

    fn step(&self, s: &mut Self::State, candle: &Candle) -> Option<Trigger> {
        let close = candle.close().get();
        let (upper, middle) = match &mut s.bands {
            BandsFeed::Own(bands) => bands.next(close).map(|b| (b.upper, b.middle))?,
            BandsFeed::Shared { middle, deviation } => {
                let (middle, deviation) = (middle.next(), deviation.next());
                let (middle, deviation) = (middle?, deviation?);
                // `Bollinger::next`'s arithmetic, in its order.
                (middle + self.std_dev * deviation, middle)
            }
        };
        let now = (close - upper, close - middle);
        let (above_upper, above_middle) = s.prev.replace(now)?;
        if above_upper <= 0.0 && now.0 > 0.0 {
            Some(Trigger::Enter)
        } else if above_middle >= 0.0 && now.1 < 0.0 {
            Some(Trigger::Exit)
        } else {
            None
        }
    }
}
