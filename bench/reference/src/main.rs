//! Replays the same seeded synthetic candles through our backtest and through the published
//! `rustrade-backtest` 0.5.2, single-threaded, in one process, and prints candles per second for
//! each and their ratio: once with a brain that always holds, once with a brain that opens a
//! position every 10 candles and closes it 5 candles later.
//!
//! The candles are a seeded random walk with 5 bps volatility per bar. Each engine reads them
//! from memory in its own input form: the reference its 48-byte candles, ours a 56-byte
//! (time, candle) list from which each `MarketEvent` is built as it is replayed, as a loader
//! would yield it. Both are built with fat LTO and one codegen unit (see `Cargo.toml`).
//!
//! Usage: `cargo run --release -- [candles] [repeats]` (defaults 10 000 000 and 3; the best of
//! the repeats is reported for each engine).
// Wall-clock timing is the point of this program; it is not part of any deterministic path.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::synthetic;
use rustrade_core::{Brain, Candle, MarketEvent, SizeHint, Symbol, Timestamp, Venue};

#[path = "../../../crates/rustrade-backtest/examples/common/reference_workload.rs"]
mod reference_workload;

/// The reference's hold brain.
struct RefHold;

#[async_trait::async_trait]
impl ref_core::Brain for RefHold {
    fn name(&self) -> &str {
        "hold"
    }
    async fn on_event(
        &self,
        _event: &ref_core::MarketDataEvent,
        _position: &ref_core::Position,
    ) -> ref_core::Result<ref_core::Decision> {
        Ok(ref_core::Decision::hold())
    }
}

/// The reference's periodic brain, with the same rule as ours.
struct RefPeriodic {
    period: u64,
    seen: AtomicU64,
}

#[async_trait::async_trait]
impl ref_core::Brain for RefPeriodic {
    fn name(&self) -> &str {
        "periodic-10"
    }
    async fn on_event(
        &self,
        _event: &ref_core::MarketDataEvent,
        position: &ref_core::Position,
    ) -> ref_core::Result<ref_core::Decision> {
        let k = self.seen.fetch_add(1, Ordering::Relaxed);
        let phase = k % self.period;
        let flat = position.qty.abs() < 1e-12;
        Ok(if phase == 0 && flat {
            ref_core::Decision::buy(1.0)
        } else if phase == self.period / 2 && !flat {
            ref_core::Decision::close()
        } else {
            ref_core::Decision::hold()
        })
    }
}

/// One brain pair: the same rule written for each engine.
struct Case {
    name: &'static str,
    ours: Box<dyn Fn() -> Arc<dyn Brain>>,
    reference: Box<dyn Fn() -> Arc<dyn ref_core::Brain>>,
}

/// One symbol's bars as a strategy author holds them in memory: the bar and its time, 56 bytes
/// each (the reference's input is its own 48-byte candle). The events are built as they are
/// replayed, so neither engine streams more than its bar list from memory.
struct Series {
    venue: Venue,
    symbol: Symbol,
    bars: Vec<(Timestamp, Candle)>,
}

impl Series {
    fn events(&self) -> impl Iterator<Item = MarketEvent> + '_ {
        self.bars
            .iter()
            .map(|(t, c)| MarketEvent::candle(self.venue, self.symbol, *t, *c))
    }
}

fn ours(series: &Series, brain: Arc<dyn Brain>, record: bool) -> (f64, usize) {
    let bt = reference_workload::backtest(brain, record).expect("valid backtest");
    let start = Instant::now();
    let result = bt.run_events(series.events()).expect("our run");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(result.events as usize, series.bars.len());
    (secs, result.trades.len())
}

fn reference(candles: &[ref_core::Candle], brain: Arc<dyn ref_core::Brain>) -> (f64, usize) {
    let config = ref_bt::BacktestConfig::builder()
        .symbol("SYN")
        .initial_cash(1_000_000.0)
        .fees(ref_bt::FeeModel::Flat(0.0005))
        .build()
        .expect("valid reference config");
    let bt = ref_bt::Backtest::new(config, brain).with_candles(candles.to_vec());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let result = rt.block_on(bt.run()).expect("reference run");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(result.candles_processed, candles.len());
    (secs, result.trades.len())
}

fn best(repeats: usize, mut f: impl FnMut() -> (f64, usize)) -> (f64, usize) {
    (0..repeats)
        .map(|_| f())
        .fold((f64::INFINITY, 0), |(b, _), (s, t)| (b.min(s), t))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3).max(1);
    // 5 bps per one-minute bar keeps ten million bars within a few orders of magnitude of the
    // start price, so lot-size rounding never refuses an entry on either engine.
    let params = synthetic::WalkParams {
        volatility: 0.0005,
        ..synthetic::WalkParams::default()
    };
    let events: Vec<MarketEvent> =
        synthetic::random_walk_for(synthetic::synthetic_symbol(), 2024, n, params)
            .collect::<Result<_, _>>()
            .expect("synthetic candles");
    let candles: Vec<ref_core::Candle> = events
        .iter()
        .map(|e| {
            let c = e.as_candle().expect("candle events");
            ref_core::Candle {
                time: c.open_time().as_millis(),
                open: c.open().get(),
                high: c.high().get(),
                low: c.low().get(),
                close: c.close().get(),
                volume: c.volume().get(),
            }
        })
        .collect();
    let series = Series {
        venue: events[0].venue,
        symbol: events[0].symbol,
        bars: events
            .iter()
            .map(|e| (e.time, *e.as_candle().expect("candle events")))
            .collect(),
    };
    drop(events);
    println!("{n} synthetic candles (seed 2024), best of {repeats}, single-threaded");
    println!(
        "{:<10} {:>16} {:>16} {:>8} {:>14}",
        "brain", "ours cand/s", "reference cand/s", "ratio", "trades o/r"
    );
    let cases: [Case; 2] = [
        Case {
            name: "hold",
            ours: Box::new(|| Arc::new(Hold::new())),
            reference: Box::new(|| Arc::new(RefHold)),
        },
        Case {
            name: "every-10",
            ours: Box::new(|| Arc::new(Periodic::new(10).with_size(SizeHint::Default))),
            reference: Box::new(|| {
                Arc::new(RefPeriodic {
                    period: 10,
                    seen: AtomicU64::new(0),
                })
            }),
        },
    ];
    for Case {
        name,
        ours: ours_brain,
        reference: ref_brain,
    } in &cases
    {
        let (o, ot) = best(repeats, || ours(&series, ours_brain(), true));
        let (r, rt) = best(repeats, || reference(&candles, ref_brain()));
        let (os, rs) = (n as f64 / o, n as f64 / r);
        println!(
            "{name:<10} {os:>16.0} {rs:>16.0} {:>7.2}x {ot:>7}/{rt:<7}",
            os / rs
        );
        let (q, _) = best(repeats, || ours(&series, ours_brain(), false));
        println!(
            "{:<10} {:>16.0}   (ours without the fill list and equity curve; statistics only)",
            "",
            n as f64 / q
        );
    }
}
