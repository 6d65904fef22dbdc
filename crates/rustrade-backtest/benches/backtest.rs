//! Replay throughput (candles per second, single-threaded), allocations per candle (divan's
//! allocation profiler) and sweep scaling from one to two threads.
//!
//! Run with `cargo bench -p rustrade-backtest --bench backtest`.

use std::sync::Arc;

use divan::counter::ItemsCount;
use divan::{AllocProfiler, Bencher, black_box};
use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::sweep::{Objective, ParamSpace, Search, Sweep};
use rustrade_backtest::{Backtest, synthetic};
use rustrade_core::{
    AssetClass, Brain, InstrumentSpec, MarketEvent, OnTimeframe, Resampler, SizeHint,
};
use rustrade_sim::FeeModel;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

fn candles(n: usize) -> Vec<MarketEvent> {
    let params = synthetic::WalkParams {
        volatility: 0.0005,
        ..synthetic::WalkParams::default()
    };
    synthetic::random_walk_for(synthetic::synthetic_symbol(), 2024, n, params)
        .collect::<Result<_, _>>()
        .expect("synthetic candles are valid")
}

fn backtest(brain: Arc<dyn Brain>) -> Backtest {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .expect("valid spec");
    Backtest::builder()
        .instrument(spec)
        .initial_cash(1_000_000.0)
        .fees(FeeModel::rates(0.0002, 0.0005))
        .record_equity(false)
        .brain(brain)
        .build()
        .expect("valid backtest")
}

const SIZES: [usize; 2] = [100_000, 1_000_000];

/// A brain that never trades.
#[divan::bench(args = SIZES, sample_count = 10)]
fn hold(bencher: Bencher, n: usize) {
    let data = candles(n);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| backtest(Arc::new(Hold::new())))
        .bench_local_values(|bt| black_box(bt.run_events(data.iter().copied())).expect("run"));
}

/// The hold brain on hourly bars built from the one-minute feed ([`OnTimeframe`]): the cost of
/// resampling on the hold path.
#[divan::bench(args = SIZES, sample_count = 10)]
fn hold_hourly(bencher: Bencher, n: usize) {
    let data = candles(n);
    let minute = std::time::Duration::from_secs(60);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| {
            let resampler = Resampler::new(minute, 60 * minute).expect("valid intervals");
            backtest(Arc::new(OnTimeframe::new(Arc::new(Hold::new()), resampler)))
        })
        .bench_local_values(|bt| black_box(bt.run_events(data.iter().copied())).expect("run"));
}

/// A brain that opens a position every 10 candles and closes it 5 candles later.
#[divan::bench(args = SIZES, sample_count = 10)]
fn every_10(bencher: Bencher, n: usize) {
    let data = candles(n);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| {
            backtest(Arc::new(
                Periodic::new(10).with_size(SizeHint::Notional(100.0)),
            ))
        })
        .bench_local_values(|bt| black_box(bt.run_events(data.iter().copied())).expect("run"));
}

/// Eight parameter points over 100 000 candles each, on one and on two threads.
#[divan::bench(args = [1, 2], sample_count = 5)]
fn sweep_threads(bencher: Bencher, threads: usize) {
    let data = candles(100_000);
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .expect("valid spec");
    let space = ParamSpace::new()
        .range("period", 4.0, 32.0, 4.0)
        .expect("valid range");
    let sweep = Sweep::new(Backtest::builder().instrument(spec), space, |p| {
        let period = p.require("period")? as u64;
        Ok(vec![Arc::new(Periodic::new(period)) as Arc<dyn Brain>])
    })
    .objective(Objective::Sharpe)
    .threads(threads);
    bencher
        .counter(ItemsCount::new(8 * 100_000usize))
        .bench_local(|| black_box(sweep.run(&data, Search::Grid)).expect("sweep"));
}
