//! The per-symbol fill cursor a catch-up resumes from, and fills replayed after the fill-id
//! memory forgot them.

mod common;

use common::*;
use rustrade_core::{Decision, FillCursor};
use rustrade_engine::testkit::{Harness, START, VenueScript};
use rustrade_engine::{BrainId, Engine, Malformed};

#[test]
fn the_cursor_starts_at_the_engine_start_and_follows_the_newest_fill() {
    let mut h = harness(&BASIC, VenueScript::manual());
    assert_eq!(h.engine.fill_cursor(&btc()), Some(FillCursor::since(START)));
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let cid = h.last_placed().unwrap();
    h.accept(cid);
    let first = h.fill(cid, 0.5, 100.0, 0.0);
    assert_eq!(
        h.engine.fill_cursor(&btc()),
        Some(FillCursor::after(&first))
    );
    h.advance(std::time::Duration::from_secs(1));
    let second = h.fill(cid, 0.5, 100.0, 0.0);
    assert_eq!(
        h.engine.fill_cursor(&btc()),
        Some(FillCursor::after(&second))
    );
    // A late fill, older than the newest, does not move the cursor back.
    let restored = Engine::restore(
        h.engine.config().clone(),
        &h.engine.snapshot(h.now()),
        h.now(),
    )
    .unwrap();
    assert_eq!(
        restored.fill_cursor(&btc()),
        Some(FillCursor::after(&second))
    );
}

#[test]
fn a_fill_replayed_after_the_memory_forgot_it_is_not_applied_again() {
    let mut config = config(&BASIC);
    config.remembered_fill_ids = 2;
    let mut h: Harness = harness_with(config, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    let replayed = h.fill(entry, 1.0, 100.0, 0.1);
    // Enough other fills that the memory of two ids forgets the entry's.
    for price in [101.0, 102.0, 103.0] {
        h.decide(BrainId(1), btc(), &Decision::buy(0.1));
        let cid = h.last_placed().unwrap();
        h.accept(cid);
        h.fill(cid, 0.1, price, 0.0);
    }
    let before = h.engine.position(&btc());
    let now = h.now();
    h.engine.handle_fill(&replayed, now);
    h.settle();
    assert_eq!(h.engine.position(&btc()), before, "applied once");
    assert!(matches!(
        malformed(&h.events).last(),
        Some(Malformed::DuplicateFill { .. })
    ));
}
