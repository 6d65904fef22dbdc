//! The live pipeline end to end: orders, signals before gates, exits never blocked, ownership,
//! account limits under racing brains, brackets and OCO through the fill stream.

mod common;

use std::sync::Arc;

use common::*;
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade_core::{Brain, Decision, OrderKind, Price, Side};
use rustrade_risk::{PortfolioConfig, RiskConfig};

#[tokio::test(start_paused = true)]
async fn happy_path_places_one_market_buy_and_tracks_the_fill() {
    let exchange = Arc::new(MockExchange::new());
    let brain = Arc::new(ScriptedBrain::new("buyer", |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }));
    let b: Arc<dyn Brain> = brain.clone();
    let run = start(bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![b],
    ))
    .await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("position", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    run.bus.publish(candle_event("BTCUSDT", 120, 101.0));
    settle().await;
    let placed = exchange.placed();
    assert_eq!(placed.len(), 1, "{placed:?}");
    let o = placed[0];
    assert_eq!(
        (o.side, o.kind, o.reduce_only),
        (Side::Buy, OrderKind::Market, false)
    );
    assert_eq!(o.quantity.get(), 1.0, "100 margin x 1 at price 100");
    assert_eq!(run.handle.position(&sym("BTCUSDT")).await.quantity, 1.0);
    assert_eq!(brain.fills().len(), 1, "the brain was told about its fill");
    assert_eq!(brain.seen().len(), 2);
    assert_eq!(
        run.metrics
            .counter_value(r#"rustrade_orders_placed_total{brain="buyer",symbol="BTCUSDT"}"#),
        1
    );
    assert_eq!(run.metrics.counter_total("rustrade_fills_total"), 1);
    run.stop().await.unwrap();
    assert_eq!(exchange.duplicate_placements(), 0);
}

fn halting_risk() -> RiskConfig {
    let mut r = RiskConfig::default();
    r.session.loss_cap = Some(-1.0);
    r
}

#[tokio::test(start_paused = true)]
async fn signals_are_published_before_the_gates_even_when_refused() {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("eager", |_, _, _| {
        Ok(Decision::buy(1.0))
    }));
    let cfg = config(&["BTCUSDT"]).risk(halting_risk()).build().unwrap();
    let run = start(bot(cfg, &exchange, vec![brain])).await;
    run.handle
        .record_trade_outcome(&sym("BTCUSDT"), -10.0, 0.0)
        .await;
    let mut signals = run.handle.subscribe_signals();
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    let sig = signals.recv().await.unwrap();
    assert_eq!(sig.brain.as_ref(), "eager");
    assert_eq!(sig.decision, Decision::buy(1.0));
    assert_eq!(sig.reference_price, Price::new(100.0).unwrap());
    wait_until("refusal counted", || {
        let m = run.metrics.clone();
        async move { m.counter_total("rustrade_refusals_total") == 1 }
    })
    .await;
    assert!(
        exchange.placed().is_empty(),
        "a refused entry is never sent"
    );
    assert_eq!(
        run.metrics.counter_value(
            r#"rustrade_refusals_total{brain="eager",symbol="BTCUSDT",reason="session_halted"}"#
        ),
        1
    );
    run.stop().await.unwrap();
}

async fn halted_blocks_entries_not_exits(risk: RiskConfig, outcomes: &[f64]) {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, _, n| {
        Ok(match n {
            0 => Decision::buy(1.0),
            1 => Decision::buy(1.0),
            _ => Decision::close(),
        })
    }));
    let cfg = config(&["BTCUSDT"]).risk(risk).build().unwrap();
    let run = start(bot(cfg, &exchange, vec![brain])).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    for o in outcomes {
        run.handle
            .record_trade_outcome(&sym("BTCUSDT"), *o, 0.0)
            .await;
    }
    run.bus.publish(candle_event("BTCUSDT", 120, 100.0));
    wait_until("refusal", || {
        let m = run.metrics.clone();
        async move { m.counter_total("rustrade_refusals_total") == 1 }
    })
    .await;
    assert_eq!(exchange.placed().len(), 1, "the second buy is refused");
    run.bus.publish(candle_event("BTCUSDT", 180, 100.0));
    wait_until("flat", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_flat() }
    })
    .await;
    let placed = exchange.placed();
    assert_eq!(placed.len(), 2);
    assert_eq!(
        (
            placed[1].side,
            placed[1].reduce_only,
            placed[1].quantity.get()
        ),
        (Side::Sell, true, 1.0)
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn halted_session_blocks_entries_but_not_exits() {
    halted_blocks_entries_not_exits(halting_risk(), &[-10.0]).await;
}

#[tokio::test(start_paused = true)]
async fn tripped_breaker_blocks_entries_but_not_exits() {
    let mut risk = RiskConfig::default();
    risk.session.loss_cap = None;
    risk.breaker.loss_limit = 2;
    halted_blocks_entries_not_exits(risk, &[-1.0, -1.0]).await;
}

#[tokio::test(start_paused = true)]
async fn close_on_flat_is_a_silent_no_op() {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> =
        Arc::new(ScriptedBrain::new(
            "closer",
            |_, _, _| Ok(Decision::close()),
        ));
    let run = start(bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![brain],
    ))
    .await;
    for i in 1..=3 {
        run.bus.publish(candle_event("BTCUSDT", 60 * i, 100.0));
    }
    wait_until("events", || {
        let h = run.handle.clone();
        async move { h.health().await.brains[0].events_processed == 3 }
    })
    .await;
    settle().await;
    assert!(exchange.placed().is_empty());
    assert_eq!(run.metrics.counter_total("rustrade_refusals_total"), 0);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_brain_owning_btc_never_sees_or_trades_eth() {
    let exchange = Arc::new(MockExchange::new());
    let btc =
        Arc::new(ScriptedBrain::new("btc", |_, _, _| Ok(Decision::buy(1.0))).owning(&["BTCUSDT"]));
    let other = Arc::new(ScriptedBrain::holding("all"));
    let brains: Vec<Arc<dyn Brain>> = vec![btc.clone(), other.clone()];
    let run = start(bot(
        config(&["BTCUSDT", "ETHUSDT"]).build().unwrap(),
        &exchange,
        brains,
    ))
    .await;
    run.bus.publish(candle_event("ETHUSDT", 60, 2000.0));
    run.bus.publish(candle_event("ETHUSDT", 120, 2001.0));
    run.bus.publish(candle_event("BTCUSDT", 120, 100.0));
    wait_until("other saw all", || {
        let o = other.clone();
        async move { o.seen().len() == 3 }
    })
    .await;
    wait_until("btc order", || {
        let e = exchange.clone();
        async move { !e.placed().is_empty() }
    })
    .await;
    settle().await;
    assert!(btc.seen().iter().all(|e| e.symbol == sym("BTCUSDT")));
    assert_eq!(btc.seen().len(), 1);
    assert!(exchange.placed().iter().all(|o| o.symbol == sym("BTCUSDT")));
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn max_positions_one_lets_exactly_one_of_two_racing_brains_enter() {
    let exchange = Arc::new(MockExchange::new().without_auto_fill());
    let a: Arc<dyn Brain> =
        Arc::new(ScriptedBrain::new("a", |_, _, _| Ok(Decision::buy(1.0))).owning(&["BTCUSDT"]));
    let b: Arc<dyn Brain> =
        Arc::new(ScriptedBrain::new("b", |_, _, _| Ok(Decision::buy(1.0))).owning(&["ETHUSDT"]));
    let portfolio = PortfolioConfig {
        max_positions: Some(1),
        ..PortfolioConfig::default()
    };
    let cfg = config(&["BTCUSDT", "ETHUSDT"])
        .portfolio(portfolio)
        .build()
        .unwrap();
    let run = start(bot(cfg, &exchange, vec![a, b])).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    run.bus.publish(candle_event("ETHUSDT", 60, 100.0));
    wait_until("one placed and one refused", || {
        let m = run.metrics.clone();
        let e = exchange.clone();
        async move { e.placed().len() == 1 && m.counter_total("rustrade_refusals_total") == 1 }
    })
    .await;
    settle().await;
    assert_eq!(
        exchange.placed().len(),
        1,
        "exactly one entry while the other is reserved"
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_rejected_entry_releases_its_reservation_for_the_next() {
    let exchange = Arc::new(MockExchange::new());
    let a: Arc<dyn Brain> = Arc::new(
        ScriptedBrain::new("a", |_, _, n| {
            Ok(if n == 0 {
                Decision::buy(1.0)
            } else {
                Decision::hold()
            })
        })
        .owning(&["BTCUSDT"]),
    );
    let b: Arc<dyn Brain> =
        Arc::new(ScriptedBrain::new("b", |_, _, _| Ok(Decision::buy(1.0))).owning(&["ETHUSDT"]));
    let portfolio = PortfolioConfig {
        max_positions: Some(1),
        ..PortfolioConfig::default()
    };
    let cfg = config(&["BTCUSDT", "ETHUSDT"])
        .portfolio(portfolio)
        .build()
        .unwrap();
    let run = start(bot(cfg, &exchange, vec![a, b])).await;
    exchange.reject_next("insufficient balance");
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("rejected", || {
        let m = run.metrics.clone();
        async move { m.counter_total("rustrade_orders_rejected_total") == 1 }
    })
    .await;
    run.bus.publish(candle_event("ETHUSDT", 120, 100.0));
    wait_until("eth long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("ETHUSDT")).await.is_long() }
    })
    .await;
    let placed = exchange.placed();
    assert_eq!(placed.len(), 2);
    assert_eq!(placed[1].symbol, sym("ETHUSDT"));
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn full_bracket_with_oco_through_the_fill_stream() {
    let exchange = Arc::new(MockExchange::new());
    let p = |v| Price::new(v).unwrap();
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("bracket", move |_, _, n| {
        Ok(if n == 0 {
            Decision::buy(1.0)
                .with_stop(p(90.0))
                .with_take_profit(p(110.0))
        } else {
            Decision::hold()
        })
    }));
    let run = start(bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![brain],
    ))
    .await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("legs placed", || {
        let e = exchange.clone();
        async move { e.placed().len() == 3 }
    })
    .await;
    let placed = exchange.placed();
    let (entry, stop, tp) = (placed[0], placed[1], placed[2]);
    let (stop, tp) = if stop.kind == OrderKind::StopMarket {
        (stop, tp)
    } else {
        (tp, stop)
    };
    assert_eq!(entry.kind, OrderKind::Market);
    assert_eq!(
        (stop.kind, stop.side, stop.reduce_only),
        (OrderKind::StopMarket, Side::Sell, true)
    );
    assert_eq!(stop.trigger_price, Some(p(90.0)));
    assert_eq!((tp.kind, tp.side), (OrderKind::TakeProfit, Side::Sell));
    assert_eq!(tp.trigger_price, Some(p(110.0)));
    assert_eq!(
        stop.quantity, entry.quantity,
        "legs protect the filled quantity"
    );
    exchange.fill_order(&stop.client_id, 90.0).unwrap();
    wait_until("tp cancelled", || {
        let e = exchange.clone();
        async move { e.cancels().len() == 1 }
    })
    .await;
    assert_eq!(
        exchange.cancels(),
        vec![tp.client_id],
        "the stop fill cancels exactly the take-profit"
    );
    wait_until("flat", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_flat() }
    })
    .await;
    settle().await;
    assert_eq!(exchange.placed().len(), 3, "nothing else sent");
    run.stop().await.unwrap();
}
