//! [`Timestamp`]: a UTC instant in integer nanoseconds.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ValueError;

/// A UTC instant as integer nanoseconds since the Unix epoch.
///
/// Integer time keeps ordering and arithmetic exact and deterministic. The range is about
/// 1677-09-21 to 2262-04-11. Conversions from milliseconds, seconds and RFC 3339 text are checked;
/// chrono appears only in the conversions at the edges.
///
/// ```
/// use rustrade_core::Timestamp;
/// let t = Timestamp::from_millis(1_700_000_000_000)?;
/// assert_eq!(t.as_millis(), 1_700_000_000_000);
/// assert_eq!(Timestamp::parse_rfc3339("2023-11-14T22:13:20Z")?, t);
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);
    /// The earliest representable instant.
    pub const MIN: Self = Self(i64::MIN);
    /// The latest representable instant.
    pub const MAX: Self = Self(i64::MAX);

    /// From nanoseconds since the epoch (every `i64` is valid).
    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    /// From microseconds since the epoch.
    pub fn from_micros(micros: i64) -> Result<Self, ValueError> {
        scaled(micros, 1_000, "timestamp_us")
    }

    /// From milliseconds since the epoch.
    pub fn from_millis(millis: i64) -> Result<Self, ValueError> {
        scaled(millis, 1_000_000, "timestamp_ms")
    }

    /// From whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Result<Self, ValueError> {
        scaled(secs, 1_000_000_000, "timestamp_s")
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Whole microseconds since the epoch (floored).
    pub const fn as_micros(self) -> i64 {
        self.0.div_euclid(1_000)
    }

    /// Whole milliseconds since the epoch (floored).
    pub const fn as_millis(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Whole seconds since the epoch (floored).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// Parses RFC 3339 text such as `2024-01-02T03:04:05.5Z` or with an offset.
    pub fn parse_rfc3339(text: &str) -> Result<Self, ValueError> {
        let dt = DateTime::parse_from_rfc3339(text).map_err(|_| ValueError::BadText {
            field: "timestamp",
            value: text.to_owned(),
            reason: "not an RFC 3339 date-time",
        })?;
        Self::try_from(dt.with_timezone(&Utc))
    }

    /// RFC 3339 text in UTC with as many fractional digits as needed.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    /// The instant as a chrono `DateTime<Utc>` (always representable).
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// `self + d`, or `None` past [`Timestamp::MAX`].
    pub fn checked_add(self, d: Duration) -> Option<Self> {
        let n = i64::try_from(d.as_nanos()).ok()?;
        self.0.checked_add(n).map(Self)
    }

    /// `self - d`, or `None` before [`Timestamp::MIN`].
    pub fn checked_sub(self, d: Duration) -> Option<Self> {
        let n = i64::try_from(d.as_nanos()).ok()?;
        self.0.checked_sub(n).map(Self)
    }

    /// `self + d`, clamped to [`Timestamp::MAX`].
    pub fn saturating_add(self, d: Duration) -> Self {
        self.checked_add(d).unwrap_or(Self::MAX)
    }

    /// `self - d`, clamped to [`Timestamp::MIN`].
    pub fn saturating_sub(self, d: Duration) -> Self {
        self.checked_sub(d).unwrap_or(Self::MIN)
    }

    /// Time elapsed from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn duration_since(self, earlier: Self) -> Option<Duration> {
        let diff = i128::from(self.0) - i128::from(earlier.0);
        u64::try_from(diff).ok().map(Duration::from_nanos)
    }
}

fn scaled(v: i64, factor: i64, field: &'static str) -> Result<Timestamp, ValueError> {
    v.checked_mul(factor)
        .map(Timestamp)
        .ok_or_else(|| ValueError::TimeOutOfRange {
            field,
            value: v.to_string(),
        })
}

impl TryFrom<DateTime<Utc>> for Timestamp {
    type Error = ValueError;
    fn try_from(dt: DateTime<Utc>) -> Result<Self, Self::Error> {
        dt.timestamp_nanos_opt()
            .map(Self)
            .ok_or_else(|| ValueError::TimeOutOfRange {
                field: "timestamp",
                value: dt.to_rfc3339(),
            })
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.to_datetime()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_conversions_are_exact() {
        let t = Timestamp::from_secs(1_600_000_000).unwrap();
        assert_eq!(t.as_millis(), 1_600_000_000_000);
        assert_eq!(t.as_micros(), 1_600_000_000_000_000);
        assert_eq!(t.as_nanos(), 1_600_000_000_000_000_000);
        assert_eq!(Timestamp::from_micros(1_500).unwrap().as_millis(), 1);
        assert_eq!(
            Timestamp::from_nanos(-1).as_secs(),
            -1,
            "floors before the epoch"
        );
    }

    #[test]
    fn out_of_range_units_are_refused() {
        let err = Timestamp::from_secs(i64::MAX / 10).unwrap_err();
        assert!(matches!(
            err,
            ValueError::TimeOutOfRange {
                field: "timestamp_s",
                ..
            }
        ));
        assert!(Timestamp::from_millis(i64::MIN).is_err());
    }

    #[test]
    fn rfc3339_round_trip_with_offsets_and_fractions() {
        let t = Timestamp::parse_rfc3339("2024-01-02T03:04:05.123456789+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T02:04:05.123456789Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        let err = Timestamp::parse_rfc3339("yesterday").unwrap_err();
        assert!(err.to_string().contains("yesterday"));
    }

    #[test]
    fn duration_arithmetic_is_checked() {
        let t = Timestamp::from_secs(10).unwrap();
        let later = t.checked_add(Duration::from_millis(1500)).unwrap();
        assert_eq!(later.duration_since(t), Some(Duration::from_millis(1500)));
        assert_eq!(t.duration_since(later), None);
        assert_eq!(Timestamp::MAX.checked_add(Duration::from_nanos(1)), None);
        assert_eq!(
            Timestamp::MAX.saturating_add(Duration::from_secs(1)),
            Timestamp::MAX
        );
        assert_eq!(
            Timestamp::MIN.saturating_sub(Duration::from_secs(1)),
            Timestamp::MIN
        );
    }

    #[test]
    fn serde_round_trip() {
        let t = Timestamp::from_nanos(1_234_567_890_123);
        let back: Timestamp = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
