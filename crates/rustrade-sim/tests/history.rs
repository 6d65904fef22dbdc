//! The opt-in account history: order states of finished orders, fills after a cursor, and
//! positions, through the public `SimVenue` API.

mod common;

use common::*;
use proptest::prelude::*;
use rustrade_core::{
    AssetClass, FillCursor, FillId, InstrumentSpec, OrderKind, OrderStatus, Side, Symbol, Timestamp,
};
use rustrade_sim::{SimConfig, SimVenue};

fn recording() -> SimVenue {
    let v = venue(SimConfig::default()).with_history();
    assert!(v.records_history() && v.history_is_complete());
    v
}

#[test]
fn without_history_only_working_orders_are_known_and_no_fills_are_listed() {
    let mut v = venue(SimConfig::default());
    assert!(!v.records_history() && !v.history_is_complete());
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&limit("rest", Side::Buy, 1.0, 90.0)).unwrap();
    v.submit(&market("m", Side::Buy, 1.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    let rest = v.order_state(&cid("rest")).expect("working");
    assert_eq!(rest.order.status, OrderStatus::Accepted);
    assert_eq!(v.order_state(&cid("m")), None, "finished, no history");
    assert_eq!(
        v.fills_after(&sym(), &FillCursor::since(Timestamp::MIN))
            .count(),
        0
    );
    assert!(!v.history_covers(&sym(), &FillCursor::default()));
}

#[test]
fn a_filled_order_keeps_its_final_state_and_average_price() {
    let mut v = recording();
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let id = v.submit(&market("m", Side::Buy, 2.0)).unwrap();
    let pending = v.order_state(&cid("m")).unwrap();
    assert_eq!(pending.order.status, OrderStatus::Pending);
    assert_eq!(pending.avg_fill_price, None);
    v.on_market(&bar(1, 101.0, 102.0, 100.0, 101.5));
    let done = v.order_state(&cid("m")).unwrap();
    assert_eq!(done.order.status, OrderStatus::Filled);
    assert_eq!(done.order.order_id, id);
    assert_eq!(done.order.filled.get(), 2.0);
    assert_eq!(done.order.kind, OrderKind::Market);
    assert_eq!(done.avg_fill_price.map(|p| p.get()), Some(101.0));
    assert_eq!(v.working_orders(), 0);
}

#[test]
fn partial_fills_average_and_the_rest_keeps_working() {
    let mut v = venue(SimConfig::default().with_participation(0.5)).with_history();
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("big", Side::Buy, 3.0)).unwrap();
    v.on_market(&bar_v(1, 100.0, 100.0, 100.0, 100.0, 2.0)); // 1 of 3
    let part = v.order_state(&cid("big")).unwrap();
    assert_eq!(part.order.status, OrderStatus::PartiallyFilled);
    assert_eq!(part.order.filled.get(), 1.0);
    v.on_market(&bar_v(2, 110.0, 110.0, 110.0, 110.0, 4.0)); // the other 2
    let done = v.order_state(&cid("big")).unwrap();
    assert_eq!(done.order.status, OrderStatus::Filled);
    let avg = done.avg_fill_price.unwrap().get();
    assert!((avg - (100.0 + 2.0 * 110.0) / 3.0).abs() < 1e-9, "{avg}");
}

#[test]
fn cancelled_expired_and_rejected_orders_answer_their_final_status() {
    let mut v = recording();
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    // Cancelled by us.
    v.submit(&limit("c", Side::Buy, 1.0, 90.0)).unwrap();
    v.cancel(&cid("c")).unwrap();
    // Expired: reduce-only with nothing to reduce.
    v.submit(&market("x", Side::Sell, 1.0).reduce_only())
        .unwrap();
    // Rejected on arrival: a post-only that would take.
    let po = with_kind(limit("po", Side::Buy, 1.0, 200.0), OrderKind::PostOnly);
    let po_id = v.submit(&po).unwrap();
    // Rejected at submit: unknown symbol, never numbered.
    let other = Symbol::new("ETHUSDT").unwrap();
    let mut bad = market("bad", Side::Buy, 1.0);
    bad.symbol = other;
    assert!(v.submit(&bad).is_err());
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));

    let status = |id: &str| v.order_state(&cid(id)).map(|s| s.order.status);
    assert_eq!(status("c"), Some(OrderStatus::Cancelled));
    assert_eq!(status("x"), Some(OrderStatus::Expired));
    assert_eq!(status("po"), Some(OrderStatus::Rejected));
    assert_eq!(v.order_state(&cid("po")).unwrap().order.order_id, po_id);
    let refused = v.order_state(&cid("bad")).unwrap();
    assert_eq!(refused.order.status, OrderStatus::Rejected);
    assert_eq!(refused.order.order_id.as_str(), "sim-0");
    assert_eq!(refused.order.symbol, other);
    assert_eq!(v.order_state(&cid("never")), None);
}

#[test]
fn cancel_all_and_cancel_by_venue_id_are_recorded() {
    let mut v = recording();
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&limit("a", Side::Buy, 1.0, 90.0)).unwrap();
    v.submit(&limit("b", Side::Buy, 1.0, 91.0)).unwrap();
    let cid_c = v.submit(&limit("c", Side::Buy, 1.0, 92.0)).unwrap();
    v.cancel_order_id(&cid_c).unwrap();
    assert_eq!(v.cancel_all(&sym()).unwrap(), 2);
    for id in ["a", "b", "c"] {
        assert_eq!(
            v.order_state(&cid(id)).unwrap().order.status,
            OrderStatus::Cancelled,
            "{id}"
        );
    }
}

#[test]
fn a_resubmitted_client_id_keeps_the_first_orders_record() {
    let mut v = recording();
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let first = v.submit(&market("m", Side::Buy, 1.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    assert_eq!(v.submit(&market("m", Side::Buy, 1.0)).unwrap(), first);
    let s = v.order_state(&cid("m")).unwrap();
    assert_eq!(
        (s.order.status, s.order.order_id),
        (OrderStatus::Filled, first)
    );
}

/// A recording venue that made `n` fills, one per bar, alternating buys and sells.
fn traded(n: usize) -> (SimVenue, Vec<rustrade_core::Fill>) {
    traded_in(&vec![1; n])
}

/// A recording venue whose bar `b` filled `groups[b]` orders (all at that bar's time).
fn traded_in(groups: &[usize]) -> (SimVenue, Vec<rustrade_core::Fill>) {
    let mut v = recording();
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let mut made = Vec::new();
    let mut k = 0;
    for (b, &count) in groups.iter().enumerate() {
        for _ in 0..count {
            let side = if k % 2 == 0 { Side::Buy } else { Side::Sell };
            v.submit(&market(&format!("m{k}"), side, 1.0)).unwrap();
            k += 1;
        }
        let bar_no = i64::try_from(b).unwrap() + 1;
        v.on_market(&bar(bar_no, 100.0, 100.0, 100.0, 100.0));
        made.extend(fills(&drain(&mut v)));
    }
    assert_eq!(made.len(), k);
    (v, made)
}

#[test]
fn fills_after_a_known_fill_are_the_later_ones_in_order() {
    let (v, made) = traded(4);
    let all: Vec<_> = v
        .fills_after(&sym(), &FillCursor::since(Timestamp::MIN))
        .copied()
        .collect();
    assert_eq!(all, made);
    let after_second: Vec<_> = v
        .fills_after(&sym(), &FillCursor::after(&made[1]))
        .copied()
        .collect();
    assert_eq!(after_second, made[2..]);
    assert_eq!(
        v.fills_after(&sym(), &FillCursor::after(&made[3])).count(),
        0
    );
    assert!(v.history_covers(&sym(), &FillCursor::after(&made[1])));
    let other = Symbol::new("ETHUSDT").unwrap();
    assert_eq!(v.fills_after(&other, &FillCursor::default()).count(), 0);
}

#[test]
fn an_unknown_cursor_id_falls_back_to_time_and_may_overlap() {
    let (v, made) = traded(4);
    // A cursor whose fill id the venue never made: fills at or after its time, so the fill at
    // exactly that time is listed again (callers deduplicate by fill id).
    let cursor = FillCursor {
        after: Some(FillId::new("elsewhere-7").unwrap()),
        since: made[2].time,
    };
    let listed: Vec<_> = v.fills_after(&sym(), &cursor).copied().collect();
    assert_eq!(listed, made[2..]);
    let late = FillCursor::since(
        made[3]
            .time
            .saturating_add(std::time::Duration::from_secs(1)),
    );
    assert_eq!(v.fills_after(&sym(), &late).count(), 0);
}

#[test]
fn positions_lists_only_non_flat_symbols() {
    let eth = Symbol::new("ETHUSDT").unwrap();
    let mut v = recording();
    v.add_instrument(InstrumentSpec::new(eth, AssetClass::CryptoPerp, 0.01, 0.001).unwrap())
        .unwrap();
    assert_eq!(v.positions().count(), 0);
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("m", Side::Sell, 2.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    let held: Vec<_> = v.positions().collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0, sym());
    assert_eq!(held[0].1.quantity, -2.0);
    v.submit(&market("close", Side::Buy, 2.0)).unwrap();
    v.on_market(&bar(2, 100.0, 100.0, 100.0, 100.0));
    assert_eq!(v.positions().count(), 0);
}

#[test]
fn history_turned_on_after_orders_is_incomplete() {
    let mut v = venue(SimConfig::default());
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("early", Side::Buy, 1.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    v.record_history();
    assert!(v.records_history() && !v.history_is_complete());
    assert_eq!(v.order_state(&cid("early")), None);
    assert!(!v.history_covers(&sym(), &FillCursor::since(Timestamp::MIN)));
    let later = FillCursor::since(v.now().saturating_add(std::time::Duration::from_secs(1)));
    assert!(v.history_covers(&sym(), &later));
}

#[test]
fn a_cloned_venue_keeps_its_own_history() {
    let (v, made) = traded(2);
    let mut copy = v.clone();
    copy.submit(&market("more", Side::Buy, 1.0)).unwrap();
    copy.on_market(&bar(10, 100.0, 100.0, 100.0, 100.0));
    let cursor = FillCursor::after(&made[1]);
    assert_eq!(copy.fills_after(&sym(), &cursor).count(), 1);
    assert_eq!(v.fills_after(&sym(), &cursor).count(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// For any split point `k`, the fills after the cursor of the `k`-th fill are exactly the
    /// fills made after it, even when several fills share its time; a cursor from the start
    /// lists them all, and a time-only cursor at the `k`-th fill's time overlaps, never skips.
    #[test]
    fn the_cursor_splits_the_fills_exactly(
        groups in proptest::collection::vec(1usize..4, 1..12),
        split in 0usize..64,
    ) {
        let (v, made) = traded_in(&groups);
        let k = split % made.len();
        let after: Vec<_> = v.fills_after(&sym(), &FillCursor::after(&made[k])).copied().collect();
        prop_assert_eq!(&after[..], &made[k + 1..]);
        let from_start: Vec<_> = v
            .fills_after(&sym(), &FillCursor::since(Timestamp::MIN))
            .copied()
            .collect();
        prop_assert_eq!(&from_start, &made);
        let by_time: Vec<_> = v
            .fills_after(&sym(), &FillCursor::since(made[k].time))
            .copied()
            .collect();
        let first = made.iter().position(|f| f.time == made[k].time).unwrap();
        prop_assert_eq!(&by_time[..], &made[first..]);
    }
}
