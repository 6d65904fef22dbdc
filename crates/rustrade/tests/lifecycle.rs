//! Construction, shutdown, health and fault isolation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade::{Bot, BotError};
use rustrade_core::{Brain, BrainError, Decision, Position};
use rustrade_supervisor::{ServicePhase, TerminationReason};
use tokio_util::sync::CancellationToken;

fn exchange() -> Arc<MockExchange> {
    Arc::new(MockExchange::new())
}

#[test]
fn construction_refuses_a_bot_name_the_venue_refuses_in_client_ids() {
    let ex = Arc::new(MockExchange::new().refusing_client_id_chars(".:/"));
    let brains = || -> Vec<Arc<dyn Brain>> { vec![Arc::new(ScriptedBrain::holding("a"))] };
    let cfg = config(&["BTCUSDT"]).name("desk.eth").build().unwrap();
    let err = Bot::new(cfg, ex.clone(), brains()).unwrap_err();
    assert!(matches!(err, BotError::Exchange { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("bot name") && text.contains(r#""desk.eth""#) && text.contains("'.'"),
        "{text}"
    );
    let cfg = config(&["BTCUSDT"]).name("desk_eth").build().unwrap();
    assert!(Bot::new(cfg, ex, brains()).is_ok());
}

#[test]
fn construction_refuses_bad_brain_sets() {
    let cfg = || config(&["BTCUSDT", "ETHUSDT"]).build().unwrap();
    let ex = exchange();
    let err = Bot::new(cfg(), ex.clone(), vec![]).unwrap_err();
    assert!(matches!(err, BotError::NoBrains), "{err}");
    let dup: Vec<Arc<dyn Brain>> = vec![
        Arc::new(ScriptedBrain::holding("x")),
        Arc::new(ScriptedBrain::holding("x")),
    ];
    let err = Bot::new(cfg(), ex.clone(), dup).unwrap_err();
    assert_eq!(err.to_string(), r#"brains: duplicate brain name "x""#);
    let overlap: Vec<Arc<dyn Brain>> = vec![
        Arc::new(ScriptedBrain::holding("a").owning(&["BTCUSDT"])),
        Arc::new(ScriptedBrain::holding("b").owning(&["ETHUSDT", "BTCUSDT"])),
    ];
    let err = Bot::new(cfg(), ex.clone(), overlap).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"brains: symbol BTCUSDT is owned by both "a" and "b""#
    );
    let stray: Vec<Arc<dyn Brain>> =
        vec![Arc::new(ScriptedBrain::holding("a").owning(&["SOLUSDT"]))];
    let err = Bot::new(cfg(), ex.clone(), stray).unwrap_err();
    assert!(matches!(err, BotError::UnconfiguredSymbol { .. }), "{err}");
    let blank: Vec<Arc<dyn Brain>> = vec![Arc::new(ScriptedBrain::holding(" "))];
    assert!(matches!(
        Bot::new(cfg(), ex.clone(), blank).unwrap_err(),
        BotError::InvalidBrainName { .. }
    ));
    let ok: Vec<Arc<dyn Brain>> = vec![
        Arc::new(ScriptedBrain::holding("a").owning(&["BTCUSDT"])),
        Arc::new(ScriptedBrain::holding("b")),
    ];
    let bot = Bot::new(cfg(), ex, ok).unwrap();
    assert_eq!(bot.config().name(), "t");
    assert!(format!("{bot:?}").contains(r#"brains: ["a", "b"]"#));
}

#[tokio::test(start_paused = true)]
async fn handle_shutdown_drains_every_service() {
    let ex = exchange();
    let brains: Vec<Arc<dyn Brain>> = vec![Arc::new(ScriptedBrain::holding("h"))];
    let run = start(bot(
        config(&["BTCUSDT"])
            .order_ttl(Duration::from_secs(60))
            .build()
            .unwrap(),
        &ex,
        brains,
    ))
    .await;
    let handle = run.handle.clone();
    assert!(!handle.is_shutting_down());
    let waiter = tokio::spawn({
        let h = handle.clone();
        async move { h.await_shutdown().await }
    });
    run.stop().await.unwrap();
    waiter.await.unwrap();
    assert!(handle.is_shutting_down());
    let health = handle.health().await;
    assert!(health.shutting_down && !health.healthy);
    let names: Vec<&str> = health.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "execution[h]",
            "fill-routing[mock]",
            "order-reaper",
            "order-resolver",
            "risk-sweep",
            "reconciler",
        ]
    );
    for s in &health.services {
        assert_eq!(s.phase, ServicePhase::Terminated, "{}", s.name);
        assert_eq!(
            s.termination,
            Some(TerminationReason::Shutdown),
            "{}",
            s.name
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_external_token_shuts_the_bot_down() {
    let ex = exchange();
    let token = CancellationToken::new();
    let brains: Vec<Arc<dyn Brain>> = vec![Arc::new(ScriptedBrain::holding("h"))];
    let b =
        bot(config(&["BTCUSDT"]).build().unwrap(), &ex, brains).with_external_cancel(token.clone());
    let run = start(b).await;
    assert!(!run.handle.is_shutting_down());
    token.cancel();
    run.handle.await_shutdown().await;
    run.task.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn health_lists_brains_in_construction_order_with_framework_counters() {
    let ex = exchange();
    let brains: Vec<Arc<dyn Brain>> = vec![
        Arc::new(ScriptedBrain::new("zeta", |_, _, _| Ok(Decision::close()))),
        Arc::new(ScriptedBrain::holding("alpha").unhealthy()),
        Arc::new(ScriptedBrain::new("mid", |_, _, _| {
            Err(BrainError::NotReady("warming up".into()))
        })),
    ];
    let run = start(bot(config(&["BTCUSDT"]).build().unwrap(), &ex, brains)).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    run.bus.publish(candle_event("BTCUSDT", 120, 100.0));
    wait_until("all saw both", || {
        let h = run.handle.clone();
        async move {
            h.health()
                .await
                .brains
                .iter()
                .all(|b| b.events_processed == 2)
        }
    })
    .await;
    let health = run.handle.health().await;
    let names: Vec<&str> = health.brains.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
    let services: Vec<&str> = health
        .services
        .iter()
        .take(3)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        services,
        ["execution[zeta]", "execution[alpha]", "execution[mid]"]
    );
    assert_eq!(
        health.brains[0].non_hold_decisions, 2,
        "closes count as non-hold"
    );
    assert_eq!(health.brains[1].non_hold_decisions, 0);
    assert!(!health.brains[1].healthy);
    assert!(
        !health.healthy,
        "one unhealthy brain makes the bot unhealthy"
    );
    assert!(!health.shutting_down);
    assert_eq!(health.brains[2].details["framework"]["brain_errors"], 2);
    assert_eq!(
        run.metrics
            .counter_value(r#"rustrade_brain_errors_total{brain="mid"}"#),
        2
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_panicking_brain_is_restarted_and_its_sibling_sees_every_event() {
    let ex = exchange();
    let crashy = Arc::new(ScriptedBrain::new("crashy", |_, _, n| {
        if n == 1 {
            panic!("model exploded");
        }
        Ok(Decision::hold())
    }));
    let sibling = Arc::new(ScriptedBrain::holding("steady"));
    let brains: Vec<Arc<dyn Brain>> = vec![crashy.clone(), sibling.clone()];
    let run = start(bot(config(&["BTCUSDT"]).build().unwrap(), &ex, brains)).await;
    for i in 1..=5 {
        run.bus.publish(candle_event("BTCUSDT", 60 * i, 100.0));
    }
    wait_until("sibling saw all", || {
        let s = sibling.clone();
        async move { s.seen().len() == 5 }
    })
    .await;
    wait_until("crashy restarted and resumed", || {
        let c = crashy.clone();
        async move { c.seen().len() == 5 }
    })
    .await;
    let health = run.handle.health().await;
    let svc = health
        .services
        .iter()
        .find(|s| s.name == "execution[crashy]")
        .unwrap();
    assert_eq!(svc.panics, 1);
    assert!(svc.restarts >= 1);
    assert!(
        svc.last_error
            .as_deref()
            .unwrap_or("")
            .contains("model exploded"),
        "{svc:?}"
    );
    assert_ne!(svc.phase, ServicePhase::Terminated);
    let steady = health
        .services
        .iter()
        .find(|s| s.name == "execution[steady]")
        .unwrap();
    assert_eq!((steady.panics, steady.restarts), (0, 0));
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_lagging_brain_is_counted_in_health_and_metrics() {
    let ex = exchange();
    let brains: Vec<Arc<dyn Brain>> = vec![Arc::new(ScriptedBrain::holding("slow"))];
    let cfg = config(&["BTCUSDT"]).market_bus_capacity(4).build().unwrap();
    let b = bot(cfg, &ex, brains);
    let bus = b.market_data_bus();
    // Published before the bot runs: the brain's receiver exists from construction and overflows.
    for i in 1..=10 {
        bus.publish(candle_event("BTCUSDT", 60 * i, 100.0));
    }
    let run = start(b).await;
    wait_until("lag seen", || {
        let h = run.handle.clone();
        async move { h.health().await.brains[0].details["framework"]["bus_lagged"] == 6 }
    })
    .await;
    assert_eq!(run.bus.lagged_total(), 6);
    assert_eq!(
        run.metrics
            .counter_value(r#"rustrade_bus_lagged_total{consumer="execution[slow]"}"#),
        6
    );
    assert_eq!(run.handle.health().await.brains[0].events_processed, 4);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn close_on_shutdown_exits_through_the_engine_after_the_drain() {
    // The venue stamps fills after the bot's start, as real venues do, so the close's fill is
    // found by the catch-up that follows the drain.
    let ex = Arc::new(MockExchange::new().starting_at(noon()));
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, pos: &Position, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }));
    let cfg = config(&["BTCUSDT", "ETHUSDT"])
        .close_positions_on_shutdown(true)
        .build()
        .unwrap();
    let run = start(bot(cfg, &ex, vec![brain])).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    let placed_while_running = ex.placed().len();
    ex.set_price("BTCUSDT", 90.0);
    let handle = run.handle.clone();
    run.stop().await.unwrap();
    assert!(ex.close_calls().is_empty(), "no order outside the engine");
    let closes = &ex.placed()[placed_while_running..];
    assert_eq!(
        closes.len(),
        1,
        "once, only for the open symbol: {closes:?}"
    );
    assert_eq!(closes[0].symbol, sym("BTCUSDT"));
    assert!(closes[0].reduce_only);
    assert!(ex.venue_position("BTCUSDT").is_flat());
    let after = handle.position(&sym("BTCUSDT")).await;
    assert!(
        after.is_flat(),
        "the close's fill was applied: {after:?} {:?}",
        ex.venue_fills("BTCUSDT")
    );
    let risk = handle.risk(&sym("BTCUSDT")).await.unwrap();
    assert_eq!(
        risk.session_losses, 1,
        "the losing close reached the session: {risk:?}"
    );
    assert!(risk.session_net_pnl < 0.0, "{risk:?}");
    assert!(
        handle
            .health()
            .await
            .services
            .iter()
            .all(|s| s.phase == ServicePhase::Terminated)
    );
}

#[tokio::test(start_paused = true)]
async fn handle_is_cheap_debug_and_tracks_signal_subscribers() {
    let ex = exchange();
    let brains: Vec<Arc<dyn Brain>> = vec![Arc::new(ScriptedBrain::holding("h"))];
    let b = bot(config(&["BTCUSDT"]).build().unwrap(), &ex, brains).with_order_tracking();
    let handle = b.handle();
    assert_eq!(
        format!("{handle:?}"),
        "BotHandle { shutting_down: false, brains: 1, .. }"
    );
    let rx = handle.subscribe_signals();
    let clone = handle.clone();
    assert_eq!(clone.signal_subscriber_count(), 1);
    drop(rx);
    assert_eq!(handle.signal_subscriber_count(), 0);
    assert_eq!(b.signal_bus().subscriber_count(), 0);
    assert!(handle.tracked_orders().await.is_empty());
}
