//! Entry blocks: a position drift under each policy, blocks raised by the driver's observations,
//! stale market events, and flattening through the engine. Entries are refused with the block's
//! label; exits always go; only the operator's and the drift's blocks survive a restart.

mod common;

use std::time::Duration;

use common::*;
use rustrade_core::{Decision, Position};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{
    BrainId, DriftPolicy, Engine, EngineEvent, EntryBlock, ExitReason, JournalRecord, OrderRole,
};

const A: BrainId = BrainId(0);
const B: BrainId = BrainId(1);

fn with_policy(policy: DriftPolicy) -> Harness {
    Harness::new(
        config(&BASIC).with_drift_policy(policy),
        VenueScript::instant(),
    )
}

fn venue_reports(h: &mut Harness, quantity: f64) {
    let now = h.now();
    let position = Position {
        quantity,
        avg_entry: 100.0,
        ..Position::FLAT
    };
    h.engine.handle_venue_positions(&[(btc(), position)], now);
    h.settle();
}

fn journal(h: &Harness) -> Vec<JournalRecord> {
    h.events
        .iter()
        .zip(1u64..)
        .map(|(event, seq)| JournalRecord {
            seq,
            event: event.clone(),
        })
        .collect()
}

#[test]
fn drift_halts_entries_until_acknowledged_and_exits_still_go() {
    let mut h = with_policy(DriftPolicy::HaltEntries);
    let genesis = h.engine.snapshot(h.now());
    h.candle(btc(), 100.0);
    venue_reports(&mut h, 0.5);
    assert_eq!(h.engine.position(&btc()).quantity, 0.5, "venue adopted");
    assert!(h.engine.entry_blocks().contains(EntryBlock::Drift));

    h.decide(A, btc(), &Decision::buy(1.0));
    assert!(places(&h.commands).is_empty(), "no entry while drifted");
    assert_eq!(refusals(&h.events), ["drift_unacknowledged"]);

    // The block outlives a restart, from the snapshot and from the journal.
    let snapshot = h.engine.snapshot(h.now());
    let restored = Engine::restore(config(&BASIC), &snapshot, h.now()).unwrap();
    assert!(restored.entry_blocks().contains(EntryBlock::Drift));
    let resumed = Engine::resume(config(&BASIC), &genesis, &journal(&h), h.now()).unwrap();
    assert!(resumed.entry_blocks().contains(EntryBlock::Drift));
    assert_eq!(resumed.position(&btc()), restored.position(&btc()));

    h.decide(A, btc(), &Decision::close());
    let exit = places(&h.commands).last().copied().expect("exit sent");
    assert!(matches!(exit.role, OrderRole::Exit(_)), "{exit:?}");
    assert_eq!(h.engine.position(&btc()).quantity, 0.0);

    let now = h.now();
    assert!(h.engine.acknowledge_drift(now));
    assert!(
        !h.engine.acknowledge_drift(now),
        "nothing left to acknowledge"
    );
    h.decide(A, btc(), &Decision::buy(1.0));
    assert!(h.engine.position(&btc()).quantity > 0.0, "entries again");
}

#[test]
fn drift_under_adopt_changes_the_position_and_nothing_else() {
    let mut h = with_policy(DriftPolicy::Adopt);
    h.candle(btc(), 100.0);
    venue_reports(&mut h, 0.5);
    assert_eq!(h.engine.position(&btc()).quantity, 0.5);
    assert!(h.engine.entry_blocks().is_empty());
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::PositionDrift { .. }))
    );
    h.decide(A, btc(), &Decision::buy(1.0));
    assert_eq!(places(&h.commands).len(), 1, "entries go on");
}

#[test]
fn drift_under_flatten_closes_the_drifted_symbol() {
    let mut h = with_policy(DriftPolicy::Flatten);
    h.candle(btc(), 100.0);
    venue_reports(&mut h, -0.25);
    let exits = places(&h.commands);
    assert_eq!(exits.len(), 1, "{exits:?}");
    assert_eq!(exits[0].role, OrderRole::Exit(ExitReason::Drift));
    assert!(exits[0].order.reduce_only);
    assert_eq!(exits[0].order.quantity.get(), 0.25);
    assert_eq!(h.engine.position(&btc()).quantity, 0.0, "the exit filled");
    assert!(h.engine.entry_blocks().is_empty());
}

#[test]
fn the_same_position_twice_is_no_drift() {
    let mut h = with_policy(DriftPolicy::HaltEntries);
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    let held = h.engine.position(&btc()).quantity;
    venue_reports(&mut h, held);
    assert!(h.engine.entry_blocks().is_empty());
    assert!(
        !h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::PositionDrift { .. }))
    );
}

#[test]
fn surroundings_blocks_refuse_entries_with_their_label_and_clear_on_restart() {
    for block in [
        EntryBlock::FillRouting,
        EntryBlock::MarketData,
        EntryBlock::Store,
    ] {
        let mut h = harness(&BASIC, VenueScript::instant());
        h.candle(btc(), 100.0);
        h.decide(A, btc(), &Decision::buy(1.0));
        let now = h.now();
        assert!(h.engine.set_entry_block(block, true, now));
        assert!(!h.engine.set_entry_block(block, true, now), "no change");
        h.settle();
        let placed = places(&h.commands).len();
        h.decide(B, btc(), &Decision::buy(1.0));
        assert_eq!(places(&h.commands).len(), placed, "{block}: no entry");
        assert_eq!(refusals(&h.events), [block.label()]);
        h.decide(A, btc(), &Decision::close());
        assert_eq!(
            h.engine.position(&btc()).quantity,
            0.0,
            "{block}: exit went"
        );

        let snapshot = h.engine.snapshot(h.now());
        let restored = Engine::restore(config(&BASIC), &snapshot, h.now()).unwrap();
        assert!(restored.entry_blocks().is_empty(), "{block} is not kept");

        let now = h.now();
        assert!(h.engine.set_entry_block(block, false, now));
        h.decide(B, btc(), &Decision::buy(1.0));
        assert!(h.engine.position(&btc()).quantity > 0.0, "{block}: cleared");
    }
}

#[test]
fn the_operator_pause_takes_precedence_in_the_label() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    let now = h.now();
    h.engine.set_entry_block(EntryBlock::Store, true, now);
    h.engine.set_entries_paused(true, now);
    h.decide(A, btc(), &Decision::buy(1.0));
    assert_eq!(refusals(&h.events), ["entries_paused"]);
    let raised: Vec<_> = h.engine.entry_blocks().iter().collect();
    assert_eq!(raised, [EntryBlock::Operator, EntryBlock::Store]);
}

#[test]
fn an_entry_on_a_stale_event_is_refused_and_an_exit_is_not() {
    let config = config(&BASIC).with_max_event_age(Duration::from_secs(60));
    let mut h = Harness::new(config, VenueScript::instant());
    let old = h.candle(btc(), 100.0);
    h.clock.advance(Duration::from_secs(61));
    h.decide_on(A, &old, &Decision::buy(1.0));
    assert!(places(&h.commands).is_empty());
    assert_eq!(refusals(&h.events), ["stale_event"]);

    let fresh = h.candle(btc(), 100.0);
    h.decide_on(A, &fresh, &Decision::buy(1.0));
    assert!(
        h.engine.position(&btc()).quantity > 0.0,
        "a fresh event trades"
    );

    h.clock.advance(Duration::from_secs(600));
    h.decide_on(A, &fresh, &Decision::close());
    assert_eq!(h.engine.position(&btc()).quantity, 0.0, "exits ignore age");
}

#[test]
fn a_stale_entry_from_an_unregistered_brain_is_malformed_not_a_panic() {
    let config = config(&BASIC).with_max_event_age(Duration::from_secs(60));
    let mut h = Harness::new(config, VenueScript::instant());
    let old = h.candle(btc(), 100.0);
    h.clock.advance(Duration::from_secs(61));
    h.decide_on(BrainId(7), &old, &Decision::buy(1.0));
    assert!(places(&h.commands).is_empty());
    assert!(
        refusals(&h.events).is_empty(),
        "not a refusal of a known brain"
    );
    assert!(
        h.events.iter().any(|e| matches!(
            e,
            EngineEvent::MalformedInput {
                problem: rustrade_engine::Malformed::UnknownBrain { brain: BrainId(7) },
                ..
            }
        )),
        "{:?}",
        h.events
    );
}

#[test]
fn flatten_all_closes_every_brain_and_nothing_when_flat() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    h.decide(B, btc(), &Decision::sell(0.5));
    let now = h.now();
    assert_eq!(h.engine.flatten_all(ExitReason::Operator, now), 2);
    h.settle();
    assert_eq!(h.engine.position(&btc()).quantity, 0.0);
    let exits: Vec<_> = places(&h.commands)
        .into_iter()
        .filter(|p| p.role == OrderRole::Exit(ExitReason::Operator))
        .collect();
    assert_eq!(exits.len(), 2);
    let now = h.now();
    assert_eq!(h.engine.flatten_all(ExitReason::Operator, now), 0);
}
