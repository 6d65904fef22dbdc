//! A sweep of 100 `sma_cross` points (fast 5..=50 × slow 60..=150, 20 distinct averages) over
//! 1 M seeded synthetic candles, on 1 and 2 threads, with the indicator series shared
//! (`shared`) and with every brain computing its own (`own`). The counter is grid points ×
//! candles, so divan's items/s is grid-points × candles per second.
//!
//! `cargo bench -p rustrade-cli --bench sweep_share`

use std::sync::OnceLock;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use rustrade_backtest::sweep::{Objective, ParamSpace, Search, Sweep};
use rustrade_backtest::{Backtest, synthetic};
use rustrade_cli::{Sharing, strategy_sweep};
use rustrade_core::{AssetClass, InstrumentSpec, MarketEvent};
use rustrade_sim::FeeModel;

const CANDLES: usize = 1_000_000;
const POINTS: usize = 100;

fn main() {
    divan::main();
}

fn candles() -> &'static [MarketEvent] {
    static DATA: OnceLock<Vec<MarketEvent>> = OnceLock::new();
    DATA.get_or_init(|| {
        let params = synthetic::WalkParams {
            volatility: 0.0005,
            ..synthetic::WalkParams::default()
        };
        synthetic::random_walk_for(synthetic::synthetic_symbol(), 2024, CANDLES, params)
            .collect::<Result<_, _>>()
            .expect("synthetic candles are valid")
    })
}

fn sweep(sharing: Sharing, threads: usize) -> Sweep {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .expect("valid spec");
    let template = Backtest::builder()
        .instrument(spec)
        .initial_cash(1_000_000.0)
        .fees(FeeModel::rates(0.0002, 0.0005));
    let space = ParamSpace::new()
        .range("fast", 5.0, 50.0, 5.0)
        .and_then(|s| s.range("slow", 60.0, 150.0, 10.0))
        .expect("valid ranges");
    assert_eq!(space.grid_len(), POINTS);
    let info = rustrade_strategies::info("sma_cross").expect("a ready strategy");
    strategy_sweep(
        template,
        space,
        info,
        "sma_cross",
        serde_json::json!({}),
        sharing,
    )
    .objective(Objective::Sharpe)
    .threads(threads)
}

fn run(bencher: Bencher, sharing: Sharing, threads: usize) {
    let data = candles();
    let sweep = sweep(sharing, threads);
    bencher
        .counter(ItemsCount::new(POINTS * CANDLES))
        .bench_local(|| black_box(sweep.run(data, Search::Grid)).expect("sweep"));
}

// One function per configuration (not `args`), so each can be run alone, under `time` say.

#[divan::bench(sample_count = 1, sample_size = 1)]
fn shared_1_thread(bencher: Bencher) {
    run(bencher, Sharing::On, 1);
}

#[divan::bench(sample_count = 1, sample_size = 1)]
fn shared_2_threads(bencher: Bencher) {
    run(bencher, Sharing::On, 2);
}

#[divan::bench(sample_count = 1, sample_size = 1)]
fn own_1_thread(bencher: Bencher) {
    run(bencher, Sharing::Off, 1);
}

#[divan::bench(sample_count = 1, sample_size = 1)]
fn own_2_threads(bencher: Bencher) {
    run(bencher, Sharing::Off, 2);
}
