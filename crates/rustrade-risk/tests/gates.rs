//! Acceptance tests of the gate chain through `evaluate`.

mod common;

use std::time::Duration;

use common::{at, price, spec, sym};
use rustrade_core::{
    Capability, Decision, InstrumentSpec, OrderKind, Position, Price, Side, SizeHint, Timestamp,
};
use rustrade_risk::{
    Approved, BreakerConfig, Capabilities, GateInput, OpenExposure, PortfolioConfig,
    PortfolioRefusal, PortfolioRisk, Refusal, RiskConfig, SessionConfig, SizeRefusal, SizingConfig,
    SymbolRisk, evaluate, record_trade_outcome,
};

/// One symbol's world: spec, risk state, portfolio and venue capabilities.
struct World {
    spec: InstrumentSpec,
    risk: SymbolRisk,
    portfolio: PortfolioRisk,
    caps: Capabilities,
    open: Vec<OpenExposure>,
    mark: Price,
}

fn config() -> RiskConfig {
    RiskConfig {
        breaker: BreakerConfig {
            loss_limit: 2,
            window: Duration::from_secs(3_600),
            cooldown: Duration::from_secs(600),
            extend_on_loss: false,
        },
        session: SessionConfig {
            loss_cap: Some(-100.0),
            ..Default::default()
        },
        sizing: SizingConfig {
            margin: 500.0,
            leverage: 5.0,
            max_quantity: None,
            max_notional: None,
            ..Default::default()
        },
    }
}

impl World {
    fn new(portfolio: PortfolioConfig) -> Self {
        Self {
            spec: spec("BTCUSDT").with_min_notional(5.0).unwrap(),
            risk: SymbolRisk::new(&config(), at(0)).unwrap(),
            portfolio: PortfolioRisk::new(portfolio, at(0)).unwrap(),
            caps: Capabilities::all(),
            open: Vec::new(),
            mark: price(50_000.0),
        }
    }

    fn eval(
        &mut self,
        decision: &Decision,
        position: Position,
        now: Timestamp,
    ) -> Result<Approved, Refusal> {
        let input = GateInput {
            decision,
            symbol: self.spec.symbol(),
            reference_price: self.mark,
            position: &position,
            spec: &self.spec,
            capabilities: self.caps,
            open_positions: &self.open,
            funds: rustrade_risk::Funds::UNKNOWN,
        };
        evaluate(&input, &mut self.risk, &mut self.portfolio, now)
    }

    /// Trips every gate an entry can meet.
    fn trip_everything(&mut self) {
        // Session halt and breaker (two losses), and the daily latch.
        for _ in 0..2 {
            record_trade_outcome(&mut self.risk, &mut self.portfolio, -80.0, 1.0, at(0)).unwrap();
        }
        assert!(self.risk.session_pnl.is_halted(at(1)));
        assert!(self.risk.circuit_breaker.is_tripped(at(1)));
        assert!(self.portfolio.is_latched(at(1)));
        self.caps = Capabilities::NONE;
        self.open.push(OpenExposure {
            symbol: sym("ETHUSDT"),
            quantity: 1_000.0,
            mark: price(3_000.0),
            contract_value: 1.0,
        });
    }
}

fn tight_portfolio() -> PortfolioConfig {
    PortfolioConfig {
        max_positions: Some(1),
        max_gross_exposure: Some(1.0),
        max_net_exposure: Some(1.0),
        daily_loss_limit: Some(-50.0),
        ..Default::default()
    }
}

#[test]
fn an_entry_is_sized_snapped_and_holds_a_reservation() {
    let mut w = World::new(PortfolioConfig::default());
    let d = Decision::buy(0.9)
        .with_limit_price(price(49_999.96))
        .with_stop(price(48_000.04))
        .with_take_profit(price(52_000.06))
        .with_size_hint(SizeHint::Notional(100.0));
    let a = w.eval(&d, Position::FLAT, at(0)).unwrap();
    assert_eq!(a.symbol(), sym("BTCUSDT"));
    assert_eq!(a.side(), Side::Buy);
    assert_eq!(a.order_kind(), OrderKind::Limit);
    assert_eq!(a.limit_price(), Some(price(50_000.0)));
    assert_eq!(a.stop(), Some(price(48_000.0)));
    assert_eq!(a.take_profit(), Some(price(52_000.1)));
    assert_eq!(a.quantity().get(), 0.002, "100 / 50 000 = 0.002");
    assert!(!a.is_exit() && !a.reduce_only());
    assert_eq!(a.approved_at(), at(0));
    let r = a.reservation().expect("entries hold a reservation");
    assert_eq!(w.portfolio.reservations().next().map(|x| x.id), Some(r));
}

#[test]
fn an_exit_passes_with_every_gate_tripped() {
    let mut w = World::new(tight_portfolio());
    w.trip_everything();
    let long = Position::new(0.0123, 50_000.0);

    let close = w.eval(&Decision::close(), long, at(1)).unwrap();
    assert!(close.is_exit());
    assert_eq!(close.side(), Side::Sell);
    assert_eq!(
        close.quantity().get(),
        0.012,
        "the whole position, rounded to the lot"
    );
    assert_eq!(
        close.order_kind(),
        OrderKind::Market,
        "market when the venue lacks the kind"
    );
    assert!(!close.reduce_only(), "the venue has no reduce-only flag");
    assert_eq!(close.reservation(), None);

    // A sell while long is an exit sized to the position, whatever its hint.
    let sell = Decision::sell(1.0).with_size_hint(SizeHint::Notional(1e9));
    let a = w.eval(&sell, long, at(1)).unwrap();
    assert!(a.is_exit());
    assert_eq!(a.quantity().get(), 0.012);

    // A buy while short closes the short and never flips it.
    let short = Position::new(-2.0, 50_000.0);
    let a = w.eval(&Decision::buy(1.0), short, at(1)).unwrap();
    assert!(a.is_exit());
    assert_eq!((a.side(), a.quantity().get()), (Side::Buy, 2.0));

    // With the capabilities present the exit keeps its kind and is reduce-only.
    w.caps = Capabilities::all();
    let d = Decision::close().with_limit_price(price(50_100.04));
    let a = w.eval(&d, long, at(1)).unwrap();
    assert_eq!(a.order_kind(), OrderKind::Limit);
    assert_eq!(a.limit_price(), Some(price(50_100.0)));
    assert!(a.reduce_only());
    assert_eq!(w.portfolio.reservations().count(), 0);

    // And an entry in the same state is refused by the first gate.
    w.caps = Capabilities::NONE;
    let err = w
        .eval(&Decision::buy(1.0), Position::FLAT, at(1))
        .unwrap_err();
    assert_eq!(err.as_label(), "session_halted");
}

#[test]
fn hold_and_closing_flat_are_silent_no_ops() {
    let mut w = World::new(PortfolioConfig::default());
    let err = w
        .eval(&Decision::hold(), Position::FLAT, at(0))
        .unwrap_err();
    assert_eq!(err, Refusal::Hold);
    assert!(err.is_no_op());
    let err = w
        .eval(&Decision::close(), Position::FLAT, at(0))
        .unwrap_err();
    assert_eq!(err, Refusal::NothingToClose);
    assert_eq!(err.as_label(), "nothing_to_close");
    assert!(err.is_no_op());
    // Dust under half a lot is flat.
    let err = w
        .eval(&Decision::close(), Position::new(0.0004, 1.0), at(0))
        .unwrap_err();
    assert_eq!(err, Refusal::NothingToClose);
    assert!(!Refusal::Sizing(SizeRefusal::NotFinite).is_no_op());
}

#[test]
fn gate_1_session_halt_comes_first() {
    let mut w = World::new(PortfolioConfig::default());
    w.risk.session_pnl.record_close(-150.0, 0.0, at(0)).unwrap();
    // Also trip the breaker and remove every capability: the session still answers first.
    w.risk.circuit_breaker.record_loss(at(0));
    w.risk.circuit_breaker.record_loss(at(0));
    w.caps = Capabilities::NONE;
    let err = w
        .eval(&Decision::buy(1.0), Position::FLAT, at(10))
        .unwrap_err();
    assert_eq!(
        err,
        Refusal::SessionHalted {
            net: -150.0,
            cap: -100.0
        }
    );
    assert_eq!(err.as_label(), "session_halted");
}

#[test]
fn gate_2_breaker_comes_before_sizing() {
    let mut w = World::new(PortfolioConfig::default());
    w.risk.record_close(-10.0, 1.0, at(0)).unwrap();
    w.risk.record_close(-10.0, 1.0, at(0)).unwrap();
    let d = Decision::buy(1.0).with_size_hint(SizeHint::Notional(-1.0));
    let err = w.eval(&d, Position::FLAT, at(300)).unwrap_err();
    assert_eq!(err, Refusal::BreakerTripped { until: at(600) });
    assert_eq!(err.as_label(), "breaker_tripped");
    // After the cooldown the next gate answers.
    let err = w.eval(&d, Position::FLAT, at(601)).unwrap_err();
    assert_eq!(err.as_label(), "invalid_size_hint");
}

#[test]
fn gate_3_sizing_comes_before_capability() {
    let mut w = World::new(PortfolioConfig::default());
    w.caps = Capabilities::NONE;
    let d = Decision::buy(1.0).with_size_hint(SizeHint::Notional(10.0));
    let err = w.eval(&d, Position::FLAT, at(0)).unwrap_err();
    assert!(
        matches!(err, Refusal::Sizing(SizeRefusal::Zero { .. })),
        "{err}"
    );
    assert_eq!(err.as_label(), "size_zero");
    w.mark = price(0.0);
    let err = w
        .eval(&Decision::buy(1.0), Position::FLAT, at(0))
        .unwrap_err();
    assert_eq!(err.as_label(), "invalid_price");
}

#[test]
fn gate_4_min_notional_and_quantity() {
    let mut w = World::new(PortfolioConfig::default());
    w.spec = spec("BTCUSDT").with_min_notional(200.0).unwrap();
    let d = Decision::buy(1.0).with_size_hint(SizeHint::Notional(100.0));
    let err = w.eval(&d, Position::FLAT, at(0)).unwrap_err();
    assert_eq!(err.as_label(), "below_min_notional");
    w.spec = spec("BTCUSDT").with_min_qty(0.01).unwrap();
    let err = w.eval(&d, Position::FLAT, at(0)).unwrap_err();
    assert_eq!(err.as_label(), "below_min_quantity");
}

#[test]
fn gate_5_capability_comes_before_portfolio() {
    let mut w = World::new(tight_portfolio());
    w.caps = Capabilities::all().without(Capability::PostOnly);
    let d = Decision::buy(1.0)
        .with_order_kind(OrderKind::PostOnly)
        .with_limit_price(price(49_000.0));
    let err = w.eval(&d, Position::FLAT, at(0)).unwrap_err();
    assert_eq!(
        err,
        Refusal::UnsupportedOrderKind {
            kind: OrderKind::PostOnly
        }
    );
    assert_eq!(err.as_label(), "unsupported_order_kind");

    let d = Decision::buy(1.0).with_order_kind(OrderKind::Limit);
    let err = w.eval(&d, Position::FLAT, at(0)).unwrap_err();
    assert_eq!(
        err,
        Refusal::MissingPrice {
            kind: OrderKind::Limit
        }
    );
    assert_eq!(err.as_label(), "missing_price");
}

#[test]
fn gate_6_portfolio_reasons() {
    // Max positions: one open position blocks a new symbol's entry but not its close.
    let mut w = World::new(PortfolioConfig {
        max_positions: Some(1),
        ..Default::default()
    });
    w.open.push(OpenExposure {
        symbol: sym("ETHUSDT"),
        quantity: 2.0,
        mark: price(3_000.0),
        contract_value: 1.0,
    });
    let err = w
        .eval(&Decision::buy(1.0), Position::FLAT, at(0))
        .unwrap_err();
    assert_eq!(
        err,
        Refusal::Portfolio(PortfolioRefusal::MaxPositions { open: 1, max: 1 })
    );
    assert_eq!(err.as_label(), "max_positions");
    assert_eq!(
        w.portfolio.reservations().count(),
        0,
        "a refusal reserves nothing"
    );
    // The open symbol's own close (seen from its side) passes.
    let mut eth = World::new(PortfolioConfig {
        max_positions: Some(1),
        ..Default::default()
    });
    eth.spec = spec("ETHUSDT");
    eth.open = w.open.clone();
    assert!(
        eth.eval(&Decision::close(), Position::new(2.0, 3_000.0), at(0))
            .unwrap()
            .is_exit()
    );

    // Gross exposure at mark.
    let mut w = World::new(PortfolioConfig {
        max_gross_exposure: Some(1_000.0),
        ..Default::default()
    });
    let err = w
        .eval(&Decision::buy(1.0), Position::FLAT, at(0))
        .unwrap_err();
    assert_eq!(err.as_label(), "gross_exposure");

    // Net exposure.
    let mut w = World::new(PortfolioConfig {
        max_net_exposure: Some(1_000.0),
        ..Default::default()
    });
    let err = w
        .eval(&Decision::sell(1.0), Position::FLAT, at(0))
        .unwrap_err();
    assert_eq!(err.as_label(), "net_exposure");

    // Daily loss latch, fed through the one outcome path.
    let mut w = World::new(PortfolioConfig {
        daily_loss_limit: Some(-10.0),
        ..Default::default()
    });
    record_trade_outcome(&mut w.risk, &mut w.portfolio, -20.0, 0.0, at(0)).unwrap();
    let err = w
        .eval(&Decision::buy(1.0), Position::FLAT, at(0))
        .unwrap_err();
    assert_eq!(err.as_label(), "daily_loss");
}

#[test]
fn a_rejected_order_releases_its_reservation_for_the_next_entry() {
    let mut w = World::new(PortfolioConfig {
        max_positions: Some(1),
        ..Default::default()
    });
    let first = w.eval(&Decision::buy(1.0), Position::FLAT, at(0)).unwrap();
    let mut other = World::new(PortfolioConfig::default());
    other.spec = spec("ETHUSDT");
    // Share the account: evaluate ETH against the same portfolio.
    std::mem::swap(&mut other.portfolio, &mut w.portfolio);
    let err = other
        .eval(&Decision::buy(1.0), Position::FLAT, at(1))
        .unwrap_err();
    assert_eq!(err.as_label(), "max_positions");
    // The venue rejected the BTC order.
    assert!(other.portfolio.release(first.reservation().unwrap()));
    assert!(
        other
            .eval(&Decision::buy(1.0), Position::FLAT, at(2))
            .is_ok()
    );
}

#[test]
fn mismatched_symbol_and_invalid_position_are_refused() {
    let mut w = World::new(PortfolioConfig::default());
    let d = Decision::buy(1.0);
    let flat = Position::FLAT;
    let input = GateInput {
        decision: &d,
        symbol: sym("ETHUSDT"),
        reference_price: w.mark,
        position: &flat,
        spec: &w.spec,
        capabilities: w.caps,
        open_positions: &[],
        funds: rustrade_risk::Funds::UNKNOWN,
    };
    let err = evaluate(&input, &mut w.risk, &mut w.portfolio, at(0)).unwrap_err();
    assert_eq!(err.as_label(), "symbol_mismatch");
    let err = w
        .eval(&Decision::close(), Position::new(f64::NAN, 1.0), at(0))
        .unwrap_err();
    assert_eq!(err.as_label(), "invalid_position");
}

#[test]
fn an_outcome_with_a_non_finite_value_changes_no_state() {
    let mut w = World::new(tight_portfolio());
    let before = (w.risk.snapshot(), w.portfolio.snapshot());
    assert!(record_trade_outcome(&mut w.risk, &mut w.portfolio, f64::NAN, 0.0, at(0)).is_err());
    assert!(
        record_trade_outcome(&mut w.risk, &mut w.portfolio, 1.0, f64::INFINITY, at(0)).is_err()
    );
    assert_eq!((w.risk.snapshot(), w.portfolio.snapshot()), before);
}

#[test]
fn presets_are_valid_and_scaled_per_asset_class() {
    use rustrade_core::AssetClass;
    for class in [
        AssetClass::CryptoPerp,
        AssetClass::CryptoSpot,
        AssetClass::Fx,
        AssetClass::Future,
        AssetClass::Equity,
        AssetClass::Other,
    ] {
        let c = RiskConfig::preset(class);
        c.validate().unwrap();
        assert!(c.session.loss_cap.is_some_and(|cap| cap < 0.0));
        SymbolRisk::new(&c, at(0)).unwrap();
    }
    assert_eq!(
        RiskConfig::preset(AssetClass::CryptoSpot).sizing.leverage,
        1.0
    );
    assert!(RiskConfig::preset(AssetClass::Fx).sizing.leverage > 1.0);
    let mut bad = RiskConfig::default();
    bad.breaker.loss_limit = 0;
    assert_eq!(
        SymbolRisk::new(&bad, at(0)).unwrap_err().field(),
        "breaker.loss_limit"
    );
}

#[test]
fn an_exit_never_asks_for_more_than_is_held_without_reduce_only() {
    let mut w = World::new(PortfolioConfig::default());
    let long = Position::new(0.0127, 50_000.0);
    w.caps = Capabilities::all().without(Capability::ReduceOnly);
    let a = w.eval(&Decision::close(), long, at(0)).unwrap();
    assert_eq!((a.quantity().get(), a.reduce_only()), (0.012, false));
    w.caps = Capabilities::all();
    let a = w.eval(&Decision::close(), long, at(0)).unwrap();
    assert_eq!((a.quantity().get(), a.reduce_only()), (0.013, true));
    // Between half a lot and one lot: one lot either way.
    w.caps = Capabilities::NONE;
    let a = w
        .eval(&Decision::close(), Position::new(-0.0007, 1.0), at(0))
        .unwrap();
    assert_eq!((a.side(), a.quantity().get()), (Side::Buy, 0.001));
}
