//! `PaperExchange` and `PaperFills` through the core traits, on tokio's paused clock.

mod common;

use common::*;
use rustrade_core::{
    Asset, Capability, ExchangeClient, ExchangeError, ExecutionReport, FillCursor, FillSource,
    MarketDataBus, OrderKind, OrderStatus, Side, Timestamp,
};
use rustrade_sim::{PaperExchange, PaperFills, SimConfig};

fn paper(config: SimConfig) -> (PaperExchange, PaperFills) {
    PaperExchange::new(venue(config))
}

async fn next(fills: &mut PaperFills) -> ExecutionReport {
    fills.next_report().await.unwrap().expect("a report")
}

#[tokio::test(start_paused = true)]
async fn orders_fill_on_the_next_event_and_reports_arrive_in_order() {
    let (ex, mut fills) = paper(SimConfig::default());
    fills.connect().await.unwrap();
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let id = ex.place_order(&market("m1", Side::Buy, 2.0)).await.unwrap();
    assert_eq!(id.as_str(), "sim-1");
    assert_eq!(
        ex.open_orders(None).await.unwrap()[0].status,
        OrderStatus::Pending
    );
    ex.on_market(&bar(1, 101.0, 102.0, 100.0, 101.5)).unwrap();
    assert!(
        matches!(next(&mut fills).await, ExecutionReport::Accepted { order_id, .. } if order_id == id)
    );
    match next(&mut fills).await {
        ExecutionReport::Fill(f) => {
            assert_eq!(f.price.get(), 101.0);
            assert_eq!(f.quantity.get(), 2.0);
        }
        other => panic!("expected a fill, got {other:?}"),
    }
    let pos = ex.position(&sym()).await.unwrap();
    assert_eq!((pos.quantity, pos.avg_entry), (2.0, 101.0));
    assert_eq!(pos.unrealised_pnl, 1.0);
    let usdt = ex.balance(&Asset::new("USDT").unwrap()).await.unwrap();
    assert_eq!(usdt.free.get(), 10_000.0 - 202.0);
    let btc = ex.balance(&Asset::new("BTC").unwrap()).await.unwrap();
    assert_eq!(btc.free.get(), 0.0);
}

#[tokio::test(start_paused = true)]
async fn capabilities_are_configurable_and_enforced() {
    let (ex, mut fills) = paper(
        SimConfig::default()
            .without(Capability::StopMarket)
            .without(Capability::PostOnly),
    );
    assert!(!ex.supports(Capability::StopMarket));
    assert!(!ex.supports(Capability::PostOnly));
    assert!(ex.supports(Capability::LimitOrders));
    assert_eq!(ex.venue().as_str(), "sim");
    let err = ex
        .place_order(&stop("s", Side::Sell, 1.0, 90.0))
        .await
        .unwrap_err();
    assert!(matches!(err, ExchangeError::Unsupported(_)), "{err}");
    assert!(matches!(
        next(&mut fills).await,
        ExecutionReport::Rejected { .. }
    ));
    let po = with_kind(limit("p", Side::Buy, 1.0, 90.0), OrderKind::PostOnly);
    assert!(matches!(
        ex.place_order(&po).await,
        Err(ExchangeError::Unsupported(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn rejections_cancels_and_unknowns_map_to_exchange_errors() {
    let config = SimConfig {
        max_leverage: Some(1.0),
        ..SimConfig::default()
    };
    let (ex, mut fills) = paper(config);
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let err = ex
        .place_order(&market("big", Side::Buy, 1_000.0))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ExchangeError::Rejected { reason } if reason.contains("InsufficientFunds")),
        "{err}"
    );
    assert!(!err.is_retryable());
    next(&mut fills).await;

    let id = ex
        .place_order(&limit("l", Side::Buy, 1.0, 90.0))
        .await
        .unwrap();
    ex.place_order(&limit("l2", Side::Buy, 1.0, 91.0))
        .await
        .unwrap();
    let open = ex.find_order(&sym(), &cid("l")).await.unwrap().unwrap();
    assert_eq!(open.order_id, id);
    ex.cancel_order(&sym(), &cid("l"), Some(&id)).await.unwrap();
    assert!(
        matches!(next(&mut fills).await, ExecutionReport::Cancelled { order_id, .. } if order_id == id)
    );
    let err = ex.cancel_order(&sym(), &cid("l"), None).await.unwrap_err();
    assert!(matches!(err, ExchangeError::UnknownOrder(_)));
    assert_eq!(ex.cancel_all(&sym()).await.unwrap(), 1);
    let other = rustrade_core::Symbol::new("ETHUSDT").unwrap();
    assert!(ex.cancel_all(&other).await.is_err());
    assert!(ex.instrument(&other).await.is_err());
    assert!(ex.position(&other).await.is_err());
    assert_eq!(ex.instrument(&sym()).await.unwrap(), spec());
}

#[tokio::test(start_paused = true)]
async fn close_position_sends_a_reduce_only_market_order() {
    let (ex, mut fills) = paper(SimConfig::default());
    assert_eq!(ex.close_position(&sym()).await.unwrap(), None, "flat");
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    ex.place_order(&market("in", Side::Sell, 1.5))
        .await
        .unwrap();
    ex.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let close = ex.close_position(&sym()).await.unwrap().expect("an order");
    let open = ex.open_orders(Some(&sym())).await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].reduce_only && open[0].side == Side::Buy && open[0].quantity.get() == 1.5);
    ex.on_market(&bar(2, 98.0, 99.0, 97.0, 98.0)).unwrap();
    assert!(ex.position(&sym()).await.unwrap().is_flat());
    let mut last_fill = None;
    for _ in 0..4 {
        if let ExecutionReport::Fill(f) = next(&mut fills).await {
            last_fill = Some(f);
        }
    }
    let f = last_fill.unwrap();
    assert_eq!((f.order_id, f.price.get()), (close, 98.0));
}

#[tokio::test(start_paused = true)]
async fn a_bus_feed_task_drives_the_venue() {
    let (ex, mut fills) = paper(SimConfig::default());
    let bus = MarketDataBus::new(16);
    let rx = bus.subscribe();
    let feeder = ex.clone();
    let feed_bus = bus.clone();
    let task = tokio::spawn(async move { feeder.run_feed(rx, &feed_bus).await });
    bus.publish(bar(0, 100.0, 100.0, 100.0, 100.0));
    tokio::task::yield_now().await;
    ex.place_order(&limit("l", Side::Buy, 1.0, 95.0))
        .await
        .unwrap();
    bus.publish(bar(1, 99.0, 99.0, 94.0, 96.0));
    assert!(matches!(
        next(&mut fills).await,
        ExecutionReport::Accepted { .. }
    ));
    match next(&mut fills).await {
        ExecutionReport::Fill(f) => assert_eq!(f.price.get(), 95.0),
        other => panic!("expected a fill, got {other:?}"),
    }
    assert_eq!(bus.lagged_total(), 0);
    // The feed runs until its bus closes or it is cancelled, as the facade does on shutdown.
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn a_lagging_feed_records_the_missed_events_on_the_bus() {
    let (ex, _fills) = paper(SimConfig::default());
    let bus = MarketDataBus::new(2);
    let rx = bus.subscribe();
    for n in 0..6 {
        bus.publish(bar(n, 96.0, 96.0, 96.0, 96.0));
    }
    // Paused time: the timeout fires only once the feed has drained everything and is idle.
    let outcome =
        tokio::time::timeout(std::time::Duration::from_secs(1), ex.run_feed(rx, &bus)).await;
    assert!(
        outcome.is_err(),
        "the bus is still open, so the feed was still running"
    );
    assert_eq!(bus.lagged_total(), 4);
    let v = ex.shared_venue();
    assert_eq!(v.lock().unwrap().mark(&sym()), Some(96.0));
}

#[tokio::test(start_paused = true)]
async fn the_feed_ends_when_the_bus_closes() {
    let (ex, _fills) = paper(SimConfig::default());
    let bus = MarketDataBus::new(4);
    let rx = bus.subscribe();
    let lag_only = MarketDataBus::new(1);
    bus.publish(bar(0, 96.0, 96.0, 96.0, 96.0));
    drop(bus);
    ex.run_feed(rx, &lag_only).await.unwrap();
    assert!(ex.shared_venue().lock().unwrap().now().as_nanos() > 0);
}

#[tokio::test(start_paused = true)]
async fn fill_source_ends_when_the_exchange_is_gone() {
    let (ex, mut fills) = paper(SimConfig::default());
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    ex.place_order(&market("m", Side::Buy, 1.0)).await.unwrap();
    ex.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0)).unwrap();
    assert_eq!(fills.name(), "paper");
    drop(ex);
    let mut n = 0;
    while let Some(_r) = fills.next_report().await.unwrap() {
        n += 1;
    }
    assert_eq!(n, 2, "accepted and fill are still delivered before the end");
}

#[tokio::test(start_paused = true)]
async fn from_config_registers_instruments_and_validates() {
    let (ex, _fills) = PaperExchange::from_config(SimConfig::default(), [spec()]).unwrap();
    assert_eq!(ex.instrument(&sym()).await.unwrap(), spec());
    let err = PaperExchange::from_config(SimConfig::default(), [spec(), spec()]).unwrap_err();
    assert_eq!(err, rustrade_sim::SimError::DuplicateInstrument(sym()));
    let err = PaperExchange::from_config(SimConfig::default().with_initial_cash(f64::NAN), [])
        .unwrap_err();
    assert!(err.to_string().starts_with("initial_cash"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn queued_reports_can_be_taken_without_waiting_in_order() {
    let (ex, mut fills) = paper(SimConfig::default());
    assert!(fills.try_next_report().is_none());
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let id = ex.place_order(&market("m1", Side::Buy, 2.0)).await.unwrap();
    ex.on_market(&bar(1, 101.0, 102.0, 100.0, 101.5)).unwrap();
    assert!(matches!(
        fills.try_next_report(),
        Some(ExecutionReport::Accepted { order_id, .. }) if order_id == id
    ));
    assert!(matches!(
        fills.try_next_report(),
        Some(ExecutionReport::Fill(f)) if f.price.get() == 101.0 && f.quantity.get() == 2.0
    ));
    assert!(fills.try_next_report().is_none());
}

#[tokio::test(start_paused = true)]
async fn order_status_answers_working_and_finished_orders_and_a_definite_none() {
    let (ex, _fills) = paper(SimConfig::default());
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let m = ex.place_order(&market("m", Side::Buy, 2.0)).await.unwrap();
    ex.place_order(&limit("rest", Side::Buy, 1.0, 90.0))
        .await
        .unwrap();
    ex.place_order(&limit("gone", Side::Buy, 1.0, 91.0))
        .await
        .unwrap();
    ex.on_market(&bar(1, 101.0, 102.0, 100.0, 101.5)).unwrap();
    ex.cancel_order(&sym(), &cid("gone"), None).await.unwrap();

    let filled = ex.order_status(&sym(), &cid("m")).await.unwrap().unwrap();
    assert_eq!(filled.order.order_id, m);
    assert_eq!(filled.order.status, OrderStatus::Filled);
    assert_eq!(filled.order.filled.get(), 2.0);
    assert_eq!(filled.avg_fill_price.map(|p| p.get()), Some(101.0));
    let rest = ex
        .order_status(&sym(), &cid("rest"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest.order.status, OrderStatus::Accepted);
    let gone = ex
        .order_status(&sym(), &cid("gone"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.order.status, OrderStatus::Cancelled);
    assert_eq!(ex.order_status(&sym(), &cid("never")).await.unwrap(), None);
    // find_order still answers open orders only.
    assert!(ex.find_order(&sym(), &cid("rest")).await.unwrap().is_some());
    assert_eq!(ex.find_order(&sym(), &cid("m")).await.unwrap(), None);

    let other = rustrade_core::Symbol::new("ETHUSDT").unwrap();
    assert!(ex.order_status(&other, &cid("m")).await.is_err());
    assert!(
        ex.fills_since(&other, &FillCursor::default())
            .await
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn fills_since_pages_through_the_history_after_a_cursor() {
    let (ex, mut reports) = paper(SimConfig::default());
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let total = PaperExchange::FILL_PAGE + 6;
    for k in 0..total {
        let side = if k % 2 == 0 { Side::Buy } else { Side::Sell };
        ex.place_order(&market(&format!("m{k}"), side, 1.0))
            .await
            .unwrap();
    }
    ex.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let mut made = Vec::new();
    while let Some(r) = reports.try_next_report() {
        if let ExecutionReport::Fill(f) = r {
            made.push(f);
        }
    }
    assert_eq!(made.len(), total);

    let mut cursor = FillCursor::since(Timestamp::MIN);
    let mut seen = Vec::new();
    loop {
        let page = ex.fills_since(&sym(), &cursor).await.unwrap();
        assert!(page.len() <= PaperExchange::FILL_PAGE);
        let Some(last) = page.last() else { break };
        cursor = FillCursor::after(last);
        seen.extend(page);
    }
    assert_eq!(seen, made);
    assert!(
        ex.positions().await.unwrap().is_empty(),
        "buys and sells cancel out"
    );
}

#[tokio::test(start_paused = true)]
async fn positions_reports_every_non_flat_symbol() {
    let (ex, _fills) = paper(SimConfig::default());
    assert!(ex.positions().await.unwrap().is_empty());
    ex.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0)).unwrap();
    ex.place_order(&market("m", Side::Sell, 1.5)).await.unwrap();
    ex.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let held = ex.positions().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].0, held[0].1.quantity), (sym(), -1.5));
}

#[tokio::test(start_paused = true)]
async fn a_venue_wrapped_after_trading_refuses_to_guess() {
    let mut v = venue(SimConfig::default());
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("early", Side::Buy, 1.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    let (ex, _fills) = PaperExchange::new(v);
    let err = ex.order_status(&sym(), &cid("early")).await.unwrap_err();
    assert!(matches!(err, ExchangeError::Unsupported(_)), "{err}");
    let err = ex
        .fills_since(&sym(), &FillCursor::since(Timestamp::MIN))
        .await
        .unwrap_err();
    assert!(matches!(err, ExchangeError::Unsupported(_)), "{err}");
    // Orders and fills after the wrap are known.
    ex.place_order(&market("late", Side::Buy, 1.0))
        .await
        .unwrap();
    ex.on_market(&bar(2, 100.0, 100.0, 100.0, 100.0)).unwrap();
    let late = ex
        .order_status(&sym(), &cid("late"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late.order.status, OrderStatus::Filled);
    let since_wrap = FillCursor::since(Timestamp::from_nanos(2 * MINUTE + 1));
    assert_eq!(ex.fills_since(&sym(), &since_wrap).await.unwrap().len(), 1);
}
