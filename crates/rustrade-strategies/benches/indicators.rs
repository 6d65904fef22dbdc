//! Cost of one `next` call of each indicator, over 10 000 bars of a seeded random walk (the
//! warm-up included), with the usual parameters.
//!
//! `cargo bench -p rustrade-strategies --bench indicators`

use divan::Bencher;
use divan::counter::ItemsCount;
use rustrade_strategies::indicators::{
    Adx, Atr, Bollinger, Cci, Dema, Donchian, Ema, Keltner, Macd, Mfi, Obv, ParabolicSar, Roc, Rsi,
    Sma, StdDev, Stochastic, SuperTrend, Tema, TrueRange, Vwap, Wma,
};

const BARS: usize = 10_000;

fn main() {
    divan::main();
}

#[derive(Clone, Copy)]
struct Bar {
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

fn walk() -> Vec<Bar> {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut price = 100.0_f64;
    (0..BARS)
        .map(|_| {
            let open = price;
            price *= 1.0 + (rng.f64() - 0.5) * 0.02;
            Bar {
                high: open.max(price) * 1.002,
                low: open.min(price) * 0.998,
                close: price,
                volume: 1.0 + rng.f64() * 1000.0,
            }
        })
        .collect()
}

/// One bench per indicator: build it fresh for each sample, feed every bar, and fold a value
/// of each output into a sum so nothing is optimised away.
macro_rules! bench {
    ($name:ident, $make:expr, |$i:ident, $b:ident| $next:expr) => {
        #[divan::bench(sample_count = 30)]
        fn $name(bencher: Bencher) {
            let bars = walk();
            bencher
                .counter(ItemsCount::new(BARS))
                .with_inputs(|| $make)
                .bench_local_values(|mut $i| {
                    let mut acc = 0.0;
                    for $b in &bars {
                        acc += $next.unwrap_or(0.0);
                    }
                    acc
                });
        }
    };
}

bench!(sma_20, Sma::new(20).unwrap(), |i, b| i.next(b.close));
bench!(ema_20, Ema::new(20).unwrap(), |i, b| i.next(b.close));
bench!(wma_20, Wma::new(20).unwrap(), |i, b| i.next(b.close));
bench!(dema_20, Dema::new(20).unwrap(), |i, b| i.next(b.close));
bench!(tema_20, Tema::new(20).unwrap(), |i, b| i.next(b.close));
bench!(rsi_14, Rsi::new(14).unwrap(), |i, b| i.next(b.close));
bench!(macd_12_26_9, Macd::new(12, 26, 9).unwrap(), |i, b| i
    .next(b.close)
    .map(|m| m.histogram));
bench!(roc_10, Roc::new(10).unwrap(), |i, b| i.next(b.close));
bench!(
    stochastic_14_3_3,
    Stochastic::new(14, 3, 3).unwrap(),
    |i, b| i.next(b.high, b.low, b.close).map(|s| s.d)
);
bench!(cci_20, Cci::new(20).unwrap(), |i, b| i
    .next(b.high, b.low, b.close));
bench!(true_range, TrueRange::new(), |i, b| i
    .next(b.high, b.low, b.close));
bench!(atr_14, Atr::new(14).unwrap(), |i, b| i
    .next(b.high, b.low, b.close));
bench!(stddev_20, StdDev::new(20).unwrap(), |i, b| i.next(b.close));
bench!(bollinger_20_2, Bollinger::new(20, 2.0).unwrap(), |i, b| i
    .next(b.close)
    .map(|v| v.upper));
bench!(
    keltner_20_2_10,
    Keltner::new(20, 2.0, 10).unwrap(),
    |i, b| i.next(b.high, b.low, b.close).map(|v| v.upper)
);
bench!(donchian_20, Donchian::new(20).unwrap(), |i, b| i
    .next(b.high, b.low)
    .map(|v| v.upper));
bench!(adx_14, Adx::new(14).unwrap(), |i, b| i
    .next(b.high, b.low, b.close)
    .and_then(|a| a.adx));
bench!(
    parabolic_sar,
    ParabolicSar::new(0.02, 0.2).unwrap(),
    |i, b| i.next(b.high, b.low)
);
bench!(
    supertrend_10_3,
    SuperTrend::new(10, 3.0).unwrap(),
    |i, b| i.next(b.high, b.low, b.close).map(|s| s.line)
);
bench!(obv, Obv::new(), |i, b| i.next(b.close, b.volume));
bench!(mfi_14, Mfi::new(14).unwrap(), |i, b| i
    .next(b.high, b.low, b.close, b.volume));
bench!(vwap, Vwap::new(), |i, b| i
    .next(b.high, b.low, b.close, b.volume));
