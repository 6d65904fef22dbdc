//! Nothing lost: what the venue did while the bot was down or deaf reaches the bot's positions,
//! PnL, breaker and brackets on restart; ambiguous answers are looked up, never assumed. Every
//! scenario runs on a real SQLite file, kills the bot by dropping its runtime mid-run, and checks
//! the venue received each client id once.

mod common;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade::{BotConfigBuilder, RiskView};
use rustrade_core::{Brain, ClientOrderId, Decision, OrderKind, OrderStatus, Price};

fn p(x: f64) -> Price {
    Price::new(x).unwrap()
}

/// Buys once when flat, protected by a stop at 95 and a take-profit at 110.
fn bracketed_buyer() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("b", |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
                .with_stop(p(95.0))
                .with_take_profit(p(110.0))
        } else {
            Decision::hold()
        })
    }))
}

/// Rests one limit buy at 90 when flat and nothing works.
fn limit_buyer() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("b", |_, pos, n| {
        Ok(if pos.is_flat() && n == 0 {
            Decision::buy(1.0).with_limit_price(p(90.0))
        } else {
            Decision::hold()
        })
    }))
}

fn holder() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::holding("b"))
}

/// A venue whose clock runs from the bots' start.
fn venue() -> Arc<MockExchange> {
    Arc::new(MockExchange::new().starting_at(noon()))
}

/// Runs one bot session on the state file at `path`; `body` drives it. The session ends with
/// the runtime dropped: a kill, unless `body` stopped the bot itself.
fn session<F, Fut>(
    path: &Path,
    exchange: &Arc<MockExchange>,
    brain: Arc<dyn Brain>,
    tune: impl FnOnce(BotConfigBuilder) -> BotConfigBuilder,
    body: F,
) where
    F: FnOnce(Running, Arc<MockExchange>) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = runtime();
    rt.block_on(async {
        let config = tune(config(&["BTCUSDT"])).build().unwrap();
        let b = bot(config, exchange, vec![brain])
            .with_state_file(path)
            .with_order_tracking();
        let run = start(b).await;
        body(run, Arc::clone(exchange)).await;
    });
    drop(rt);
}

fn same<T>(b: T) -> T {
    b
}

/// A first session whose brain sees one candle and places `n` orders; then the bot is killed.
fn placed_then_killed(path: &Path, exchange: &Arc<MockExchange>, brain: Arc<dyn Brain>, n: usize) {
    session(
        path,
        exchange,
        brain,
        same,
        move |run, exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, n).await;
        },
    );
}

async fn risk(run: &Running) -> RiskView {
    run.handle.risk(&sym("BTCUSDT")).await.unwrap()
}

fn placed_of(exchange: &MockExchange, kind: OrderKind) -> Vec<ClientOrderId> {
    exchange
        .placed()
        .into_iter()
        .filter(|o| o.kind == kind)
        .map(|o| o.client_id)
        .collect()
}

#[test]
fn an_entry_filled_while_down_is_applied_and_gets_its_protection_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = Arc::new(MockExchange::new().starting_at(noon()).without_auto_fill());
    placed_then_killed(&path, &exchange, bracketed_buyer(), 1);
    let entry = exchange.placed()[0].client_id;
    exchange.fill_order_silently(&entry, 100.0).unwrap();

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange| async move {
            settle().await;
            assert_eq!(run.handle.position(&sym("BTCUSDT")).await.quantity, 1.0);
            let stops = placed_of(&exchange, OrderKind::StopMarket);
            let tps = placed_of(&exchange, OrderKind::TakeProfit);
            assert_eq!(
                (stops.len(), tps.len()),
                (1, 1),
                "both legs placed on restart"
            );
            assert!(run.handle.health().await.healthy);
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
fn a_stop_filled_while_down_counts_as_a_loss_and_its_take_profit_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    placed_then_killed(&path, &exchange, bracketed_buyer(), 3);
    let stop = placed_of(&exchange, OrderKind::StopMarket)[0];
    let tp = placed_of(&exchange, OrderKind::TakeProfit)[0];
    exchange.fill_order_silently(&stop, 95.0).unwrap();
    assert!(exchange.venue_position("BTCUSDT").is_flat());

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange| async move {
            settle().await;
            assert!(run.handle.position(&sym("BTCUSDT")).await.is_flat());
            let r = risk(&run).await;
            assert_eq!(r.session_losses, 1, "{r:?}");
            assert!((r.session_net_pnl + 5.0).abs() < 1e-9, "{r:?}");
            assert_eq!(r.breaker_recent_losses, 1);
            assert!(exchange.cancels().contains(&tp), "OCO sibling cancelled");
            assert!(
                exchange.order(&tp).is_none(),
                "no longer working at the venue"
            );
            assert!(run.handle.tracked_orders().await.is_empty());
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
fn a_take_profit_filled_while_down_counts_as_a_win_and_its_stop_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    placed_then_killed(&path, &exchange, bracketed_buyer(), 3);
    let stop = placed_of(&exchange, OrderKind::StopMarket)[0];
    let tp = placed_of(&exchange, OrderKind::TakeProfit)[0];
    exchange.fill_order_silently(&tp, 110.0).unwrap();

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange| async move {
            settle().await;
            assert!(run.handle.position(&sym("BTCUSDT")).await.is_flat());
            let r = risk(&run).await;
            assert_eq!((r.session_wins, r.session_losses), (1, 0), "{r:?}");
            assert!((r.session_net_pnl - 10.0).abs() < 1e-9, "{r:?}");
            assert!(exchange.cancels().contains(&stop), "OCO sibling cancelled");
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
fn a_resting_order_partly_filled_while_down_keeps_working_with_the_fill_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    placed_then_killed(&path, &exchange, limit_buyer(), 1);
    let entry = exchange.placed()[0].client_id;
    exchange.lose_reports(true);
    exchange.partial_fill(&entry, 0.4, 90.0).unwrap();
    exchange.lose_reports(false);

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange| async move {
            settle().await;
            assert!((run.handle.position(&sym("BTCUSDT")).await.quantity - 0.4).abs() < 1e-9);
            let orders = run.handle.tracked_orders().await;
            assert_eq!(orders.len(), 1);
            assert_eq!(orders[0].status, OrderStatus::PartiallyFilled);
            assert!((orders[0].filled.get() - 0.4).abs() < 1e-9);
            // The rest fills later, on the stream: applied once more, completing the order.
            exchange.fill_order(&entry, 90.0).unwrap();
            settle().await;
            let ordered = exchange.placed()[0].quantity.get();
            let held = run.handle.position(&sym("BTCUSDT")).await.quantity;
            assert!((held - ordered).abs() < 1e-9, "{held} of {ordered}");
            assert!(run.handle.tracked_orders().await.is_empty(), "completed");
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
fn an_order_expired_while_down_is_retired_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    placed_then_killed(&path, &exchange, limit_buyer(), 1);
    let entry = exchange.placed()[0].client_id;
    exchange.lose_reports(true);
    exchange.expire_order(&entry).unwrap();
    exchange.lose_reports(false);

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, _exchange| async move {
            settle().await;
            assert!(run.handle.tracked_orders().await.is_empty());
            assert!(run.handle.position(&sym("BTCUSDT")).await.is_flat());
            run.stop().await.unwrap();
        },
    );
}

#[test]
fn a_placement_that_timed_out_but_rests_at_the_venue_is_found_not_resent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    exchange.time_out_next_place(true);
    session(
        &path,
        &exchange,
        limit_buyer(),
        same,
        |run, _exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_until("looked up and acknowledged", || {
                let h = run.handle.clone();
                async move {
                    h.tracked_orders()
                        .await
                        .first()
                        .is_some_and(|o| o.venue_id.is_some() && !o.outcome_unknown)
                }
            })
            .await;
            assert_eq!(
                run.metrics
                    .counter_value("rustrade_orders_unknown_total{brain=\"b\",symbol=\"BTCUSDT\"}"),
                1
            );
            run.stop().await.unwrap();
        },
    );
    assert_eq!(exchange.placed().len(), 1, "not sent again");
    assert_no_duplicates(&exchange);
}

#[test]
fn a_placement_that_timed_out_but_filled_is_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    exchange.time_out_next_place(true);
    session(
        &path,
        &exchange,
        bracketed_buyer(),
        same,
        |run, exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_until("long", || {
                let h = run.handle.clone();
                async move { h.position(&sym("BTCUSDT")).await.is_long() }
            })
            .await;
            settle().await;
            assert_eq!(run.handle.position(&sym("BTCUSDT")).await.quantity, 1.0);
            assert_eq!(
                placed_of(&exchange, OrderKind::StopMarket).len(),
                1,
                "protected"
            );
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
fn a_placement_that_never_arrived_is_rejected_only_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    exchange.time_out_next_place(false);
    session(
        &path,
        &exchange,
        limit_buyer(),
        |c| c.unknown_order_grace(Duration::from_secs(10)),
        |run, _exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            // Looked up within the grace: still unknown and reserved.
            tokio::time::sleep(Duration::from_secs(5)).await;
            let orders = run.handle.tracked_orders().await;
            assert_eq!(orders.len(), 1);
            assert!(orders[0].outcome_unknown && orders[0].is_live());
            run.clock.advance(Duration::from_secs(11));
            wait_until("rejected as never received", || {
                let h = run.handle.clone();
                async move { h.tracked_orders().await.is_empty() }
            })
            .await;
            run.stop().await.unwrap();
        },
    );
    let sent = exchange.placed();
    assert_eq!(sent.len(), 1, "one attempt, never sent again");
    assert!(
        exchange.order(&sent[0].client_id).is_none(),
        "the venue never saw it"
    );
}

#[test]
fn killed_between_the_journal_commit_and_the_send_nothing_is_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    // The placement never leaves: the call times out with nothing at the venue, then the bot
    // dies before any lookup.
    exchange.time_out_next_place(false);
    session(
        &path,
        &exchange,
        limit_buyer(),
        same,
        |run, _exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            settle().await;
        },
    );
    assert_eq!(
        exchange.placed().len(),
        1,
        "one attempt, which never arrived"
    );
    session(
        &path,
        &exchange,
        holder(),
        |c| c.unknown_order_grace(Duration::from_secs(1)),
        |run, _exchange| async move {
            run.clock.advance(Duration::from_secs(2));
            wait_until("settled", || {
                let h = run.handle.clone();
                async move { h.tracked_orders().await.is_empty() }
            })
            .await;
            run.stop().await.unwrap();
        },
    );
    assert_eq!(exchange.placed().len(), 1, "never sent again");
}

#[test]
fn a_cancel_that_fails_twice_is_sent_again_until_it_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    session(
        &path,
        &exchange,
        limit_buyer(),
        |c| c.order_ttl(Duration::from_secs(60)),
        |run, exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, 1).await;
            let entry = exchange.placed()[0].client_id;
            exchange.fail_next_cancels(2);
            for _ in 0..4 {
                run.clock.advance(Duration::from_secs(61));
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            wait_until("cancelled", || {
                let h = run.handle.clone();
                async move { h.tracked_orders().await.is_empty() }
            })
            .await;
            assert_eq!(exchange.cancels().len(), 3, "two failures, then success");
            assert!(exchange.order(&entry).is_none());
            run.stop().await.unwrap();
        },
    );
}

#[test]
fn fills_missed_while_the_stream_was_down_are_applied_once_on_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    session(
        &path,
        &exchange,
        bracketed_buyer(),
        same,
        |run, exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, 3).await;
            exchange.disconnect_stream();
            let stop = placed_of(&exchange, OrderKind::StopMarket)[0];
            exchange.fill_order(&stop, 95.0).unwrap();
            wait_until("stop applied after the reconnect", || {
                let h = run.handle.clone();
                async move { h.position(&sym("BTCUSDT")).await.is_flat() }
            })
            .await;
            settle().await;
            let r = risk(&run).await;
            assert_eq!(r.session_losses, 1, "applied once: {r:?}");
            let restarts: u32 = run
                .handle
                .health()
                .await
                .services
                .iter()
                .filter(|s| s.name.starts_with("fill-routing"))
                .map(|s| s.restarts)
                .sum();
            assert!(restarts >= 1, "the stream was reconnected");
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
fn a_fill_replayed_after_ten_thousand_other_fills_is_applied_once() {
    let exchange = venue();
    let rt = runtime();
    rt.block_on(async {
        // Buys and sells on alternate candles: many round trips.
        let flipper: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, pos, _| {
            Ok(if pos.is_flat() {
                Decision::buy(1.0)
            } else {
                Decision::close()
            })
        }));
        let b = bot(
            config(&["BTCUSDT"]).build().unwrap(),
            &exchange,
            vec![flipper],
        );
        let run = start(b).await;
        let first = {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_until("first fill", || {
                let e = Arc::clone(&exchange);
                async move { !e.venue_fills("BTCUSDT").is_empty() }
            })
            .await;
            exchange.venue_fills("BTCUSDT")[0]
        };
        for i in 1..=10_000i64 {
            run.bus.publish(candle_event("BTCUSDT", 60 + i * 60, 100.0));
            let want = usize::try_from(i).unwrap() + 1;
            while exchange.venue_fills("BTCUSDT").len() < want
                || run.handle.health().await.brains[0].events_processed
                    < u64::try_from(want).unwrap()
            {
                tokio::task::yield_now().await;
            }
        }
        settle().await;
        assert!(exchange.venue_fills("BTCUSDT").len() > 10_000);
        let before = run.handle.position(&sym("BTCUSDT")).await;
        let trades_before = risk(&run).await;
        // The venue sends the very first fill again.
        exchange.replay_fill(&first);
        settle().await;
        assert_eq!(run.handle.position(&sym("BTCUSDT")).await, before);
        assert_eq!(risk(&run).await, trades_before);
        run.stop().await.unwrap();
    });
}

#[test]
fn a_rate_limited_catch_up_at_start_up_waits_and_tries_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = Arc::new(MockExchange::new().starting_at(noon()).without_auto_fill());
    placed_then_killed(&path, &exchange, bracketed_buyer(), 1);
    let entry = exchange.placed()[0].client_id;
    exchange.fill_order_silently(&entry, 100.0).unwrap();
    exchange.rate_limit_fill_history(3);

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange| async move {
            settle().await;
            assert_eq!(run.handle.position(&sym("BTCUSDT")).await.quantity, 1.0);
            assert_eq!(placed_of(&exchange, OrderKind::StopMarket).len(), 1);
            assert!(run.handle.health().await.healthy);
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "the runtime's clock is paused: this reads simulated time"
)]
fn a_venue_that_keeps_rate_limiting_fails_the_start_up_after_bounded_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    exchange.rate_limit_fill_history(1_000);
    let rt = runtime();
    let err = rt.block_on(async {
        let config = config(&["BTCUSDT"]).build().unwrap();
        let b = bot(config, &exchange, vec![holder()]).with_state_file(&path);
        let started = tokio::time::Instant::now();
        let err = b.run_until_shutdown().await.unwrap_err();
        let waited = started.elapsed();
        // Seven waits of the 2 s the venue asked for, then the eighth attempt fails.
        assert_eq!(waited.as_secs(), 14, "waited {waited:?}");
        err
    });
    let text = err.to_string();
    assert!(text.contains("rate limited"), "{text}");
    assert!(exchange.placed().is_empty());
}

#[test]
fn killed_between_a_cancels_commit_and_its_send_the_cancel_is_sent_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    let ttl = |c: BotConfigBuilder| c.order_ttl(Duration::from_secs(60));
    session(
        &path,
        &exchange,
        limit_buyer(),
        ttl,
        |run, exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, 1).await;
            exchange.hang_before_cancel(1);
            run.clock.advance(Duration::from_secs(61));
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert!(exchange.cancels().is_empty(), "the cancel never left");
            assert_eq!(run.handle.tracked_orders().await.len(), 1);
        },
    );
    let entry = exchange.placed()[0].client_id;
    assert!(
        exchange.order(&entry).is_some(),
        "still resting at the venue"
    );

    session(
        &path,
        &exchange,
        holder(),
        ttl,
        |run, exchange| async move {
            // The journalled intent is sent again once `cancel_retry` has passed since the
            // decision.
            run.clock.advance(Duration::from_secs(70));
            wait_until("cancelled", || {
                let h = run.handle.clone();
                async move { h.tracked_orders().await.is_empty() }
            })
            .await;
            assert_eq!(
                exchange.cancels(),
                vec![entry],
                "sent once, by the restarted bot"
            );
            assert!(exchange.order(&entry).is_none());
            assert!(run.handle.position(&sym("BTCUSDT")).await.is_flat());
            let r = risk(&run).await;
            assert_eq!((r.session_wins, r.session_losses), (0, 0), "{r:?}");
            assert!(!r.breaker_tripped);
            assert!(run.handle.health().await.healthy);
            run.stop().await.unwrap();
        },
    );
    assert_no_duplicates(&exchange);
}

#[test]
fn a_fill_in_the_gap_between_start_up_reconciliation_and_the_stream_connect_is_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    placed_then_killed(&path, &exchange, bracketed_buyer(), 3);
    let stop = placed_of(&exchange, OrderKind::StopMarket)[0];
    let take_profit = placed_of(&exchange, OrderKind::TakeProfit)[0];

    let rt = runtime();
    rt.block_on(async {
        let b = bot(
            config(&["BTCUSDT"]).build().unwrap(),
            &exchange,
            vec![holder()],
        )
        .with_state_file(&path)
        .with_order_tracking();
        // The stream endpoint is down at start-up: reconciliation runs, the stream does not
        // connect yet, and the stop fills at the venue meanwhile with its report lost.
        exchange.refuse_stream_connects(2);
        let run = start(b).await;
        assert_eq!(run.handle.position(&sym("BTCUSDT")).await.quantity, 1.0);
        exchange.fill_order(&stop, 95.0).unwrap();
        wait_until("the stop's fill caught up after the connect", || {
            let h = run.handle.clone();
            async move { h.position(&sym("BTCUSDT")).await.is_flat() }
        })
        .await;
        settle().await;
        let r = risk(&run).await;
        assert_eq!(r.session_losses, 1, "applied once: {r:?}");
        wait_until("the take-profit cancelled", || {
            let e = Arc::clone(&exchange);
            async move { e.order(&take_profit).is_none() }
        })
        .await;
        assert!(run.handle.health().await.healthy);
        run.stop().await.unwrap();
    });
    assert_no_duplicates(&exchange);
}
