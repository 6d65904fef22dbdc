//! Cost of one `on_event` call of each ready strategy, on a seeded random walk of candles.
//!
//! `cargo bench -p rustrade-strategies`

use std::sync::Arc;

use rustrade_core::{Brain, Candle, MarketEvent, Position, Symbol, Timestamp, Venue};

const CANDLES: usize = 10_000;

fn main() {
    divan::main();
}

fn walk() -> Vec<MarketEvent> {
    let mut rng = fastrand::Rng::with_seed(7);
    let (venue, symbol) = (Venue::new("bench").unwrap(), Symbol::new("X").unwrap());
    let mut price = 100.0_f64;
    (0..CANDLES)
        .map(|i| {
            let open = price;
            price *= 1.0 + (rng.f64() - 0.5) * 0.02;
            let (hi, lo) = (open.max(price) * 1.002, open.min(price) * 0.998);
            let t = Timestamp::from_secs(i as i64 * 60).unwrap();
            let c = Candle::new(t, open, hi, lo, price, 1.0).unwrap();
            MarketEvent::candle(venue, symbol, t, c)
        })
        .collect()
}

#[divan::bench(
    args = ["sma_cross", "ema_cross", "rsi_reversion", "bollinger_breakout", "donchian_breakout"],
    sample_count = 20
)]
fn on_event(bencher: divan::Bencher, name: &str) {
    let events = walk();
    bencher
        .counter(divan::counter::ItemsCount::new(CANDLES))
        .with_inputs(|| -> Arc<dyn Brain> {
            rustrade_strategies::build(name, &serde_json::Value::Null).unwrap()
        })
        .bench_values(|brain| {
            let mut non_hold = 0u32;
            for e in &events {
                let d = brain.on_event(e, &Position::FLAT).unwrap();
                non_hold += u32::from(!d.is_hold());
            }
            non_hold
        });
}

/// [`on_event`] for a brain reading its indicator series from a [`SeriesCache`] built over the
/// same candles (as a sweep's points do), the cache built outside the timing.
///
/// [`SeriesCache`]: rustrade_strategies::SeriesCache
#[divan::bench(
    args = ["sma_cross", "ema_cross", "rsi_reversion", "bollinger_breakout", "donchian_breakout"],
    sample_count = 20
)]
fn on_event_shared(bencher: divan::Bencher, name: &str) {
    let events = walk();
    let info = rustrade_strategies::info(name).unwrap();
    let mut cache = rustrade_strategies::SeriesCache::new(&events);
    cache.compute_all(info.shared_series(&serde_json::Value::Null).unwrap());
    let cache = Arc::new(cache);
    bencher
        .counter(divan::counter::ItemsCount::new(CANDLES))
        .with_inputs(|| -> Arc<dyn Brain> {
            info.build_shared(name, &serde_json::Value::Null, &cache)
                .unwrap()
        })
        .bench_values(|brain| {
            let mut non_hold = 0u32;
            for e in &events {
                let d = brain.on_event(e, &Position::FLAT).unwrap();
                non_hold += u32::from(!d.is_hold());
            }
            non_hold
        });
}
