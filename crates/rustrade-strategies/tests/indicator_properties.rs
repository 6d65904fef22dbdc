//! Properties of every indicator: exact warm-up, constant inputs, value ranges, agreement with a
//! direct computation over the window, and parameter errors that name the field.

mod common;

use common::{Bar, all, walk};
use proptest::prelude::*;
use rustrade_strategies::indicators::{
    Adx, Bollinger, Cci, Keltner, Macd, Mfi, ParabolicSar, Roc, Rsi, Sma, StdDev, Stochastic,
    SuperTrend, Trend, Wma,
};

/// Bars from a proptest-chosen walk: per bar a relative move, a range and a volume, with flat
/// stretches (move and range 0) mixed in.
fn bars() -> impl Strategy<Value = Vec<Bar>> {
    let step = prop_oneof![
        3 => (-0.05f64..0.05, 0.0f64..0.02, 0.0f64..1e6),
        1 => Just((0.0, 0.0, 10.0)),
    ];
    prop::collection::vec(step, 0..160).prop_map(|steps| {
        let mut price = 100.0_f64;
        steps
            .into_iter()
            .map(|(mv, range, volume)| {
                let open = price;
                price *= 1.0 + mv;
                Bar {
                    high: open.max(price) * (1.0 + range),
                    low: open.min(price) * (1.0 - range),
                    close: price,
                    volume,
                }
            })
            .collect()
    })
}

fn close_to(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_first_value_comes_at_the_lookback_and_none_is_missing_after(
        n in 2u16..30,
        seed in any::<u64>(),
        len in 0usize..200,
    ) {
        let bars = walk(seed, len);
        for mut p in all(n) {
            let got: Vec<bool> = bars.iter().map(|b| (p.step)(b).is_some()).collect();
            let want: Vec<bool> = (0..len).map(|i| i >= p.lookback).collect();
            prop_assert_eq!(got, want, "{} with n = {}", p.name, n);
        }
    }

    #[test]
    fn a_constant_series_reads_as_flat(n in 2u16..30, c in 0.01f64..1e6, volume in 1.0f64..1e6) {
        let bar = Bar { high: c, low: c, close: c, volume };
        for mut p in all(n) {
            let mut last = None;
            for _ in 0..(p.lookback + 5) {
                last = (p.step)(&bar);
            }
            let v = last.expect("warmed up");
            let expect: [f64; 3] = match p.name {
                "sma" | "ema" | "wma" | "dema" | "tema" | "vwap" | "parabolic_sar" => {
                    [c, f64::NAN, f64::NAN]
                }
                "bollinger" | "keltner" | "donchian" => [c, c, c],
                // TA-Lib's readings of no movement, no range and no money flow.
                "rsi" | "roc" | "cci" | "true_range" | "atr" | "stddev" | "mfi" => {
                    [0.0, f64::NAN, f64::NAN]
                }
                "macd" | "stochastic" | "adx" => [0.0, 0.0, if p.name == "stochastic" { f64::NAN } else { 0.0 }],
                // No range: the close sits on the lower band, which reads as a down trend.
                "supertrend" => [c, -1.0, f64::NAN],
                "obv" => [volume, f64::NAN, f64::NAN],
                other => panic!("no expectation for {other}"),
            };
            for (got, want) in v.iter().zip(expect) {
                if want.is_nan() {
                    prop_assert!(got.is_nan(), "{}: {:?}", p.name, v);
                } else {
                    // Zero readings may carry rounding residue of the price level (MACD's two
                    // seeds are means of equal prices), so the tolerance scales with the price.
                    let scale = want.abs().max(c).max(volume);
                    prop_assert!((got - want).abs() <= 1e-12 * scale, "{}: {:?}, want {:?}", p.name, v, expect);
                }
            }
        }
    }

    #[test]
    fn values_stay_in_their_ranges(n in 2u16..30, bars in bars()) {
        for mut p in all(n) {
            for b in &bars {
                let Some(v) = (p.step)(b) else { continue };
                let ok = match p.name {
                    "rsi" | "mfi" => (0.0..=100.0).contains(&v[0]),
                    // Slow %K and %D are running-sum means of values in 0..=100 and, as in
                    // TA-Lib, may carry a residue of a few 1e-14 past the ends.
                    "stochastic" => v[..2].iter().all(|x| (-1e-9..=100.0 + 1e-9).contains(x)),
                    "adx" => v.iter().all(|x| (0.0..=100.0).contains(x)),
                    "true_range" | "atr" | "stddev" => v[0] >= 0.0,
                    "bollinger" | "keltner" | "donchian" => v[0] <= v[1] && v[1] <= v[2],
                    // An up trend's line is below the close, a down trend's at or above it.
                    "supertrend" => if v[1] > 0.0 { v[0] < b.close } else { v[0] >= b.close },
                    _ => v.iter().all(|x| x.is_finite() || x.is_nan()),
                };
                prop_assert!(ok, "{} out of range: {:?} on {:?}", p.name, v, b);
                if p.name == "donchian" {
                    prop_assert!(v[0] <= b.low && b.high <= v[2]);
                }
            }
        }
    }

    #[test]
    fn windowed_values_equal_a_direct_computation(n in 2u16..30, bars in bars()) {
        let (mut sma, mut wma, mut sd, mut roc) =
            (Sma::new(n).unwrap(), Wma::new(n).unwrap(), StdDev::new(n).unwrap(), Roc::new(n).unwrap());
        let n_us = usize::from(n);
        let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
        for (i, &x) in closes.iter().enumerate() {
            let (s, w, d, r) = (sma.next(x), wma.next(x), sd.next(x), roc.next(x));
            if i + 1 < n_us {
                prop_assert!(s.is_none() && w.is_none() && d.is_none());
            } else {
                let win = &closes[i + 1 - n_us..=i];
                let mean = win.iter().sum::<f64>() / f64::from(n);
                let var = win.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / f64::from(n);
                let weights = f64::from(n) * (f64::from(n) + 1.0) / 2.0;
                let wmean = win.iter().zip(1..).map(|(v, k)| v * f64::from(k)).sum::<f64>() / weights;
                prop_assert!(close_to(s.unwrap(), mean, 1e-12));
                prop_assert!(close_to(w.unwrap(), wmean, 1e-12));
                prop_assert!((d.unwrap() - var.sqrt()).abs() <= 1e-9 * mean.abs());
            }
            if i >= n_us {
                prop_assert!(close_to(r.unwrap(), (x / closes[i - n_us] - 1.0) * 100.0, 1e-12));
            } else {
                prop_assert!(r.is_none());
            }
        }
    }
}

#[test]
fn supertrend_flips_down_on_a_close_through_the_lower_band() {
    let mut st = SuperTrend::new(2, 1.0).unwrap();
    let bar = |c: f64| (c + 1.0, c - 1.0, c);
    let mut last = None;
    for c in [100.0, 101.0, 102.0, 103.0, 104.0] {
        let (h, l, c) = bar(c);
        last = st.next(h, l, c);
    }
    assert_eq!(last.unwrap().trend, Trend::Up);
    let (h, l, c) = bar(80.0);
    let v = st.next(h, l, c).unwrap();
    assert_eq!(v.trend, Trend::Down);
    assert!(v.line > c);
}

#[test]
fn parameters_out_of_range_are_errors_naming_the_field_and_value() {
    let cases: Vec<(String, &str)> = vec![
        (
            Sma::new(0).unwrap_err().to_string(),
            "period: must be >= 1 (got 0)",
        ),
        (
            Rsi::new(1).unwrap_err().to_string(),
            "period: must be >= 2 (got 1)",
        ),
        (
            StdDev::new(1).unwrap_err().to_string(),
            "period: must be >= 2 (got 1)",
        ),
        (
            Cci::new(1).unwrap_err().to_string(),
            "period: must be >= 2 (got 1)",
        ),
        (
            Adx::new(1).unwrap_err().to_string(),
            "period: must be >= 2 (got 1)",
        ),
        (
            Mfi::new(0).unwrap_err().to_string(),
            "period: must be >= 1 (got 0)",
        ),
        (
            Macd::new(26, 12, 9).unwrap_err().to_string(),
            "fast: must be < slow (got 26 >= 12)",
        ),
        (
            Macd::new(12, 26, 0).unwrap_err().to_string(),
            "signal: must be >= 1 (got 0)",
        ),
        (
            Stochastic::new(14, 0, 3).unwrap_err().to_string(),
            "k_smooth: must be >= 1 (got 0)",
        ),
        (
            Stochastic::new(14, 3, 0).unwrap_err().to_string(),
            "d_period: must be >= 1 (got 0)",
        ),
        (
            Bollinger::new(20, 0.0).unwrap_err().to_string(),
            "std_dev: must be finite and > 0 (got 0)",
        ),
        (
            Keltner::new(20, f64::NAN, 10).unwrap_err().to_string(),
            "multiplier: must be finite and > 0 (got NaN)",
        ),
        (
            Keltner::new(20, 2.0, 0).unwrap_err().to_string(),
            "atr_period: must be >= 1 (got 0)",
        ),
        (
            SuperTrend::new(10, -3.0).unwrap_err().to_string(),
            "multiplier: must be finite and > 0 (got -3)",
        ),
        (
            ParabolicSar::new(0.3, 0.2).unwrap_err().to_string(),
            "acceleration: must be <= maximum (got 0.3 > 0.2)",
        ),
        (
            ParabolicSar::new(0.02, 0.0).unwrap_err().to_string(),
            "maximum: must be finite and > 0 (got 0)",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}
