//! [`SessionBoundary`]: the daily instant at which a trading session ends and the next begins.
//!
//! The rules it keeps are listed on the type, under "Invariants".

use chrono::{Days, NaiveDate, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;
use rustrade_core::Timestamp;

use crate::RiskError;
use crate::error::invalid;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: u32 = 86_400;
const NANOS_PER_DAY: i128 = SECS_PER_DAY as i128 * NANOS_PER_SEC;

/// When the trading day rolls over: a time of day in a fixed UTC offset or in a time zone.
///
/// # Invariants
///
/// - A boundary falls every local day at `time_of_day_secs` past local midnight, in either a
///   fixed UTC offset or an IANA time zone. `session_start(now)` is the latest boundary `<= now`
///   and `next_boundary(now)` the first one `> now`, so a session rolls over exactly at the
///   boundary nanosecond and never before.
/// - With a fixed offset every session lasts 24 hours and daylight saving time is not followed.
///   With a time zone the boundary follows the zone's clock: sessions last 23 or 25 hours on
///   the days the clocks change. A boundary time the clocks skip (inside a spring-forward gap)
///   falls at the instant the clock would have shown it with the offset in force before the gap;
///   a time the clocks pass twice falls at its first occurrence.
/// - The arithmetic never overflows: near the ends of [`Timestamp`]'s range boundaries saturate
///   at [`Timestamp::MIN`] / [`Timestamp::MAX`].
///
/// ```
/// use rustrade_core::Timestamp;
/// use rustrade_risk::SessionBoundary;
///
/// // 17:00 at UTC−05:00 is 22:00 UTC, all year.
/// let b = SessionBoundary::new(17 * 3_600, -5 * 3_600)?;
/// let now = Timestamp::parse_rfc3339("2024-03-05T21:59:59Z")?;
/// assert_eq!(b.session_start(now), Timestamp::parse_rfc3339("2024-03-04T22:00:00Z")?);
/// assert_eq!(b.next_boundary(now), Timestamp::parse_rfc3339("2024-03-05T22:00:00Z")?);
///
/// // 17:00 New York time follows daylight saving: 21:00 UTC in summer.
/// let ny = SessionBoundary::in_time_zone(17 * 3_600, "America/New_York")?;
/// let now = Timestamp::parse_rfc3339("2024-07-01T12:00:00Z")?;
/// assert_eq!(ny.next_boundary(now), Timestamp::parse_rfc3339("2024-07-01T21:00:00Z")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionBoundary {
    /// Seconds after local midnight, `0..86400`.
    pub time_of_day_secs: u32,
    /// Offset of the local clock from UTC in seconds, strictly within ±24 h (east positive).
    /// Must be 0 when `time_zone` is set.
    #[serde(default)]
    pub utc_offset_secs: i32,
    /// An IANA time zone (`"America/New_York"`) whose clock the boundary follows, daylight
    /// saving included; `None` for the fixed offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Tz>,
}

impl SessionBoundary {
    /// Midnight UTC, the default.
    pub const UTC_MIDNIGHT: Self = Self {
        time_of_day_secs: 0,
        utc_offset_secs: 0,
        time_zone: None,
    };

    /// A validated boundary at `time_of_day_secs` past local midnight in `utc_offset_secs`.
    pub fn new(time_of_day_secs: u32, utc_offset_secs: i32) -> Result<Self, RiskError> {
        let b = Self {
            time_of_day_secs,
            utc_offset_secs,
            time_zone: None,
        };
        b.validate("session.boundary")?;
        Ok(b)
    }

    /// A validated boundary at `time_of_day_secs` past local midnight in the IANA time zone
    /// named `zone` (`"Europe/London"`); an unknown name is refused, naming it.
    pub fn in_time_zone(time_of_day_secs: u32, zone: &str) -> Result<Self, RiskError> {
        let tz: Tz = zone
            .parse()
            .map_err(|_| invalid("session.boundary.time_zone", zone, "unknown IANA time zone"))?;
        let b = Self {
            time_of_day_secs,
            utc_offset_secs: 0,
            time_zone: Some(tz),
        };
        b.validate("session.boundary")?;
        Ok(b)
    }

    /// Checks the fields; `prefix` names the boundary in errors (`session.boundary`).
    pub(crate) fn validate(&self, prefix: &'static str) -> Result<(), RiskError> {
        let portfolio = prefix == "portfolio.boundary";
        if self.time_of_day_secs >= SECS_PER_DAY {
            return Err(invalid(
                if portfolio {
                    "portfolio.boundary.time_of_day_secs"
                } else {
                    "session.boundary.time_of_day_secs"
                },
                self.time_of_day_secs,
                "must be < 86400 (seconds after midnight)",
            ));
        }
        let offset_field = if portfolio {
            "portfolio.boundary.utc_offset_secs"
        } else {
            "session.boundary.utc_offset_secs"
        };
        if self.utc_offset_secs.unsigned_abs() >= SECS_PER_DAY {
            return Err(invalid(
                offset_field,
                self.utc_offset_secs,
                "must be strictly within ±86400 seconds",
            ));
        }
        if self.time_zone.is_some() && self.utc_offset_secs != 0 {
            return Err(invalid(
                offset_field,
                self.utc_offset_secs,
                "must be 0 when a time_zone is given",
            ));
        }
        Ok(())
    }

    /// The start of the session containing `now`: the latest boundary at or before `now`.
    pub fn session_start(&self, now: Timestamp) -> Timestamp {
        match self.time_zone {
            None => {
                let shift = (i128::from(self.time_of_day_secs) - i128::from(self.utc_offset_secs))
                    * NANOS_PER_SEC;
                let day = (i128::from(now.as_nanos()) - shift).div_euclid(NANOS_PER_DAY);
                clamp(day * NANOS_PER_DAY + shift)
            }
            Some(tz) => {
                let today = tz
                    .from_utc_datetime(&now.to_datetime().naive_utc())
                    .date_naive();
                (0..3)
                    .filter_map(|back| today.checked_sub_days(Days::new(back)))
                    .filter_map(|date| self.zoned_boundary(tz, date))
                    .find(|&b| b <= now)
                    .unwrap_or(Timestamp::MIN)
            }
        }
    }

    /// The first boundary strictly after `now`: when the current session ends.
    pub fn next_boundary(&self, now: Timestamp) -> Timestamp {
        match self.time_zone {
            None => clamp(i128::from(self.session_start(now).as_nanos()) + NANOS_PER_DAY),
            Some(tz) => {
                let today = tz
                    .from_utc_datetime(&now.to_datetime().naive_utc())
                    .date_naive();
                (0..3)
                    .filter_map(|fwd| today.checked_add_days(Days::new(fwd)))
                    .filter_map(|date| self.zoned_boundary(tz, date))
                    .find(|&b| b > now)
                    .unwrap_or(Timestamp::MAX)
            }
        }
    }

    /// The boundary instant on local `date` in `tz`, if representable.
    fn zoned_boundary(&self, tz: Tz, date: NaiveDate) -> Option<Timestamp> {
        let time = NaiveTime::from_num_seconds_from_midnight_opt(self.time_of_day_secs, 0)?;
        let local = date.and_time(time);
        let utc = match tz.from_local_datetime(&local).earliest() {
            Some(dt) => dt.naive_utc(),
            None => {
                // Inside a spring-forward gap: use the offset in force before the gap.
                let before = local.checked_sub_signed(chrono::TimeDelta::hours(3))?;
                let offset = tz.from_local_datetime(&before).earliest()?.offset().fix();
                local.checked_sub_signed(chrono::TimeDelta::seconds(i64::from(
                    offset.local_minus_utc(),
                )))?
            }
        };
        Timestamp::try_from(utc.and_utc()).ok()
    }
}

impl Default for SessionBoundary {
    fn default() -> Self {
        Self::UTC_MIDNIGHT
    }
}

fn clamp(nanos: i128) -> Timestamp {
    Timestamp::from_nanos(nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}
