//! Every indicator behind one interface, for the property and allocation tests.

#![allow(dead_code, unreachable_pub)]

use rustrade_strategies::indicators::{
    Adx, Atr, Bands, Bollinger, Cci, Dema, Donchian, Ema, Keltner, Macd, Mfi, Obv, ParabolicSar,
    Roc, Rsi, Sma, StdDev, Stochastic, SuperTrend, Tema, Trend, TrueRange, Vwap, Wma,
};

/// One bar of input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// Up to three outputs of one `next` call, unused slots NaN.
pub type Out = [f64; 3];

/// One `next` call of an indicator over a [`Bar`].
pub type Step = Box<dyn FnMut(&Bar) -> Option<Out>>;

/// An indicator under test: its name, its lookback and its `next`.
pub struct Probe {
    pub name: &'static str,
    pub lookback: usize,
    pub step: Step,
}

fn one(x: f64) -> Out {
    [x, f64::NAN, f64::NAN]
}

fn bands(b: Bands) -> Out {
    [b.lower, b.middle, b.upper]
}

macro_rules! probe {
    ($name:expr, $ind:expr, |$i:ident, $b:ident| $body:expr) => {{
        let mut $i = $ind;
        Probe {
            name: $name,
            lookback: $i.lookback(),
            step: Box::new(move |$b: &Bar| $body),
        }
    }};
}

/// Every indicator, built with period `n >= 2` (and `n + 1` where a second, longer period is
/// needed).
pub fn all(n: u16) -> Vec<Probe> {
    vec![
        probe!("sma", Sma::new(n).unwrap(), |i, b| i.next(b.close).map(one)),
        probe!("ema", Ema::new(n).unwrap(), |i, b| i.next(b.close).map(one)),
        probe!("wma", Wma::new(n).unwrap(), |i, b| i.next(b.close).map(one)),
        probe!("dema", Dema::new(n).unwrap(), |i, b| i
            .next(b.close)
            .map(one)),
        probe!("tema", Tema::new(n).unwrap(), |i, b| i
            .next(b.close)
            .map(one)),
        probe!("rsi", Rsi::new(n).unwrap(), |i, b| i.next(b.close).map(one)),
        probe!("macd", Macd::new(n, n + 1, n).unwrap(), |i, b| i
            .next(b.close)
            .map(|m| [m.line, m.signal, m.histogram])),
        probe!("roc", Roc::new(n).unwrap(), |i, b| i.next(b.close).map(one)),
        probe!("stochastic", Stochastic::new(n, 3, 3).unwrap(), |i, b| i
            .next(b.high, b.low, b.close)
            .map(|s| [s.k, s.d, f64::NAN])),
        probe!("cci", Cci::new(n).unwrap(), |i, b| i
            .next(b.high, b.low, b.close)
            .map(one)),
        probe!("true_range", TrueRange::new(), |i, b| i
            .next(b.high, b.low, b.close)
            .map(one)),
        probe!("atr", Atr::new(n).unwrap(), |i, b| i
            .next(b.high, b.low, b.close)
            .map(one)),
        probe!("stddev", StdDev::new(n).unwrap(), |i, b| i
            .next(b.close)
            .map(one)),
        probe!("bollinger", Bollinger::new(n, 2.0).unwrap(), |i, b| i
            .next(b.close)
            .map(bands)),
        probe!("keltner", Keltner::new(n, 2.0, n + 1).unwrap(), |i, b| i
            .next(b.high, b.low, b.close)
            .map(bands)),
        probe!("donchian", Donchian::new(n).unwrap(), |i, b| i
            .next(b.high, b.low)
            .map(bands)),
        probe!("adx", Adx::new(n).unwrap(), |i, b| i
            .next(b.high, b.low, b.close)
            .and_then(|a| Some([a.plus_di, a.minus_di, a.adx?]))),
        probe!(
            "parabolic_sar",
            ParabolicSar::new(0.02, 0.2).unwrap(),
            |i, b| i.next(b.high, b.low).map(one)
        ),
        probe!("supertrend", SuperTrend::new(n, 3.0).unwrap(), |i, b| i
            .next(b.high, b.low, b.close)
            .map(|s| [
                s.line,
                if s.trend == Trend::Up { 1.0 } else { -1.0 },
                f64::NAN
            ])),
        probe!("obv", Obv::new(), |i, b| i.next(b.close, b.volume).map(one)),
        probe!("mfi", Mfi::new(n).unwrap(), |i, b| i
            .next(b.high, b.low, b.close, b.volume)
            .map(one)),
        probe!("vwap", Vwap::new(), |i, b| i
            .next(b.high, b.low, b.close, b.volume)
            .map(one)),
    ]
}

/// A random walk of `len` bars from 100 with a seeded generator, volumes in `[1, 1000)`.
pub fn walk(seed: u64, len: usize) -> Vec<Bar> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut price = 100.0_f64;
    (0..len)
        .map(|_| {
            let open = price;
            price *= 1.0 + (rng.f64() - 0.5) * 0.04;
            let high = open.max(price) * (1.0 + rng.f64() * 0.01);
            let low = open.min(price) * (1.0 - rng.f64() * 0.01);
            Bar {
                high,
                low,
                close: price,
                volume: 1.0 + rng.f64() * 999.0,
            }
        })
        .collect()
}
