//! Reversal in one decision, equity and cash sizing from the reported balance, and the account
//! view a brain reads: scenario tests against the scripted venue.

mod common;

use std::time::Duration;

use common::*;
use rustrade_core::{AccountView, AssetClass, Decision, InstrumentSpec, Side, SizeHint, Symbol};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, EngineConfig, ExitReason, OrderRole};
use rustrade_risk::{PortfolioConfig, RiskConfig, SizingBasis, SizingConfig};

const A: BrainId = BrainId(0);

fn aapl() -> Symbol {
    Symbol::new("AAPL").unwrap()
}

/// Whole shares, all-in on equity with 0.2 % expected fee, and a venue charging 0.2 %.
fn all_in() -> Harness {
    let risk = RiskConfig {
        sizing: SizingConfig {
            basis: SizingBasis::EquityFraction(1.0),
            fee_rate: 0.002,
            ..SizingConfig::default()
        },
        ..risk()
    };
    let spec = InstrumentSpec::new(aapl(), AssetClass::Equity, 0.01, 1.0).unwrap();
    let config = EngineConfig::new("bot", risk)
        .with_brain("alpha")
        .with_instrument(spec)
        .with_capabilities(BASIC);
    let script = VenueScript {
        fee_rate: 0.002,
        ..VenueScript::instant()
    };
    Harness::new(config, script)
}

#[test]
fn a_reversal_closes_then_opens_the_other_side_in_one_decision() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 1.0);
    let before = places(&h.commands).len();

    h.decide(A, btc(), &Decision::sell(1.0).with_reverse());
    let sent = places(&h.commands)[before..].to_vec();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].role, OrderRole::Exit(ExitReason::Decision));
    assert_eq!(
        (sent[0].order.side, sent[0].order.quantity.get()),
        (Side::Sell, 1.0)
    );
    assert!(
        !sent[0].order.reduce_only,
        "the close of a reversal must fill before the entry sent after it"
    );
    assert_eq!(sent[1].role, OrderRole::Entry);
    assert_eq!(
        (sent[1].order.side, sent[1].order.quantity.get()),
        (Side::Sell, 1.0)
    );
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, -1.0);
    let closed = trades(&h.events);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].1.side, Side::Buy);
}

#[test]
fn without_reverse_a_sell_while_long_only_closes() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let before = places(&h.commands).len();
    h.decide(A, btc(), &Decision::sell(1.0));
    let sent = places(&h.commands)[before..].to_vec();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].order.reduce_only, "a plain close stays reduce-only");
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 0.0);
}

#[test]
fn the_close_of_a_reversal_passes_while_its_entry_is_refused() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let now = h.now();
    h.engine.set_entries_paused(true, now);
    h.decide(A, btc(), &Decision::sell(1.0).with_reverse());
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 0.0, "closed");
    assert_eq!(refusals(&h.events), vec!["entries_paused".to_owned()]);
}

#[test]
fn the_entry_of_a_reversal_on_a_stale_event_is_refused_and_the_close_goes() {
    let config = config(&BASIC).with_max_event_age(Duration::from_secs(5));
    let mut h = harness_with(config, VenueScript::instant());
    let event = h.candle(btc(), 100.0);
    h.decide_on(A, &event, &Decision::buy(1.0));
    h.advance(Duration::from_secs(60));
    h.decide_on(A, &event, &Decision::sell(1.0).with_reverse());
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 0.0);
    assert_eq!(refusals(&h.events), vec!["stale_event".to_owned()]);
}

#[test]
fn the_entry_of_a_reversal_sees_the_account_without_the_position_it_closes() {
    let config = config(&BASIC).with_portfolio(PortfolioConfig {
        max_positions: Some(1),
        max_gross_exposure: Some(150.0),
        ..PortfolioConfig::default()
    });
    let mut h = harness_with(config, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    h.decide(A, btc(), &Decision::sell(1.0).with_reverse());
    assert!(refusals(&h.events).is_empty(), "{:?}", refusals(&h.events));
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, -1.0);
}

#[test]
fn equity_sizing_without_a_reported_balance_is_refused_as_funds_unknown() {
    let mut h = all_in();
    h.candle(aapl(), 100.0);
    h.decide(A, aapl(), &Decision::buy(1.0));
    assert_eq!(refusals(&h.events), vec!["funds_unknown".to_owned()]);
    assert_eq!(h.engine.equity(), None);
}

#[test]
fn equity_sizing_compounds_from_the_balance_and_the_fills_and_is_affordable_with_fees() {
    let mut h = all_in();
    let now = h.now();
    h.engine.handle_balance(10_000.0, now);
    h.candle(aapl(), 100.0);
    h.decide(A, aapl(), &Decision::buy(1.0));
    // floor(10 000 / (100 × 1.002)) = 99 shares; 9 900 + 19.80 fee leaves 80.20.
    assert_eq!(h.engine.brain_position(A, &aapl()).quantity, 99.0);
    let cash = h.engine.cash().unwrap();
    assert!((cash - 80.2).abs() < 1e-9, "{cash}");
    assert!(cash >= 0.0, "affordable with the fee");

    h.candle(aapl(), 110.0);
    let equity = h.engine.equity().unwrap();
    assert!((equity - (80.2 + 99.0 * 110.0)).abs() < 1e-9, "{equity}");
    h.decide(A, aapl(), &Decision::sell(1.0).with_reverse());
    // After the close at 110 with its fee: 80.2 + 10 890 − 21.78 = 10 948.42 of equity,
    // so floor(10 948.42 / (110 × 1.002)) = 99 shares short.
    let expected = ((80.2 + 10_890.0 - 21.78) / (110.0 * 1.002_f64)).floor();
    assert_eq!(h.engine.brain_position(A, &aapl()).quantity, -expected);
    let after_close = 80.2 + 10_890.0 - 21.78;
    assert!(
        expected * 110.0 * 1.002 <= after_close,
        "the new side is affordable"
    );

    // A brain can size by hint too: half the cash.
    h.decide(A, aapl(), &Decision::close());
    let cash = h.engine.cash().unwrap();
    h.decide(
        A,
        aapl(),
        &Decision::buy(1.0).with_size_hint(SizeHint::CashFraction(0.5)),
    );
    let q = h.engine.brain_position(A, &aapl()).quantity;
    assert_eq!(q, (0.5 * cash / (110.0 * 1.002_f64)).floor());
}

#[test]
fn a_balance_report_replaces_the_cash_and_is_kept_by_a_snapshot() {
    let mut h = all_in();
    let now = h.now();
    h.engine.handle_balance(5_000.0, now);
    h.engine.handle_balance(f64::NAN, now);
    assert_eq!(
        h.engine.cash(),
        Some(5_000.0),
        "a non-finite report is ignored"
    );
    let snap = h.engine.snapshot(now);
    let back = rustrade_engine::Engine::restore(h.engine.config().clone(), &snap, now).unwrap();
    assert_eq!(back.cash(), Some(5_000.0));
    let json = serde_json::to_string(&h.engine.snapshot(now)).unwrap();
    let fresh = all_in();
    let plain = serde_json::to_string(&fresh.engine.snapshot(now)).unwrap();
    assert!(json.contains("\"cash\":5000.0") && !plain.contains("\"cash\""));
}

#[test]
fn the_account_view_reads_equity_cash_open_orders_and_bars() {
    let mut h = all_in();
    let now = h.now();
    h.engine.handle_balance(1_000.0, now);
    h.candle(aapl(), 10.0);
    h.candle(aapl(), 10.0);
    let slot = h.engine.symbol_slot(&aapl()).unwrap();
    let view = h.engine.account_view(slot, A);
    assert_eq!(
        (
            view.equity(),
            view.cash(),
            view.open_order_count(),
            view.bars()
        ),
        (Some(1_000.0), Some(1_000.0), 0, 2)
    );
    // A resting limit entry shows as an open order.
    let limit = Decision::buy(1.0)
        .with_size_hint(SizeHint::Quantity(
            rustrade_core::Quantity::new(3.0).unwrap(),
        ))
        .with_limit_price(rustrade_core::Price::new(9.0).unwrap());
    h.decide(A, aapl(), &limit);
    let view = h.engine.account_view(slot, A);
    assert_eq!(view.open_order_count(), 1);
    let mut seen = Vec::new();
    view.for_each_open_order(&mut |o| seen.push(o.quantity.get()));
    assert_eq!(seen, vec![3.0]);
    assert_eq!(
        h.engine.account_view(slot, BrainId(7)).open_order_count(),
        0
    );
}
