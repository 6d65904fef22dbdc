//! Configuration and override errors, and venue report orderings the scenarios do not cover:
//! fills before acknowledgements, over-fills, partial entries stopped by an emulated stop, and
//! the journal's serde round trip.

mod common;

use common::*;
use rustrade_core::{Decision, OrderKind, Position, Price, Quantity, SizeHint, Symbol};
use rustrade_engine::testkit::{START, VenueScript};
use rustrade_engine::{
    BrainId, CancelReason, Engine, EngineConfig, EngineError, EngineEvent, Malformed, OrderRole,
};

const A: BrainId = BrainId(0);

fn err(config: EngineConfig) -> EngineError {
    Engine::new(config, START).unwrap_err()
}

#[test]
fn config_errors_name_the_field_and_value() {
    let e = err(EngineConfig {
        bot_id: "has space".into(),
        ..config(&BASIC)
    });
    assert!(
        matches!(
            e,
            EngineError::Config {
                field: "bot_id",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("has space"), "{e}");

    let e = err(config(&BASIC).with_brain("alpha"));
    assert!(
        matches!(e, EngineError::Config { field: "brains", ref value, .. } if value == "alpha"),
        "{e}"
    );

    let e = err(EngineConfig {
        brains: vec![],
        ..config(&BASIC)
    });
    assert!(
        matches!(
            e,
            EngineError::Config {
                field: "brains",
                ..
            }
        ),
        "{e}"
    );

    let e = err(config(&BASIC).with_instrument(spec(0.1, 0.1)));
    assert!(
        matches!(e, EngineError::Config { field: "instruments", ref value, .. } if value == "BTCUSDT"),
        "{e}"
    );

    let e = err(EngineConfig {
        remembered_fill_ids: 0,
        ..config(&BASIC)
    });
    assert!(
        matches!(
            e,
            EngineError::Config {
                field: "remembered_fill_ids",
                ..
            }
        ),
        "{e}"
    );

    let mut bad_risk = config(&BASIC);
    bad_risk.risk.sizing.margin = -5.0;
    let e = err(bad_risk);
    assert!(matches!(e, EngineError::Risk(_)), "{e}");
    assert!(e.to_string().contains("sizing.margin"), "{e}");
}

#[test]
fn config_round_trips_through_json() {
    let cfg = config(&BASIC).with_order_ttl(std::time::Duration::from_secs(30));
    let json = serde_json::to_string(&cfg).unwrap();
    let back: EngineConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let unknown = json.replacen('{', "{\"surprise\":1,", 1);
    assert!(serde_json::from_str::<EngineConfig>(&unknown).is_err());
}

#[test]
fn overrides_refuse_bad_values_and_unknown_symbols() {
    let mut h = harness(&BASIC, VenueScript::manual());
    let now = h.now();
    let nan = Position {
        quantity: f64::NAN,
        ..Position::FLAT
    };
    let e = h.engine.set_position(&btc(), nan, now).unwrap_err();
    assert!(
        matches!(
            e,
            EngineError::NonFinite {
                field: "quantity",
                ..
            }
        ),
        "{e}"
    );
    let eth = Symbol::new("ETHUSDT").unwrap();
    assert!(matches!(
        h.engine.set_position(&eth, Position::new(1.0, 1.0), now),
        Err(EngineError::UnknownSymbol(_))
    ));
    let e = h
        .engine
        .record_trade_outcome(&btc(), f64::INFINITY, 0.0, now)
        .unwrap_err();
    assert!(e.to_string().contains("gross_pnl"), "{e}");
    assert!(h.engine.record_trade_outcome(&eth, 1.0, 0.0, now).is_err());
    assert!(h.engine.position(&btc()).is_flat());

    h.engine
        .set_position(&btc(), Position::new(2.0, 100.0), now)
        .unwrap();
    h.settle();
    assert_eq!(h.engine.brain_position(A, &btc()).quantity, 2.0);
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::close());
    assert_eq!(places(&h.commands)[0].order.quantity.get(), 2.0);
}

#[test]
fn a_fill_before_the_acknowledgement_is_applied_and_the_late_ack_is_harmless() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let cid = h.last_placed().unwrap();
    h.fill(cid, 1.0, 100.0, 0.0);
    assert_eq!(h.engine.position(&btc()).quantity, 1.0);
    h.accept(cid);
    assert!(malformed(&h.events).is_empty());
    assert_eq!(
        h.engine.order(&cid).unwrap().status,
        rustrade_core::OrderStatus::Filled
    );
}

#[test]
fn an_overfill_is_applied_and_reported() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let cid = h.last_placed().unwrap();
    h.fill(cid, 0.8, 100.0, 0.0);
    h.fill(cid, 0.4, 100.0, 0.0);
    assert!((h.engine.position(&btc()).quantity - 1.2).abs() < 1e-9);
    assert!(matches!(
        malformed(&h.events)[..],
        [Malformed::Overfill { .. }]
    ));
}

#[test]
fn an_emulated_stop_on_a_partial_entry_cancels_the_rest_and_exits_the_filled_part() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    let d = Decision::buy(1.0)
        .with_limit_price(Price::new(99.0).unwrap())
        .with_size_hint(SizeHint::Quantity(Quantity::new(3.0).unwrap()))
        .with_stop(Price::new(95.0).unwrap());
    h.decide(A, btc(), &d);
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, 1.0, 99.0, 0.0);
    h.trade(btc(), 94.5);
    assert_eq!(cancels(&h.commands), vec![entry]);
    let cancel = h.commands.iter().find_map(|c| c.as_cancel()).unwrap();
    assert_eq!(cancel.reason, CancelReason::ProtectionTriggered);
    let exit = places(&h.commands)[1];
    assert_eq!(
        (
            exit.order.kind,
            exit.order.quantity.get(),
            exit.order.reduce_only
        ),
        (OrderKind::Market, 1.0, true)
    );
    assert!(matches!(exit.role, OrderRole::Exit(_)));
    assert!(
        h.events.iter().any(
            |e| matches!(e, EngineEvent::ProtectionTriggered { entry: e2, .. } if *e2 == entry)
        )
    );
}

#[test]
fn unknown_market_symbols_are_ignored_and_unknown_decision_symbols_reported() {
    let mut h = harness(&BASIC, VenueScript::manual());
    let eth = Symbol::new("ETHUSDT").unwrap();
    h.candle(eth, 10.0);
    assert!(h.events.is_empty());
    h.decide(A, eth, &Decision::buy(1.0));
    assert!(matches!(
        malformed(&h.events)[..],
        [Malformed::UnknownSymbol { .. }]
    ));
    assert!(h.commands.is_empty());
}

#[test]
fn the_journal_round_trips_through_json_and_replays() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(
        A,
        btc(),
        &Decision::buy(1.0).with_stop(Price::new(90.0).unwrap()),
    );
    h.decide(
        BrainId(1),
        btc(),
        &Decision::sell(1.0).with_trailing_stop(Price::new(3.0).unwrap()),
    );
    h.candle(btc(), 104.0);
    let now = h.now();
    h.engine
        .record_trade_outcome(&btc(), -3.0, 0.1, now)
        .unwrap();
    h.settle();
    let lines: Vec<String> = h
        .events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let back: Vec<EngineEvent> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, h.events);
    let replayed = Engine::replay(h.engine.config().clone(), START, &back, now).unwrap();
    assert_eq!(
        replayed.position(&btc()).quantity,
        h.engine.position(&btc()).quantity
    );
    assert_eq!(
        replayed.brain_stats(BrainId(1)),
        h.engine.brain_stats(BrainId(1))
    );
    assert_eq!(replayed.next_sequence(), h.engine.next_sequence());
    assert_eq!(replayed.brackets().count(), h.engine.brackets().count());
}

#[test]
fn a_partly_filled_entry_is_protected_by_emulation_until_its_venue_legs_exist() {
    let mut caps = BASIC.to_vec();
    caps.push(rustrade_core::Capability::StopMarket);
    let mut h = harness(&caps, VenueScript::manual());
    h.candle(btc(), 100.0);
    let d = Decision::buy(1.0)
        .with_limit_price(Price::new(99.0).unwrap())
        .with_size_hint(SizeHint::Quantity(Quantity::new(3.0).unwrap()))
        .with_stop(Price::new(95.0).unwrap());
    h.decide(A, btc(), &d);
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, 1.0, 99.0, 0.0);
    assert_eq!(
        places(&h.commands).len(),
        1,
        "no venue leg while the entry works"
    );
    h.trade(btc(), 94.0);
    let exit = places(&h.commands)[1];
    assert_eq!(
        (exit.order.kind, exit.order.quantity.get()),
        (OrderKind::Market, 1.0)
    );
    assert_eq!(cancels(&h.commands), vec![entry]);
    h.confirm_cancel(entry);
    assert_eq!(
        places(&h.commands).len(),
        2,
        "a fired bracket places no legs afterwards"
    );
}

#[test]
fn pending_counts_match_what_polling_returns() {
    let mut engine = Engine::new(config(&BASIC), START).unwrap();
    assert_eq!((engine.pending_events(), engine.pending_commands()), (0, 0));
    let t = START;
    let event = flat_bar(t);
    engine.handle_market(&event);
    engine.handle_decision(A, &event, &Decision::buy(1.0), t);
    let (events, commands) = (engine.pending_events(), engine.pending_commands());
    assert!(
        events > 0 && commands == 1,
        "{events} events, {commands} commands"
    );
    assert_eq!(std::iter::from_fn(|| engine.poll_event()).count(), events);
    assert_eq!(
        std::iter::from_fn(|| engine.poll_command()).count(),
        commands
    );
    assert_eq!((engine.pending_events(), engine.pending_commands()), (0, 0));
}

#[test]
fn taking_events_and_commands_in_batches_equals_polling_them() {
    let t = START;
    let event = flat_bar(t);
    let engine = || {
        let mut e = Engine::new(config(&BASIC), START).unwrap();
        e.handle_market(&event);
        e.handle_decision(A, &event, &Decision::buy(1.0), t);
        e
    };
    let mut polled = engine();
    let events: Vec<_> = std::iter::from_fn(|| polled.poll_event()).collect();
    let commands: Vec<_> = std::iter::from_fn(|| polled.poll_command()).collect();

    let mut taken = engine();
    let mut event_batch = std::collections::VecDeque::new();
    let mut command_batch = std::collections::VecDeque::new();
    taken.take_events(&mut event_batch);
    taken.take_commands(&mut command_batch);
    assert_eq!((taken.pending_events(), taken.pending_commands()), (0, 0));
    assert_eq!(Vec::from(event_batch), events);
    assert_eq!(Vec::from(command_batch.clone()), commands);

    // A non-empty buffer keeps its contents and receives the new ones behind them.
    let mut again = engine();
    again.take_commands(&mut command_batch);
    assert_eq!(command_batch.len(), 2 * commands.len());
}

/// A bar at `t` with every price at 100, on the test symbol.
fn flat_bar(t: rustrade_core::Timestamp) -> rustrade_core::MarketEvent {
    let candle = rustrade_core::Candle::new(t, 100.0, 100.0, 100.0, 100.0, 1.0).unwrap();
    rustrade_core::MarketEvent::candle(rustrade_core::Venue::new("sim").unwrap(), btc(), t, candle)
}
