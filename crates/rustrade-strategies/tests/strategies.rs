//! The registry and the five strategies through the public API.

use rustrade_core::{
    Brain, Candle, Decision, MarketData, MarketEvent, Position, Quote, Symbol, Timestamp, Venue,
};
use rustrade_strategies::{StrategyError, build, build_named, list, resolve_params};
use serde_json::json;

fn event(symbol: &str, i: usize, close: f64) -> MarketEvent {
    bar(symbol, i, close, close, close)
}

fn bar(symbol: &str, i: usize, high: f64, low: f64, close: f64) -> MarketEvent {
    let t = Timestamp::from_secs(1_700_000_000 + i as i64 * 60).unwrap();
    let c = Candle::new(t, close, high.max(close), low.min(close), close, 1.0).unwrap();
    MarketEvent::candle(
        Venue::new("sim").unwrap(),
        Symbol::new(symbol).unwrap(),
        t,
        c,
    )
}

/// Feeds closes, holding a long between an entry and an exit, and returns (bar, decision) pairs
/// for every non-hold decision.
fn run(brain: &dyn Brain, closes: &[f64]) -> Vec<(usize, Decision)> {
    let mut pos = Position::FLAT;
    let mut out = Vec::new();
    for (i, &c) in closes.iter().enumerate() {
        let d = brain.on_event(&event("X", i, c), &pos).unwrap();
        if d == Decision::buy(1.0) {
            pos = Position::new(1.0, c);
        } else if d == Decision::close() {
            pos = Position::FLAT;
        }
        if !d.is_hold() {
            out.push((i, d));
        }
    }
    out
}

fn err(name: &str, params: serde_json::Value) -> StrategyError {
    build(name, &params).err().expect("params must be refused")
}

#[test]
fn registry_lists_five_strategies_whose_defaults_build() {
    let names: Vec<_> = list().iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "sma_cross",
            "ema_cross",
            "rsi_reversion",
            "bollinger_breakout",
            "donchian_breakout"
        ]
    );
    for info in list() {
        let brain = build(info.name, &info.default_params()).unwrap();
        assert_eq!(brain.name(), info.name);
        assert!(build(info.name, &serde_json::Value::Null).is_ok());
        assert!(!info.summary.is_empty());
    }
    assert_eq!(
        build_named("sma_cross", "btc-fast", &json!({}))
            .unwrap()
            .name(),
        "btc-fast"
    );
}

#[test]
fn unknown_strategy_lists_the_known_ones() {
    let e = err("sma_crosss", json!({}));
    assert_eq!(
        e.to_string(),
        "unknown strategy \"sma_crosss\" (known: sma_cross, ema_cross, rsi_reversion, \
         bollinger_breakout, donchian_breakout)"
    );
    assert_eq!(e.field(), None);
}

#[test]
fn parameter_errors_name_the_key_and_value() {
    let e = err("sma_cross", json!({"fast": 30, "slow": 20}));
    assert_eq!(e.to_string(), "fast: must be < slow (got 30 >= 20)");
    assert_eq!(e.field(), Some("fast"));

    let e = err("sma_cross", json!({"fsat": 3}));
    assert!(e.to_string().contains("unknown field `fsat`"), "{e}");

    let e = err("ema_cross", json!({"fast": "ten"}));
    assert_eq!(e.field(), Some("fast"), "{e}");
    assert!(e.to_string().contains("\"ten\""), "{e}");

    let e = err("sma_cross", json!({"fast": -1}));
    assert_eq!(e.field(), Some("fast"), "{e}");

    let e = err("sma_cross", json!({"fast": 0}));
    assert_eq!(e.to_string(), "fast: must be >= 1 (got 0)");

    let e = err("rsi_reversion", json!({"oversold": 80}));
    assert_eq!(
        e.to_string(),
        "oversold: must be < overbought (got 80 >= 70)"
    );
    let e = err("rsi_reversion", json!({"overbought": 100}));
    assert_eq!(
        e.to_string(),
        "overbought: must be within (0, 100) (got 100)"
    );
    let e = err("rsi_reversion", json!({"period": 1}));
    assert_eq!(e.to_string(), "period: must be >= 2 (got 1)");

    let e = err("bollinger_breakout", json!({"std_dev": 0.0}));
    assert_eq!(e.to_string(), "std_dev: must be within (0, 10) (got 0)");
    let e = err("donchian_breakout", json!({"exit": 0}));
    assert_eq!(e.to_string(), "exit: must be >= 1 (got 0)");

    let e = err("sma_cross", json!([1, 2]));
    assert_eq!(e.field(), Some("params"), "{e}");
}

#[test]
fn resolve_fills_defaults() {
    assert_eq!(
        resolve_params("sma_cross", &json!({"fast": 3})).unwrap(),
        json!({"fast": 3, "slow": 30})
    );
    assert_eq!(
        resolve_params("donchian_breakout", &serde_json::Value::Null).unwrap(),
        json!({"entry": 20, "exit": 10})
    );
}

#[test]
fn sma_cross_enters_on_golden_cross_and_exits_on_death_cross() {
    let brain = build("sma_cross", &json!({"fast": 2, "slow": 4})).unwrap();
    // Falling, then rising (fast crosses above slow), then falling again.
    let closes = [10.0, 9.0, 8.0, 7.0, 6.0, 8.0, 10.0, 12.0, 9.0, 6.0, 4.0];
    let got = run(brain.as_ref(), &closes);
    // Bar 6: fast (8 + 10) / 2 = 9 > slow (7 + 6 + 8 + 10) / 4 = 7.75, after 7 < 7.25 on bar 5.
    assert_eq!(got, vec![(6, Decision::buy(1.0)), (9, Decision::close())]);
}

#[test]
fn ema_cross_follows_the_trend() {
    let brain = build("ema_cross", &json!({"fast": 2, "slow": 5})).unwrap();
    let mut closes: Vec<f64> = (0..10).map(|i| 100.0 - i as f64).collect();
    closes.extend((0..10).map(|i| 91.0 + 3.0 * i as f64));
    closes.extend((0..10).map(|i| 118.0 - 4.0 * i as f64));
    let got = run(brain.as_ref(), &closes);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].1, Decision::buy(1.0));
    assert!((10..20).contains(&got[0].0));
    assert_eq!(got[1].1, Decision::close());
    assert!((20..30).contains(&got[1].0));
}

#[test]
fn rsi_reversion_buys_the_dip_and_sells_the_rip() {
    let brain = build("rsi_reversion", &json!({"period": 3})).unwrap();
    // Up, a sharp drop (RSI falls through 30), then a strong rally (through 70).
    let closes = [
        10.0, 11.0, 12.0, 13.0, 14.0, 10.0, 7.0, 6.0, 9.0, 12.0, 15.0,
    ];
    let got = run(brain.as_ref(), &closes);
    // Bar 5: RSI 33.3 (gain 0.67, loss 1.33); bar 6: 19.0, through 30.
    assert_eq!(got, vec![(6, Decision::buy(1.0)), (9, Decision::close())]);
}

#[test]
fn bollinger_breakout_enters_above_upper_and_exits_below_middle() {
    let brain = build("bollinger_breakout", &json!({"period": 5, "std_dev": 1.0})).unwrap();
    let closes = [
        10.0, 10.2, 9.9, 10.1, 10.0, 10.1, 11.5, 12.0, 12.2, 10.0, 9.5,
    ];
    let got = run(brain.as_ref(), &closes);
    assert_eq!(got, vec![(6, Decision::buy(1.0)), (9, Decision::close())]);
}

#[test]
fn donchian_breakout_uses_prior_bars_only() {
    let brain = build("donchian_breakout", &json!({"entry": 3, "exit": 2})).unwrap();
    let bars = [
        (11.0, 9.0, 10.0),
        (11.0, 9.0, 10.0),
        (11.0, 9.0, 10.0),
        (12.0, 10.0, 11.0), // close 11 is not above the prior high 11
        (13.0, 11.0, 12.5), // above 12: entry
        (13.0, 12.0, 12.5),
        (12.5, 10.0, 10.5), // below prior 2-bar low 11: exit
    ];
    let mut pos = Position::FLAT;
    let mut got = Vec::new();
    for (i, &(h, l, c)) in bars.iter().enumerate() {
        let d = brain.on_event(&bar("X", i, h, l, c), &pos).unwrap();
        if d == Decision::buy(1.0) {
            pos = Position::new(1.0, c);
        } else if d == Decision::close() {
            pos = Position::FLAT;
        }
        if !d.is_hold() {
            got.push((i, d));
        }
    }
    assert_eq!(got, vec![(4, Decision::buy(1.0)), (6, Decision::close())]);
}

#[test]
fn signals_respect_the_position() {
    let brain = build("sma_cross", &json!({"fast": 2, "slow": 4})).unwrap();
    let closes = [10.0, 9.0, 8.0, 7.0, 6.0, 8.0, 10.0];
    let long = Position::new(1.0, 5.0);
    let mut last = Decision::hold();
    for (i, c) in closes.iter().enumerate() {
        last = brain.on_event(&event("X", i, *c), &long).unwrap();
    }
    assert!(
        last.is_hold(),
        "already long: the golden cross does not add"
    );
}

#[test]
fn symbols_keep_separate_state() {
    let brain = build("sma_cross", &json!({"fast": 2, "slow": 4})).unwrap();
    let closes = [10.0, 9.0, 8.0, 7.0, 6.0, 8.0, 10.0];
    let mut a_last = Decision::hold();
    for (i, c) in closes.iter().enumerate() {
        // Interleave a flat series for another symbol: it must not disturb X.
        brain
            .on_event(&event("Y", i, 50.0), &Position::FLAT)
            .unwrap();
        a_last = brain.on_event(&event("X", i, *c), &Position::FLAT).unwrap();
    }
    assert_eq!(a_last, Decision::buy(1.0));
}

#[test]
fn non_candle_events_are_held() {
    let brain = build("sma_cross", &json!({})).unwrap();
    let mut e = event("X", 0, 10.0);
    e.data = MarketData::Quote(Quote::new(9.0, 11.0, 1.0, 1.0).unwrap());
    assert!(brain.on_event(&e, &Position::FLAT).unwrap().is_hold());
}

#[tokio::test]
async fn health_reports_counts_and_params() {
    let brain = build("sma_cross", &json!({"fast": 2, "slow": 4})).unwrap();
    run(brain.as_ref(), &[10.0, 9.0, 8.0, 7.0, 6.0, 8.0, 10.0]);
    let h = brain.health().await;
    assert!(h.healthy);
    assert_eq!((h.events_processed, h.non_hold_decisions), (7, 1));
    assert_eq!(h.details["params"], json!({"fast": 2, "slow": 4}));
    assert_eq!(h.details["symbols"], 1);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// On any price path, entries and exits alternate, starting with an entry.
        #[test]
        fn entries_and_exits_alternate(
            closes in proptest::collection::vec(1.0f64..1000.0, 1..200),
            which in 0usize..5,
        ) {
            let info = &list()[which];
            let brain = build(info.name, &json!({})).unwrap();
            let got = run(brain.as_ref(), &closes);
            for (k, (_, d)) in got.iter().enumerate() {
                let expected = if k % 2 == 0 { Decision::buy(1.0) } else { Decision::close() };
                prop_assert_eq!(d, &expected);
            }
        }

        /// The SMA equals the mean of the window for any input.
        #[test]
        fn sma_is_the_window_mean(
            xs in proptest::collection::vec(-1e6f64..1e6, 1..300),
            n in 1u16..40,
        ) {
            let mut sma = rustrade_strategies::indicators::Sma::new(n).unwrap();
            for (i, &x) in xs.iter().enumerate() {
                let got = sma.next(x);
                let n = usize::from(n);
                if i + 1 < n {
                    prop_assert!(got.is_none());
                } else {
                    let mean = xs[i + 1 - n..=i].iter().sum::<f64>() / n as f64;
                    prop_assert!((got.unwrap() - mean).abs() <= 1e-6 * mean.abs().max(1.0));
                }
            }
        }
    }
}

/// Feeds closes, tracking the position the decisions would leave (one unit per side, a
/// reversal flipping it), and returns (bar, decision) pairs for every non-hold decision.
fn run_both_sides(brain: &dyn Brain, closes: &[f64]) -> Vec<(usize, Decision)> {
    let mut pos = Position::FLAT;
    let mut out = Vec::new();
    for (i, &c) in closes.iter().enumerate() {
        let d = brain.on_event(&event("X", i, c), &pos).unwrap();
        match d.action() {
            rustrade_core::Action::Buy => pos = Position::new(1.0, c),
            rustrade_core::Action::Sell => pos = Position::new(-1.0, c),
            rustrade_core::Action::Close => pos = Position::FLAT,
            rustrade_core::Action::Hold => {}
        }
        if !d.is_hold() {
            out.push((i, d));
        }
    }
    out
}

/// Up, down, up, down: three crosses of a 2/4 SMA pair after warm-up.
const ZIGZAG: [f64; 20] = [
    10.0, 10.0, 10.0, 10.0, 10.0, 12.0, 14.0, 16.0, 14.0, 12.0, 10.0, 8.0, 10.0, 12.0, 14.0, 16.0,
    14.0, 12.0, 10.0, 8.0,
];

#[test]
fn long_short_reverses_on_every_cross_and_stays_in_the_market() {
    let brain = build(
        "sma_cross",
        &json!({"fast": 2, "slow": 4, "direction": "long_short"}),
    )
    .unwrap();
    let out = run_both_sides(brain.as_ref(), &ZIGZAG);
    assert!(out.len() >= 3, "{out:?}");
    assert_eq!(
        out[0].1,
        Decision::buy(1.0),
        "the first signal opens from flat"
    );
    for pair in out.windows(2) {
        assert_ne!(
            pair[0].1.action(),
            pair[1].1.action(),
            "sides alternate: {out:?}"
        );
    }
    for (_, d) in &out[1..] {
        assert!(d.reverses(), "every later signal is a flip: {d:?}");
    }
}

#[test]
fn short_only_sells_the_bearish_cross_and_closes_on_the_bullish_one() {
    let brain = build(
        "sma_cross",
        &json!({"fast": 2, "slow": 4, "direction": "short_only"}),
    )
    .unwrap();
    let out = run_both_sides(brain.as_ref(), &ZIGZAG);
    let actions: Vec<_> = out.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(actions[0], Decision::sell(1.0), "{out:?}");
    assert_eq!(actions[1], Decision::close(), "{out:?}");
    assert!(
        actions
            .iter()
            .all(|d| d.action() != rustrade_core::Action::Buy)
    );
}

#[test]
fn direction_is_a_parameter_of_every_strategy_and_long_only_by_default() {
    for info in list() {
        let p = resolve_params(info.name, &json!({"direction": "long_short"})).unwrap();
        assert_eq!(p["direction"], "long_short", "{}", info.name);
        let d = resolve_params(info.name, &json!({})).unwrap();
        assert!(
            d.get("direction").is_none(),
            "the default is not written out: {d}"
        );
    }
    let e = err("ema_cross", json!({"direction": "sideways"}));
    assert!(e.to_string().starts_with("direction:"), "{e}");
    assert!(e.to_string().contains("long_short"), "{e}");
}
