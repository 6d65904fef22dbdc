//! A run whose engine writes the lean journal (the default) gives the same result — fills,
//! trades, equity curve, ledgers, positions, order counts, statistics — as one writing the full
//! journal.

use std::sync::Arc;
use std::time::Duration;

use rustrade_backtest::brains::Periodic;
use rustrade_backtest::synthetic::{self, WalkParams, random_walk_for};
use rustrade_backtest::{Backtest, BacktestBuilder, BacktestResult};
use rustrade_core::{
    AssetClass, Brain, BrainError, Decision, InstrumentSpec, MarketEvent, Position, Price,
    SizeHint, Symbol, async_trait,
};
use rustrade_engine::{EngineConfig, JournalDetail};
use rustrade_risk::RiskConfig;
use rustrade_sim::FeeModel;

fn spec(symbol: Symbol) -> InstrumentSpec {
    InstrumentSpec::new(symbol, AssetClass::CryptoSpot, 0.01, 0.001).unwrap()
}

/// Every `period` events, when flat, a limit buy 0.2 % below the price with a stop and a
/// take-profit 1 % away (emulated by the engine) and a time to live: entries that rest, fill,
/// expire or get stopped out.
struct Bracketed {
    period: u64,
    seen: std::sync::atomic::AtomicU64,
}

#[async_trait]
impl Brain for Bracketed {
    fn name(&self) -> &str {
        "bracketed"
    }

    fn on_event(&self, e: &MarketEvent, p: &Position) -> Result<Decision, BrainError> {
        let k = self.seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !k.is_multiple_of(self.period) || !p.is_flat() {
            return Ok(Decision::hold());
        }
        let price = e.reference_price().get();
        let at = |f: f64| Price::new(price * f).unwrap();
        Ok(Decision::buy(1.0)
            .with_limit_price(at(0.998))
            .with_stop(at(0.99))
            .with_take_profit(at(1.01)))
    }
}

fn both(builder: BacktestBuilder, data: impl Fn() -> Vec<MarketEvent>) -> [BacktestResult; 2] {
    [JournalDetail::Lean, JournalDetail::Full].map(|journal| {
        let bt: Backtest = builder.clone().journal(journal).build().unwrap();
        assert_eq!(bt.engine_config().journal, journal);
        bt.run_events(data()).unwrap()
    })
}

fn assert_same(lean: &BacktestResult, full: &BacktestResult) {
    assert_eq!(lean.fills, full.fills);
    assert_eq!(lean.trades, full.trades);
    assert_eq!(lean.equity, full.equity);
    assert_eq!(lean.positions, full.positions);
    assert_eq!(lean.orders, full.orders);
    assert_eq!(lean, full);
}

fn walk(seed: u64, n: usize) -> Vec<MarketEvent> {
    synthetic::random_walk(seed, n)
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_reference_workload_is_the_same_with_a_lean_or_a_full_journal() {
    let mut risk = RiskConfig::default();
    risk.breaker.loss_limit = u32::MAX;
    risk.session.loss_cap = None;
    let builder = Backtest::builder()
        .instrument(spec(synthetic::synthetic_symbol()))
        .initial_cash(1_000_000.0)
        .risk(risk)
        .fees(FeeModel::rates(0.0005, 0.0005))
        .brain(Arc::new(Periodic::new(10)));
    let [lean, full] = both(builder, || walk(7, 5_000));
    assert_eq!(lean.trades.len(), 500);
    assert_same(&lean, &full);
}

#[test]
fn refusals_are_the_same_with_a_lean_or_a_full_journal() {
    // The default risk config's loss breaker refuses part of the entries.
    let builder = Backtest::builder()
        .instrument(spec(synthetic::synthetic_symbol()))
        .initial_cash(10_000.0)
        .fees(FeeModel::rates(0.001, 0.001))
        .brain(Arc::new(
            Periodic::new(4).with_size(SizeHint::Notional(2_000.0)),
        ));
    let [lean, full] = both(builder, || walk(11, 4_000));
    assert!(
        lean.refused_decisions > 0,
        "the breaker refuses some entries"
    );
    assert_same(&lean, &full);
}

#[test]
fn brackets_expiries_and_several_symbols_are_the_same_with_a_lean_or_a_full_journal() {
    let a = Symbol::new("AAAUSDT").unwrap();
    let b = Symbol::new("BBBUSDT").unwrap();
    let mut engine = EngineConfig::new("bt", RiskConfig::default());
    engine.order_ttl = Some(Duration::from_secs(180));
    let builder = Backtest::builder()
        .instrument(spec(a))
        .instrument(spec(b))
        .engine(engine)
        .initial_cash(50_000.0)
        .fees(FeeModel::rates(0.0002, 0.0005))
        .brain(Arc::new(Bracketed {
            period: 6,
            seen: 0.into(),
        }));
    let data = || {
        let params = WalkParams::default();
        let mut events: Vec<MarketEvent> = random_walk_for(a, 3, 3_000, params)
            .chain(random_walk_for(b, 4, 3_000, params))
            .collect::<Result<_, _>>()
            .unwrap();
        events.sort_by_key(|e| e.time);
        events
    };
    let [lean, full] = both(builder, data);
    assert!(lean.orders.cancelled > 0, "some entries expire");
    assert!(lean.trades.len() > 20);
    assert_same(&lean, &full);
}
