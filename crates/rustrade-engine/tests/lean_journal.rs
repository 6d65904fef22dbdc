//! `JournalDetail::Lean`: the same inputs give the same commands, fills, ledgers and orders as a
//! full journal, and the lean journal is the full one without `OrderAccepted`,
//! `CancelRequested` and the `PositionChanged` of fills.

mod common;

use std::time::Duration;

use common::*;
use rustrade_core::{Capability, ClientOrderId, Decision, Price};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, Command, EngineEvent, JournalDetail};

/// Accepts and completely fills our order `cid` at `price`.
fn fill_all(h: &mut Harness, cid: ClientOrderId, price: f64) {
    let q = h.engine.order(&cid).unwrap().order.quantity.get();
    h.accept(cid);
    h.fill(cid, q, price, 0.01);
}

/// A bracketed entry with a venue-held stop leg, filled in two parts, closed by the brain (its
/// leg then cancelled because the position is flat), a second brain's resting limit order left
/// to expire by the order TTL, a short and its reversal.
fn scenario(journal: JournalDetail) -> Harness {
    let mut caps = BASIC.to_vec();
    caps.push(Capability::StopMarket);
    let mut config = config(&caps).with_journal(journal);
    config.order_ttl = Some(Duration::from_secs(120));
    let mut h = Harness::new(config, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(
        BrainId(0),
        btc(),
        &Decision::buy(0.5).with_stop(Price::new(90.0).unwrap()),
    );
    let entry = h.last_placed().unwrap();
    let q = h.engine.order(&entry).unwrap().order.quantity.get();
    h.accept(entry);
    h.fill(entry, q / 2.0, 100.0, 0.02);
    h.fill(entry, q / 2.0, 100.5, 0.03);
    let leg = h.last_placed().unwrap();
    assert_ne!(leg, entry, "the stop leg is placed at the venue");
    h.accept(leg);
    h.candle(btc(), 101.0);
    h.decide(
        BrainId(1),
        btc(),
        &Decision::buy(0.3).with_limit_price(Price::new(95.0).unwrap()),
    );
    let resting = h.last_placed().unwrap();
    h.accept(resting);
    h.advance(Duration::from_secs(60));
    h.candle(btc(), 104.0);
    h.decide(BrainId(0), btc(), &Decision::close());
    let exit = h.last_placed().unwrap();
    fill_all(&mut h, exit, 104.0);
    h.confirm_cancel(leg);
    h.advance(Duration::from_secs(120));
    h.candle(btc(), 103.0);
    let now = h.now();
    h.engine.handle_timer(now);
    h.settle();
    h.confirm_cancel(resting);
    h.decide(BrainId(1), btc(), &Decision::sell(1.0));
    let short = h.last_placed().unwrap();
    fill_all(&mut h, short, 103.0);
    h.candle(btc(), 99.0);
    let placed = h.commands.len();
    h.decide(BrainId(1), btc(), &Decision::buy(1.0).with_reverse());
    let reversal: Vec<ClientOrderId> = h.commands[placed..]
        .iter()
        .filter_map(|c| match c {
            Command::Place(p) => Some(p.order.client_id),
            Command::Cancel(_) => None,
        })
        .collect();
    assert_eq!(reversal.len(), 2, "a close and an entry");
    for cid in reversal {
        fill_all(&mut h, cid, 99.0);
    }
    h
}

fn restates(event: &EngineEvent) -> bool {
    matches!(
        event,
        EngineEvent::OrderAccepted { .. }
            | EngineEvent::CancelRequested { .. }
            | EngineEvent::PositionChanged { .. }
    )
}

#[test]
fn a_lean_journal_is_the_full_one_without_the_events_that_restate_others() {
    let full = scenario(JournalDetail::Full);
    let lean = scenario(JournalDetail::Lean);
    let kinds = |k: fn(&EngineEvent) -> bool| full.events.iter().filter(|e| k(e)).count();
    // The scenario exercises every left-out kind, and the orders, fills and trades kept.
    assert!(kinds(|e| matches!(e, EngineEvent::OrderAccepted { .. })) >= 5);
    assert!(kinds(|e| matches!(e, EngineEvent::CancelRequested { .. })) >= 2);
    assert!(kinds(|e| matches!(e, EngineEvent::PositionChanged { .. })) >= 5);
    assert!(kinds(|e| matches!(e, EngineEvent::TradeClosed { .. })) >= 2);
    assert_eq!(
        kinds(|e| matches!(e, EngineEvent::MalformedInput { .. })),
        0
    );
    let kept: Vec<&EngineEvent> = full.events.iter().filter(|e| !restates(e)).collect();
    assert_eq!(lean.events.iter().collect::<Vec<_>>(), kept);
    assert_eq!(lean.engine.journal_seq(), kept.len() as u64);
    assert!(lean.events.len() < full.events.len());
}

#[test]
fn a_lean_journal_changes_no_command_fill_ledger_or_order() {
    let full = scenario(JournalDetail::Full);
    let lean = scenario(JournalDetail::Lean);
    assert_eq!(lean.commands, full.commands);
    let fills = |h: &Harness| -> Vec<rustrade_core::Fill> {
        h.events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::FillApplied { fill, .. } => Some(*fill),
                _ => None,
            })
            .collect()
    };
    assert_eq!(fills(&lean), fills(&full));
    assert_eq!(fills(&full).len(), 6);
    assert_eq!(lean.engine.ledger(&btc()), full.engine.ledger(&btc()));
    for brain in [BrainId(0), BrainId(1)] {
        assert_eq!(
            lean.engine.brain_ledger(brain, &btc()),
            full.engine.brain_ledger(brain, &btc())
        );
        assert_eq!(
            lean.engine.brain_stats(brain),
            full.engine.brain_stats(brain)
        );
    }
    assert_eq!(lean.engine.position(&btc()), full.engine.position(&btc()));
    let orders = |h: &Harness| {
        h.events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::OrderPlaced { order, .. } => h.engine.order(&order.client_id).copied(),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(orders(&lean), orders(&full));
    let (mut a, mut b) = (
        lean.engine.snapshot(lean.now()),
        full.engine.snapshot(full.now()),
    );
    a.journal_seq = 0;
    b.journal_seq = 0;
    assert_eq!(a, b);
}
