//! An always-in-market SMA crossover that reverses on every cross, sized all-in on current
//! equity in whole shares, with 0.2 % commission on both legs, on the shipped `Default.csv`:
//! expressed from the CLI config and from Rust, both giving the same trade list, whose
//! invariants are checked.

mod common;

use std::sync::Arc;

use common::*;
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_backtest::{Backtest, BacktestResult, TradeRecord};
use rustrade_core::{AssetClass, InstrumentSpec, Side, Symbol};
use rustrade_risk::{RiskConfig, SizingBasis, SizingConfig};
use rustrade_sim::FeeModel;

const CASH: f64 = 10_000.0;
const FEE: f64 = 0.002;

fn config_text() -> String {
    format!(
        r#"[[market]]
symbol = "SPY"
file = "{}"
interval = "1d"
asset_class = "equity"
tick_size = 0.01
lot_size = 1

[strategy]
name = "sma_cross"

[strategy.params]
fast = 10
slow = 30
direction = "long_short"

[account]
initial_cash = {CASH}

[execution]
fill = "close"
taker_fee_bps = 20.0
maker_fee_bps = 20.0

[risk]
equity_fraction = 1.0
breaker_losses = 1000000
"#,
        data("Default.csv").display()
    )
}

fn from_rust() -> BacktestResult {
    let symbol = Symbol::new("SPY").unwrap();
    let spec = InstrumentSpec::new(symbol, AssetClass::Equity, 0.01, 1.0).unwrap();
    let mut risk = RiskConfig::preset(AssetClass::Equity);
    risk.breaker.loss_limit = 1_000_000;
    risk.sizing = SizingConfig {
        basis: SizingBasis::EquityFraction(1.0),
        fee_rate: FEE,
        ..SizingConfig::default()
    };
    let brain = rustrade_strategies::build(
        "sma_cross",
        &serde_json::json!({"fast": 10, "slow": 30, "direction": "long_short"}),
    )
    .unwrap();
    let backtest = Backtest::builder()
        .instrument(spec)
        .initial_cash(CASH)
        .fees(FeeModel::rates(FEE, FEE))
        .trade_on_close(true)
        .risk(risk)
        .brain(Arc::clone(&brain))
        .build()
        .unwrap();
    let options = CsvOptions::new(symbol)
        .bar_interval(std::time::Duration::from_secs(86_400))
        .unwrap();
    let data = CandleCsv::open(data("Default.csv"), options).unwrap();
    backtest.run(data).unwrap()
}

/// Always in the market from the first signal, each flip at one fill time, sizes whole and
/// affordable with the fee, commission on both legs.
fn check_invariants(trades: &[TradeRecord], final_position: f64) {
    assert!(
        trades.len() >= 5,
        "the crossover flips: {} trades",
        trades.len()
    );
    let mut equity = CASH;
    for (i, t) in trades.iter().enumerate() {
        if i > 0 {
            let before = &trades[i - 1];
            assert_eq!(
                t.entry_time,
                before.exit_time,
                "trade {i} opens where {} closed",
                i - 1
            );
            assert_eq!(
                t.entry_price, before.exit_price,
                "one fill price for the flip"
            );
            assert_ne!(t.side, before.side, "sides alternate");
        }
        assert!(
            t.quantity >= 1.0 && t.quantity.fract() == 0.0,
            "whole shares: {t:?}"
        );
        let cost = t.quantity * t.entry_price * (1.0 + FEE);
        assert!(
            cost <= equity * (1.0 + 1e-12),
            "trade {i} affordable: {cost} > {equity}"
        );
        let one_more = (t.quantity + 1.0) * t.entry_price * (1.0 + FEE);
        assert!(
            one_more > equity,
            "trade {i} is all-in: {one_more} <= {equity}"
        );
        let legs = FEE * t.quantity * (t.entry_price + t.exit_price);
        assert!(
            (t.fees - legs).abs() < 1e-6,
            "both legs pay 0.2 %: {} vs {legs}",
            t.fees
        );
        equity += t.net_pnl;
    }
    let last = trades.last().unwrap();
    let expected = if last.side == Side::Buy { -1.0 } else { 1.0 };
    assert_eq!(
        final_position.signum(),
        expected,
        "still in the market, on the other side"
    );
}

#[test]
fn the_reversing_crossover_from_rust_keeps_the_invariants() {
    let result = from_rust();
    let position = result.positions.values().next().unwrap().quantity;
    check_invariants(&result.trades, position);
    assert_eq!(result.refused_decisions, 0);
}

#[test]
fn the_reversing_crossover_from_the_config_gives_the_same_trades() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reversal.toml");
    std::fs::write(&config, config_text()).unwrap();
    let out = rustrade(dir.path(), &["backtest", config.to_str().unwrap()]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("runs/reversal/result.json")).unwrap(),
    )
    .unwrap();
    let rust = from_rust();
    let csv = std::fs::read_to_string(dir.path().join("runs/reversal/trades.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + rust.trades.len(), "{csv}");
    for (line, t) in csv.lines().skip(1).zip(&rust.trades) {
        let cols: Vec<&str> = line.split(',').collect();
        let qty: f64 = cols[3].parse().unwrap();
        assert_eq!(qty, t.quantity, "{line}");
    }
    let final_equity = json["result"]["final_equity"]
        .as_f64()
        .or_else(|| json["final_equity"].as_f64());
    if let Some(e) = final_equity {
        assert!(
            (e - rust.final_equity).abs() < 1e-6,
            "{e} vs {}",
            rust.final_equity
        );
    }
}
