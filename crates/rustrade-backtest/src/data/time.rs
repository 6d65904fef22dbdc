//! Parsing of the timestamp texts found in candle files, without allocation.
//!
//! Accepted forms (surrounding spaces are ignored):
//!
//! | text | meaning |
//! |---|---|
//! | `2024-01-02` | midnight UTC of that day |
//! | `2024-01-02 03:04`, `2024-01-02 03:04:05`, `2024-01-02T03:04:05.123` | that instant, UTC |
//! | `2024-01-02T03:04:05Z`, `...+01:00`, `...-0530` | RFC 3339 with a zone, converted to UTC |
//! | an integer | Unix epoch time whose unit is read from its magnitude (below) |
//!
//! Epoch magnitude rule, on the absolute value `v`: `v < 10^11` is seconds, `v < 10^14`
//! milliseconds, `v < 10^17` microseconds, otherwise nanoseconds. Each band covers the years
//! 1970..5138 in its unit, so a real timestamp is never ambiguous.

use rustrade_core::Timestamp;

/// Why a time text was refused (static, so the hot path never allocates).
pub(crate) type TimeParseError = &'static str;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Parses any accepted form.
pub(crate) fn parse_time(text: &[u8]) -> Result<Timestamp, TimeParseError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err("empty time");
    }
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if let Some(v) = short_integer(digits) {
        let v = if digits.len() < text.len() { -v } else { v };
        return epoch_by_magnitude(v);
    }
    if digits.iter().all(u8::is_ascii_digit) {
        let v = parse_i64(text).ok_or("epoch number out of range")?;
        return epoch_by_magnitude(v);
    }
    parse_datetime(text)
}

/// Converts an epoch integer by the magnitude rule of the module doc.
pub(crate) fn epoch_by_magnitude(v: i64) -> Result<Timestamp, TimeParseError> {
    let a = v.unsigned_abs();
    let scale = if a < 100_000_000_000 {
        NANOS_PER_SEC
    } else if a < 100_000_000_000_000 {
        1_000_000
    } else if a < 100_000_000_000_000_000 {
        1_000
    } else {
        1
    };
    v.checked_mul(scale)
        .map(Timestamp::from_nanos)
        .ok_or("epoch time out of range")
}

/// 1 to 18 ASCII digits as an integer, read in one pass; `None` for anything else. Below 10^18,
/// so no step can overflow.
#[inline]
fn short_integer(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v = 0i64;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(v)
}

/// An optional `-` and ASCII digits (as `parse_time` checked) as an `i64`; `None` on overflow
/// or when there is no digit.
fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    if let Some(v) = short_integer(digits) {
        return Some(if negative { -v } else { v });
    }
    digits.iter().try_fold(0i64, |v, &b| {
        let d = i64::from(b.checked_sub(b'0').filter(|d| *d < 10)?);
        // Accumulating with the sign reaches `i64::MIN` without overflowing on the way.
        if negative {
            v.checked_mul(10)?.checked_sub(d)
        } else {
            v.checked_mul(10)?.checked_add(d)
        }
    })
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.f+]]][Z|±HH[:]MM]`.
fn parse_datetime(t: &[u8]) -> Result<Timestamp, TimeParseError> {
    const BAD: &str =
        "not a date (YYYY-MM-DD), date-time (YYYY-MM-DD HH:MM[:SS]), RFC 3339 or epoch number";
    if t.len() < 10 || t[4] != b'-' || t[7] != b'-' {
        return Err(BAD);
    }
    let year = num(&t[0..4]).ok_or(BAD)?;
    let month = num(&t[5..7]).ok_or(BAD)?;
    let day = num(&t[8..10]).ok_or(BAD)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such calendar day");
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0i64;
    let mut rest = &t[10..];
    if !rest.is_empty() {
        if !matches!(rest[0], b'T' | b't' | b' ') || rest.len() < 6 || rest[3] != b':' {
            return Err(BAD);
        }
        let hour = num(&rest[1..3]).ok_or(BAD)?;
        let minute = num(&rest[4..6]).ok_or(BAD)?;
        rest = &rest[6..];
        let mut second = 0;
        if rest.first() == Some(&b':') {
            second = rest.get(1..3).and_then(num).ok_or(BAD)?;
            rest = &rest[3..];
            if rest.first() == Some(&b'.') {
                let frac_len = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
                if frac_len == 0 {
                    return Err(BAD);
                }
                nanos = fraction_nanos(&rest[1..=frac_len]);
                rest = &rest[1 + frac_len..];
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err("time of day out of range");
        }
        secs += hour * 3_600 + minute * 60 + second;
        secs -= zone_offset_secs(rest)?;
    }
    secs.checked_mul(NANOS_PER_SEC)
        .and_then(|n| n.checked_add(nanos))
        .map(Timestamp::from_nanos)
        .ok_or("date outside the representable range (1677..2262)")
}

/// Offset east of UTC in seconds for `""`, `Z`, `±HH:MM` or `±HHMM`.
fn zone_offset_secs(z: &[u8]) -> Result<i64, TimeParseError> {
    const BAD_ZONE: &str = "bad time zone (expected Z, +HH:MM or -HH:MM)";
    match z {
        [] | [b'Z' | b'z'] => Ok(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [a, b, b':', c, d] | [a, b, c, d] => (num(&[*a, *b]), num(&[*c, *d])),
                _ => return Err(BAD_ZONE),
            };
            let (h, m) = (h.ok_or(BAD_ZONE)?, m.ok_or(BAD_ZONE)?);
            if h > 23 || m > 59 {
                return Err(BAD_ZONE);
            }
            let off = h * 3_600 + m * 60;
            Ok(if *sign == b'-' { -off } else { off })
        }
        _ => Err(BAD_ZONE),
    }
}

fn fraction_nanos(digits: &[u8]) -> i64 {
    let mut v = 0i64;
    for i in 0..9 {
        v = v * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0'));
    }
    v
}

fn num(d: &[u8]) -> Option<i64> {
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(
            parse_time(b"2017-01-03").unwrap(),
            rfc("2017-01-03T00:00:00Z")
        );
        assert_eq!(parse_time(b"1970-01-01").unwrap(), Timestamp::EPOCH);
        assert_eq!(
            parse_time(b"2020-12-15 09:30").unwrap(),
            rfc("2020-12-15T09:30:00Z")
        );
        assert_eq!(
            parse_time(b" 2020-12-15 09:30:59 ").unwrap(),
            rfc("2020-12-15T09:30:59Z")
        );
        assert_eq!(
            parse_time(b"2000-02-29T23:59:59.5").unwrap(),
            rfc("2000-02-29T23:59:59.5Z")
        );
        assert_eq!(parse_time(b"1969-12-31").unwrap().as_secs(), -86_400);
    }

    #[test]
    fn rfc3339_with_zones_matches_chrono() {
        for s in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05.123456789+01:00",
            "2024-01-02T03:04:05-05:30",
            "1999-12-31T23:59:59.000001Z",
        ] {
            assert_eq!(parse_time(s.as_bytes()).unwrap(), rfc(s), "{s}");
        }
        assert_eq!(
            parse_time(b"2024-01-02T03:04:05+0100").unwrap(),
            rfc("2024-01-02T02:04:05Z")
        );
    }

    #[test]
    fn epoch_units_by_magnitude() {
        let t = rfc("2023-11-14T22:13:20Z");
        assert_eq!(parse_time(b"1700000000").unwrap(), t);
        assert_eq!(parse_time(b"1700000000000").unwrap(), t);
        assert_eq!(parse_time(b"1700000000000000").unwrap(), t);
        assert_eq!(parse_time(b"1700000000000000000").unwrap(), t);
        assert_eq!(parse_time(b"0").unwrap(), Timestamp::EPOCH);
        assert_eq!(parse_time(b"-86400").unwrap().as_secs(), -86_400);
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(parse_time(b"").unwrap_err(), "empty time");
        assert_eq!(
            parse_time(b"2017-02-30").unwrap_err(),
            "no such calendar day"
        );
        assert_eq!(
            parse_time(b"2017-13-01").unwrap_err(),
            "no such calendar day"
        );
        assert_eq!(
            parse_time(b"2017-01-01 25:00").unwrap_err(),
            "time of day out of range"
        );
        assert!(
            parse_time(b"yesterday")
                .unwrap_err()
                .starts_with("not a date")
        );
        assert!(
            parse_time(b"2017-01-01T10:00:00+1")
                .unwrap_err()
                .starts_with("bad time zone")
        );
        assert!(parse_time(b"99999999999999999999").is_err());
        assert!(parse_time(b"3000-01-01").unwrap_err().contains("range"));
    }

    #[test]
    fn parse_i64_edges() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b""), None);
    }

    proptest::proptest! {
        /// The digit loop reads every optional-minus-and-digits text as the standard parser does.
        #[test]
        fn parse_i64_agrees_with_the_standard_parser(text in "-?[0-9]{0,21}") {
            proptest::prop_assert_eq!(parse_i64(text.as_bytes()), text.parse::<i64>().ok());
        }

        /// Epoch texts of any length read as the magnitude rule on the standard parser's value;
        /// a stray byte makes the text a (bad) date instead.
        #[test]
        fn epoch_texts_read_as_the_standard_parser_reads_them(text in "-?[0-9]{1,21}[x]?") {
            let expected = match text.parse::<i64>() {
                Ok(v) => epoch_by_magnitude(v),
                Err(_) if text.ends_with('x') => parse_datetime(text.as_bytes()),
                Err(_) => Err("epoch number out of range"),
            };
            proptest::prop_assert_eq!(parse_time(text.as_bytes()), expected);
        }
    }
}
