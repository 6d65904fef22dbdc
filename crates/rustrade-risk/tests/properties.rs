//! Property tests: no input panics, sizes respect lot and caps, snapshots are lossless.

mod common;

use std::time::Duration;

use common::{price, sym};
use proptest::prelude::*;
use rustrade_core::{
    AssetClass, Decision, InstrumentSpec, OrderKind, Position, Price, Quantity, SizeHint, Timestamp,
};
use rustrade_risk::{
    BreakerConfig, Capabilities, CircuitBreaker, GateInput, OpenExposure, PortfolioConfig,
    PortfolioRisk, PositionSizer, RiskConfig, SessionBoundary, SessionConfig, SizingConfig,
    SymbolRisk, evaluate, record_trade_outcome,
};

/// Any `f64`, with the awkward values well represented.
fn wild() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        -1e6..1e6f64,
        any::<f64>(),
    ]
}

/// Times clustered around one day, with the ends of the range mixed in.
fn time() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        8 => (0i64..200_000).prop_map(|s| Timestamp::from_nanos(1_714_521_600_000_000_000 + s * 1_000_000_000)),
        1 => any::<i64>().prop_map(Timestamp::from_nanos),
        1 => Just(Timestamp::MAX),
        1 => Just(Timestamp::MIN),
    ]
}

fn lot() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1.0),
        Just(0.1),
        Just(0.01),
        Just(0.001),
        Just(0.00001),
        Just(0.25),
        Just(5.0)
    ]
}

fn hint() -> impl Strategy<Value = SizeHint> {
    prop_oneof![
        Just(SizeHint::Default),
        wild().prop_map(SizeHint::MarginFraction),
        wild().prop_map(SizeHint::Notional),
        (0.0..1e6f64).prop_map(|q| SizeHint::Quantity(Quantity::new(q).unwrap())),
    ]
}

fn decision() -> impl Strategy<Value = Decision> {
    let kind = prop_oneof![
        Just(OrderKind::Market),
        Just(OrderKind::Limit),
        Just(OrderKind::PostOnly),
        Just(OrderKind::StopMarket),
        Just(OrderKind::TrailingStop),
    ];
    (
        0u8..5,
        hint(),
        kind,
        proptest::option::of(-1e5..1e5f64),
        proptest::option::of(-10.0..10.0f64),
    )
        .prop_map(|(action, hint, kind, limit, trail)| {
            let mut d = match action {
                0 => Decision::hold(),
                1 => Decision::buy(1.0),
                2 => Decision::sell(1.0),
                _ => Decision::close(),
            };
            d = d.with_size_hint(hint).with_order_kind(kind);
            if let Some(l) = limit {
                d = d.with_limit_price(Price::new(l).unwrap());
            }
            if let Some(t) = trail {
                d = d.with_trailing_stop(Price::new(t).unwrap());
            }
            d
        })
}

#[derive(Debug, Clone)]
enum Op {
    Close {
        gross: f64,
        fee: f64,
        at: Timestamp,
    },
    Loss(Timestamp),
    Win(Timestamp),
    Realised(f64, Timestamp),
    Evaluate {
        decision: Decision,
        mark: f64,
        held: f64,
        at: Timestamp,
    },
    ReleaseOldest,
    Restart(Timestamp),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (wild(), wild(), time()).prop_map(|(gross, fee, at)| Op::Close { gross, fee, at }),
        1 => time().prop_map(Op::Loss),
        1 => time().prop_map(Op::Win),
        1 => (wild(), time()).prop_map(|(v, t)| Op::Realised(v, t)),
        5 => (decision(), prop_oneof![-10.0..1e5f64, Just(0.0)], wild(), time())
            .prop_map(|(decision, mark, held, at)| Op::Evaluate { decision, mark, held, at }),
        1 => Just(Op::ReleaseOldest),
        1 => time().prop_map(Op::Restart),
    ]
}

fn risk_config() -> RiskConfig {
    RiskConfig {
        breaker: BreakerConfig {
            loss_limit: 2,
            window: Duration::from_secs(3_600),
            cooldown: Duration::from_secs(600),
            extend_on_loss: true,
        },
        session: SessionConfig {
            loss_cap: Some(-100.0),
            boundary: SessionBoundary::new(3_600, -18_000).unwrap(),
        },
        sizing: SizingConfig {
            margin: 500.0,
            leverage: 5.0,
            max_quantity: Some(3.0),
            max_notional: Some(50_000.0),
            ..Default::default()
        },
    }
}

fn portfolio_config() -> PortfolioConfig {
    PortfolioConfig {
        max_positions: Some(2),
        max_gross_exposure: Some(1e6),
        max_net_exposure: Some(5e5),
        daily_loss_limit: Some(-200.0),
        boundary: SessionBoundary::UTC_MIDNIGHT,
    }
}

/// Whether `q` is a whole number of `lot`s (within floating error).
fn is_lot_multiple(q: f64, lot: f64) -> bool {
    let steps = q / lot;
    (steps - steps.round()).abs() <= 1e-6 * steps.abs().max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_sequence_of_inputs_panics_and_approvals_are_well_formed(
        ops in proptest::collection::vec(op(), 1..40),
        lot in lot(),
    ) {
        let config = risk_config();
        let pconfig = portfolio_config();
        let start = Timestamp::from_nanos(1_714_521_600_000_000_000);
        let mut risk = SymbolRisk::new(&config, start).unwrap();
        let mut portfolio = PortfolioRisk::new(pconfig, start).unwrap();
        let spec = InstrumentSpec::new(sym("BTCUSDT"), AssetClass::CryptoPerp, 0.1, lot).unwrap();
        let open = [OpenExposure { symbol: sym("ETHUSDT"), quantity: 1.0, mark: price(100.0), contract_value: 1.0 }];
        let caps = Capabilities::all();
        for op in ops {
            match op {
                Op::Close { gross, fee, at } => {
                    let before = (risk.snapshot(), portfolio.snapshot());
                    if record_trade_outcome(&mut risk, &mut portfolio, gross, fee, at).is_err() {
                        prop_assert_eq!((risk.snapshot(), portfolio.snapshot()), before);
                    }
                }
                Op::Loss(t) => risk.circuit_breaker.record_loss(t),
                Op::Win(t) => risk.circuit_breaker.record_win(t),
                Op::Realised(v, t) => { let _ = portfolio.record_realised(v, t); }
                Op::Evaluate { decision, mark, held, at } => {
                    let position = Position::new(held, 100.0);
                    let input = GateInput {
                        decision: &decision,
                        symbol: spec.symbol(),
                        reference_price: Price::new(mark).unwrap(),
                        position: &position,
                        spec: &spec,
                        capabilities: caps,
                        open_positions: &open,
                        funds: rustrade_risk::Funds::UNKNOWN,
                    };
                    if let Ok(a) = evaluate(&input, &mut risk, &mut portfolio, at) {
                        let q = a.quantity().get();
                        prop_assert!(q > 0.0 && q.is_finite());
                        if a.is_exit() {
                            prop_assert!(a.reservation().is_none());
                            prop_assert!(!position.is_flat_in(&spec));
                        } else {
                            prop_assert!(is_lot_multiple(q, lot), "{} not a multiple of {}", q, lot);
                            prop_assert!(q <= 3.0);
                            prop_assert!(a.reservation().is_some());
                            prop_assert!(!risk.session_pnl.is_halted(at));
                            prop_assert!(!risk.circuit_breaker.is_tripped(at));
                            prop_assert!(!portfolio.is_latched(at));
                        }
                    }
                }
                Op::ReleaseOldest => {
                    let oldest = portfolio.reservations().next().map(|r| r.id);
                    if let Some(id) = oldest {
                        prop_assert!(portfolio.release(id));
                    }
                }
                Op::Restart(t) => {
                    risk = SymbolRisk::restore(&risk.snapshot(), &config, t).unwrap();
                    portfolio = PortfolioRisk::restore(&portfolio.snapshot(), pconfig, t).unwrap();
                }
            }
        }
    }

    #[test]
    fn sizes_are_lot_multiples_within_the_caps(
        margin in 0.01..1e7f64,
        leverage in 0.1..125.0f64,
        max_quantity in proptest::option::of(0.001..1e4f64),
        max_notional in proptest::option::of(1.0..1e8f64),
        lot in lot(),
        contract_value in prop_oneof![Just(1.0), Just(0.001), Just(10.0), 0.0001..100.0f64],
        px in prop_oneof![wild(), 1e-6..1e7f64],
        hint in hint(),
    ) {
        let sizer = PositionSizer::new(SizingConfig { margin, leverage, max_quantity, max_notional, ..Default::default() }).unwrap();
        let spec = InstrumentSpec::new(sym("X"), AssetClass::Other, 0.01, lot).unwrap()
            .with_contract_value(contract_value).unwrap();
        let Ok(p) = Price::new(px) else { return Ok(()); };
        if let Ok(q) = sizer.size(hint, p, &spec) {
            let q = q.get();
            prop_assert!(q > 0.0 && q.is_finite());
            prop_assert!(is_lot_multiple(q, lot), "{} not a multiple of {}", q, lot);
            if let Some(max) = max_quantity {
                prop_assert!(q <= max, "{} > cap {}", q, max);
            }
            if let Some(max) = max_notional {
                let notional = q * p.get() * contract_value;
                prop_assert!(notional <= max * (1.0 + 1e-9), "notional {} > cap {}", notional, max);
            }
        }
    }

    #[test]
    fn snapshot_restore_snapshot_is_identity(
        events in proptest::collection::vec((0u8..4, -300.0..300.0f64, 0.0..5.0f64, 0i64..7_200), 0..30),
    ) {
        let config = risk_config();
        let pconfig = portfolio_config();
        let mut now = Timestamp::from_nanos(1_714_521_600_000_000_000);
        let mut risk = SymbolRisk::new(&config, now).unwrap();
        let mut portfolio = PortfolioRisk::new(pconfig, now).unwrap();
        for (kind, pnl, fee, step) in events {
            now = Timestamp::from_nanos(now.as_nanos() + step * 1_000_000_000);
            match kind {
                0 => { record_trade_outcome(&mut risk, &mut portfolio, pnl, fee, now).unwrap(); }
                1 => risk.circuit_breaker.record_loss(now),
                2 => risk.session_pnl.record_close(pnl, fee, now).map(|_| ()).unwrap(),
                _ => portfolio.record_realised(pnl, now).unwrap(),
            }
        }
        risk.circuit_breaker.tick(now);
        risk.session_pnl.tick(now);
        portfolio.tick(now);

        let snap = risk.snapshot();
        let text = serde_json::to_string(&snap).unwrap();
        let back = SymbolRisk::restore(&serde_json::from_str(&text).unwrap(), &config, now).unwrap();
        prop_assert_eq!(back.snapshot(), snap);
        prop_assert_eq!(&back, &risk);

        let psnap = portfolio.snapshot();
        let text = serde_json::to_string(&psnap).unwrap();
        let back = PortfolioRisk::restore(&serde_json::from_str(&text).unwrap(), pconfig, now).unwrap();
        prop_assert_eq!(back.snapshot(), psnap);

        let bsnap = risk.circuit_breaker.snapshot();
        let back = CircuitBreaker::restore(&bsnap, config.breaker, now).unwrap();
        prop_assert_eq!(back.snapshot(), bsnap);
    }
}
