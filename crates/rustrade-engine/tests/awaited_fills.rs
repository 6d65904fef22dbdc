//! A venue whose order status runs ahead of its fill history: the order is not retired before
//! its fills arrive (so they still arm its bracket) and the fills it awaits are not drift. And
//! the durable half of fill deduplication: a fill the driver's record knows is refused.

mod common;

use common::*;
use rustrade_core::{
    Capability, Decision, OpenOrder, OrderState, OrderStatus, Position, Price, Quantity,
};
use rustrade_engine::testkit::VenueScript;
use rustrade_engine::{BrainId, EngineEvent, Malformed, OrderRole};

const WITH_LEGS: [Capability; 5] = [
    Capability::MarketOrders,
    Capability::LimitOrders,
    Capability::ReduceOnly,
    Capability::StopMarket,
    Capability::TakeProfit,
];

fn p(x: f64) -> Price {
    Price::new(x).unwrap()
}

#[test]
fn an_order_the_venue_reports_filled_waits_for_its_fills_and_then_gets_its_bracket() {
    let mut h = harness(&WITH_LEGS, VenueScript::manual());
    h.candle(btc(), 100.0);
    let entry = Decision::buy(1.0)
        .with_limit_price(p(95.0))
        .with_stop(p(90.0))
        .with_take_profit(p(110.0));
    h.decide(BrainId(0), btc(), &entry);
    let cid = h.last_placed().unwrap();
    let order_id = h.accept(cid);
    let ordered = h.engine.order(&cid).unwrap().order;

    // The lookup says filled; no fill has arrived.
    let state = OrderState {
        order: OpenOrder::of(
            &ordered,
            order_id,
            ordered.quantity,
            OrderStatus::Filled,
            h.now(),
        ),
        avg_fill_price: None,
    };
    let now = h.now();
    h.engine.handle_order_state(&state, now);
    h.settle();
    let o = *h.engine.order(&cid).unwrap();
    assert!(o.is_live(), "{o:?}");
    assert_eq!(o.venue_filled, Some(ordered.quantity));

    // Absent from the venue's open list, it is not judged missing; the venue's position is
    // what the awaited fill will make ours, so no drift either.
    let now = h.now();
    h.engine.handle_venue_open_orders(&[], now);
    let held = Position::new(ordered.quantity.get(), 95.0);
    h.engine.handle_venue_positions(&[(btc(), held)], now);
    h.settle();
    assert!(h.engine.order(&cid).unwrap().is_live());
    assert!(!h.events.iter().any(|e| matches!(
        e,
        EngineEvent::OrderMissingAtVenue { .. } | EngineEvent::PositionDrift { .. }
    )));
    assert!(h.engine.position(&btc()).is_flat());

    // The fill arrives: the entry completes and its legs go out for what filled.
    h.fill(cid, ordered.quantity.get(), 95.0, 0.0);
    let o = *h.engine.order(&cid).unwrap();
    assert_eq!((o.status, o.venue_filled), (OrderStatus::Filled, None));
    let legs: Vec<_> = places(&h.commands)
        .into_iter()
        .filter(|p| p.role.is_leg())
        .collect();
    assert_eq!(legs.len(), 2, "{legs:?}");
    assert!(legs.iter().all(|l| l.order.quantity == ordered.quantity));
    assert!(legs.iter().any(|l| l.role == OrderRole::StopLeg));
}

#[test]
fn a_lookup_with_nothing_awaited_settles_the_order_as_before() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        BrainId(0),
        btc(),
        &Decision::buy(1.0).with_limit_price(p(95.0)),
    );
    let cid = h.last_placed().unwrap();
    let order_id = h.accept(cid);
    let ordered = h.engine.order(&cid).unwrap().order;
    // Cancelled at the venue after a partial fill that has arrived.
    h.fill(cid, 0.5, 95.0, 0.0);
    let state = OrderState {
        order: OpenOrder::of(
            &ordered,
            order_id,
            Quantity::new(0.5).unwrap(),
            OrderStatus::Cancelled,
            h.now(),
        ),
        avg_fill_price: None,
    };
    let now = h.now();
    h.engine.handle_order_state(&state, now);
    h.settle();
    let o = h.engine.order(&cid).unwrap();
    assert_eq!((o.status, o.venue_filled), (OrderStatus::Cancelled, None));
}

#[test]
fn a_fill_the_durable_record_knows_is_refused_and_recalled() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        BrainId(0),
        btc(),
        &Decision::buy(1.0).with_limit_price(p(95.0)),
    );
    let cid = h.last_placed().unwrap();
    h.accept(cid);
    let fill = h.make_fill(cid, 0.5, 95.0, 0.0);
    assert!(!h.engine.recalls_fill(&fill.fill_id));
    let now = h.now();
    h.engine.handle_fill_applied_before(&fill, now);
    h.settle();
    assert!(h.engine.position(&btc()).is_flat(), "not applied");
    assert!(h.engine.recalls_fill(&fill.fill_id), "remembered again");
    assert!(h.events.iter().any(|e| matches!(
        e,
        EngineEvent::MalformedInput {
            problem: Malformed::DuplicateFill { .. },
            ..
        }
    )));
    assert!(h.engine.tracks_fill_order(Some(cid), &fill.order_id));
    assert!(h.engine.tracks_fill_order(None, &fill.order_id));
    let stranger = rustrade_core::OrderId::new("elsewhere").unwrap();
    assert!(!h.engine.tracks_fill_order(None, &stranger));
    assert!(h.engine.oldest_tracked_order().is_some());
}
