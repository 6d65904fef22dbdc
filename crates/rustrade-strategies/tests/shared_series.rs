//! Brains over a shared series cache decide exactly as brains computing their own indicators.

use std::sync::Arc;

use proptest::prelude::*;
use rustrade_core::{
    Action, Brain, Candle, Decision, MarketEvent, Position, Symbol, Timestamp, Venue,
};
use rustrade_strategies::indicators::{Bollinger, Donchian, Ema, Rsi, Sma};
use rustrade_strategies::{SeriesCache, SeriesKey, list};

/// `len` candles of a seeded random walk, alternating between two symbols (sharing timestamps
/// in pairs), every fifth price repeating the previous one so flat stretches and exact ties
/// occur.
fn walk(seed: u64, len: usize) -> Vec<MarketEvent> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let venue = Venue::new("sim").unwrap();
    let symbols = [Symbol::new("AAA").unwrap(), Symbol::new("BBB").unwrap()];
    let mut prices = [100.0_f64, 20.0];
    (0..len)
        .map(|i| {
            let s = i % 2;
            let open = prices[s];
            if rng.u8(..5) != 0 {
                prices[s] *= 1.0 + (rng.f64() - 0.5) * 0.02;
            }
            let close = prices[s];
            let (hi, lo) = (open.max(close) * 1.001, open.min(close) * 0.999);
            let t = Timestamp::from_secs((i / 2) as i64 * 60).unwrap();
            let c = Candle::new(t, open, hi, lo, close, 1.0).unwrap();
            MarketEvent::candle(venue, symbols[s], t, c)
        })
        .collect()
}

/// Every decision of `brain` over `events`, the position following its own decisions (one
/// unit long or short, flat on a close), so entries and exits both occur.
fn decisions(brain: &dyn Brain, events: &[MarketEvent]) -> Vec<Decision> {
    let mut positions = std::collections::BTreeMap::new();
    events
        .iter()
        .map(|e| {
            let pos = positions.entry(e.symbol).or_insert(Position::FLAT);
            let d = brain.on_event(e, pos).unwrap();
            let price = e.reference_price().get();
            *pos = match (d.action(), pos.is_flat(), d.reverses()) {
                (Action::Close, ..) => Position::FLAT,
                (Action::Buy, true, _) | (Action::Buy, _, true) => Position::new(1.0, price),
                (Action::Sell, true, _) | (Action::Sell, _, true) => Position::new(-1.0, price),
                (Action::Buy | Action::Sell, ..) => Position::FLAT,
                (Action::Hold, ..) => *pos,
            };
            d
        })
        .collect()
}

/// Parameters for strategy `name` drawn from `a`, `b` and `level` (some invalid, skipped).
fn params(name: &str, a: u16, b: u16, level: f64, direction: &str) -> serde_json::Value {
    match name {
        "sma_cross" | "ema_cross" => {
            serde_json::json!({"fast": a.min(b), "slow": a.max(b) + 1, "direction": direction})
        }
        "rsi_reversion" => serde_json::json!({
            "period": a.max(2), "oversold": level, "overbought": 100.0 - level, "direction": direction
        }),
        "bollinger_breakout" => serde_json::json!({
            "period": a.max(2), "std_dev": level / 20.0, "direction": direction
        }),
        "donchian_breakout" => serde_json::json!({"entry": a, "exit": b, "direction": direction}),
        other => panic!("no parameters for {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_brain_over_shared_series_decides_as_one_computing_its_own(
        seed in any::<u64>(),
        len in 0usize..600,
        a in 1u16..40,
        b in 1u16..40,
        level in 5.0f64..45.0,
        direction in prop::sample::select(vec!["long_only", "short_only", "long_short"]),
    ) {
        let events = walk(seed, len);
        for info in list() {
            let p = params(info.name, a, b, level, direction);
            let keys = info.shared_series(&p).unwrap();
            prop_assert!(!keys.is_empty(), "{} shares nothing", info.name);
            let mut cache = SeriesCache::new(&events);
            cache.compute_all(keys);
            let cache = Arc::new(cache);
            let own = info.build_named(info.name, &p).unwrap();
            let shared = info.build_shared(info.name, &p, &cache).unwrap();
            prop_assert_eq!(
                decisions(own.as_ref(), &events),
                decisions(shared.as_ref(), &events),
                "{} {}", info.name, p
            );
        }
    }

    #[test]
    fn a_series_holds_its_indicators_outputs_bit_for_bit(
        seed in any::<u64>(),
        len in 0usize..400,
        n in 2u16..40,
    ) {
        let events = walk(seed, len);
        let mut cache = SeriesCache::new(&events);
        let keys = [
            SeriesKey::Sma(n),
            SeriesKey::Ema(n),
            SeriesKey::Rsi(n),
            SeriesKey::BollingerMiddle(n),
            SeriesKey::BollingerDeviation(n),
            SeriesKey::DonchianUpper(n),
            SeriesKey::DonchianLower(n),
        ];
        cache.compute_all(keys);
        for symbol in cache.symbols().collect::<Vec<_>>() {
            let candles: Vec<&Candle> = events
                .iter()
                .filter(|e| e.symbol == symbol)
                .filter_map(MarketEvent::as_candle)
                .collect();
            let (mut sma, mut ema, mut rsi) =
                (Sma::new(n).unwrap(), Ema::new(n).unwrap(), Rsi::new(n).unwrap());
            let (mut boll, mut don) = (Bollinger::new(n, 1.0).unwrap(), Donchian::new(n).unwrap());
            for (k, c) in candles.iter().enumerate() {
                let (close, high, low) = (c.close().get(), c.high().get(), c.low().get());
                let b = boll.next(close);
                let d = don.next(high, low);
                let want = [
                    sma.next(close),
                    ema.next(close),
                    rsi.next(close),
                    b.map(|b| b.middle),
                    // With k = 1 the width is the deviation itself.
                    b.map(|b| b.upper - b.middle),
                    d.map(|d| d.upper),
                    d.map(|d| d.lower),
                ];
                for (key, want) in keys.iter().zip(want) {
                    let got = cache.series(symbol, *key).unwrap().get(k);
                    match *key {
                        // `upper − middle` re-rounds; the deviation itself is checked through
                        // the decisions above, here only its presence and closeness.
                        SeriesKey::BollingerDeviation(_) => {
                            prop_assert_eq!(got.is_some(), want.is_some());
                            if let (Some(g), Some(w)) = (got, want) {
                                prop_assert!((g - w).abs() <= 1e-9 * close.abs().max(1.0));
                            }
                        }
                        _ => prop_assert_eq!(
                            got.map(f64::to_bits),
                            want.map(f64::to_bits),
                            "{:?} at candle {} of {}", key, k, symbol
                        ),
                    }
                }
            }
            prop_assert_eq!(cache.series(symbol, SeriesKey::Sma(n)).unwrap().len(), candles.len());
        }
    }
}

#[test]
fn a_brain_without_its_series_in_the_cache_computes_them() {
    let events = walk(3, 400);
    let info = rustrade_strategies::info("sma_cross").unwrap();
    let p = serde_json::json!({"fast": 3, "slow": 9});
    let mut cache = SeriesCache::new(&events);
    // Only the slow average is shared; the fast one is the brain's own.
    cache.compute_all([SeriesKey::Sma(9)]);
    let shared = info.build_shared("s", &p, &Arc::new(cache)).unwrap();
    let own = info.build_named("s", &p).unwrap();
    let d = decisions(shared.as_ref(), &events);
    assert_eq!(d, decisions(own.as_ref(), &events));
    assert!(d.iter().any(|d| !d.is_hold()), "the test must trade");
}

#[test]
fn a_brain_over_other_data_than_its_cache_is_an_error_naming_the_candle() {
    let events = walk(5, 100);
    let info = rustrade_strategies::info("ema_cross").unwrap();
    let p = serde_json::json!({"fast": 2, "slow": 5});
    let mut cache = SeriesCache::new(&events[..50]);
    cache.compute_all(info.shared_series(&p).unwrap());
    let brain = info.build_shared("e", &p, &Arc::new(cache)).unwrap();
    // The first 25 candles of each symbol are the cache's; the 26th of AAA is not.
    for e in &events[..50] {
        brain.on_event(e, &Position::FLAT).unwrap();
    }
    let err = brain.on_event(&events[50], &Position::FLAT).unwrap_err();
    assert!(
        err.to_string().contains("AAA: the candle at") && err.to_string().contains("not candle 25"),
        "{err}"
    );
    // Skipping a candle (AAA at 60 s) is refused too.
    let fresh = {
        let mut c = SeriesCache::new(&events);
        c.compute_all(info.shared_series(&p).unwrap());
        info.build_shared("e", &p, &Arc::new(c)).unwrap()
    };
    fresh.on_event(&events[0], &Position::FLAT).unwrap();
    assert!(fresh.on_event(&events[4], &Position::FLAT).is_err());
}

#[test]
fn a_cache_shares_one_series_per_key() {
    let events = walk(9, 200);
    let mut cache = SeriesCache::new(&events);
    cache.compute_all([SeriesKey::Sma(5), SeriesKey::Sma(5), SeriesKey::Ema(5)]);
    let aaa = Symbol::new("AAA").unwrap();
    let s = cache.series(aaa, SeriesKey::Sma(5)).unwrap();
    assert_eq!((s.len(), s.warm_up()), (100, 4));
    assert!(cache.holds(SeriesKey::Ema(5)));
    assert!(!cache.holds(SeriesKey::Sma(6)));
    assert!(
        cache
            .series(Symbol::new("CCC").unwrap(), SeriesKey::Sma(5))
            .is_none()
    );
}
