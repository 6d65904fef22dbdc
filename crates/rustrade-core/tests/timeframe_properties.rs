//! No look-ahead through [`OnTimeframe`]: over random base feeds with gaps, every longer bar the
//! inner brain is shown while the driver hands it the base candle closing at `t` is built only
//! from base candles that closed by `t`, holds all of its bucket's candles seen so far, and is
//! shown on the first base candle that closes its bucket; the wrapper's decisions on a prefix of
//! the feed are those it makes on the whole feed. [`check`] is also run on deliberately broken
//! delivery logs (a bar shown one base candle early, one late, a bucket still filling) to show
//! it catches them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use rustrade_core::{
    Brain, BrainContext, BrainError, Candle, Decision, MarketEvent, OnTimeframe, Position,
    Resampler, Symbol, Timestamp, Venue, async_trait,
};

const NS: i64 = 1_000_000_000;

/// Records each longer event it is shown; buys when the bar closes above its open, sells when
/// below (so decisions depend on the bars' contents).
#[derive(Default)]
struct Recording {
    shown: Mutex<Vec<MarketEvent>>,
}

#[async_trait]
impl Brain for Recording {
    fn name(&self) -> &str {
        "recording"
    }
    fn on_event(&self, e: &MarketEvent, _p: &Position) -> Result<Decision, BrainError> {
        self.shown.lock().unwrap().push(*e);
        let c = e.as_candle().unwrap();
        Ok(if c.close() > c.open() {
            Decision::buy(1.0)
        } else if c.close() < c.open() {
            Decision::sell(1.0)
        } else {
            Decision::hold()
        })
    }
}

/// The timeframe under test, in seconds: base, bars per bucket, offset in base bars.
#[derive(Debug, Clone, Copy)]
struct Frame {
    base: i64,
    k: i64,
    offset: i64,
}

impl Frame {
    fn target(&self) -> i64 {
        self.base * self.k * NS
    }
    fn bucket_of(&self, c: &Candle) -> i64 {
        let t = c.open_time().as_nanos();
        t - (t - self.offset * self.base * NS).rem_euclid(self.target())
    }
    fn closes(&self, c: &Candle) -> i64 {
        c.open_time().as_nanos() + self.base * NS
    }
    fn resampler(&self) -> Resampler {
        Resampler::new(
            Duration::from_secs(self.base as u64),
            Duration::from_secs((self.base * self.k) as u64),
        )
        .unwrap()
        .with_offset(Duration::from_secs((self.offset * self.base) as u64))
        .unwrap()
    }
}

/// Base candle events, each stamped at its close; `steps` are gaps on the base grid.
fn feed(frame: Frame, start: i64, steps: &[(i64, f64, f64)]) -> Vec<MarketEvent> {
    let venue = Venue::new("sim").unwrap();
    let symbol = Symbol::new("X").unwrap();
    let mut step = start;
    steps
        .iter()
        .map(|&(gap, open, close)| {
            step += gap;
            let open_time = Timestamp::from_secs(step * frame.base).unwrap();
            let c = Candle::new(
                open_time,
                open,
                open.max(close) + 1.0,
                open.min(close) - 0.5,
                close,
                2.0,
            )
            .unwrap();
            let time = Timestamp::from_nanos(open_time.as_nanos() + frame.base * NS);
            MarketEvent::candle(venue, symbol, time, c)
        })
        .collect()
}

/// Runs the wrapper over `events`: its answer to each, and (base index, longer event) of every
/// bar the inner brain was shown.
fn run(
    frame: Frame,
    complete_only: bool,
    events: &[MarketEvent],
) -> (Vec<Decision>, Vec<(usize, MarketEvent)>) {
    let inner = Arc::new(Recording::default());
    let mut wrapper = OnTimeframe::new(inner.clone(), frame.resampler());
    if complete_only {
        wrapper = wrapper.complete_only();
    }
    let mut decisions = Vec::new();
    let mut shown = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let before = inner.shown.lock().unwrap().len();
        let d = wrapper
            .on_event_in(e, &BrainContext::detached(&Position::FLAT))
            .unwrap();
        decisions.push(d);
        let all = inner.shown.lock().unwrap();
        shown.extend(all[before..].iter().map(|s| (i, *s)));
    }
    (decisions, shown)
}

/// The delivery rules, checked against a log of `(base index, longer event)`.
fn check(
    frame: Frame,
    complete_only: bool,
    events: &[MarketEvent],
    shown: &[(usize, MarketEvent)],
) -> Result<(), String> {
    let candles: Vec<Candle> = events.iter().map(|e| *e.as_candle().unwrap()).collect();
    for (i, e) in shown {
        let (i, now) = (*i, events[*i].time.as_nanos());
        let bar = e.as_candle().unwrap();
        let start = bar.open_time().as_nanos();
        if e.time.as_nanos() != start + frame.target() {
            return Err(format!("bar {start} stamped {:?}", e.time));
        }
        if e.time.as_nanos() > now {
            return Err(format!(
                "bar {start} closing at {:?} shown at {now}",
                e.time
            ));
        }
        let members: Vec<(usize, &Candle)> = candles
            .iter()
            .enumerate()
            .filter(|(_, c)| frame.bucket_of(c) == start)
            .collect();
        if let Some((j, _)) = members.iter().find(|(j, _)| *j > i) {
            return Err(format!(
                "bar {start} shown at base {i}, but base {j}, closing later, belongs to it"
            ));
        }
        if members.iter().any(|(_, c)| frame.closes(c) > now) {
            return Err(format!("bar {start} holds a base candle open at {now}"));
        }
        let first = members
            .first()
            .ok_or(format!("bar {start} has no members"))?
            .1;
        let last = members.last().unwrap().1;
        let high = members
            .iter()
            .map(|m| m.1.high().get())
            .fold(f64::MIN, f64::max);
        let low = members
            .iter()
            .map(|m| m.1.low().get())
            .fold(f64::MAX, f64::min);
        let volume = 2.0 * members.len() as f64;
        let expected = (first.open(), high, low, last.close(), volume);
        let got = (
            bar.open(),
            bar.high().get(),
            bar.low().get(),
            bar.close(),
            bar.volume().get(),
        );
        if got != expected {
            return Err(format!(
                "bar {start} is {got:?}, its members give {expected:?}"
            ));
        }
        let closing = candles.iter().position(|c| {
            frame.bucket_of(c) > start
                || (frame.bucket_of(c) == start && frame.closes(c) == start + frame.target())
        });
        if closing != Some(i) {
            return Err(format!(
                "bar {start} shown at base {i}, first closed at {closing:?}"
            ));
        }
        if complete_only && members.len() as i64 != frame.k {
            return Err(format!("partial bar {start} shown under complete_only"));
        }
    }
    // Every bucket some base candle closed is shown (complete_only: every full one), once.
    let mut starts: Vec<i64> = candles.iter().map(|c| frame.bucket_of(c)).collect();
    starts.dedup();
    let now = events.last().map_or(i64::MIN, |e| e.time.as_nanos());
    let expected: Vec<i64> = starts
        .into_iter()
        .filter(|s| {
            let count = candles.iter().filter(|c| frame.bucket_of(c) == *s).count() as i64;
            let closed =
                s + frame.target() <= now || candles.iter().any(|c| frame.bucket_of(c) > *s);
            closed && (!complete_only || count == frame.k)
        })
        .collect();
    let got: Vec<i64> = shown
        .iter()
        .map(|(_, e)| e.as_candle().unwrap().open_time().as_nanos())
        .collect();
    if got != expected {
        return Err(format!("buckets shown {got:?}, closed {expected:?}"));
    }
    Ok(())
}

fn frames() -> impl Strategy<Value = (Frame, Vec<(i64, f64, f64)>)> {
    (1i64..=120, 1i64..=12).prop_flat_map(|(base, k)| {
        (
            (0..k).prop_map(move |offset| Frame { base, k, offset }),
            prop::collection::vec((1i64..=3 * k, 1.0f64..100.0, 1.0f64..100.0), 1..150),
        )
    })
}

proptest! {
    #[test]
    fn the_inner_brain_never_sees_the_future(
        (frame, steps) in frames(),
        start in -500i64..500,
        complete_only in any::<bool>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let events = feed(frame, start, &steps);
        let (decisions, shown) = run(frame, complete_only, &events);
        if let Err(e) = check(frame, complete_only, &events, &shown) {
            return Err(TestCaseError::fail(e));
        }
        // Decisions are hold except on base candles that delivered a bar.
        for (i, d) in decisions.iter().enumerate() {
            if !d.is_hold() {
                prop_assert!(shown.iter().any(|(j, _)| *j == i), "decision at {} with no bar", i);
            }
        }
        // The decisions up to any `t` are those made when the feed ends at `t`.
        let k = cut.index(events.len()) + 1;
        let (prefix, prefix_shown) = run(frame, complete_only, &events[..k]);
        prop_assert_eq!(&prefix[..], &decisions[..k]);
        let upto: Vec<_> = shown.iter().filter(|(i, _)| *i < k).copied().collect();
        prop_assert_eq!(prefix_shown, upto);
    }
}

fn minutes() -> (Frame, Vec<MarketEvent>) {
    let frame = Frame {
        base: 60,
        k: 60,
        offset: 0,
    };
    let steps: Vec<(i64, f64, f64)> = (0..200)
        .map(|i| (if i == 130 { 3 } else { 1 }, 10.0 + (i % 7) as f64, 12.0))
        .collect();
    (frame, feed(frame, -1, &steps))
}

#[test]
fn the_check_passes_the_real_wrapper_on_a_fixed_feed() {
    let (frame, events) = minutes();
    let (_, shown) = run(frame, false, &events);
    assert_eq!(shown.len(), 3);
    check(frame, false, &events, &shown).unwrap();
}

#[test]
fn the_check_catches_a_bar_shown_one_base_candle_early() {
    let (frame, events) = minutes();
    let (_, mut shown) = run(frame, false, &events);
    shown[0].0 -= 1;
    let e = check(frame, false, &events, &shown).unwrap_err();
    assert!(e.contains("closing later") || e.contains("shown at"), "{e}");
}

#[test]
fn the_check_catches_a_bar_shown_one_base_candle_late() {
    let (frame, events) = minutes();
    let (_, mut shown) = run(frame, false, &events);
    shown[1].0 += 1;
    let e = check(frame, false, &events, &shown).unwrap_err();
    assert!(e.contains("first closed at"), "{e}");
}

#[test]
fn the_check_catches_a_bucket_still_filling() {
    let (frame, events) = minutes();
    // What a wrapper showing its resampler's current bucket would show at minute 30.
    let members: Vec<&Candle> = events[..=30]
        .iter()
        .map(|e| e.as_candle().unwrap())
        .collect();
    let high = members
        .iter()
        .map(|c| c.high().get())
        .fold(f64::MIN, f64::max);
    let low = members
        .iter()
        .map(|c| c.low().get())
        .fold(f64::MAX, f64::min);
    let partial = Candle::new(
        Timestamp::EPOCH,
        members[0].open().get(),
        high,
        low,
        members[30].close().get(),
        2.0 * 31.0,
    )
    .unwrap();
    let peeked = MarketEvent::candle(
        events[30].venue,
        events[30].symbol,
        Timestamp::from_secs(3600).unwrap(),
        partial,
    );
    let (_, mut shown) = run(frame, false, &events);
    shown.insert(0, (30, peeked));
    let e = check(frame, false, &events, &shown).unwrap_err();
    assert!(e.contains("shown at"), "{e}");
}
