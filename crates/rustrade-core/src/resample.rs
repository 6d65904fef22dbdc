//! [`Resampler`]: bars of a longer interval (1 h, 1 d) built from a feed of closed base bars
//! (1 m), for brains that decide on several timeframes.

use std::time::Duration;

use crate::{Candle, Timestamp, ValueError};

/// A bar of the longer interval, answered by [`Resampler::push`] once its bucket has closed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResampledBar {
    /// The aggregated bar; its open time is the bucket's start.
    pub candle: Candle,
    /// The bucket's end (start + the longer interval): when the bar closed.
    pub close_time: Timestamp,
    /// Base bars it aggregates.
    pub base_bars: u32,
    /// Base bars a full bucket holds (the longer interval over the base one).
    pub expected_bars: u32,
}

impl ResampledBar {
    /// Whether every base bar of the bucket was seen (none missing from the feed).
    pub fn is_complete(&self) -> bool {
        self.base_bars == self.expected_bars
    }
}

/// The longer bars one push closed: none, one, or two (the bucket a gap left unfinished, then
/// the pushed bar's own bucket when that bar ends it). Iterates oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Closed {
    bars: [Option<ResampledBar>; 2],
}

/// Builds bars of a longer interval from closed base bars of one symbol.
///
/// A brain keeps one resampler per symbol and interval and feeds it each base candle it sees;
/// the resampler answers the longer bars that candle closes. It runs inside the brain, so the
/// backtest, a paper bot and a live bot, which hand a brain the same closed candles, give it the
/// same longer bars: no driver takes part. [`OnTimeframe`](crate::OnTimeframe) does this for a
/// whole brain, which then sees only the longer bars.
///
/// # Buckets
///
/// A longer bar covers the bucket `[start, start + target)`, the buckets aligned to
/// `offset + k × target` since the Unix epoch (UTC; `offset` 0 puts hourly bars on the hour and
/// daily bars at midnight). A base bar belongs to the bucket holding its open time, and covers
/// `[open_time, open_time + base)`. Its open, high, low, close and volume are the first base
/// bar's open, the highest high, the lowest low, the last close and the summed volume.
///
/// # Invariants
///
/// - **Closed bars only, no look-ahead.** A longer bar is answered by the push of the base bar
///   that closes it: the one that ends at the bucket's end, or, when the feed skipped the
///   bucket's last base bars, the first base bar of a later bucket. Either way every base bar in
///   it has closed by the time the pushed bar has, and no base bar pushed later can belong to it
///   (such a bar is refused, below). The bucket still being filled is never shown.
/// - **Each base bar counted once, in order.** A base bar whose open time is not after the last
///   one's, that falls in an answered bucket, or whose open time is off the `base` grid (it
///   would straddle two buckets) is refused with [`ValueError::Inconsistent`] naming
///   `candle.open_time`, and changes nothing.
/// - **Gaps are visible.** A longer bar says how many base bars it holds and how many a full
///   bucket has ([`ResampledBar::is_complete`]); the first bucket of a feed that starts
///   mid-bucket, and buckets with missing base bars, are answered like the others.
/// - No allocation and O(1) work per push.
///
/// ```
/// use std::time::Duration;
/// use rustrade_core::{Candle, Resampler, Timestamp};
///
/// let minute = Duration::from_secs(60);
/// let mut hourly = Resampler::new(minute, Duration::from_secs(3600))?;
/// let mut answered = Vec::new();
/// for i in 0..120 {
///     let open_time = Timestamp::from_secs(i * 60)?;
///     let close = 100.0 + i as f64;
///     let candle = Candle::new(open_time, close, close + 0.5, close - 0.5, close, 1.0)?;
///     answered.extend(hourly.push(&candle)?);
/// }
/// assert_eq!(answered.len(), 2, "two hours closed");
/// let first = answered[0];
/// assert_eq!(first.candle.close().get(), 159.0, "the close of the minute ending at 01:00");
/// assert_eq!(first.candle.volume().get(), 60.0);
/// assert_eq!(first.close_time, Timestamp::from_secs(3600)?);
/// assert!(first.is_complete());
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Resampler {
    base: i64,
    target: i64,
    offset: i64,
    current: Option<Bucket>,
    last_open: Option<Timestamp>,
    last: Option<ResampledBar>,
}

/// The bucket being filled.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: i64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    bars: u32,
}

impl Bucket {
    /// Adds a later base bar of the bucket.
    #[inline]
    fn add(&mut self, candle: &Candle) {
        self.high = self.high.max(candle.high().get());
        self.low = self.low.min(candle.low().get());
        self.close = candle.close().get();
        // Saturates rather than overflowing to infinity: the sum stays a valid volume.
        self.volume = (self.volume + candle.volume().get()).min(f64::MAX);
        self.bars += 1;
    }
}

impl Closed {
    /// Whether the push closed no longer bar.
    pub fn is_empty(&self) -> bool {
        self.bars[0].is_none()
    }

    /// How many longer bars the push closed (0, 1 or 2).
    pub fn len(&self) -> usize {
        self.bars.iter().flatten().count()
    }

    /// The newest longer bar the push closed.
    pub fn latest(&self) -> Option<&ResampledBar> {
        self.bars[1].as_ref().or(self.bars[0].as_ref())
    }

    /// The closed bars, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &ResampledBar> {
        self.bars.iter().flatten()
    }

    fn push(&mut self, bar: ResampledBar) {
        let slot = if self.bars[0].is_none() { 0 } else { 1 };
        self.bars[slot] = Some(bar);
    }
}

impl IntoIterator for Closed {
    type Item = ResampledBar;
    type IntoIter = std::iter::Flatten<std::array::IntoIter<Option<ResampledBar>, 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.bars.into_iter().flatten()
    }
}

impl Resampler {
    /// Longer bars of `target` from base bars of `base`, buckets aligned to the Unix epoch.
    ///
    /// `base` must be positive and `target` a whole multiple of it (`target == base` passes bars
    /// through); both in whole nanoseconds within about 292 years. The error names `base` or
    /// `target` and the value.
    pub fn new(base: Duration, target: Duration) -> Result<Self, ValueError> {
        let base_ns = nanos("base", base)?;
        let target_ns = nanos("target", target)?;
        if target_ns % base_ns != 0 || target_ns / base_ns > i64::from(u32::MAX) {
            return Err(ValueError::Inconsistent {
                field: "target",
                reason: format!(
                    "must be a whole multiple of base (got {target:?} for base {base:?})"
                ),
            });
        }
        Ok(Self {
            base: base_ns,
            target: target_ns,
            offset: 0,
            current: None,
            last_open: None,
            last: None,
        })
    }

    /// Shifts the buckets' alignment by `offset` from the epoch: `Duration::from_secs(4 * 86_400)`
    /// starts weekly bars on Mondays (1970-01-01 was a Thursday); a session's open aligns daily
    /// bars to it. `offset` must be below the longer interval and on the base grid.
    pub fn with_offset(mut self, offset: Duration) -> Result<Self, ValueError> {
        let ns = i64::try_from(offset.as_nanos()).unwrap_or(i64::MAX);
        if ns >= self.target || ns % self.base != 0 {
            return Err(ValueError::Inconsistent {
                field: "offset",
                reason: format!(
                    "must be below target and a multiple of base (got {offset:?} for base {:?}, target {:?})",
                    Duration::from_nanos(self.base as u64),
                    Duration::from_nanos(self.target as u64)
                ),
            });
        }
        self.offset = ns;
        Ok(self)
    }

    /// The base interval.
    pub fn base(&self) -> Duration {
        Duration::from_nanos(self.base as u64)
    }

    /// The longer interval.
    pub fn target(&self) -> Duration {
        Duration::from_nanos(self.target as u64)
    }

    /// The newest longer bar answered so far.
    pub fn last(&self) -> Option<&ResampledBar> {
        self.last.as_ref()
    }

    /// Feeds one closed base bar and answers the longer bars it closes (see [`Resampler`]).
    ///
    /// Refuses, changing nothing, a bar that is not after the previous one, that belongs to a
    /// bucket already answered, or whose open time is off the base grid.
    pub fn push(&mut self, candle: &Candle) -> Result<Closed, ValueError> {
        let open_time = candle.open_time();
        let t = open_time.as_nanos();
        // The common case: the base bar right after the previous one, inside the bucket being
        // filled. It is on the grid and in an unanswered bucket by construction, so the checks
        // and divisions below are skipped.
        if let (Some(last), Some(mut bucket)) = (self.last_open, self.current)
            && last.as_nanos().checked_add(self.base) == Some(t)
            && t < bucket.start.saturating_add(self.target)
        {
            bucket.add(candle);
            let mut closed = Closed::default();
            if t.saturating_add(self.base) >= bucket.start.saturating_add(self.target) {
                let bar = self.bar(&bucket)?;
                closed.push(bar);
                self.last = Some(bar);
                self.current = None;
            } else {
                self.current = Some(bucket);
            }
            self.last_open = Some(open_time);
            return Ok(closed);
        }
        if let Some(last) = self.last_open
            && t <= last.as_nanos()
        {
            return Err(refused(format!(
                "not after the previous base bar's {last:?} (got {open_time:?})"
            )));
        }
        if (t - self.offset).rem_euclid(self.base) != 0 {
            return Err(refused(format!(
                "off the {:?} grid of base bars (got {open_time:?})",
                self.base()
            )));
        }
        let start = t - (t - self.offset).rem_euclid(self.target);
        if let Some(last) = &self.last
            && start < last.close_time.as_nanos()
        {
            return Err(refused(format!(
                "in the bucket closed at {:?}, already answered (got {open_time:?})",
                last.close_time
            )));
        }
        let mut closed = Closed::default();
        let mut current = self.current;
        if let Some(bucket) = current
            && bucket.start != start
        {
            closed.push(self.bar(&bucket)?);
            current = None;
        }
        let bucket = match current {
            Some(mut b) => {
                b.add(candle);
                b
            }
            None => Bucket {
                start,
                open: candle.open().get(),
                high: candle.high().get(),
                low: candle.low().get(),
                close: candle.close().get(),
                volume: candle.volume().get(),
                bars: 1,
            },
        };
        if t.saturating_add(self.base) >= start.saturating_add(self.target) {
            closed.push(self.bar(&bucket)?);
            current = None;
        } else {
            current = Some(bucket);
        }
        // Nothing above changed the resampler, so a refused bar leaves it as it was.
        self.current = current;
        self.last_open = Some(open_time);
        if let Some(bar) = closed.latest() {
            self.last = Some(*bar);
        }
        Ok(closed)
    }

    /// The longer bar of a finished bucket.
    fn bar(&self, b: &Bucket) -> Result<ResampledBar, ValueError> {
        let candle = Candle::new(
            Timestamp::from_nanos(b.start),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
        )?;
        Ok(ResampledBar {
            candle,
            close_time: Timestamp::from_nanos(b.start.saturating_add(self.target)),
            base_bars: b.bars,
            expected_bars: (self.target / self.base) as u32,
        })
    }
}

fn nanos(field: &'static str, d: Duration) -> Result<i64, ValueError> {
    match i64::try_from(d.as_nanos()) {
        Ok(ns) if ns > 0 => Ok(ns),
        _ => Err(ValueError::OutOfRange {
            field,
            value: d.as_secs_f64(),
            min: 1e-9,
            max: i64::MAX as f64 / 1e9,
        }),
    }
}

fn refused(reason: String) -> ValueError {
    ValueError::Inconsistent {
        field: "candle.open_time",
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60;

    fn bar(min: i64, close: f64) -> Candle {
        Candle::new(
            Timestamp::from_secs(min * MIN).unwrap(),
            close - 1.0,
            close + 2.0,
            close - 2.0,
            close,
            10.0,
        )
        .unwrap()
    }

    fn hourly() -> Resampler {
        Resampler::new(Duration::from_secs(60), Duration::from_secs(3600)).unwrap()
    }

    #[test]
    fn the_bar_ending_the_bucket_answers_it_at_once() {
        let mut r = hourly();
        for m in 0..59 {
            assert!(r.push(&bar(m, 100.0 + m as f64)).unwrap().is_empty());
        }
        assert!(r.last().is_none(), "the filling bucket is never shown");
        let closed = r.push(&bar(59, 50.0)).unwrap();
        assert_eq!(closed.len(), 1);
        let h = *closed.latest().unwrap();
        assert_eq!(h.candle.open_time(), Timestamp::EPOCH);
        assert_eq!(h.candle.open().get(), 99.0);
        assert_eq!(h.candle.high().get(), 160.0);
        assert_eq!(h.candle.low().get(), 48.0);
        assert_eq!(h.candle.close().get(), 50.0);
        assert_eq!(h.candle.volume().get(), 600.0);
        assert_eq!(h.close_time, Timestamp::from_secs(3600).unwrap());
        assert!(h.is_complete());
        assert_eq!(r.last(), Some(&h));
    }

    #[test]
    fn a_gap_closes_the_unfinished_bucket_and_may_close_the_next() {
        let mut r = hourly();
        r.push(&bar(10, 1.0)).unwrap();
        r.push(&bar(11, 2.0)).unwrap();
        // The next bar is the last minute of the following hour: both hours close on it.
        let closed = r.push(&bar(119, 3.0)).unwrap();
        let bars: Vec<ResampledBar> = closed.into_iter().collect();
        assert_eq!(bars.len(), 2);
        assert_eq!((bars[0].base_bars, bars[0].expected_bars), (2, 60));
        assert!(!bars[0].is_complete());
        assert_eq!(bars[0].candle.close().get(), 2.0);
        assert_eq!(
            bars[1].candle.open_time(),
            Timestamp::from_secs(3600).unwrap()
        );
        assert_eq!(bars[1].base_bars, 1);
        assert_eq!(closed.latest(), Some(&bars[1]));
    }

    #[test]
    fn late_repeated_and_misaligned_bars_are_refused_and_change_nothing() {
        let mut r = hourly();
        r.push(&bar(0, 1.0)).unwrap();
        let e = r.push(&bar(0, 1.0)).unwrap_err();
        assert_eq!(e.field(), "candle.open_time");
        assert!(e.to_string().contains("not after"), "{e}");
        let odd = Candle::new(Timestamp::from_secs(90).unwrap(), 1.0, 1.0, 1.0, 1.0, 1.0).unwrap();
        let e = r.push(&odd).unwrap_err();
        assert!(e.to_string().contains("grid"), "{e}");
        r.push(&bar(59, 1.0)).unwrap();
        let snapshot = r.last().copied();
        // Minute 30 is before minute 59 anyway; a feed restarted mid-hour is caught the same.
        let mut restarted = r.clone();
        restarted.last_open = None;
        let e = restarted.push(&bar(30, 1.0)).unwrap_err();
        assert!(e.to_string().contains("already answered"), "{e}");
        assert_eq!(restarted.last().copied(), snapshot);
    }

    #[test]
    fn offsets_shift_the_buckets() {
        let day = Duration::from_secs(86_400);
        let week = Resampler::new(day, 7 * day)
            .unwrap()
            .with_offset(4 * day)
            .unwrap();
        let mut week = week;
        // 1970-01-05 was a Monday: days 4..=10 form the first full week.
        let mut closes = Vec::new();
        for d in 0..12 {
            let c = Candle::new(
                Timestamp::from_secs(d * 86_400).unwrap(),
                1.0,
                1.0,
                1.0,
                1.0,
                1.0,
            )
            .unwrap();
            closes.extend(week.push(&c).unwrap());
        }
        assert_eq!(
            closes.len(),
            2,
            "the partial week before Monday, then a full one"
        );
        assert_eq!(closes[0].base_bars, 4);
        assert_eq!(
            closes[1].candle.open_time(),
            Timestamp::from_secs(4 * 86_400).unwrap()
        );
        assert!(closes[1].is_complete());
    }

    #[test]
    fn bad_intervals_name_their_field() {
        let m = Duration::from_secs(60);
        let e = Resampler::new(Duration::ZERO, m).unwrap_err();
        assert_eq!(e.field(), "base");
        let e = Resampler::new(m, Duration::from_secs(90)).unwrap_err();
        assert_eq!(e.field(), "target");
        assert!(e.to_string().contains("multiple"), "{e}");
        let e = Resampler::new(m, Duration::ZERO).unwrap_err();
        assert_eq!(e.field(), "target");
        let e = hourly().with_offset(Duration::from_secs(3600)).unwrap_err();
        assert_eq!(e.field(), "offset");
        let e = hourly().with_offset(Duration::from_secs(30)).unwrap_err();
        assert_eq!(e.field(), "offset");
    }

    #[test]
    fn equal_intervals_pass_bars_through() {
        let m = Duration::from_secs(60);
        let mut r = Resampler::new(m, m).unwrap();
        let b = bar(3, 7.0);
        let closed = r.push(&b).unwrap();
        assert_eq!(closed.latest().unwrap().candle, b);
    }
}
