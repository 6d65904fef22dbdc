//! Properties of [`Resampler`] over random feeds with gaps: every longer bar answered on a push
//! holds exactly the base bars of its bucket seen so far, all of them closed by the pushed bar's
//! close; no later base bar belongs to an answered bucket; every bucket is answered once, on the
//! first push that closes it.

use std::time::Duration;

use proptest::prelude::*;
use rustrade_core::{Candle, ResampledBar, Resampler, Timestamp};

/// A feed: base interval (seconds), bars per bucket, offset (in base bars), and bars as (steps
/// after the previous bar on the base grid, close, spread, volume).
type Feed = (i64, i64, i64, Vec<(i64, f64, f64, f64)>);

fn feeds() -> impl Strategy<Value = Feed> {
    (1i64..=300, 1i64..=12).prop_flat_map(|(base, k)| {
        (
            Just(base),
            Just(k),
            0..k,
            prop::collection::vec(
                (1i64..=3 * k, 1.0f64..1_000.0, 0.0f64..5.0, 0.0f64..1e6),
                1..200,
            ),
        )
    })
}

fn candles(base: i64, start_step: i64, bars: &[(i64, f64, f64, f64)]) -> Vec<Candle> {
    let mut step = start_step;
    bars.iter()
        .map(|&(gap, close, spread, volume)| {
            step += gap;
            let open = close + spread / 2.0;
            Candle::new(
                Timestamp::from_secs(step * base).unwrap(),
                open,
                open.max(close) + spread,
                open.min(close) - spread / 4.0,
                close,
                volume,
            )
            .unwrap()
        })
        .collect()
}

/// The longer bar built directly from `members`, in order.
fn aggregate(members: &[&Candle]) -> (f64, f64, f64, f64, f64) {
    let first = members[0];
    let last = members[members.len() - 1];
    let high = members
        .iter()
        .map(|c| c.high().get())
        .fold(f64::MIN, f64::max);
    let low = members
        .iter()
        .map(|c| c.low().get())
        .fold(f64::MAX, f64::min);
    let volume: f64 = members.iter().map(|c| c.volume().get()).sum();
    (first.open().get(), high, low, last.close().get(), volume)
}

fn parts(bar: &ResampledBar) -> (f64, f64, f64, f64, f64) {
    let c = &bar.candle;
    (
        c.open().get(),
        c.high().get(),
        c.low().get(),
        c.close().get(),
        c.volume().get(),
    )
}

proptest! {
    #[test]
    fn answered_bars_use_only_base_bars_closed_by_then((base, k, offset, bars) in feeds(), start in -1_000i64..1_000) {
        let target = base * k;
        let mut r = Resampler::new(Duration::from_secs(base as u64), Duration::from_secs(target as u64))
            .unwrap()
            .with_offset(Duration::from_secs((offset * base) as u64))
            .unwrap();
        let feed = candles(base, start, &bars);
        let ns = |s: i64| s * 1_000_000_000;
        let bucket_of = |c: &Candle| {
            let t = c.open_time().as_nanos();
            t - (t - ns(offset * base)).rem_euclid(ns(target))
        };
        // (push index, bar) of every answer.
        let mut answers: Vec<(usize, ResampledBar)> = Vec::new();
        for (i, c) in feed.iter().enumerate() {
            let now = c.open_time().as_nanos() + ns(base);
            let closed = r.push(c).unwrap();
            prop_assert!(closed.len() <= 2);
            let mut previous_start = i64::MIN;
            for bar in closed.iter() {
                let start = bar.candle.open_time().as_nanos();
                prop_assert!(start > previous_start, "oldest first");
                previous_start = start;
                prop_assert_eq!(bar.close_time.as_nanos(), start + ns(target));
                prop_assert!(bar.close_time.as_nanos() <= now, "answered only once its bucket ended");
                let members: Vec<&Candle> = feed[..=i].iter().filter(|m| bucket_of(m) == start).collect();
                prop_assert!(!members.is_empty());
                for m in &members {
                    prop_assert!(m.open_time().as_nanos() + ns(base) <= now, "every member closed by now");
                }
                prop_assert_eq!(bar.base_bars as usize, members.len());
                prop_assert_eq!(i64::from(bar.expected_bars), k);
                let (o, h, l, cl, v) = parts(bar);
                let (eo, eh, el, ecl, ev) = aggregate(&members);
                prop_assert_eq!((o, h, l, cl), (eo, eh, el, ecl));
                prop_assert!((v - ev).abs() <= 1e-9 * ev.max(1.0), "volume {} vs {}", v, ev);
                answers.push((i, *bar));
            }
            prop_assert_eq!(r.last(), answers.last().map(|a| &a.1));
        }
        // No base bar pushed after an answer belongs to the answered bucket.
        for (i, bar) in &answers {
            let start = bar.candle.open_time().as_nanos();
            prop_assert!(feed[i + 1..].iter().all(|c| bucket_of(c) != start));
        }
        // Every bucket with base bars is answered once, on the first push that closes it: the
        // bar ending it, or the first bar of a later bucket. Only the last bucket may be pending.
        let mut buckets: Vec<i64> = feed.iter().map(bucket_of).collect();
        buckets.dedup();
        let answered: Vec<i64> = answers.iter().map(|(_, b)| b.candle.open_time().as_nanos()).collect();
        let last_bar = feed.last().unwrap();
        let last_pending = last_bar.open_time().as_nanos() + ns(base) < bucket_of(last_bar) + ns(target);
        let expected = if last_pending { &buckets[..buckets.len() - 1] } else { &buckets[..] };
        prop_assert_eq!(&answered[..], expected);
        for (i, bar) in &answers {
            let start = bar.candle.open_time().as_nanos();
            let closing = feed.iter().position(|c| {
                bucket_of(c) > start
                    || (bucket_of(c) == start && c.open_time().as_nanos() + ns(base) == start + ns(target))
            });
            prop_assert_eq!(Some(*i), closing, "answered on the first push that closes it");
        }
    }

    #[test]
    fn a_refused_bar_changes_nothing((base, k, _offset, bars) in feeds(), pick in any::<prop::sample::Index>()) {
        let target = base * k;
        let mut r = Resampler::new(Duration::from_secs(base as u64), Duration::from_secs(target as u64)).unwrap();
        let feed = candles(base, 0, &bars);
        let mut reference = r.clone();
        let replay = pick.get(&feed);
        for c in &feed {
            r.push(c).unwrap();
            reference.push(c).unwrap();
            // Replaying any bar already seen is refused, naming the field, and leaves no trace.
            if c.open_time() >= replay.open_time() {
                let e = r.push(replay).unwrap_err();
                prop_assert_eq!(e.field(), "candle.open_time");
            }
        }
        let next = Candle::new(
            Timestamp::from_secs((feed.last().unwrap().open_time().as_secs() / base + 1) * base).unwrap(),
            1.0, 1.0, 1.0, 1.0, 1.0,
        ).unwrap();
        prop_assert_eq!(r.push(&next).unwrap(), reference.push(&next).unwrap());
        prop_assert_eq!(r.last(), reference.last());
    }
}
