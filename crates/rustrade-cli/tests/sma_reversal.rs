//! An always-in-market SMA crossover that reverses on every cross, sized all-in on current
//! equity in whole shares, with 0.2 % commission on both legs, on the shipped `Default.csv`:
//! expressed from the CLI config and from Rust, both giving the same trade list, whose
//! invariants are checked, and both matching, trade for trade and in final equity, the run of
//! the same strategy in backtesting.py (`scripts/reference/backtesting_py_sma.py`, output in
//! `tests/data/backtesting_py_sma_reversal.json`; the port is explained in `docs/porting.md`).

mod common;

use std::sync::Arc;

use common::*;
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_backtest::{Backtest, BacktestResult, TradeRecord};
use rustrade_core::{AssetClass, InstrumentSpec, Side, Symbol, Timestamp};
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

/// Relative tolerance of the comparison with the independent engine.
const REL: f64 = 1e-9;

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

/// The run of the same strategy in backtesting.py, as its script wrote it.
fn reference() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/backtesting_py_sma_reversal.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The time of each bar of `Default.csv` as the backtest stamps it, in file order: bar `i` of
/// backtesting.py is `times[i]`.
fn bar_times() -> Vec<Timestamp> {
    let options = CsvOptions::new(Symbol::new("SPY").unwrap())
        .bar_interval(std::time::Duration::from_secs(86_400))
        .unwrap();
    CandleCsv::open(data("Default.csv"), options)
        .unwrap()
        .map(|e| e.unwrap().time)
        .collect()
}

fn f(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is a number in {v}"))
}

/// `a` equals `b` to [`REL`] relative to the larger of the two.
fn assert_close(a: f64, b: f64, what: &str) {
    let scale = a.abs().max(b.abs());
    assert!(
        (a - b).abs() <= REL * scale,
        "{what}: rustrade {a} vs backtesting.py {b} (relative {:e})",
        (a - b).abs() / scale
    );
}

/// Trade for trade (entry and exit bar, side, size, prices, PnL, fees, return), the trade left
/// open, the equity at every bar's close, the final equity and the statistics both engines
/// define alike (the others are compared in `docs/porting.md`).
fn assert_matches_reference(result: &BacktestResult) {
    let reference = reference();
    let times = bar_times();
    let bar = |t: Timestamp| times.iter().position(|&x| x == t).expect("a bar's time");
    let expected = reference["trades"].as_array().unwrap();
    assert_eq!(result.trades.len(), expected.len(), "closed trades");
    for (i, (t, e)) in result.trades.iter().zip(expected).enumerate() {
        let size = f(e, "size");
        let what = |field: &str| format!("trade {i} {field}");
        assert_eq!(
            bar(t.entry_time),
            e["entry_bar"].as_u64().unwrap() as usize,
            "{}",
            what("entry bar")
        );
        assert_eq!(
            bar(t.exit_time),
            e["exit_bar"].as_u64().unwrap() as usize,
            "{}",
            what("exit bar")
        );
        let side = if size > 0.0 { Side::Buy } else { Side::Sell };
        assert_eq!(t.side, side, "{}", what("side"));
        assert_eq!(t.quantity, size.abs(), "{}", what("size"));
        assert_close(t.entry_price, f(e, "entry_price"), &what("entry price"));
        assert_close(t.exit_price, f(e, "exit_price"), &what("exit price"));
        assert_close(t.net_pnl, f(e, "pnl"), &what("PnL"));
        assert_close(t.fees, f(e, "commission"), &what("commission"));
        assert_close(t.return_fraction, f(e, "return"), &what("return"));
    }
    let open = &reference["open_trade"];
    let (symbol, position) = result.positions.iter().next().unwrap();
    assert_eq!(symbol.as_str(), "SPY");
    assert_eq!(position.quantity, f(open, "size"), "open trade size");
    assert_close(
        position.avg_entry,
        f(open, "entry_price"),
        "open trade entry price",
    );
    assert_eq!(
        bar(result.trades.last().unwrap().exit_time),
        open["entry_bar"].as_u64().unwrap() as usize,
        "the open trade starts where the last closed one ended"
    );
    assert_close(
        result.final_equity,
        f(&reference, "final_equity"),
        "final equity",
    );
    let curve = reference["equity"].as_array().unwrap();
    assert_eq!(
        result.equity.len(),
        1 + curve.len(),
        "the start and one point per bar"
    );
    assert_eq!(
        result.equity[0].equity, CASH,
        "the curve starts at the initial cash"
    );
    // backtesting.py logs a bar's equity before the orders decided on it fill (at its close,
    // with trade_on_close), rustrade after: on those bars the two differ by those fills' fees.
    for (i, (point, e)) in result.equity[1..].iter().zip(curve).enumerate() {
        assert_eq!(point.time, times[i], "equity point {i} is bar {i}'s close");
        let fees: f64 = result
            .fills
            .iter()
            .filter(|fill| fill.time == times[i])
            .map(|fill| fill.fee.get())
            .sum();
        assert_close(
            point.equity + fees,
            e.as_f64().unwrap(),
            &format!("equity at bar {i}"),
        );
    }

    let s = &result.statistics;
    let theirs = &reference["stats"];
    assert_close(
        s.final_equity,
        f(theirs, "Equity Final [$]"),
        "Equity Final",
    );
    assert_close(100.0 * s.total_return, f(theirs, "Return [%]"), "Return");
    assert_close(s.trades as f64, f(theirs, "# Trades"), "# Trades");
    let pct = |x: Option<f64>| 100.0 * x.unwrap();
    assert_close(pct(s.win_rate), f(theirs, "Win Rate [%]"), "Win Rate");
    assert_close(pct(s.best_trade), f(theirs, "Best Trade [%]"), "Best Trade");
    assert_close(
        pct(s.worst_trade),
        f(theirs, "Worst Trade [%]"),
        "Worst Trade",
    );
    assert_close(
        pct(s.average_trade),
        f(theirs, "Expectancy [%]"),
        "Expectancy",
    );
    assert_close(s.sqn.unwrap(), f(theirs, "SQN"), "SQN");
    assert_close(
        -100.0 * s.max_drawdown,
        f(theirs, "Max. Drawdown [%]"),
        "Max. Drawdown",
    );
    assert_close(pct(s.cagr), f(theirs, "CAGR [%]"), "CAGR");
    assert_close(
        -100.0 * s.average_drawdown,
        f(theirs, "Avg. Drawdown [%]"),
        "Avg. Drawdown",
    );
    assert_close(
        s.max_drawdown_duration_secs / 86_400.0,
        f(&reference, "max_drawdown_duration_days"),
        "Max. Drawdown Duration",
    );
    let closed_fees: f64 = result.trades.iter().map(|t| t.fees).sum();
    assert_close(closed_fees, f(theirs, "Commissions [$]"), "Commissions");
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
fn the_reversing_crossover_from_rust_matches_backtesting_py() {
    assert_matches_reference(&from_rust());
}

#[test]
fn the_reversing_crossover_from_the_cli_matches_backtesting_py() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reversal.toml");
    std::fs::write(&config, config_text()).unwrap();
    let out = rustrade(dir.path(), &["backtest", config.to_str().unwrap()]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("runs/reversal/result.json")).unwrap(),
    )
    .unwrap();
    let result: BacktestResult = serde_json::from_value(json["result"].clone()).unwrap();
    assert_matches_reference(&result);
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
