//! Pausing entries: entries refused with `entries_paused`, exits still sent, the flag kept by
//! snapshots and restored.

mod common;

use common::*;
use rustrade_core::Decision;
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, Engine, OrderRole};

const A: BrainId = BrainId(0);

#[test]
fn paused_entries_are_refused_but_exits_go_out() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    assert!(
        h.engine.position(&btc()).quantity > 0.0,
        "entered before pausing"
    );

    let now = h.now();
    h.engine.set_entries_paused(true, now);
    assert!(h.engine.entries_paused());
    let placed_before = places(&h.commands).len();
    h.decide(A, btc(), &Decision::buy(1.0));
    assert_eq!(
        places(&h.commands).len(),
        placed_before,
        "no entry while paused"
    );
    assert!(
        refusals(&h.events)
            .iter()
            .any(|r| r.starts_with("entries_paused")),
        "{:?}",
        refusals(&h.events)
    );

    h.decide(A, btc(), &Decision::close());
    let exit = places(&h.commands).last().copied().unwrap();
    assert!(matches!(exit.role, OrderRole::Exit(_)), "{exit:?}");
    assert_eq!(h.engine.position(&btc()).quantity, 0.0, "the exit filled");

    let now = h.now();
    h.engine.set_entries_paused(false, now);
    h.decide(A, btc(), &Decision::buy(1.0));
    assert!(
        h.engine.position(&btc()).quantity > 0.0,
        "entries allowed again"
    );
}

#[test]
fn a_snapshot_keeps_the_pause() {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    let now = h.now();
    h.engine.set_entries_paused(true, now);
    let snapshot = h.engine.snapshot(h.now());
    let restored = Engine::restore(config(&BASIC), &snapshot, h.now()).unwrap();
    assert!(restored.entries_paused());
    let mut h = Harness::with_engine(restored, h.now(), VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(A, btc(), &Decision::buy(1.0));
    assert!(
        places(&h.commands).is_empty(),
        "still paused after the restore"
    );

    let mut json = serde_json::to_value(&snapshot).unwrap();
    let removed = json["risk"]
        .as_object_mut()
        .unwrap()
        .remove("entries_paused");
    assert_eq!(removed, Some(serde_json::Value::Bool(true)));
    let older = serde_json::from_value(json).unwrap();
    let restored = Engine::restore(config(&BASIC), &older, h.now()).unwrap();
    assert!(
        !restored.entries_paused(),
        "a snapshot without the flag is not paused"
    );
}

#[test]
fn a_pause_is_journalled_and_survives_a_restart_from_the_journal() {
    let mut h = harness(&BASIC, VenueScript::instant());
    let before = h.engine.snapshot(h.now());
    h.candle(btc(), 100.0);
    let now = h.now();
    h.engine.set_entries_paused(true, now);
    h.engine.set_entries_paused(true, now);
    h.settle();
    let paused_events = h
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                rustrade_engine::EngineEvent::EntriesPaused { paused: true, .. }
            )
        })
        .count();
    assert_eq!(paused_events, 1, "journalled once per change");
    let tail: Vec<_> = h
        .events
        .iter()
        .zip(1u64..)
        .map(|(event, seq)| rustrade_engine::JournalRecord {
            seq,
            event: event.clone(),
        })
        .collect();
    let resumed = Engine::resume(config(&BASIC), &before, &tail, h.now()).unwrap();
    assert!(resumed.entries_paused());
}
