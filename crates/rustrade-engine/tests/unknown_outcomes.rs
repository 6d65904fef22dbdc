//! Ambiguous venue answers: a placement without a definite answer stays live and reserved until
//! a lookup settles it, and an unconfirmed cancel is sent again until the venue answers.

mod common;

use std::time::Duration;

use common::*;
use rustrade_core::{
    ClientOrderId, Decision, OpenOrder, OrderState, OrderStatus, Price, Quantity, RejectReason,
    Timestamp,
};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, CancelReason, Command, Engine, EngineEvent, JournalRecord};

/// A harness with one market entry sent and no answer to it.
fn sent_entry() -> (Harness, ClientOrderId) {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let cid = h.last_placed().unwrap();
    (h, cid)
}

fn state_of(h: &Harness, cid: ClientOrderId, status: OrderStatus, filled: f64) -> OrderState {
    let o = h.venue.orders[&cid];
    OrderState {
        order: OpenOrder::of(
            &o.order,
            o.order_id,
            Quantity::new(filled).unwrap(),
            status,
            h.now(),
        ),
        avg_fill_price: None,
    }
}

fn unknowns(h: &Harness) -> usize {
    h.events
        .iter()
        .filter(|e| matches!(e, EngineEvent::OrderOutcomeUnknown { .. }))
        .count()
}

#[test]
fn an_unanswered_placement_stays_live_and_reserved_until_looked_up() {
    let (mut h, cid) = sent_entry();
    let now = h.now();
    h.engine.handle_place_unknown(cid, now);
    h.engine.handle_place_unknown(cid, now);
    h.settle();
    assert_eq!(unknowns(&h), 1, "journalled once");
    let o = h.engine.order(&cid).unwrap();
    assert!(o.is_live() && o.outcome_unknown && o.status == OrderStatus::Pending);
    assert_eq!(h.engine.unresolved_orders().count(), 1);

    // The lookup says it landed and filled: acknowledged, then the fill applies once.
    let state = state_of(&h, cid, OrderStatus::Filled, 1.0);
    let now = h.now();
    h.engine.handle_order_state(&state, now);
    h.settle();
    let o = h.engine.order(&cid).unwrap();
    assert!(!o.outcome_unknown);
    assert_eq!(o.venue_id, Some(state.order.order_id));
    assert_eq!(h.engine.unresolved_orders().count(), 0);
    h.fill(cid, 1.0, 100.0, 0.1);
    assert_eq!(h.engine.position(&btc()).quantity, 1.0);
}

#[test]
fn a_lookup_that_never_saw_the_order_rejects_it() {
    let (mut h, cid) = sent_entry();
    let now = h.now();
    h.engine.handle_place_unknown(cid, now);
    h.engine.handle_order_not_found(cid, now);
    h.settle();
    let o = h.engine.order(&cid).unwrap();
    assert_eq!(o.status, OrderStatus::Rejected);
    assert!(h.events.iter().any(|e| matches!(
        e,
        EngineEvent::OrderRejected {
            reason: RejectReason::NeverReceived,
            ..
        }
    )));
    assert_eq!(h.engine.unresolved_orders().count(), 0);
    // An acknowledged order is never rejected by a "not found".
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let next = h.last_placed().unwrap();
    h.accept(next);
    let now = h.now();
    h.engine.handle_order_not_found(next, now);
    assert_eq!(h.engine.order(&next).unwrap().status, OrderStatus::Accepted);
}

#[test]
fn a_lookup_reporting_a_final_status_applies_it() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        BrainId(0),
        btc(),
        &Decision::buy(1.0).with_limit_price(Price::new(95.0).unwrap()),
    );
    let cid = h.last_placed().unwrap();
    let now = h.now();
    h.engine.handle_place_unknown(cid, now);
    let state = state_of(&h, cid, OrderStatus::Expired, 0.0);
    h.engine.handle_order_state(&state, now);
    h.settle();
    assert_eq!(h.engine.order(&cid).unwrap().status, OrderStatus::Expired);
    assert_eq!(h.engine.open_orders().count(), 0);
}

#[test]
fn an_unknown_outcome_survives_a_restart_from_the_journal() {
    let (mut h, cid) = sent_entry();
    let mid = h.engine.snapshot(h.now());
    let now = h.now();
    h.engine.handle_place_unknown(cid, now);
    h.settle();
    let tail: Vec<JournalRecord> = h
        .events
        .iter()
        .zip(1u64..)
        .map(|(event, seq)| JournalRecord {
            seq,
            event: event.clone(),
        })
        .collect();
    let resumed = Engine::resume(h.engine.config().clone(), &mid, &tail, now).unwrap();
    let o = resumed.order(&cid).unwrap();
    assert!(o.outcome_unknown && o.is_live());
}

#[test]
fn an_unconfirmed_cancel_is_sent_again_until_the_venue_confirms_it() {
    let config = config(&BASIC).with_order_ttl(Duration::from_secs(60));
    let retry = config.cancel_retry;
    let mut h = harness_with(config, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        BrainId(0),
        btc(),
        &Decision::buy(1.0).with_limit_price(Price::new(95.0).unwrap()),
    );
    let cid = h.last_placed().unwrap();
    h.accept(cid);
    h.advance(Duration::from_secs(61));
    let cancels = |h: &Harness| {
        h.commands
            .iter()
            .filter_map(Command::as_cancel)
            .map(|c| c.reason)
            .collect::<Vec<_>>()
    };
    assert_eq!(cancels(&h), [CancelReason::Ttl]);
    h.advance(retry / 2);
    assert_eq!(cancels(&h).len(), 1, "not before the retry interval");
    h.advance(retry);
    assert_eq!(cancels(&h), [CancelReason::Ttl, CancelReason::Retry]);
    h.advance(retry);
    assert_eq!(cancels(&h).len(), 3);
    h.confirm_cancel(cid);
    h.advance(retry * 3);
    assert_eq!(cancels(&h).len(), 3, "confirmed: no more retries");
    assert_eq!(h.engine.order(&cid).unwrap().status, OrderStatus::Cancelled);
    let _: Timestamp = h.now();
}
