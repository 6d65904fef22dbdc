//! A strategy sweep reading shared indicator series gives exactly the result of one whose
//! brains compute their own: the same statistics, bit for bit, and the same ranking, for every
//! ready strategy, with and without a walk-forward split, on one thread or two.

use rustrade_backtest::sweep::{Objective, ParamSpace, Search, SweepResult};
use rustrade_backtest::{Backtest, synthetic};
use rustrade_cli::{Sharing, strategy_sweep};
use rustrade_core::{AssetClass, InstrumentSpec, MarketEvent};
use rustrade_sim::FeeModel;

fn data() -> Vec<MarketEvent> {
    let params = synthetic::WalkParams {
        volatility: 0.004,
        ..synthetic::WalkParams::default()
    };
    synthetic::random_walk_for(synthetic::synthetic_symbol(), 11, 6_000, params)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A grid over `name`'s parameters in which every indicator length appears in several points,
/// some points invalid (fast >= slow), with every direction.
fn space(name: &str) -> ParamSpace {
    let s = ParamSpace::new();
    let s = match name {
        "sma_cross" | "ema_cross" => s
            .values("fast", [3.0, 8.0, 20.0])
            .and_then(|s| s.values("slow", [8.0, 30.0, 60.0])),
        "rsi_reversion" => s
            .values("period", [7.0, 14.0])
            .and_then(|s| s.values("oversold", [25.0, 35.0]))
            .and_then(|s| s.values("overbought", [65.0, 75.0])),
        "bollinger_breakout" => s
            .values("period", [10.0, 20.0])
            .and_then(|s| s.values("std_dev", [1.0, 1.5, 2.5])),
        "donchian_breakout" => s
            .values("entry", [10.0, 20.0])
            .and_then(|s| s.values("exit", [5.0, 10.0, 20.0])),
        other => panic!("no grid for {other}"),
    };
    s.and_then(|s| s.choices("direction", ["long_only", "long_short"]))
        .unwrap()
}

fn run(name: &str, sharing: Sharing, threads: usize, walk_forward: bool) -> SweepResult {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .unwrap();
    let template = Backtest::builder()
        .instrument(spec)
        .initial_cash(100_000.0)
        .fees(FeeModel::rates(0.0002, 0.0005));
    let info = rustrade_strategies::info(name).unwrap();
    let mut sweep = strategy_sweep(
        template,
        space(name),
        info,
        name,
        serde_json::json!({}),
        sharing,
    )
    .objective(Objective::TotalReturn)
    .threads(threads);
    if walk_forward {
        sweep = sweep.walk_forward(0.6);
    }
    sweep.run(&data(), Search::Grid).unwrap()
}

#[test]
fn shared_series_give_the_result_of_brains_computing_their_own() {
    for info in rustrade_strategies::list() {
        for walk_forward in [false, true] {
            let own = run(info.name, Sharing::Off, 1, walk_forward);
            let shared = run(info.name, Sharing::On, 2, walk_forward);
            // `Debug` prints each f64 exactly (shortest round trip, NaN and -0 included), so
            // equal text is equal bits.
            assert_eq!(
                format!("{shared:?}"),
                format!("{own:?}"),
                "{} (walk forward: {walk_forward})",
                info.name
            );
            let traded = own
                .rows
                .iter()
                .filter_map(|r| r.statistics.as_ref())
                .filter(|s| s.trades > 0)
                .count();
            assert!(traded >= 4, "{}: only {traded} points traded", info.name);
            if walk_forward {
                assert!(own.rows.iter().any(|r| r.out_of_sample.is_some()));
            }
        }
    }
}

#[test]
fn points_the_strategy_refuses_fail_alike_with_and_without_sharing() {
    let own = run("sma_cross", Sharing::Off, 1, false);
    let shared = run("sma_cross", Sharing::On, 1, false);
    let failed = |r: &SweepResult| {
        r.rows
            .iter()
            .filter_map(|r| r.error.clone())
            .collect::<Vec<_>>()
    };
    // fast >= slow: (8, 8), (20, 8), each in two directions.
    assert_eq!(failed(&own).len(), 4);
    assert_eq!(failed(&own), failed(&shared));
    assert!(
        failed(&shared)[0].contains("fast: must be < slow"),
        "{:?}",
        failed(&shared)
    );
}
