//! The manual-outcome rule lives in the engine: a manual outcome first claims a round trip the
//! fills closed and no manual outcome has claimed, and only when there is none is it recorded.
//! The unclaimed count is in the snapshot and rebuilt by replay, so a restart keeps it.

mod common;

use common::{BASIC, btc, config, harness};
use rustrade_core::Decision;
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, Engine, EngineError, EngineEvent};

/// A harness whose brain made one losing round trip through fills (buy at 100, sell at 90).
fn after_one_round_trip() -> Harness {
    let mut h = harness(&BASIC, VenueScript::instant());
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    h.candle(btc(), 90.0);
    h.decide(BrainId(0), btc(), &Decision::close());
    assert!(h.engine.position(&btc()).is_flat());
    assert_eq!(h.engine.unclaimed_trades(&btc()), 1);
    h
}

fn outcomes_recorded(events: &[EngineEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, EngineEvent::OutcomeRecorded { .. }))
        .count()
}

#[test]
fn a_manual_outcome_claims_a_filled_round_trip_once() {
    let mut h = after_one_round_trip();
    let now = h.now();
    assert_eq!(
        h.engine.record_manual_outcome(&btc(), -10.0, 0.0, now),
        Ok(false)
    );
    assert_eq!(h.engine.unclaimed_trades(&btc()), 0);
    assert_eq!(
        h.engine.record_manual_outcome(&btc(), -10.0, 0.0, now),
        Ok(true)
    );
    h.settle();
    assert_eq!(
        outcomes_recorded(&h.events),
        1,
        "only the second is recorded"
    );
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, EngineEvent::OutcomeClaimed { symbol, .. } if *symbol == btc()))
    );
}

#[test]
fn bad_manual_outcomes_are_refused_without_using_a_claim() {
    let mut h = after_one_round_trip();
    let now = h.now();
    assert!(matches!(
        h.engine.record_manual_outcome(&btc(), f64::NAN, 0.0, now),
        Err(EngineError::NonFinite {
            field: "gross_pnl",
            ..
        })
    ));
    assert!(matches!(
        h.engine
            .record_manual_outcome(&btc(), -1.0, f64::INFINITY, now),
        Err(EngineError::NonFinite { field: "fee", .. })
    ));
    let xrp = rustrade_core::Symbol::new("XRPUSDT").unwrap();
    assert_eq!(
        h.engine.record_manual_outcome(&xrp, -1.0, 0.0, now),
        Err(EngineError::UnknownSymbol(xrp))
    );
    assert_eq!(h.engine.unclaimed_trades(&btc()), 1);
}

#[test]
fn the_unclaimed_count_survives_a_restart_from_snapshot_and_from_journal() {
    let mut h = after_one_round_trip();
    h.settle();
    let now = h.now();
    // From a snapshot (through its serialised form, as a store keeps it).
    let json = serde_json::to_string(&h.engine.snapshot(now)).unwrap();
    let snapshot = serde_json::from_str(&json).unwrap();
    let mut restored = Engine::restore(config(&BASIC), &snapshot, now).unwrap();
    assert_eq!(restored.unclaimed_trades(&btc()), 1);
    assert_eq!(
        restored.record_manual_outcome(&btc(), -10.0, 0.0, now),
        Ok(false)
    );

    // From the journal, including a claim made before the restart.
    assert_eq!(
        h.engine.record_manual_outcome(&btc(), -10.0, 0.0, now),
        Ok(false)
    );
    h.settle();
    let started = rustrade_engine::testkit::START;
    let replayed = Engine::replay(config(&BASIC), started, &h.events, now).unwrap();
    assert_eq!(
        replayed.unclaimed_trades(&btc()),
        0,
        "the claim was journalled"
    );
    let before_claim: Vec<EngineEvent> = h
        .events
        .iter()
        .take_while(|e| !matches!(e, EngineEvent::OutcomeClaimed { .. }))
        .cloned()
        .collect();
    let mut replayed = Engine::replay(config(&BASIC), started, &before_claim, now).unwrap();
    assert_eq!(
        replayed.unclaimed_trades(&btc()),
        1,
        "rebuilt from the fills"
    );
    assert_eq!(
        replayed.record_manual_outcome(&btc(), -10.0, 0.0, now),
        Ok(false)
    );
}
