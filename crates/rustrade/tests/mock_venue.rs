//! `MockExchange` as a venue for recovery tests: its records (`order_status`, `fills_since`,
//! `positions`) and each fault knob, through the public `ExchangeClient` API.

use rustrade::testkit::MockExchange;
use rustrade_core::{
    ClientOrderId, ExchangeClient, ExchangeError, ExecutionReport, Fill, FillCursor, FillId,
    FillSource, Order, OrderStatus, Price, Quantity, Side, Symbol, Timestamp,
};

fn sym() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn market(id: &str, side: Side, qty: f64) -> Order {
    Order::market(cid(id), sym(), side, Quantity::new(qty).unwrap())
}

fn limit(id: &str, side: Side, qty: f64, price: f64) -> Order {
    Order::limit(
        cid(id),
        sym(),
        side,
        Quantity::new(qty).unwrap(),
        Price::new(price).unwrap(),
    )
}

/// Every report queued on `source` right now.
async fn queued(source: &mut Box<dyn FillSource>) -> Vec<ExecutionReport> {
    let mut out = Vec::new();
    while let Ok(Some(r)) =
        tokio::time::timeout(std::time::Duration::from_millis(1), source.next_report())
            .await
            .unwrap_or(Ok(None))
    {
        out.push(r);
    }
    out
}

async fn all_fills(ex: &MockExchange) -> Vec<Fill> {
    ex.fills_since(&sym(), &FillCursor::since(Timestamp::MIN))
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn order_status_knows_working_filled_cancelled_and_forgotten_orders() {
    let ex = MockExchange::new();
    ex.set_price("BTCUSDT", 105.0);
    let m = ex.place_order(&market("m", Side::Buy, 2.0)).await.unwrap();
    ex.place_order(&limit("rest", Side::Buy, 1.0, 90.0))
        .await
        .unwrap();
    ex.place_order(&limit("gone", Side::Buy, 1.0, 91.0))
        .await
        .unwrap();
    ex.place_order(&limit("lost", Side::Buy, 1.0, 92.0))
        .await
        .unwrap();
    ex.cancel_order(&sym(), &cid("gone"), None).await.unwrap();
    assert!(ex.forget_order(&cid("lost")));

    let filled = ex.order_status(&sym(), &cid("m")).await.unwrap().unwrap();
    assert_eq!(filled.order.order_id, m);
    assert_eq!(filled.order.status, OrderStatus::Filled);
    assert_eq!(filled.order.filled.get(), 2.0);
    assert_eq!(filled.avg_fill_price.map(Price::get), Some(105.0));
    let status = |s: Option<rustrade_core::OrderState>| s.map(|s| s.order.status);
    assert_eq!(
        status(ex.order_status(&sym(), &cid("rest")).await.unwrap()),
        Some(OrderStatus::Accepted)
    );
    assert_eq!(
        status(ex.order_status(&sym(), &cid("gone")).await.unwrap()),
        Some(OrderStatus::Cancelled)
    );
    assert_eq!(ex.order_status(&sym(), &cid("lost")).await.unwrap(), None);
    assert_eq!(ex.order_status(&sym(), &cid("never")).await.unwrap(), None);
    let other = Symbol::new("ETHUSDT").unwrap();
    assert_eq!(ex.order_status(&other, &cid("m")).await.unwrap(), None);
    // find_order answers working orders only.
    assert!(ex.find_order(&sym(), &cid("rest")).await.unwrap().is_some());
    assert_eq!(ex.find_order(&sym(), &cid("m")).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn a_refused_placement_is_not_an_order_at_the_venue() {
    let ex = MockExchange::new();
    ex.reject_next("insufficient balance");
    assert!(ex.place_order(&market("r", Side::Buy, 1.0)).await.is_err());
    assert_eq!(ex.order_status(&sym(), &cid("r")).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn every_fill_is_recorded_with_increasing_ids_and_listed_after_a_cursor() {
    let ex = MockExchange::new();
    ex.place_order(&market("a", Side::Buy, 1.0)).await.unwrap();
    ex.place_order(&limit("b", Side::Buy, 1.0, 95.0))
        .await
        .unwrap();
    ex.fill_order(&cid("b"), 95.0).unwrap();
    ex.place_order(&market("c", Side::Sell, 1.0)).await.unwrap();
    let fills = all_fills(&ex).await;
    assert_eq!(fills, ex.venue_fills("BTCUSDT"));
    let ids: Vec<_> = fills.iter().map(|f| f.client_id.unwrap()).collect();
    assert_eq!(ids, [cid("a"), cid("b"), cid("c")]);
    let numbers: Vec<u64> = fills
        .iter()
        .map(|f| f.fill_id.as_str()[1..].parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(fills.windows(2).all(|w| w[0].time < w[1].time));

    let after_first = ex
        .fills_since(&sym(), &FillCursor::after(&fills[0]))
        .await
        .unwrap();
    assert_eq!(after_first, fills[1..]);
    // An id the venue never made falls back to the time, inclusive: an overlap, never a gap.
    let foreign = FillCursor {
        after: Some(FillId::new("x9").unwrap()),
        since: fills[1].time,
    };
    assert_eq!(ex.fills_since(&sym(), &foreign).await.unwrap(), fills[1..]);
    let other = Symbol::new("ETHUSDT").unwrap();
    assert!(
        ex.fills_since(&other, &FillCursor::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn fills_since_pages_when_asked_to() {
    let ex = MockExchange::new().with_fill_page(2);
    for k in 0..5 {
        let side = if k % 2 == 0 { Side::Buy } else { Side::Sell };
        ex.place_order(&market(&format!("m{k}"), side, 1.0))
            .await
            .unwrap();
    }
    let mut cursor = FillCursor::since(Timestamp::MIN);
    let mut seen = Vec::new();
    loop {
        let page = ex.fills_since(&sym(), &cursor).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        cursor = FillCursor::after(last);
        seen.extend(page);
    }
    assert_eq!(seen, ex.venue_fills("BTCUSDT"));
    assert_eq!(seen.len(), 5);
}

#[tokio::test(start_paused = true)]
async fn positions_lists_the_non_flat_symbols() {
    let ex = MockExchange::new();
    assert!(ex.positions().await.unwrap().is_empty());
    ex.place_order(&market("a", Side::Sell, 2.0)).await.unwrap();
    let held = ex.positions().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].0, held[0].1.quantity), (sym(), -2.0));
    ex.place_order(&market("b", Side::Buy, 2.0)).await.unwrap();
    assert!(ex.positions().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn close_position_is_explained_by_a_recorded_fill_but_not_reported() {
    let ex = MockExchange::new();
    let mut source = ex.fill_source();
    ex.place_order(&market("a", Side::Buy, 1.5)).await.unwrap();
    assert_eq!(queued(&mut source).await.len(), 1);
    ex.set_price("BTCUSDT", 110.0);
    let close = ex.close_position(&sym()).await.unwrap().unwrap();
    assert!(queued(&mut source).await.is_empty());
    let last = *all_fills(&ex).await.last().unwrap();
    assert_eq!((last.order_id, last.client_id), (close, None));
    assert_eq!((last.side, last.quantity.get()), (Side::Sell, 1.5));
    assert!(ex.positions().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_placement_that_landed_is_found_by_lookup() {
    let ex = MockExchange::new();
    let mut source = ex.fill_source();
    ex.time_out_next_place(true);
    let err = ex
        .place_order(&market("t", Side::Buy, 1.0))
        .await
        .unwrap_err();
    assert!(matches!(err, ExchangeError::Timeout(_)), "{err}");
    assert!(err.is_outcome_unknown());
    let state = ex.order_status(&sym(), &cid("t")).await.unwrap().unwrap();
    assert_eq!(state.order.status, OrderStatus::Filled, "auto filled");
    assert_eq!(ex.venue_position("BTCUSDT").quantity, 1.0);
    assert_eq!(queued(&mut source).await.len(), 1, "the fill was reported");
    // A retry with the same client id is a duplicate, not a second order.
    assert!(ex.place_order(&market("t", Side::Buy, 1.0)).await.is_err());
    assert_eq!(ex.duplicate_placements(), 1);
    // The knob applies once.
    ex.place_order(&market("u", Side::Buy, 1.0)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_placement_that_never_landed_is_definitely_unknown() {
    let ex = MockExchange::new();
    ex.time_out_next_place(false);
    let err = ex
        .place_order(&market("t", Side::Buy, 1.0))
        .await
        .unwrap_err();
    assert!(matches!(err, ExchangeError::Timeout(_)), "{err}");
    assert_eq!(ex.order_status(&sym(), &cid("t")).await.unwrap(), None);
    assert!(ex.venue_position("BTCUSDT").is_flat());
    assert_eq!(ex.placed().len(), 1, "the attempt is recorded");
    // The venue never saw it, so the same client id may be placed again.
    ex.place_order(&market("t", Side::Buy, 1.0)).await.unwrap();
    assert_eq!(ex.venue_position("BTCUSDT").quantity, 1.0);
}

#[tokio::test(start_paused = true)]
async fn failing_cancels_are_retryable_and_cancel_nothing() {
    let ex = MockExchange::new();
    ex.place_order(&limit("l", Side::Buy, 1.0, 90.0))
        .await
        .unwrap();
    ex.fail_next_cancels(2);
    for _ in 0..2 {
        let err = ex.cancel_order(&sym(), &cid("l"), None).await.unwrap_err();
        assert!(matches!(err, ExchangeError::Transport(_)), "{err}");
        assert!(err.is_retryable());
        assert!(ex.order(&cid("l")).is_some(), "still working");
    }
    ex.cancel_order(&sym(), &cid("l"), None).await.unwrap();
    assert!(ex.order(&cid("l")).is_none());
    assert_eq!(ex.cancels().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn failing_status_lookups_are_transport_errors_then_answer() {
    let ex = MockExchange::new();
    ex.place_order(&limit("l", Side::Buy, 1.0, 90.0))
        .await
        .unwrap();
    ex.fail_next_status(2);
    let err = ex.order_status(&sym(), &cid("l")).await.unwrap_err();
    assert!(matches!(err, ExchangeError::Transport(_)), "{err}");
    // find_order looks up through order_status, so it sees the fault too.
    assert!(ex.find_order(&sym(), &cid("l")).await.is_err());
    assert!(ex.order_status(&sym(), &cid("l")).await.unwrap().is_some());
}

#[tokio::test(start_paused = true)]
async fn a_manual_trade_moves_the_position_and_has_no_client_id() {
    let ex = MockExchange::new();
    let mut source = ex.fill_source();
    let fill = ex.manual_trade("BTCUSDT", Side::Sell, 0.5, 120.0).unwrap();
    assert_eq!(fill.client_id, None);
    assert_eq!(ex.venue_position("BTCUSDT").quantity, -0.5);
    assert_eq!(all_fills(&ex).await, [fill]);
    assert_eq!(
        queued(&mut source).await,
        [ExecutionReport::Fill(fill)],
        "reported like any account trade"
    );
    let held = ex.positions().await.unwrap();
    assert_eq!(held[0].1.avg_entry, 120.0);
    let err = ex
        .manual_trade("BTCUSDT", Side::Buy, 0.0, 100.0)
        .unwrap_err();
    assert!(err.to_string().contains("qty"), "{err}");
    let err = ex
        .manual_trade("BTCUSDT", Side::Buy, 1.0, f64::NAN)
        .unwrap_err();
    assert!(err.to_string().contains("price"), "{err}");
    assert_eq!(
        all_fills(&ex).await.len(),
        1,
        "refused trades change nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn partial_fills_accumulate_until_the_order_is_filled() {
    let ex = MockExchange::new();
    let mut source = ex.fill_source();
    ex.place_order(&limit("l", Side::Buy, 3.0, 100.0))
        .await
        .unwrap();
    ex.partial_fill(&cid("l"), 1.0, 100.0).unwrap();
    let part = ex.order_status(&sym(), &cid("l")).await.unwrap().unwrap();
    assert_eq!(part.order.status, OrderStatus::PartiallyFilled);
    assert_eq!(part.order.filled.get(), 1.0);
    let open = ex.open_orders(Some(&sym())).await.unwrap();
    assert_eq!(
        (open[0].status, open[0].filled.get()),
        (OrderStatus::PartiallyFilled, 1.0)
    );
    let err = ex.partial_fill(&cid("l"), 5.0, 100.0).unwrap_err();
    assert!(err.to_string().contains("qty"), "{err}");
    ex.fill_order(&cid("l"), 106.0).unwrap(); // the remaining 2
    let done = ex.order_status(&sym(), &cid("l")).await.unwrap().unwrap();
    assert_eq!(done.order.status, OrderStatus::Filled);
    assert_eq!(done.order.filled.get(), 3.0);
    assert_eq!(done.avg_fill_price.map(Price::get), Some(104.0));
    assert!(ex.order(&cid("l")).is_none());
    assert_eq!(ex.venue_position("BTCUSDT").quantity, 3.0);
    let reported: Vec<f64> = queued(&mut source)
        .await
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Fill(f) => Some(f.quantity.get()),
            _ => None,
        })
        .collect();
    assert_eq!(reported, [1.0, 2.0]);
    assert!(ex.partial_fill(&cid("l"), 1.0, 100.0).is_err(), "finished");
}

#[tokio::test(start_paused = true)]
async fn an_expired_order_is_reported_and_answers_expired() {
    let ex = MockExchange::new();
    let mut source = ex.fill_source();
    let id = ex
        .place_order(&limit("l", Side::Buy, 1.0, 90.0))
        .await
        .unwrap();
    ex.expire_order(&cid("l")).unwrap();
    assert!(ex.order(&cid("l")).is_none());
    let state = ex.order_status(&sym(), &cid("l")).await.unwrap().unwrap();
    assert_eq!(state.order.status, OrderStatus::Expired);
    assert!(matches!(
        queued(&mut source).await.as_slice(),
        [ExecutionReport::Expired { client_id: Some(c), order_id, .. }] if *c == cid("l") && *order_id == id
    ));
    assert!(matches!(
        ex.expire_order(&cid("l")),
        Err(ExchangeError::UnknownOrder(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_fill_while_the_bot_is_down_is_only_found_by_catch_up() {
    let ex = MockExchange::new();
    let mut source = ex.fill_source();
    ex.place_order(&limit("l", Side::Buy, 1.0, 90.0))
        .await
        .unwrap();
    ex.fill_order_silently(&cid("l"), 90.0).unwrap();
    assert!(queued(&mut source).await.is_empty());
    let state = ex.order_status(&sym(), &cid("l")).await.unwrap().unwrap();
    assert_eq!(state.order.status, OrderStatus::Filled);
    assert_eq!(all_fills(&ex).await.len(), 1);
    assert_eq!(ex.venue_position("BTCUSDT").quantity, 1.0);

    // The general switch: everything while down is lost, and reporting resumes after.
    ex.lose_reports(true);
    ex.manual_trade("BTCUSDT", Side::Sell, 1.0, 91.0).unwrap();
    assert!(queued(&mut source).await.is_empty());
    ex.lose_reports(false);
    ex.manual_trade("BTCUSDT", Side::Buy, 1.0, 92.0).unwrap();
    assert_eq!(queued(&mut source).await.len(), 1);
    assert_eq!(all_fills(&ex).await.len(), 3);
}
