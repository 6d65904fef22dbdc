//! The full gate chain for an entry: session, breaker, sizing, minimums, capability and portfolio
//! (with its reservation released again so every iteration sees the same state).
//!
//! Run with `cargo bench -p rustrade-risk --bench gates`.

use divan::{Bencher, black_box};
use rustrade_core::{
    AssetClass, Capability, Decision, InstrumentSpec, Position, Price, SizeHint, Symbol, Timestamp,
};
use rustrade_risk::{
    Capabilities, GateInput, OpenExposure, PortfolioConfig, PortfolioRisk, RiskConfig, SymbolRisk,
    evaluate,
};

fn main() {
    divan::main();
}

struct Setup {
    spec: InstrumentSpec,
    decision: Decision,
    open: Vec<OpenExposure>,
    risk: SymbolRisk,
    portfolio: PortfolioRisk,
    caps: Capabilities,
    now: Timestamp,
}

fn setup(decision: Decision) -> Setup {
    setup_with(decision, 3)
}

fn setup_with(decision: Decision, open_positions: usize) -> Setup {
    let now = Timestamp::from_secs(1_714_564_800).expect("in range");
    let symbol = Symbol::new("BTCUSDT").expect("valid");
    let spec = InstrumentSpec::new(symbol, AssetClass::CryptoPerp, 0.1, 0.001)
        .and_then(|s| s.with_min_notional(5.0))
        .expect("valid spec");
    let open = (0..open_positions)
        .map(|i| OpenExposure {
            symbol: Symbol::new(&format!("SYM{i}USDT")).expect("valid"),
            quantity: 1.5,
            mark: Price::new(100.0).expect("finite"),
            contract_value: 1.0,
        })
        .collect();
    let portfolio = PortfolioRisk::new(
        PortfolioConfig {
            max_positions: Some(1_000),
            max_gross_exposure: Some(1e6),
            max_net_exposure: Some(1e6),
            daily_loss_limit: Some(-500.0),
            ..Default::default()
        },
        now,
    )
    .expect("valid config");
    Setup {
        spec,
        decision,
        open,
        risk: SymbolRisk::new(&RiskConfig::preset(AssetClass::CryptoPerp), now).expect("valid"),
        portfolio,
        caps: Capabilities::from_fn(|c| c != Capability::Fok),
        now,
    }
}

fn run(bencher: Bencher<'_, '_>, decision: Decision) {
    run_with(bencher, decision, 3);
}

fn run_with(bencher: Bencher<'_, '_>, decision: Decision, open_positions: usize) {
    let mut s = setup_with(decision, open_positions);
    let flat = Position::FLAT;
    bencher.bench_local(|| {
        let input = GateInput {
            decision: black_box(&s.decision),
            symbol: s.spec.symbol(),
            reference_price: black_box(Price::new(50_000.0).expect("finite")),
            position: &flat,
            spec: &s.spec,
            capabilities: s.caps,
            open_positions: &s.open,
            funds: rustrade_risk::Funds::UNKNOWN,
        };
        let approved = evaluate(&input, &mut s.risk, &mut s.portfolio, s.now).expect("approved");
        if let Some(r) = approved.reservation() {
            s.portfolio.release(r);
        }
        black_box(approved)
    });
}

/// A market entry sized from margin × leverage.
#[divan::bench]
fn market_entry(bencher: Bencher<'_, '_>) {
    run(bencher, Decision::buy(0.9));
}

/// A market entry against an account holding `n` open positions (the portfolio gate is linear
/// in them).
#[divan::bench(args = [0, 8, 64])]
fn market_entry_with_open_positions(bencher: Bencher<'_, '_>, n: usize) {
    run_with(bencher, Decision::buy(0.9), n);
}

/// For reference: one snap of a price to the tick by `InstrumentSpec::round_price` (core), which
/// a bracketed limit entry does three times.
#[divan::bench]
fn core_round_price(bencher: Bencher<'_, '_>) {
    let spec = setup(Decision::hold()).spec;
    bencher.bench_local(|| spec.round_price(black_box(49_990.04)));
}

/// A limit entry with a notional size hint and protective prices.
#[divan::bench]
fn limit_entry_with_bracket(bencher: Bencher<'_, '_>) {
    let p = |v| Price::new(v).expect("finite");
    run(
        bencher,
        Decision::buy(0.9)
            .with_limit_price(p(49_990.04))
            .with_stop(p(49_000.0))
            .with_take_profit(p(52_000.0))
            .with_size_hint(SizeHint::Notional(250.0)),
    );
}

/// An exit, which skips every gate.
#[divan::bench]
fn exit(bencher: Bencher<'_, '_>) {
    let mut s = setup(Decision::close());
    let long = Position::new(0.05, 50_000.0);
    bencher.bench_local(|| {
        let input = GateInput {
            decision: black_box(&s.decision),
            symbol: s.spec.symbol(),
            reference_price: Price::new(50_000.0).expect("finite"),
            position: black_box(&long),
            spec: &s.spec,
            capabilities: s.caps,
            open_positions: &s.open,
            funds: rustrade_risk::Funds::UNKNOWN,
        };
        black_box(evaluate(&input, &mut s.risk, &mut s.portfolio, s.now).expect("exit"))
    });
}
