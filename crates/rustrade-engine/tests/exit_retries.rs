//! Protective exits the venue refuses are sent again with backoff until the position is flat;
//! a brain's own exit is not.

mod common;

use std::time::Duration;

use common::*;
use rustrade_core::{Capability, ClientOrderId, Decision, Price, Quantity, RejectReason, SizeHint};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, Engine, ExitReason, OrderRole, PlaceOrder};

const A: BrainId = BrainId(0);

/// A market buy of `qty` lots.
fn buy(qty: f64) -> Decision {
    Decision::buy(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(qty).unwrap()))
}

fn px(x: f64) -> Price {
    Price::new(x).unwrap()
}

/// Decides `decision` for brain A, and the venue accepts and fills its `qty` at 100.
fn filled_entry(h: &mut Harness, decision: &Decision, qty: f64) -> ClientOrderId {
    h.decide(A, btc(), decision);
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, qty, 100.0, 0.0);
    entry
}

fn bracket_caps() -> Vec<Capability> {
    let mut caps = BASIC.to_vec();
    caps.extend([Capability::StopMarket, Capability::TakeProfit]);
    caps
}

/// A filled 2-lot entry whose stop leg the venue refused, so the policy sent a close: returns
/// the harness and that close.
fn bare_position_with_a_close() -> (Harness, PlaceOrder) {
    let mut h = harness(&bracket_caps(), VenueScript::manual());
    h.candle(btc(), 100.0);
    filled_entry(
        &mut h,
        &buy(2.0).with_stop(px(90.0)).with_take_profit(px(110.0)),
        2.0,
    );
    let legs = places(&h.commands)[1..].to_vec();
    h.reject(legs[0].order.client_id, RejectReason::InvalidOrder);
    let close = *places(&h.commands).last().unwrap();
    assert_eq!(close.role, OrderRole::Exit(ExitReason::LegRejected));
    (h, close)
}

fn closes_since(h: &Harness, from: usize) -> Vec<PlaceOrder> {
    places(h.commands_since(from))
        .into_iter()
        .filter(|p| matches!(p.role, OrderRole::Exit(_)))
        .collect()
}

#[test]
fn a_refused_close_is_sent_again_with_doubling_waits() {
    let (mut h, close) = bare_position_with_a_close();
    let mut refused = close.order.client_id;
    let mut sent_after = Vec::new();
    for _ in 0..4 {
        h.reject(refused, RejectReason::RateLimited);
        let before = h.commands.len();
        let mut waited = 0;
        while closes_since(&h, before).is_empty() {
            assert!(waited < 120, "no retry within two minutes");
            h.advance(Duration::from_secs(1));
            waited += 1;
        }
        let again = closes_since(&h, before);
        assert_eq!(again.len(), 1, "one close per attempt");
        let o = again[0].order;
        assert_eq!((o.quantity.get(), o.reduce_only), (2.0, true));
        assert_eq!(again[0].role, OrderRole::Exit(ExitReason::LegRejected));
        assert_ne!(o.client_id, refused, "each attempt is a new client id");
        refused = o.client_id;
        sent_after.push(waited);
    }
    assert_eq!(sent_after, [1, 2, 4, 8]);
    let (_, _, retry) = h.engine.exit_retries().next().unwrap();
    assert_eq!(retry.attempts, 4);
}

#[test]
fn the_wait_is_capped() {
    let mut cfg = config(&bracket_caps());
    cfg.exit_retry = Duration::from_secs(10);
    cfg.exit_retry_max = Duration::from_secs(15);
    let (mut h, close) = bare_position_with_a_close();
    h.engine = Engine::restore(cfg, &h.engine.snapshot(h.now()), h.now()).unwrap();
    h.reject(close.order.client_id, RejectReason::RateLimited);
    h.advance(Duration::from_secs(10));
    let second = *closes_since(&h, 0).last().unwrap();
    assert_ne!(second.order.client_id, close.order.client_id);
    h.reject(second.order.client_id, RejectReason::RateLimited);
    let before = h.commands.len();
    h.advance(Duration::from_secs(14));
    assert!(closes_since(&h, before).is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(closes_since(&h, before).len(), 1, "15 s, not 20 s");
}

#[test]
fn no_second_close_while_one_is_working() {
    let (mut h, close) = bare_position_with_a_close();
    h.reject(close.order.client_id, RejectReason::RateLimited);
    h.advance(Duration::from_secs(1));
    let before = h.commands.len();
    for _ in 0..30 {
        h.advance(Duration::from_secs(1));
    }
    assert!(
        closes_since(&h, before).is_empty(),
        "the retried close is still working: nothing more is sent"
    );
}

#[test]
fn a_flat_position_ends_the_retries() {
    let (mut h, close) = bare_position_with_a_close();
    h.reject(close.order.client_id, RejectReason::RateLimited);
    h.advance(Duration::from_secs(1));
    let retried = *closes_since(&h, 0).last().unwrap();
    h.accept(retried.order.client_id);
    h.fill(retried.order.client_id, 2.0, 99.0, 0.0);
    assert_eq!(h.engine.exit_retries().count(), 0);
    let before = h.commands.len();
    for _ in 0..120 {
        h.advance(Duration::from_secs(1));
    }
    assert!(closes_since(&h, before).is_empty());
}

#[test]
fn the_schedule_survives_a_restart() {
    let (mut h, close) = bare_position_with_a_close();
    h.reject(close.order.client_id, RejectReason::RateLimited);
    let snapshot = h.engine.snapshot(h.now());
    let restored = Engine::restore(h.engine.config().clone(), &snapshot, h.now()).unwrap();
    let mut h2 = Harness::with_engine(restored, h.now(), VenueScript::manual());
    h2.advance(Duration::from_secs(1));
    let again = closes_since(&h2, 0);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].order.quantity.get(), 2.0);
}

#[test]
fn a_refused_decision_exit_is_left_to_the_brain() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    filled_entry(&mut h, &buy(1.0), 1.0);
    h.decide(A, btc(), &Decision::close());
    let exit = h.last_placed().unwrap();
    h.reject(exit, RejectReason::RateLimited);
    let before = h.commands.len();
    for _ in 0..120 {
        h.advance(Duration::from_secs(1));
    }
    assert!(closes_since(&h, before).is_empty());
    assert_eq!(h.engine.exit_retries().count(), 0);
}

#[test]
fn an_add_to_the_position_does_not_cancel_the_retry_of_the_bare_part() {
    let (mut h, close) = bare_position_with_a_close();
    h.reject(close.order.client_id, RejectReason::RateLimited);
    // The brain adds one more lot, bracketed on its own.
    filled_entry(&mut h, &buy(1.0).with_stop(px(90.0)), 1.0);
    let before = h.commands.len();
    h.advance(Duration::from_secs(1));
    let again = closes_since(&h, before);
    assert_eq!(again.len(), 1, "the two bare lots are still closed");
    assert_eq!(again[0].order.quantity.get(), 2.0);
}

#[test]
fn a_close_covered_by_a_brain_exit_is_still_sent_when_that_exit_fails() {
    let mut h = harness(&bracket_caps(), VenueScript::manual());
    h.candle(btc(), 100.0);
    filled_entry(
        &mut h,
        &buy(1.0).with_stop(px(90.0)).with_take_profit(px(110.0)),
        1.0,
    );
    let legs = places(&h.commands)[1..].to_vec();
    // The brain closes; then the stop leg turns out never received: the brain's exit covers
    // the position, so the policy sends no close of its own.
    h.decide(A, btc(), &Decision::close());
    let brain_exit = h.last_placed().unwrap();
    let before = h.commands.len();
    h.engine
        .handle_order_not_found(legs[0].order.client_id, h.now());
    h.settle();
    assert!(closes_since(&h, before).is_empty());
    // The brain's exit never arrives either: the owed close goes out.
    h.engine.handle_order_not_found(brain_exit, h.now());
    h.settle();
    h.advance(Duration::from_secs(1));
    let sent = closes_since(&h, before);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].role, OrderRole::Exit(ExitReason::LegRejected));
    assert_eq!(sent[0].order.quantity.get(), 1.0);
}

#[test]
fn a_filled_retry_does_not_close_lots_protected_by_another_bracket() {
    let (mut h, close) = bare_position_with_a_close();
    // A second, protected entry of one lot.
    filled_entry(&mut h, &buy(1.0).with_stop(px(90.0)), 1.0);
    h.reject(close.order.client_id, RejectReason::RateLimited);
    h.advance(Duration::from_secs(1));
    let retried = *closes_since(&h, 0).last().unwrap();
    assert_eq!(retried.order.quantity.get(), 2.0);
    h.accept(retried.order.client_id);
    h.fill(retried.order.client_id, 2.0, 99.0, 0.0);
    assert_eq!(h.engine.exit_retries().count(), 0, "nothing more is owed");
    let before = h.commands.len();
    for _ in 0..120 {
        h.advance(Duration::from_secs(1));
    }
    assert!(
        closes_since(&h, before).is_empty(),
        "the protected lot stays"
    );
}
