//! Value checks shared by the file loaders, so a CSV and a Parquet file holding the same numbers
//! are accepted or refused alike, with the same reasons.
//!
//! - Time columns are found by the names in [`TIME_NAMES`] (case-insensitive).
//! - Every number must be finite; prices must be `> 0`. The remaining candle invariants
//!   (`high >= max(open, close)`, `low <= min(open, close)`, volume `>= 0`) are
//!   [`rustrade_core::Candle::new`]'s, and [`refused_column`] names the column its error is about.

use std::time::Duration;

use rustrade_core::{Timestamp, ValueError};

use crate::DataError;

/// Column names that hold a candle's open time, in no particular order.
pub(crate) const TIME_NAMES: [&str; 7] = [
    "date",
    "time",
    "datetime",
    "timestamp",
    "open_time",
    "opentime",
    "ts",
];

/// How a missing time column is described in [`DataError::MissingColumn`].
pub(crate) const TIME_COLUMN: &str = "time (date, time, datetime, timestamp, open_time)";

/// Names accepted for the optional volume column.
pub(crate) const VOLUME_NAMES: [&str; 2] = ["volume", "vol"];

/// One of a candle's number columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ohlcv {
    /// Opening price.
    Open,
    /// Highest price.
    High,
    /// Lowest price.
    Low,
    /// Closing price.
    Close,
    /// Traded quantity.
    Volume,
}

/// Refuses NaN and infinities.
#[inline]
pub(crate) fn finite(v: f64) -> Result<f64, &'static str> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err("not a finite number")
    }
}

/// Refuses a non-finite price or one that is not `> 0`.
#[inline]
pub(crate) fn price(v: f64) -> Result<f64, &'static str> {
    let v = finite(v)?;
    if v <= 0.0 {
        return Err("price must be > 0");
    }
    Ok(v)
}

/// The column a [`rustrade_core::Candle::new`] refusal is about, when it names one.
pub(crate) fn refused_column(e: &ValueError) -> Option<Ohlcv> {
    match e.field() {
        "open" => Some(Ohlcv::Open),
        "high" => Some(Ohlcv::High),
        "low" => Some(Ohlcv::Low),
        "close" => Some(Ohlcv::Close),
        "volume" => Some(Ohlcv::Volume),
        _ => None,
    }
}

/// Validates a bar length option: zero is refused.
pub(crate) fn bar_interval(interval: Duration) -> Result<Duration, DataError> {
    if interval.is_zero() {
        return Err(DataError::Option(ValueError::NotPositive {
            field: "bar_interval",
            value: 0.0,
        }));
    }
    Ok(interval)
}

/// A bar's event time: its close (open time + interval) when the interval is known, else its
/// open time.
#[inline]
pub(crate) fn event_time(open_time: Timestamp, interval: Option<Duration>) -> Timestamp {
    interval.map_or(open_time, |d| open_time.saturating_add(d))
}

#[cfg(test)]
mod tests {
    use rustrade_core::Candle;

    use super::*;

    #[test]
    fn numbers_and_prices() {
        assert_eq!(finite(-1.5), Ok(-1.5));
        assert_eq!(finite(f64::NAN), Err("not a finite number"));
        assert_eq!(price(f64::INFINITY), Err("not a finite number"));
        assert_eq!(price(0.0), Err("price must be > 0"));
        assert_eq!(price(2.0), Ok(2.0));
    }

    #[test]
    fn candle_refusals_name_their_column() {
        let e = Candle::new(Timestamp::EPOCH, 10.0, 9.0, 8.0, 10.0, 1.0).unwrap_err();
        assert_eq!(refused_column(&e), Some(Ohlcv::High));
        let e = Candle::new(Timestamp::EPOCH, 10.0, 11.0, 8.0, 10.0, -1.0).unwrap_err();
        assert_eq!(refused_column(&e), Some(Ohlcv::Volume));
    }

    #[test]
    fn intervals() {
        assert!(bar_interval(Duration::ZERO).is_err());
        let t = Timestamp::from_secs(60).unwrap();
        assert_eq!(event_time(t, None), t);
        assert_eq!(event_time(t, Some(Duration::from_secs(60))).as_secs(), 120);
    }
}
