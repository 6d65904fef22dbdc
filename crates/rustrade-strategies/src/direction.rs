//! [`Direction`]: which side a ready strategy trades, and how its triggers become decisions.

use rustrade_core::{Decision, Position};

use crate::Trigger;

/// Which side a ready strategy trades. Key `direction` of every ready strategy's parameters:
/// `"long_only"` (the default), `"short_only"` or `"long_short"`.
///
/// A rule's [`Trigger::Enter`] is its bullish signal and [`Trigger::Exit`] its bearish one:
///
/// | direction | trigger | position | decision |
/// | --- | --- | --- | --- |
/// | `long_only` | `Enter` | flat | buy |
/// | `long_only` | `Exit` | long | close |
/// | `short_only` | `Exit` | flat | sell |
/// | `short_only` | `Enter` | short | close |
/// | `long_short` | `Enter` | flat or short | buy, reversing a short ([`Decision::with_reverse`]) |
/// | `long_short` | `Exit` | flat or long | sell, reversing a long |
///
/// Anything else holds. So `long_short` stays in the market from its first signal on, each
/// flip one decision that the engine turns into a close and an entry at the same fill time.
///
/// ```
/// use rustrade_core::{Decision, Position};
/// use rustrade_strategies::{Direction, Trigger};
/// let short = Position::new(-3.0, 100.0);
/// assert_eq!(Direction::LongShort.decide(Some(Trigger::Enter), &short), Decision::buy(1.0).with_reverse());
/// assert_eq!(Direction::LongOnly.decide(Some(Trigger::Enter), &short), Decision::hold());
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Longs only.
    #[default]
    LongOnly,
    /// Shorts only.
    ShortOnly,
    /// Both sides, reversing from one to the other.
    LongShort,
}

impl Direction {
    /// The parameter key every ready strategy reads its direction from. Parameter sets leave it
    /// out while it has its default, so it is not among a strategy's default parameters.
    pub const PARAM: &'static str = "direction";

    /// Whether this is the default, [`Direction::LongOnly`] (not written out in parameters).
    pub fn is_long_only(&self) -> bool {
        *self == Self::LongOnly
    }

    /// The decision for `trigger` given `position` (the table on the type).
    pub fn decide(self, trigger: Option<Trigger>, position: &Position) -> Decision {
        let (flat, long) = (position.is_flat(), position.is_long());
        match (self, trigger) {
            (Self::LongOnly, Some(Trigger::Enter)) if flat => Decision::buy(1.0),
            (Self::LongOnly, Some(Trigger::Exit)) if long => Decision::close(),
            (Self::ShortOnly, Some(Trigger::Exit)) if flat => Decision::sell(1.0),
            (Self::ShortOnly, Some(Trigger::Enter)) if !flat && !long => Decision::close(),
            (Self::LongShort, Some(Trigger::Enter)) if flat => Decision::buy(1.0),
            (Self::LongShort, Some(Trigger::Enter)) if !long => Decision::buy(1.0).with_reverse(),
            (Self::LongShort, Some(Trigger::Exit)) if flat => Decision::sell(1.0),
            (Self::LongShort, Some(Trigger::Exit)) if long => Decision::sell(1.0).with_reverse(),
            _ => Decision::hold(),
        }
    }
}
