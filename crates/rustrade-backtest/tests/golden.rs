//! Golden files: the JSON, trades CSV and equity CSV of a fixed small run must not change
//! unnoticed. Regenerate deliberately with `UPDATE_GOLDEN=1 cargo test -p rustrade-backtest
//! --test golden` and review the diff.

use std::path::PathBuf;
use std::sync::Arc;

use rustrade_backtest::brains::Periodic;
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_backtest::{Backtest, BacktestResult};
use rustrade_core::{AssetClass, InstrumentSpec, SizeHint, Symbol};
use rustrade_risk::{RiskConfig, SizingConfig};
use rustrade_sim::{FeeModel, SlippageModel};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn fixed_run() -> BacktestResult {
    let spy = Symbol::new("SPY").unwrap();
    let data = CandleCsv::open(dir().join("data/Default.csv"), CsvOptions::new(spy)).unwrap();
    Backtest::builder()
        .instrument(InstrumentSpec::new(spy, AssetClass::Equity, 0.01, 1.0).unwrap())
        .initial_cash(10_000.0)
        .fees(FeeModel::rates(0.0002, 0.0005).with_fixed(1.0))
        .slippage(SlippageModel::FixedBps { bps: 2.0 })
        .periods_per_year(252.0)
        .risk(RiskConfig {
            sizing: SizingConfig {
                margin: 2_000.0,
                leverage: 1.0,
                max_quantity: None,
                max_notional: Some(2_500.0),
                ..Default::default()
            },
            ..RiskConfig::preset(AssetClass::Equity)
        })
        .brain(Arc::new(
            Periodic::new(8).with_size(SizeHint::Notional(2_000.0)),
        ))
        .build()
        .unwrap()
        .run(data.take(40))
        .unwrap()
}

fn check(name: &str, actual: &str) {
    let path = dir().join("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from the golden file; diff it against:\n{actual}"
    );
}

#[test]
fn json_trades_and_equity_match_the_golden_files() {
    let r = fixed_run();
    assert_eq!(r.equity.len(), 41);
    assert!(
        r.trades.len() >= 3,
        "the fixed run trades: {} trades, {} fills, {} refused",
        r.trades.len(),
        r.fills.len(),
        r.refused_decisions
    );
    let mut json = Vec::new();
    r.write_json(&mut json).unwrap();
    check("run.json", std::str::from_utf8(&json).unwrap());
    let mut trades = Vec::new();
    r.write_trades_csv(&mut trades).unwrap();
    check("trades.csv", std::str::from_utf8(&trades).unwrap());
    let mut equity = Vec::new();
    r.write_equity_csv(&mut equity).unwrap();
    check("equity.csv", std::str::from_utf8(&equity).unwrap());
}

#[test]
fn json_round_trips() {
    let r = fixed_run();
    let back: BacktestResult = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert_eq!(back, r);
}
