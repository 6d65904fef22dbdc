//! The handle's manual overrides and its doc example's contract.

mod common;

use std::sync::Arc;

use common::*;
use rustrade::metrics::PrometheusMetrics;
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade_core::{Brain, Decision, Position, Price, Side};
use rustrade_risk::RiskConfig;

fn capped(cap: f64) -> RiskConfig {
    let mut r = RiskConfig::default();
    r.session.loss_cap = Some(cap);
    r.breaker.loss_limit = 10;
    r
}

/// Buys on even events, closes on odd ones.
fn round_tripper() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("rt", |_, _, n| {
        Ok(if n % 2 == 0 {
            Decision::buy(1.0)
        } else {
            Decision::close()
        })
    }))
}

async fn refusals(run: &Running) -> u64 {
    run.metrics.counter_total("rustrade_refusals_total")
}

#[tokio::test(start_paused = true)]
async fn a_manual_outcome_does_not_double_count_a_trade_the_fills_recorded() {
    let exchange = Arc::new(MockExchange::new());
    let cfg = config(&["BTCUSDT"]).risk(capped(-15.0)).build().unwrap();
    let run = start(bot(cfg, &exchange, vec![round_tripper()])).await;
    let btc = sym("BTCUSDT");
    // A round trip losing 10 through the fill stream.
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    exchange.set_price("BTCUSDT", 90.0);
    run.bus.publish(candle_event("BTCUSDT", 120, 90.0));
    wait_until("flat", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_flat() }
    })
    .await;
    settle().await;
    assert_eq!(run.handle.position(&btc).await.realised_pnl, -10.0);
    // The host reports the same trade: claimed, not counted again (net stays -10 > cap -15).
    run.handle.record_trade_outcome(&btc, -10.0, 0.0).await;
    exchange.set_price("BTCUSDT", 100.0);
    run.bus.publish(candle_event("BTCUSDT", 180, 100.0));
    wait_until("entry", || {
        let e = exchange.clone();
        async move { e.placed().len() == 3 }
    })
    .await;
    assert_eq!(refusals(&run).await, 0);
    // A trade the bot never saw is counted: net -20 reaches the cap; the exit still passes.
    run.handle.record_trade_outcome(&btc, -10.0, 0.0).await;
    run.bus.publish(candle_event("BTCUSDT", 240, 100.0));
    wait_until("exit", || {
        let e = exchange.clone();
        async move { e.placed().len() == 4 }
    })
    .await;
    settle().await;
    run.bus.publish(candle_event("BTCUSDT", 300, 100.0));
    wait_until("refused", || {
        let m = run.metrics.clone();
        async move { m.counter_total("rustrade_refusals_total") == 1 }
    })
    .await;
    assert_eq!(exchange.placed().len(), 4);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_non_finite_outcome_changes_nothing() {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, _, _| Ok(Decision::buy(1.0))));
    let cfg = config(&["BTCUSDT"]).risk(capped(-1.0)).build().unwrap();
    let run = start(bot(cfg, &exchange, vec![brain])).await;
    let btc = sym("BTCUSDT");
    run.handle.record_trade_outcome(&btc, f64::NAN, 0.0).await;
    run.handle
        .record_trade_outcome(&btc, -50.0, f64::INFINITY)
        .await;
    run.handle
        .record_trade_outcome(&sym("XRPUSDT"), -50.0, 0.0)
        .await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("placed", || {
        let e = exchange.clone();
        async move { e.placed().len() == 1 }
    })
    .await;
    assert_eq!(refusals(&run).await, 0, "the session is not halted");
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn set_position_overrides_and_the_next_close_exits_it() {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("c", |_, _, _| Ok(Decision::close())));
    let b = bot(
        config(&["BTCUSDT", "ETHUSDT"]).build().unwrap(),
        &exchange,
        vec![brain],
    );
    let handle = b.handle();
    let eth = sym("ETHUSDT");
    handle.set_position(&eth, Position::new(-3.0, 2000.0)).await;
    assert_eq!(
        handle.position(&eth).await.quantity,
        -3.0,
        "kept until start"
    );
    let run = start(b).await;
    assert_eq!(
        run.handle.position(&eth).await.quantity,
        -3.0,
        "applied after reconciliation"
    );
    let btc = sym("BTCUSDT");
    run.handle
        .set_position(&btc, Position::new(2.0, 100.0))
        .await;
    let p = run.handle.position(&btc).await;
    assert_eq!((p.quantity, p.avg_entry), (2.0, 100.0));
    run.handle
        .set_position(&btc, Position::new(f64::NAN, 1.0))
        .await;
    assert_eq!(
        run.handle.position(&btc).await.quantity,
        2.0,
        "a NaN override is refused"
    );
    assert_eq!(run.handle.position(&sym("XRPUSDT")).await, Position::FLAT);
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("exit placed", || {
        let e = exchange.clone();
        async move { e.placed().len() == 1 }
    })
    .await;
    let exit = exchange.placed()[0];
    assert_eq!(
        (exit.side, exit.quantity.get(), exit.reduce_only),
        (Side::Sell, 2.0, true)
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn tracked_orders_show_resting_orders_when_tracking_is_on() {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("maker", |_, _, n| {
        Ok(if n == 0 {
            Decision::buy(1.0).with_limit_price(Price::new(99.5).unwrap())
        } else {
            Decision::hold()
        })
    }));
    let b = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![brain],
    )
    .with_order_tracking();
    let run = start(b).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("tracked", || {
        let h = run.handle.clone();
        async move { h.tracked_orders().await.len() == 1 }
    })
    .await;
    let o = run.handle.tracked_orders().await[0];
    assert_eq!(o.order.limit_price, Some(Price::new(99.5).unwrap()));
    assert!(o.venue_id.is_some());
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn prometheus_metrics_render_the_bot_counters() {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("buyer", |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }));
    let prom = PrometheusMetrics::local();
    let b = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![brain],
    )
    .with_metrics(Arc::new(prom.clone()));
    let handle = b.handle();
    let bus = b.market_data_bus();
    let task = tokio::spawn(b.run_until_shutdown());
    bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    handle.shutdown();
    task.await.unwrap().unwrap();
    let text = prom.render();
    for line in [
        r#"rustrade_orders_placed_total{brain="buyer",symbol="BTCUSDT"} 1"#,
        r#"rustrade_decisions_total{brain="buyer",symbol="BTCUSDT"} 1"#,
        r#"rustrade_fills_total{symbol="BTCUSDT"} 1"#,
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

/// Runs a resting order the venue then forgets; `periodic` picks the full reconciler or, off,
/// the open-order sync of order tracking. Both retire the order without sending anything.
async fn an_order_the_venue_lost_is_dropped(periodic: bool, service: &str) {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("maker", |_, _, n| {
        Ok(if n == 0 {
            Decision::buy(1.0).with_limit_price(Price::new(99.5).unwrap())
        } else {
            Decision::hold()
        })
    }));
    let cfg = config(&["BTCUSDT"])
        .reconcile_interval(std::time::Duration::from_secs(5))
        .periodic_reconciliation(periodic)
        .build()
        .unwrap();
    let run = start(bot(cfg, &exchange, vec![brain]).with_order_tracking()).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("tracked", || {
        let h = run.handle.clone();
        async move { h.tracked_orders().await.len() == 1 }
    })
    .await;
    let cid = run.handle.tracked_orders().await[0].order.client_id;
    assert!(exchange.forget_order(&cid));
    wait_until("reconciled away", || {
        let h = run.handle.clone();
        async move { h.tracked_orders().await.is_empty() }
    })
    .await;
    assert_eq!(exchange.placed().len(), 1, "reconciliation never sends");
    let sync = run
        .handle
        .health()
        .await
        .services
        .into_iter()
        .find(|s| s.name == service);
    assert!(sync.is_some_and(|s| s.failures == 0));
    let health = run.handle.health().await;
    assert!(health.reconciliation.last_at.is_some(), "the start-up pass");
    assert_eq!(health.reconciliation.last_error, None);
    assert!(health.entry_blocks.is_empty(), "{:?}", health.entry_blocks);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn periodic_reconciliation_drops_an_order_the_venue_lost() {
    an_order_the_venue_lost_is_dropped(true, "reconciler").await;
}

#[tokio::test(start_paused = true)]
async fn order_sync_drops_an_order_the_venue_lost() {
    an_order_the_venue_lost_is_dropped(false, "order-sync").await;
}
