//! The acceptance scenarios of the engine, through its public API, driven by the testkit's
//! scripted venue and manual clock.

mod common;

use common::*;
use rustrade_core::{
    Capability, Decision, OrderKind, Price, Quantity, RejectReason, Side, SizeHint,
};
use rustrade_engine::testkit::VenueScript;
use rustrade_engine::{
    BrainId, CancelReason, EngineEvent, ExitReason, LegRejectedPolicy, OrderRole,
};
use rustrade_risk::SessionConfig;

const A: BrainId = BrainId(0);
const B: BrainId = BrainId(1);

fn p(v: f64) -> Price {
    Price::new(v).unwrap()
}

#[test]
fn sized_market_buy_is_one_plain_order() {
    let mut h = harness(&BASIC, VenueScript::manual());
    let event = h.candle(btc(), 100.0);
    h.decide_on(A, &event, &Decision::buy(1.0));
    let placed = places(&h.commands);
    assert_eq!(placed.len(), 1, "{:?}", h.commands);
    let o = placed[0].order;
    assert_eq!(
        (o.side, o.kind, o.quantity.get()),
        (Side::Buy, OrderKind::Market, 1.0)
    );
    assert_eq!(
        (o.limit_price, o.trigger_price, o.reduce_only),
        (None, None, false)
    );
    assert_eq!(placed[0].role, OrderRole::Entry);
    assert_eq!(o.client_id.as_str(), "bot-0-1");
}

#[test]
fn quantity_cap_limits_the_size() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 1.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    assert_eq!(
        places(&h.commands)[0].order.quantity.get(),
        10.0,
        "100 at 1 capped at 10"
    );
}

#[test]
fn session_halt_blocks_entries_but_not_exits() {
    let mut cfg = config(&BASIC);
    cfg.risk.session = SessionConfig {
        loss_cap: Some(-1.0),
        ..cfg.risk.session
    };
    let mut h = harness_with(cfg, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(5.0).unwrap())),
    );
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 5.0);
    let now = h.now();
    h.engine
        .record_trade_outcome(&btc(), -10.0, 0.0, now)
        .unwrap();
    h.settle();
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::RiskHalted { .. }))
    );
    assert!(h.engine.is_halted(&btc(), now));

    let before = h.commands.len();
    h.decide(A, btc(), &Decision::buy(1.0));
    assert!(places(h.commands_since(before)).is_empty());
    assert_eq!(refusals(&h.events), vec!["session_halted"]);

    let before = h.commands.len();
    h.decide(A, btc(), &Decision::close());
    let exits = places(h.commands_since(before));
    assert_eq!(exits.len(), 1);
    let o = exits[0].order;
    assert_eq!(
        (o.side, o.kind, o.quantity.get(), o.reduce_only),
        (Side::Sell, OrderKind::Market, 5.0, true)
    );
    assert_eq!(exits[0].role, OrderRole::Exit(ExitReason::Decision));
    assert!(h.engine.position(&btc()).is_flat());
}

#[test]
fn tripped_breaker_blocks_entries_but_closes_a_short() {
    let mut cfg = config(&BASIC);
    cfg.risk.breaker.loss_limit = 1;
    let mut h = harness_with(cfg, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(
        A,
        btc(),
        &Decision::sell(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(3.0).unwrap())),
    );
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, -3.0);
    let now = h.now();
    h.engine
        .record_trade_outcome(&btc(), -10.0, 0.0, now)
        .unwrap();
    h.settle();
    let before = h.commands.len();
    h.decide(A, btc(), &Decision::sell(1.0));
    assert!(places(h.commands_since(before)).is_empty());
    assert_eq!(refusals(&h.events), vec!["breaker_tripped"]);

    let before = h.commands.len();
    h.decide(A, btc(), &Decision::close());
    let exits = places(h.commands_since(before));
    assert_eq!(exits.len(), 1);
    let o = exits[0].order;
    assert_eq!(
        (o.side, o.kind, o.quantity.get(), o.reduce_only),
        (Side::Buy, OrderKind::Market, 3.0, true)
    );
}

#[test]
fn buy_while_short_is_an_exit_even_when_halted() {
    let mut cfg = config(&BASIC);
    cfg.risk.breaker.loss_limit = 1;
    let mut h = harness_with(cfg, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(
        A,
        btc(),
        &Decision::sell(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(3.0).unwrap())),
    );
    let now = h.now();
    h.engine
        .record_trade_outcome(&btc(), -1.0, 0.0, now)
        .unwrap();
    let before = h.commands.len();
    h.decide(A, btc(), &Decision::buy(1.0));
    let exits = places(h.commands_since(before));
    assert_eq!(exits.len(), 1);
    assert_eq!(
        (
            exits[0].order.side,
            exits[0].order.quantity.get(),
            exits[0].order.reduce_only
        ),
        (Side::Buy, 3.0, true)
    );
    assert!(refusals(&h.events).is_empty());
}

#[test]
fn close_on_flat_is_a_silent_no_op() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::close());
    assert!(h.commands.is_empty());
    assert!(refusals(&h.events).is_empty());
    assert_eq!(h.engine.brain_stats(A).unwrap().refusals, 0);
}

#[test]
fn a_second_close_while_the_first_is_working_sends_nothing() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    h.venue.script = VenueScript::manual();
    h.decide(A, btc(), &Decision::close());
    h.decide(A, btc(), &Decision::close());
    let exits: Vec<_> = places(&h.commands)
        .into_iter()
        .filter(|p| p.role.is_exit())
        .collect();
    assert_eq!(exits.len(), 1);
}

#[test]
fn limit_prices_post_only_and_tick_snapping() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0).with_limit_price(p(99.5)));
    let o = places(&h.commands)[0].order;
    assert_eq!((o.kind, o.limit_price), (OrderKind::Limit, Some(p(99.5))));

    let before = h.commands.len();
    let post = Decision::buy(1.0)
        .with_order_kind(OrderKind::PostOnly)
        .with_limit_price(p(99.0));
    h.decide(A, btc(), &post);
    assert!(places(h.commands_since(before)).is_empty());
    assert_eq!(refusals(&h.events), vec!["unsupported_order_kind"]);

    let mut caps = BASIC.to_vec();
    caps.push(Capability::PostOnly);
    let mut h = harness(&caps, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &post);
    let o = places(&h.commands)[0].order;
    assert_eq!(
        (o.kind, o.limit_price),
        (OrderKind::PostOnly, Some(p(99.0)))
    );
    assert_eq!(o.time_in_force, rustrade_core::TimeInForce::PostOnly);

    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.25);
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_order_kind(OrderKind::Limit),
    );
    let o = places(&h.commands)[0].order;
    assert_eq!((o.kind, o.limit_price), (OrderKind::Limit, Some(p(100.5))));
}

fn bracket_caps() -> Vec<Capability> {
    let mut caps = BASIC.to_vec();
    caps.extend([Capability::StopMarket, Capability::TakeProfit]);
    caps
}

fn bracket() -> Decision {
    Decision::buy(1.0)
        .with_size_hint(SizeHint::Quantity(Quantity::new(2.0).unwrap()))
        .with_stop(p(90.0))
        .with_take_profit(p(110.0))
}

#[test]
fn venue_bracket_places_legs_for_the_filled_quantity_and_oco_cancels_once() {
    let mut h = harness(&bracket_caps(), VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &bracket());
    let entry = places(&h.commands);
    assert_eq!(entry.len(), 1, "entry first, legs after its fill");
    let entry = entry[0].order.client_id;
    h.accept(entry);
    h.fill(entry, 1.5, 100.0, 0.0);
    assert_eq!(
        places(&h.commands).len(),
        1,
        "legs wait for the entry to stop working"
    );
    h.confirm_cancel(entry);
    let legs = places(&h.commands)[1..].to_vec();
    assert_eq!(legs.len(), 2);
    let (stop, tp) = (legs[0], legs[1]);
    assert_eq!(
        (stop.role, stop.order.kind, stop.order.side),
        (OrderRole::StopLeg, OrderKind::StopMarket, Side::Sell)
    );
    assert_eq!(
        (
            stop.order.trigger_price,
            stop.order.quantity.get(),
            stop.order.reduce_only
        ),
        (Some(p(90.0)), 1.5, true)
    );
    assert_eq!(
        (tp.role, tp.order.kind, tp.order.trigger_price),
        (
            OrderRole::TakeProfitLeg,
            OrderKind::TakeProfit,
            Some(p(110.0))
        )
    );
    assert_eq!((tp.order.quantity.get(), tp.order.reduce_only), (1.5, true));
    h.accept(stop.order.client_id);
    h.accept(tp.order.client_id);

    let before = h.commands.len();
    h.candle(btc(), 90.0);
    h.fill(stop.order.client_id, 1.5, 90.0, 0.0);
    assert_eq!(cancels(h.commands_since(before)), vec![tp.order.client_id]);
    assert!(h.engine.position(&btc()).is_flat());

    let before = h.commands.len();
    h.fill(tp.order.client_id, 1.5, 110.0, 0.0);
    assert!(
        cancels(h.commands_since(before)).is_empty(),
        "a late take-profit fill cancels nothing"
    );
}

#[test]
fn rejected_stop_leg_closes_the_entry_by_default() {
    let mut h = harness(&bracket_caps(), VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &bracket());
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, 2.0, 100.0, 0.0);
    let legs = places(&h.commands)[1..].to_vec();
    assert_eq!(legs.len(), 2);
    let before = h.commands.len();
    h.reject(legs[0].order.client_id, RejectReason::InvalidOrder);
    let after = h.commands_since(before);
    assert_eq!(cancels(after), vec![legs[1].order.client_id]);
    let exits = places(after);
    assert_eq!(exits.len(), 1);
    let o = exits[0].order;
    assert_eq!(
        (o.kind, o.side, o.quantity.get(), o.reduce_only),
        (OrderKind::Market, Side::Sell, 2.0, true)
    );
    assert_eq!(exits[0].role, OrderRole::Exit(ExitReason::LegRejected));
}

#[test]
fn rejected_stop_leg_is_kept_under_the_keep_policy() {
    let cfg = config(&bracket_caps()).with_leg_rejected(LegRejectedPolicy::Keep);
    let mut h = harness_with(cfg, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &bracket());
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, 2.0, 100.0, 0.0);
    let legs = places(&h.commands)[1..].to_vec();
    let before = h.commands.len();
    h.reject(legs[0].order.client_id, RejectReason::InvalidOrder);
    assert!(h.commands_since(before).is_empty());
    assert_eq!(h.engine.position(&btc()).quantity, 2.0);
}

#[test]
fn emulated_bracket_exits_once_when_the_stop_is_crossed() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &bracket());
    assert_eq!(h.engine.position(&btc()).quantity, 2.0);
    assert_eq!(places(&h.commands).len(), 1, "nothing is held at the venue");
    h.venue.script = VenueScript::manual();
    h.candle_ohlc(btc(), 100.0, 100.0, 95.0, 96.0);
    assert_eq!(places(&h.commands).len(), 1);
    h.candle_ohlc(btc(), 96.0, 96.0, 89.5, 91.0);
    let exits = places(&h.commands)[1..].to_vec();
    assert_eq!(exits.len(), 1);
    let o = exits[0].order;
    assert_eq!(
        (o.kind, o.side, o.quantity.get(), o.reduce_only),
        (OrderKind::Market, Side::Sell, 2.0, true)
    );
    assert_eq!(exits[0].role, OrderRole::Exit(ExitReason::EmulatedStop));
    h.candle_ohlc(btc(), 91.0, 91.0, 85.0, 86.0);
    assert_eq!(places(&h.commands).len(), 2, "a stop fires once");
}

#[test]
fn emulated_take_profit_fires_on_the_high() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &bracket());
    h.candle_ohlc(btc(), 100.0, 110.5, 99.0, 105.0);
    let exits = places(&h.commands)[1..].to_vec();
    assert_eq!(exits.len(), 1);
    assert_eq!(
        exits[0].role,
        OrderRole::Exit(ExitReason::EmulatedTakeProfit)
    );
    assert!(h.engine.position(&btc()).is_flat());
    assert!(
        h.engine.brackets().next().is_none(),
        "a flat position drops its bracket"
    );
}

#[test]
fn emulated_trailing_stop_follows_the_high() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0).with_trailing_stop(p(5.0)));
    for price in [103.0, 108.0, 112.0, 109.0, 107.5] {
        h.trade(btc(), price);
        assert_eq!(places(&h.commands).len(), 1, "no exit at {price}");
    }
    h.trade(btc(), 107.0);
    let exits = places(&h.commands)[1..].to_vec();
    assert_eq!(exits.len(), 1);
    assert_eq!(
        exits[0].role,
        OrderRole::Exit(ExitReason::EmulatedTrailingStop)
    );
    let trade = trades(&h.events)[0].1;
    assert_eq!(
        (trade.entry_price, trade.exit_price, trade.gross_pnl),
        (100.0, 107.0, 7.0)
    );
}

#[test]
fn venue_trailing_stop_is_a_reduce_only_leg() {
    let mut caps = BASIC.to_vec();
    caps.push(Capability::TrailingStop);
    let mut h = harness(&caps, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0).with_trailing_stop(p(5.0)));
    let legs = places(&h.commands)[1..].to_vec();
    assert_eq!(legs.len(), 1);
    let o = legs[0].order;
    assert_eq!(
        (o.kind, o.trailing_offset, o.reduce_only, o.side),
        (OrderKind::TrailingStop, Some(p(5.0)), true, Side::Sell)
    );
}

#[test]
fn protection_on_the_wrong_side_is_refused() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0).with_stop(p(105.0)));
    h.decide(A, btc(), &Decision::sell(1.0).with_take_profit(p(105.0)));
    assert!(h.commands.is_empty());
    assert_eq!(
        refusals(&h.events),
        vec!["stop_on_wrong_side", "take_profit_on_wrong_side"]
    );
}

#[test]
fn round_trip_pnl_counts_both_fees() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, 1.0, 100.0, 0.5);
    h.candle(btc(), 110.0);
    assert_eq!(h.engine.position(&btc()).unrealised_pnl, 10.0);
    h.decide(A, btc(), &Decision::close());
    let exit = h.last_placed().unwrap();
    h.accept(exit);
    h.fill(exit, 1.0, 110.0, 0.5);
    let t = trades(&h.events);
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].1.gross_pnl, t[0].1.fees, t[0].1.net_pnl),
        (10.0, 1.0, 9.0)
    );
    assert_eq!(h.engine.position(&btc()).realised_pnl, 9.0);
    assert_eq!(h.engine.brain_stats(A).unwrap().realised_pnl, 9.0);
}

#[test]
fn net_position_flips_through_zero() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(2.0).unwrap())),
    );
    let a = h.last_placed().unwrap();
    h.fill(a, 2.0, 100.0, 0.0);
    h.decide(
        B,
        btc(),
        &Decision::sell(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(3.0).unwrap())),
    );
    let b = h.last_placed().unwrap();
    h.fill(b, 3.0, 90.0, 0.0);
    let net = h.engine.position(&btc());
    assert_eq!(
        (net.quantity, net.avg_entry, net.realised_pnl),
        (-1.0, 90.0, -20.0)
    );
    let ledger = h.engine.ledger(&btc()).unwrap();
    assert_eq!(ledger.trade_side, Some(Side::Sell));
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 2.0);
    assert_eq!(h.engine.brain_position(B, &btc()).quantity, -3.0);
}

#[test]
fn contract_value_scales_pnl() {
    let cfg = rustrade_engine::EngineConfig {
        instruments: vec![spec(0.5, 0.001).with_contract_value(0.001).unwrap()],
        ..config(&BASIC)
    };
    let mut h = harness_with(cfg, VenueScript::manual());
    h.candle(btc(), 30_000.0);
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(2.0).unwrap())),
    );
    let e = h.last_placed().unwrap();
    h.fill(e, 2.0, 30_000.0, 0.0);
    h.decide(A, btc(), &Decision::close());
    let x = h.last_placed().unwrap();
    h.fill(x, 2.0, 31_000.0, 0.0);
    let t = trades(&h.events)[0].1;
    assert!(
        (t.gross_pnl - 2.0).abs() < 1e-9,
        "2 × 1000 × 0.001, got {}",
        t.gross_pnl
    );
}

#[test]
fn two_brains_on_one_symbol_are_attributed_separately() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let a = h.last_placed().unwrap();
    h.decide(
        B,
        btc(),
        &Decision::buy(1.0).with_size_hint(SizeHint::Quantity(Quantity::new(2.0).unwrap())),
    );
    let b = h.last_placed().unwrap();
    assert_eq!(a.as_str(), "bot-0-1");
    assert_eq!(b.as_str(), "bot-1-2");
    h.fill(a, 1.0, 100.0, 0.1);
    h.fill(b, 2.0, 100.0, 0.2);
    assert_eq!(h.engine.position(&btc()).quantity, 3.0);
    h.decide(B, btc(), &Decision::close());
    let bx = h.last_placed().unwrap();
    assert_eq!(
        h.engine.order(&bx).unwrap().order.quantity.get(),
        2.0,
        "B closes only its own 2"
    );
    h.fill(bx, 2.0, 105.0, 0.2);
    h.decide(A, btc(), &Decision::close());
    let ax = h.last_placed().unwrap();
    h.fill(ax, 1.0, 95.0, 0.1);
    let sa = h.engine.brain_stats(A).unwrap();
    let sb = h.engine.brain_stats(B).unwrap();
    assert!((sa.realised_pnl - (-5.0 - 0.2)).abs() < 1e-9, "{sa:?}");
    assert!((sb.realised_pnl - (10.0 - 0.4)).abs() < 1e-9, "{sb:?}");
    assert_eq!(
        (sa.orders_placed, sb.orders_placed, sa.losses, sb.wins),
        (2, 2, 1, 1)
    );
    let by_brain: Vec<_> = trades(&h.events).iter().map(|(b, _)| *b).collect();
    assert_eq!(by_brain, vec![B, A]);
    assert!(h.engine.position(&btc()).is_flat());
}

#[test]
fn malformed_inputs_are_reported_and_change_nothing() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let entry = h.last_placed().unwrap();
    let fill = h.make_fill(entry, 1.0, 100.0, 0.0);

    let mut stranger = fill;
    stranger.client_id = None;
    stranger.order_id = rustrade_core::OrderId::new("nobody").unwrap();
    h.deliver_fill(&stranger);
    assert!(h.engine.position(&btc()).is_flat());
    assert!(matches!(
        malformed(&h.events)[..],
        [rustrade_engine::Malformed::UnknownOrder { .. }]
    ));

    h.deliver_fill(&fill);
    h.deliver_fill(&fill);
    assert_eq!(
        h.engine.position(&btc()).quantity,
        1.0,
        "a duplicate fill is applied once"
    );
    assert!(matches!(
        malformed(&h.events)[1],
        rustrade_engine::Malformed::DuplicateFill { .. }
    ));

    let before = h.engine.snapshot(h.now());
    let now = h.now();
    let nan = rustrade_core::Position {
        quantity: f64::NAN,
        ..rustrade_core::Position::FLAT
    };
    h.engine.handle_venue_positions(&[(btc(), nan)], now);
    let inf = rustrade_core::Position {
        avg_entry: f64::INFINITY,
        ..rustrade_core::Position::new(1.0, 0.0)
    };
    h.engine.handle_venue_positions(&[(btc(), inf)], now);
    h.settle();
    assert_eq!(malformed(&h.events).len(), 4);
    let after = h.engine.snapshot(h.now());
    let strip = |s: &rustrade_engine::EngineSnapshot| {
        let mut v = serde_json::to_value(s).unwrap();
        let o = v.as_object_mut().unwrap();
        // The journal records the refusals themselves: queued events and their count move.
        o.remove("events");
        o.remove("journal_seq");
        v
    };
    assert_eq!(
        strip(&before),
        strip(&after),
        "a NaN report leaves the state untouched"
    );

    let mut wrong_side = h.make_fill(entry, 1.0, 100.0, 0.0);
    wrong_side.side = Side::Sell;
    h.deliver_fill(&wrong_side);
    assert!(matches!(
        malformed(&h.events)[4],
        rustrade_engine::Malformed::FillMismatch { .. }
    ));
    assert_eq!(h.engine.position(&btc()).quantity, 1.0);

    let unknown = rustrade_core::ClientOrderId::new("bot-0-999").unwrap();
    h.engine
        .handle_accepted(unknown, rustrade_core::OrderId::new("x").unwrap(), now);
    h.engine
        .handle_decision_at(BrainId(7), btc(), p(100.0), &Decision::buy(1.0), now);
    h.settle();
    assert_eq!(malformed(&h.events).len(), 7);
    assert!(places(&h.commands).len() == 1);
}

#[test]
fn ttl_cancels_stale_resting_entries() {
    let cfg = config(&BASIC).with_order_ttl(std::time::Duration::from_secs(60));
    let mut h = harness_with(cfg, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0).with_limit_price(p(95.0)));
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.advance(std::time::Duration::from_secs(30));
    assert!(cancels(&h.commands).is_empty());
    h.advance(std::time::Duration::from_secs(30));
    assert_eq!(cancels(&h.commands), vec![entry]);
    assert!(h.events.iter().any(|e| matches!(
        e,
        EngineEvent::CancelRequested {
            reason: CancelReason::Ttl,
            ..
        }
    )));
    h.advance(std::time::Duration::from_secs(30));
    let reasons: Vec<CancelReason> = h
        .commands
        .iter()
        .filter_map(rustrade_engine::Command::as_cancel)
        .map(|c| c.reason)
        .collect();
    assert_eq!(reasons[0], CancelReason::Ttl);
    assert!(
        reasons[1..].iter().all(|r| *r == CancelReason::Retry),
        "the TTL asks once; an unconfirmed cancel is only retried: {reasons:?}"
    );
    h.confirm_cancel(entry);
    assert!(h.engine.open_orders().next().is_none());
}

#[test]
fn breaker_cooldown_resumes_entries_on_the_timer() {
    let mut cfg = config(&BASIC);
    cfg.risk.breaker.loss_limit = 1;
    let mut h = harness_with(cfg, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    h.candle(btc(), 90.0);
    h.decide(A, btc(), &Decision::close());
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::RiskHalted { .. }))
    );
    h.advance(std::time::Duration::from_secs(1_801));
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::RiskResumed { .. }))
    );
    let before = h.commands.len();
    h.decide(A, btc(), &Decision::buy(1.0));
    assert_eq!(places(h.commands_since(before)).len(), 1);
}

#[test]
fn reconciliation_adopts_drift_and_reports_unknown_and_missing_orders() {
    let config = config(&BASIC).with_drift_policy(rustrade_engine::DriftPolicy::Adopt);
    let mut h = rustrade_engine::testkit::Harness::new(config, VenueScript::manual());
    h.candle(btc(), 100.0);
    let now = h.now();
    h.engine
        .handle_venue_positions(&[(btc(), rustrade_core::Position::new(0.5, 98.0))], now);
    h.settle();
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::PositionDrift { .. }))
    );
    assert_eq!(h.engine.position(&btc()).quantity, 0.5);
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 0.5);

    h.decide(A, btc(), &Decision::buy(1.0).with_limit_price(p(95.0)));
    let resting = h.last_placed().unwrap();
    h.accept(resting);
    h.decide(A, btc(), &Decision::buy(1.0).with_limit_price(p(94.0)));
    let in_flight = h.last_placed().unwrap();
    h.venue.orders.remove(&resting);
    let mut open = h.venue.open_orders(now);
    open[0].client_id = None;
    open[0].order_id = rustrade_core::OrderId::new("foreign").unwrap();
    h.engine.handle_venue_open_orders(&open, now);
    h.settle();
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::UnknownVenueOrder { .. }))
    );
    assert!(h.events.iter().any(
        |e| matches!(e, EngineEvent::OrderMissingAtVenue { client_id, .. } if *client_id == resting)
    ));
    assert!(
        h.engine.order(&in_flight).unwrap().is_live(),
        "a pending order may be in flight"
    );
    assert!(!h.engine.order(&resting).unwrap().is_live());
}

#[test]
fn ioc_and_fok_are_honoured_or_refused_never_downgraded() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_order_kind(OrderKind::Ioc),
    );
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_order_kind(OrderKind::Fok),
    );
    assert!(h.commands.is_empty());
    assert_eq!(
        refusals(&h.events),
        vec!["unsupported_order_kind", "unsupported_order_kind"]
    );

    let mut caps = BASIC.to_vec();
    caps.extend([Capability::Ioc, Capability::Fok]);
    let mut h = harness(&caps, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_order_kind(OrderKind::Ioc),
    );
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0)
            .with_order_kind(OrderKind::Fok)
            .with_limit_price(p(99.0)),
    );
    let placed = places(&h.commands);
    assert_eq!(
        (placed[0].order.kind, placed[0].order.limit_price),
        (OrderKind::Ioc, Some(p(100.0)))
    );
    assert_eq!(
        placed[0].order.time_in_force,
        rustrade_core::TimeInForce::Ioc
    );
    assert_eq!(
        (placed[1].order.kind, placed[1].order.limit_price),
        (OrderKind::Fok, Some(p(99.0)))
    );
    assert_eq!(
        placed[1].order.time_in_force,
        rustrade_core::TimeInForce::Fok
    );
}
