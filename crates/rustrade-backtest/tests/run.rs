//! End-to-end runs through the public API: sample data, synthetic data, errors, determinism.

use std::path::PathBuf;
use std::sync::Arc;

use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::data::{CandleCsv, CsvOptions, merge};
use rustrade_backtest::synthetic::{self, WalkParams, random_walk_for};
use rustrade_backtest::{Backtest, BacktestError, BacktestResult};
use rustrade_core::{
    AssetClass, Brain, BrainError, Decision, InstrumentSpec, MarketEvent, Position, Side, SizeHint,
    Symbol, async_trait,
};
use rustrade_sim::FeeModel;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn spec(symbol: &str) -> InstrumentSpec {
    InstrumentSpec::new(
        Symbol::new(symbol).unwrap(),
        AssetClass::Equity,
        0.01,
        0.001,
    )
    .unwrap()
}

fn spy_csv() -> CandleCsv<std::fs::File> {
    CandleCsv::open(
        sample("Default.csv"),
        CsvOptions::new(Symbol::new("SPY").unwrap()),
    )
    .unwrap()
}

fn periodic_run(fees: FeeModel) -> BacktestResult {
    Backtest::builder()
        .instrument(spec("SPY"))
        .initial_cash(100_000.0)
        .fees(fees)
        .brain(Arc::new(
            Periodic::new(10).with_size(SizeHint::Notional(10_000.0)),
        ))
        .build()
        .unwrap()
        .run(spy_csv())
        .unwrap()
}

fn assert_identity(r: &BacktestResult) {
    let rhs = r.initial_cash + r.realised_pnl - r.open_fees + r.unrealised_pnl - r.funding_paid;
    assert!(
        (r.final_equity - rhs).abs() <= 1e-6 * r.initial_cash,
        "final {} vs identity {rhs}",
        r.final_equity
    );
}

#[test]
fn hold_on_sample_data_keeps_cash_and_samples_every_bar() {
    let r = Backtest::builder()
        .instrument(spec("SPY"))
        .initial_cash(5_000.0)
        .brain(Arc::new(Hold::new()))
        .build()
        .unwrap()
        .run(spy_csv())
        .unwrap();
    assert_eq!(r.events, 502);
    assert_eq!(r.equity.len(), 503);
    assert!(r.equity.iter().all(|p| p.equity == 5_000.0));
    assert!(r.fills.is_empty() && r.trades.is_empty());
    let s = &r.statistics;
    assert_eq!(
        (s.total_return, s.max_drawdown, s.exposure),
        (0.0, 0.0, 0.0)
    );
    // Buy and hold of SPY over the file: 245.28 / 212.8 − 1.
    assert!((s.buy_and_hold_return.unwrap() - (245.28 / 212.8 - 1.0)).abs() < 1e-12);
    // 502 daily bars over 2017-01-03..2018-12-31 annualise to about 252 per year.
    let p = s.periods_per_year.unwrap();
    assert!((250.0..254.0).contains(&p), "{p}");
}

#[test]
fn periodic_brain_trades_and_pays_fees_on_both_legs() {
    let r = periodic_run(FeeModel::rates(0.0002, 0.0005));
    assert_eq!(r.events, 502);
    assert_eq!(r.equity.len(), 503);
    assert_eq!(r.equity[0].equity, 100_000.0);
    assert!(r.trades.len() >= 45, "{} trades", r.trades.len());
    assert_eq!(r.statistics.trades, r.trades.len() as u64);
    // Every fill paid a fee; the sum is what the wallet charged.
    let fill_fees: f64 = r.fills.iter().map(|f| f.fee.get()).sum();
    assert!(r.fills.iter().all(|f| f.fee.get() > 0.0));
    assert!((fill_fees - r.fees_paid).abs() < 1e-9);
    assert_eq!(r.statistics.fees_paid, r.fees_paid);
    // Closed trades carry both legs' fees; what is not in a trade is the open entry's fee.
    let trade_fees: f64 = r.trades.iter().map(|t| t.fees).sum();
    assert!((trade_fees + r.open_fees - r.fees_paid).abs() < 1e-9);
    for t in &r.trades {
        assert_eq!(t.side, Side::Buy);
        assert!(t.exit_time > t.entry_time);
        assert!((t.gross_pnl - t.fees - t.net_pnl).abs() < 1e-9);
        let expected = t.quantity * (t.exit_price - t.entry_price);
        assert!((t.gross_pnl - expected).abs() < 1e-6, "{t:?}");
        // Entry fee (taker, at the entry price) and exit fee both counted.
        let both = 0.0005 * t.quantity * (t.entry_price + t.exit_price);
        assert!((t.fees - both).abs() < 1e-6, "{} vs {both}", t.fees);
    }
    assert_identity(&r);
    assert!(r.statistics.exposure > 0.3 && r.statistics.exposure < 0.7);
}

#[test]
fn orders_fill_at_the_next_open_unless_trade_on_close() {
    let events: Vec<MarketEvent> = spy_csv().collect::<Result<_, _>>().unwrap();
    let first = events[0].as_candle().unwrap();
    let second = events[1].as_candle().unwrap();
    for (on_close, price, time) in [
        (false, second.open().get(), events[1].time),
        (true, first.close().get(), events[0].time),
    ] {
        let r = Backtest::builder()
            .instrument(spec("SPY"))
            .trade_on_close(on_close)
            .brain(Arc::new(Periodic::new(10)))
            .build()
            .unwrap()
            .run_events(events.iter().copied().take(3))
            .unwrap();
        let fill = r.fills.first().expect("the first buy filled");
        assert_eq!(
            (fill.price.get(), fill.time),
            (price, time),
            "trade_on_close={on_close}"
        );
    }
}

#[test]
fn two_runs_are_bit_identical() {
    let a = periodic_run(FeeModel::rates(0.0002, 0.0005));
    let b = periodic_run(FeeModel::rates(0.0002, 0.0005));
    assert_eq!(a, b);
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
}

#[test]
fn brain_error_names_brain_symbol_and_time() {
    struct FailsAt(u64, std::sync::atomic::AtomicU64);
    #[async_trait]
    impl Brain for FailsAt {
        fn name(&self) -> &str {
            "fragile"
        }
        fn on_event(&self, _: &MarketEvent, _: &Position) -> Result<Decision, BrainError> {
            let k = self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if k == self.0 {
                Err(BrainError::NotReady("indicator has no value".into()))
            } else {
                Ok(Decision::hold())
            }
        }
    }
    let err = Backtest::builder()
        .instrument(spec("SPY"))
        .brain(Arc::new(FailsAt(4, 0.into())))
        .build()
        .unwrap()
        .run(spy_csv())
        .unwrap_err();
    match &err {
        BacktestError::Brain {
            brain,
            symbol,
            time,
            message,
        } => {
            assert_eq!((brain.as_str(), symbol.as_str()), ("fragile", "SPY"));
            assert_eq!(time.to_rfc3339(), "2017-01-09T00:00:00Z");
            assert!(message.contains("indicator has no value"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("brain \"fragile\" failed on SPY at 2017-01-09T00:00:00Z"),
        "{err}"
    );
}

#[test]
fn data_errors_stop_the_run() {
    let bt = Backtest::builder()
        .instrument(spec("SPY"))
        .brain(Arc::new(Hold::new()))
        .build()
        .unwrap();
    let bad = CandleCsv::open(
        sample("Bad.csv"),
        CsvOptions::new(Symbol::new("SPY").unwrap()),
    )
    .unwrap();
    let err = bt.run(bad).unwrap_err();
    assert!(matches!(err, BacktestError::Data(_)), "{err:?}");
    assert!(err.to_string().contains("Bad.csv:202"), "{err}");
    let other = CandleCsv::open(
        sample("Default.csv"),
        CsvOptions::new(Symbol::new("QQQ").unwrap()),
    )
    .unwrap();
    let err = bt.run(other).unwrap_err();
    assert!(
        matches!(err, BacktestError::UnknownSymbol { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("QQQ"), "{err}");
}

#[test]
fn events_going_back_in_time_are_refused() {
    let mut events: Vec<MarketEvent> = spy_csv().take(3).collect::<Result<_, _>>().unwrap();
    events.swap(1, 2);
    let err = Backtest::builder()
        .instrument(spec("SPY"))
        .brain(Arc::new(Hold::new()))
        .build()
        .unwrap()
        .run_events(events)
        .unwrap_err();
    assert!(matches!(err, BacktestError::TimeWentBack { .. }), "{err:?}");
}

#[test]
fn configuration_is_validated() {
    let msg = |b: rustrade_backtest::BacktestBuilder| match b.build() {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted"),
    };
    assert!(msg(Backtest::builder().brain(Arc::new(Hold::new()))).contains("instruments"));
    assert!(msg(Backtest::builder().instrument(spec("A"))).contains("brains"));
    let dup = Backtest::builder()
        .instrument(spec("A"))
        .brain(Arc::new(Hold::new()))
        .brain(Arc::new(Hold::new()));
    assert!(msg(dup).contains("duplicate brain name \"hold\""));
    let two_specs = Backtest::builder()
        .instrument(spec("A"))
        .instrument(spec("A"))
        .brain(Arc::new(Hold::new()));
    assert!(msg(two_specs).contains("two specs for A"));
    let bad_cash = Backtest::builder()
        .instrument(spec("A"))
        .initial_cash(f64::NAN)
        .brain(Arc::new(Hold::new()));
    assert!(msg(bad_cash).contains("initial_cash"));
    let bad_ppy = Backtest::builder()
        .instrument(spec("A"))
        .periods_per_year(0.0)
        .brain(Arc::new(Hold::new()));
    assert!(msg(bad_ppy).contains("periods_per_year"));
}

struct Owner(&'static str, Vec<Symbol>);

#[async_trait]
impl Brain for Owner {
    fn name(&self) -> &str {
        self.0
    }
    fn owned_symbols(&self) -> Option<Vec<Symbol>> {
        Some(self.1.clone())
    }
    fn on_event(&self, e: &MarketEvent, _: &Position) -> Result<Decision, BrainError> {
        if self.1.contains(&e.symbol) {
            Ok(Decision::hold())
        } else {
            Err(BrainError::NotReady(format!(
                "saw {} it does not own",
                e.symbol
            )))
        }
    }
}

#[test]
fn owned_symbols_route_events_and_overlaps_are_refused() {
    let a = Symbol::new("A").unwrap();
    let b = Symbol::new("B").unwrap();
    let overlap = Backtest::builder()
        .instrument(spec("A"))
        .brain(Arc::new(Owner("x", vec![a])))
        .brain(Arc::new(Owner("y", vec![a, b])))
        .build();
    assert!(
        overlap
            .err()
            .unwrap()
            .to_string()
            .contains("A is owned by both")
    );
    // The live bot's rules hold here too: a brain may not own a symbol that is not traded.
    let untraded = Backtest::builder()
        .instrument(spec("A"))
        .brain(Arc::new(Owner("x", vec![b])))
        .build();
    assert!(
        untraded
            .err()
            .unwrap()
            .to_string()
            .contains("brain \"x\" owns B, which is not a traded symbol")
    );
    let bt = Backtest::builder()
        .instrument(spec("A"))
        .instrument(spec("B"))
        .brain(Arc::new(Owner("x", vec![a])))
        .brain(Arc::new(Owner("y", vec![b])))
        .build()
        .unwrap();
    let params = WalkParams::default();
    let data = merge(vec![
        random_walk_for(a, 1, 200, params),
        random_walk_for(b, 2, 200, params),
    ]);
    let r = bt.run(data).unwrap();
    assert_eq!(r.events, 400);
    assert_eq!(r.equity.len(), 201, "events sharing a time form one step");
}

#[test]
fn multi_symbol_periodic_run_keeps_the_identity() {
    let a = Symbol::new("A").unwrap();
    let b = Symbol::new("B").unwrap();
    let params = WalkParams::default();
    let bt = Backtest::builder()
        .instrument(spec("A"))
        .instrument(spec("B"))
        .initial_cash(50_000.0)
        .fees(FeeModel::rates(0.0001, 0.0004))
        .brain(Arc::new(Periodic::new(7)))
        .build()
        .unwrap();
    let data = merge(vec![
        random_walk_for(a, 11, 1_000, params),
        random_walk_for(b, 12, 1_000, params),
    ]);
    let r = bt.run(data).unwrap();
    assert!(r.trades.len() > 50);
    assert!(r.trades.iter().any(|t| t.symbol == a) && r.trades.iter().any(|t| t.symbol == b));
    assert_identity(&r);
}

#[test]
fn recording_can_be_turned_off_without_changing_statistics() {
    let build = |on| {
        Backtest::builder()
            .instrument(
                InstrumentSpec::new(
                    synthetic::synthetic_symbol(),
                    AssetClass::CryptoSpot,
                    0.01,
                    0.001,
                )
                .unwrap(),
            )
            .record_equity(on)
            .record_fills(on)
            .record_trades(on)
            .fees(FeeModel::rates(0.0, 0.001))
            .brain(Arc::new(Periodic::new(10)))
            .build()
            .unwrap()
            .run(synthetic::random_walk(5, 2_000))
            .unwrap()
    };
    let (on, off) = (build(true), build(false));
    assert_eq!(on.equity.len(), 2_001);
    assert!(off.equity.is_empty() && off.fills.is_empty() && off.trades.is_empty());
    assert!(!on.fills.is_empty() && !on.trades.is_empty());
    assert_eq!(on.statistics.trades, on.trades.len() as u64);
    assert_eq!(on.statistics, off.statistics);
    assert_eq!(on.final_equity, off.final_equity);
}

/// Places one limit buy far below the market on the first event, then holds.
struct FarLimit(std::sync::atomic::AtomicBool);

#[async_trait]
impl Brain for FarLimit {
    fn name(&self) -> &str {
        "far-limit"
    }
    fn on_event(&self, e: &MarketEvent, _: &Position) -> Result<Decision, BrainError> {
        if self.0.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return Ok(Decision::hold());
        }
        let limit = rustrade_core::Price::new(e.reference_price().get() * 0.5).unwrap();
        Ok(Decision::buy(1.0).with_limit_price(limit))
    }
}

#[test]
fn resting_orders_expire_by_ttl_through_the_engine_timer() {
    let run = |ttl: Option<std::time::Duration>| {
        let mut engine =
            rustrade_engine::EngineConfig::new("bt", rustrade_risk::RiskConfig::default());
        engine.order_ttl = ttl;
        Backtest::builder()
            .instrument(
                InstrumentSpec::new(
                    synthetic::synthetic_symbol(),
                    AssetClass::CryptoSpot,
                    0.01,
                    0.001,
                )
                .unwrap(),
            )
            .engine(engine)
            .brain(Arc::new(FarLimit(false.into())))
            .build()
            .unwrap()
            .run(synthetic::random_walk(1, 30))
            .unwrap()
    };
    let kept = run(None);
    assert_eq!((kept.orders.placed, kept.orders.cancelled), (1, 0));
    let expired = run(Some(std::time::Duration::from_secs(300)));
    assert_eq!((expired.orders.placed, expired.orders.cancelled), (1, 1));
    assert!(expired.fills.is_empty());
}

/// Counts the fills it is told about, trading like `Periodic`.
struct FillCounter {
    inner: Periodic,
    fills: std::sync::atomic::AtomicU64,
}

#[async_trait]
impl Brain for FillCounter {
    fn name(&self) -> &str {
        "fill-counter"
    }
    fn on_event(&self, e: &MarketEvent, p: &Position) -> Result<Decision, BrainError> {
        self.inner.on_event(e, p)
    }
    fn on_fill(&self, _fill: &rustrade_core::Fill) {
        self.fills
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn brains_are_told_about_their_fills() {
    let brain = Arc::new(FillCounter {
        inner: Periodic::new(6),
        fills: 0.into(),
    });
    let r = Backtest::builder()
        .instrument(spec("SPY"))
        .brain(brain.clone())
        .build()
        .unwrap()
        .run(spy_csv())
        .unwrap();
    assert!(!r.fills.is_empty());
    assert_eq!(
        brain.fills.load(std::sync::atomic::Ordering::Relaxed),
        r.fills.len() as u64
    );
}
