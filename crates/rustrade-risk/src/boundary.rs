//! [`SessionBoundary`]: the daily instant at which a trading session ends and the next begins.
//!
//! # Invariants
//!
//! - Boundaries are `time_of_day` past local midnight in a fixed UTC offset, one every 24 hours;
//!   `session_start(now)` is the latest boundary `<= now`, so a session rolls over exactly at the
//!   boundary nanosecond and never before.
//! - A fixed offset does not follow daylight saving time: a venue whose day ends at 17:00 New York
//!   time is written as 22:00 UTC (or 17:00 at −05:00) and moves by an hour in summer.
//! - The arithmetic is on integer nanoseconds and saturates at the ends of [`Timestamp`]'s range.

use rustrade_core::Timestamp;

use crate::RiskError;
use crate::error::invalid;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: u32 = 86_400;
const NANOS_PER_DAY: i128 = SECS_PER_DAY as i128 * NANOS_PER_SEC;

/// When the trading day rolls over: a time of day in a fixed UTC offset.
///
/// ```
/// use rustrade_core::Timestamp;
/// use rustrade_risk::SessionBoundary;
///
/// // 17:00 at UTC−05:00 is 22:00 UTC.
/// let b = SessionBoundary::new(17 * 3_600, -5 * 3_600)?;
/// let now = Timestamp::parse_rfc3339("2024-03-05T21:59:59Z")?;
/// assert_eq!(b.session_start(now), Timestamp::parse_rfc3339("2024-03-04T22:00:00Z")?);
/// assert_eq!(b.next_boundary(now), Timestamp::parse_rfc3339("2024-03-05T22:00:00Z")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionBoundary {
    /// Seconds after local midnight, `0..86400`.
    pub time_of_day_secs: u32,
    /// Offset of the local clock from UTC in seconds, strictly within ±24 h (east positive).
    #[serde(default)]
    pub utc_offset_secs: i32,
}

impl SessionBoundary {
    /// Midnight UTC, the default.
    pub const UTC_MIDNIGHT: Self = Self {
        time_of_day_secs: 0,
        utc_offset_secs: 0,
    };

    /// A validated boundary at `time_of_day_secs` past local midnight in `utc_offset_secs`.
    pub fn new(time_of_day_secs: u32, utc_offset_secs: i32) -> Result<Self, RiskError> {
        let b = Self {
            time_of_day_secs,
            utc_offset_secs,
        };
        b.validate("session.boundary")?;
        Ok(b)
    }

    /// Checks both fields; `prefix` names the boundary in errors (`session.boundary`).
    pub(crate) fn validate(&self, prefix: &'static str) -> Result<(), RiskError> {
        if self.time_of_day_secs >= SECS_PER_DAY {
            return Err(invalid(
                field_name(prefix, true),
                self.time_of_day_secs,
                "must be < 86400 (seconds after midnight)",
            ));
        }
        if self.utc_offset_secs.unsigned_abs() >= SECS_PER_DAY {
            return Err(invalid(
                field_name(prefix, false),
                self.utc_offset_secs,
                "must be strictly within ±86400 seconds",
            ));
        }
        Ok(())
    }

    /// The start of the session containing `now`: the latest boundary at or before `now`.
    pub fn session_start(&self, now: Timestamp) -> Timestamp {
        let shift =
            (i128::from(self.time_of_day_secs) - i128::from(self.utc_offset_secs)) * NANOS_PER_SEC;
        let day = (i128::from(now.as_nanos()) - shift).div_euclid(NANOS_PER_DAY);
        clamp(day * NANOS_PER_DAY + shift)
    }

    /// The first boundary strictly after `now`: when the current session ends.
    pub fn next_boundary(&self, now: Timestamp) -> Timestamp {
        clamp(i128::from(self.session_start(now).as_nanos()) + NANOS_PER_DAY)
    }
}

impl Default for SessionBoundary {
    fn default() -> Self {
        Self::UTC_MIDNIGHT
    }
}

fn field_name(prefix: &'static str, time_of_day: bool) -> &'static str {
    match (prefix, time_of_day) {
        ("portfolio.boundary", true) => "portfolio.boundary.time_of_day_secs",
        ("portfolio.boundary", false) => "portfolio.boundary.utc_offset_secs",
        (_, true) => "session.boundary.time_of_day_secs",
        (_, false) => "session.boundary.utc_offset_secs",
    }
}

fn clamp(nanos: i128) -> Timestamp {
    Timestamp::from_nanos(nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}
