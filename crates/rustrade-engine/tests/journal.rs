//! Restart from snapshot + journal tail, full replay, snapshot format migration.

mod common;

use std::time::Duration;

use common::*;
use rustrade_core::{Capability, Decision, Price};
use rustrade_engine::testkit::{Harness, START, VenueScript};
use rustrade_engine::{
    BrainId, ENGINE_SNAPSHOT_VERSION, Engine, EngineConfig, EngineError, EngineSnapshot,
    JournalRecord,
};

/// A harness with a filled, bracketed entry and a resting limit order: the state a restart
/// must bring back.
fn busy_config() -> EngineConfig {
    let mut caps = BASIC.to_vec();
    caps.push(Capability::StopMarket);
    config(&caps)
}

fn busy_harness() -> Harness {
    let mut h = Harness::new(busy_config(), VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        BrainId(0),
        btc(),
        &Decision::buy(0.5).with_stop(Price::new(90.0).unwrap()),
    );
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, 0.5, 100.0, 0.05);
    h.candle(btc(), 101.0);
    h.decide(
        BrainId(1),
        btc(),
        &Decision::buy(0.3).with_limit_price(Price::new(95.0).unwrap()),
    );
    let resting = h.last_placed().unwrap();
    h.accept(resting);
    h
}

/// The harness's whole journal, numbered as the engine numbered it.
fn records(h: &Harness) -> Vec<JournalRecord> {
    h.events
        .iter()
        .zip(1u64..)
        .map(|(event, seq)| JournalRecord {
            seq,
            event: event.clone(),
        })
        .collect()
}

/// Runs the busy scenario on, closing the first entry: more journal after a mid snapshot.
fn carry_on(h: &mut Harness) {
    h.advance(Duration::from_secs(60));
    h.candle(btc(), 104.0);
    h.decide(BrainId(0), btc(), &Decision::close());
    let exit = h.last_placed().unwrap();
    h.accept(exit);
    h.fill(exit, 0.5, 104.0, 0.05);
    h.candle(btc(), 94.0);
}

#[test]
fn every_event_handed_out_is_numbered_once() {
    let h = busy_harness();
    assert!(!h.events.is_empty());
    assert_eq!(h.engine.journal_seq(), h.events.len() as u64);
    assert_eq!(
        h.engine.snapshot(h.now()).journal_seq,
        h.events.len() as u64
    );
}

#[test]
fn snapshot_plus_tail_rebuilds_the_state_the_journal_ends_in() {
    let mut h = busy_harness();
    let mid = h.engine.snapshot(h.now());
    carry_on(&mut h);
    let now = h.now();
    let tail = records(&h);
    assert!(tail.len() as u64 > mid.journal_seq, "a tail to replay");
    let resumed = Engine::resume(busy_config(), &mid, &tail, now).unwrap();
    assert_eq!(resumed.journal_seq(), h.engine.journal_seq());
    assert_eq!(resumed.position(&btc()), h.engine.position(&btc()));
    for b in [BrainId(0), BrainId(1)] {
        assert_eq!(resumed.brain_stats(b), h.engine.brain_stats(b));
        assert_eq!(
            resumed.brain_position(b, &btc()),
            h.engine.brain_position(b, &btc())
        );
    }
    let live = |e: &Engine| {
        e.open_orders()
            .map(|o| (o.order.client_id, o.status, o.filled))
            .collect::<Vec<_>>()
    };
    assert_eq!(live(&resumed), live(&h.engine));
    assert_eq!(resumed.next_sequence(), h.engine.next_sequence());
    assert_eq!(resumed.ledger(&btc()), h.engine.ledger(&btc()));
    // The same records replayed from the first give the same state too.
    let full = Engine::replay_records(busy_config(), START, &tail, now).unwrap();
    assert_eq!(full.position(&btc()), h.engine.position(&btc()));
    assert_eq!(full.ledger(&btc()), h.engine.ledger(&btc()));
    assert_eq!(live(&full), live(&h.engine));
    assert_eq!(
        full.brain_stats(BrainId(0)),
        h.engine.brain_stats(BrainId(0))
    );
    assert_eq!(full.journal_seq(), h.engine.journal_seq());
    // A resumed engine numbers its next events after the last record.
    let mut again = Harness::with_engine(resumed, now, VenueScript::manual());
    again.candle(btc(), 99.0);
    again.decide(BrainId(0), btc(), &Decision::buy(0.1));
    assert!(again.engine.journal_seq() > h.engine.journal_seq());
}

#[test]
fn a_gap_in_the_tail_is_an_error_naming_the_missing_records() {
    let mut h = busy_harness();
    let mid = h.engine.snapshot(h.now());
    carry_on(&mut h);
    let mut tail = records(&h);
    let first_after = usize::try_from(mid.journal_seq).unwrap();
    tail.remove(first_after);
    let err = Engine::resume(busy_config(), &mid, &tail, h.now()).unwrap_err();
    let EngineError::Journal { record, reason } = &err else {
        panic!("{err}")
    };
    assert_eq!(*record, Some(mid.journal_seq + 2));
    assert!(reason.contains("missing"), "{err}");
    let err = Engine::replay_records(busy_config(), START, &tail[1..], h.now()).unwrap_err();
    assert!(
        err.to_string()
            .contains("journal record 2: records 1 to 1 are missing"),
        "{err}"
    );
}

#[test]
fn a_tail_that_disagrees_with_the_snapshot_is_an_error_naming_the_record() {
    let mut h = busy_harness();
    let mid = h.engine.snapshot(h.now());
    carry_on(&mut h);
    let tail = records(&h);
    // The same tail on top of the final snapshot: it places orders the state already holds.
    let last = h.engine.snapshot(h.now());
    let mut stale = last.clone();
    stale.journal_seq = mid.journal_seq;
    let err = Engine::resume(busy_config(), &stale, &tail, h.now()).unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Journal {
                record: Some(_),
                ..
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("placed twice")
            || text.contains("already applied")
            || text.contains("does not hold"),
        "{text}"
    );
    // A snapshot from before the first fill with a tail that skips the order it fills.
    let fresh = Engine::new(busy_config(), START).unwrap().snapshot(START);
    let fill_only: Vec<_> = tail
        .iter()
        .filter(|r| matches!(r.event, rustrade_engine::EngineEvent::FillApplied { .. }))
        .take(1)
        .map(|r| JournalRecord {
            seq: 1,
            event: r.event.clone(),
        })
        .collect();
    let err = Engine::resume(busy_config(), &fresh, &fill_only, h.now()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("journal record 1: it refers to order"),
        "{err}"
    );
}

#[test]
fn a_version_1_snapshot_restores_and_replays_nothing_twice() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/snapshot-v1.json"
    ))
    .unwrap();
    let v1: EngineSnapshot = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.journal_seq, 0, "v1 has no journal position");
    let h = busy_harness();
    let restored = Engine::restore(busy_config(), &v1, h.now()).unwrap();
    assert_eq!(restored.position(&btc()), h.engine.position(&btc()));
    assert_eq!(restored.ledger(&btc()), h.engine.ledger(&btc()));
    assert_eq!(
        restored.open_orders().count(),
        h.engine.open_orders().count()
    );
    assert_eq!(restored.next_sequence(), h.engine.next_sequence());
    let again = restored.snapshot(h.now());
    assert_eq!(again.version, ENGINE_SNAPSHOT_VERSION);
    let mut future = v1.clone();
    future.version = ENGINE_SNAPSHOT_VERSION + 1;
    let err = Engine::restore(busy_config(), &future, h.now()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("version {}", ENGINE_SNAPSHOT_VERSION + 1)),
        "{err}"
    );
}

#[test]
fn stored_records_round_trip_and_bad_ones_are_named() {
    let h = busy_harness();
    for record in records(&h) {
        let bytes = JournalRecord::encode(record.seq, &record.event).unwrap();
        assert_eq!(JournalRecord::decode(&bytes).unwrap(), record);
    }
    let err = JournalRecord::decode(br#"{"format":9,"seq":4,"event":{}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "journal record 4: format 9 is not readable by this build (expected 1)"
    );
    let err =
        JournalRecord::decode(br#"{"format":1,"seq":5,"event":{"type":"nope"}}"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("journal record 5: undecodable event"),
        "{err}"
    );
    let err = JournalRecord::decode(b"{\"format\":1,\"se").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("journal record ?: not a journal record"),
        "{err}"
    );
}
