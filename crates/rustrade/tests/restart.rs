//! Persistence across restarts: risk state restored from SQLite, a kill mid-request never
//! leads to a duplicate order, positions follow the venue, corrupt state refuses to start.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use rustrade::store::{JsonFileStore, MemoryStore, SqliteStore, StateStore};
use rustrade::testkit::{ManualClock, MockExchange, ScriptedBrain, candle_event};
use rustrade::{Bot, BotError};
use rustrade_core::{Brain, Decision, MemoryMetrics, OrderStatus, Price, StoreError, Timestamp};
use rustrade_risk::RiskConfig;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

fn buy_when_flat(name: &str) -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new(name, |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }))
}

#[test]
fn killed_after_the_venue_filled_restart_adopts_the_position_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = Arc::new(MockExchange::new());
    exchange.hang_after_place(1);
    let rt = runtime();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        // No fill stream: the bot never hears of the fill before it dies.
        let b = Bot::new(
            config(&["BTCUSDT"]).build().unwrap(),
            exchange.clone(),
            vec![buy_when_flat("b")],
        )
        .unwrap()
        .with_state_store(store);
        let run = start(b).await;
        run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
        wait_until("placed", || {
            let e = exchange.clone();
            async move { e.placed().len() == 1 }
        })
        .await;
        settle().await;
        // Dropped here without a graceful shutdown, stuck inside place_order.
    });
    drop(rt);
    assert_eq!(exchange.venue_position("BTCUSDT").quantity, 1.0);

    let rt = runtime();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let b = bot(
            config(&["BTCUSDT"]).build().unwrap(),
            &exchange,
            vec![buy_when_flat("b")],
        )
        .with_state_store(store);
        let run = start(b).await;
        assert_eq!(
            run.handle.position(&sym("BTCUSDT")).await.quantity,
            1.0,
            "venue position adopted"
        );
        run.bus.publish(candle_event("BTCUSDT", 120, 100.0));
        wait_until("brain ran", || {
            let h = run.handle.clone();
            async move { h.health().await.brains[0].events_processed == 1 }
        })
        .await;
        settle().await;
        assert_eq!(exchange.placed().len(), 1, "no order sent again");
        assert_eq!(exchange.duplicate_placements(), 0);
        assert_eq!(
            run.handle.position(&sym("BTCUSDT")).await.quantity,
            exchange.venue_position("BTCUSDT").quantity
        );
        run.stop().await.unwrap();
    });
}

#[test]
fn killed_before_the_ack_restart_finds_the_order_instead_of_resending_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = Arc::new(MockExchange::new());
    exchange.hang_after_place(1);
    let limit_once = || -> Arc<dyn Brain> {
        Arc::new(ScriptedBrain::new("maker", |_, _, n| {
            Ok(if n == 0 {
                Decision::buy(1.0).with_limit_price(Price::new(99.0).unwrap())
            } else {
                Decision::hold()
            })
        }))
    };
    let rt = runtime();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let b = bot(
            config(&["BTCUSDT"]).build().unwrap(),
            &exchange,
            vec![limit_once()],
        )
        .with_state_store(store);
        let run = start(b).await;
        run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
        wait_until("placed", || {
            let e = exchange.clone();
            async move { e.placed().len() == 1 }
        })
        .await;
        settle().await;
    });
    drop(rt);
    let sent = exchange.placed()[0];

    let rt = runtime();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::holding("maker"));
        let b = bot(
            config(&["BTCUSDT"]).build().unwrap(),
            &exchange,
            vec![brain],
        )
        .with_state_store(store)
        .with_order_tracking();
        let run = start(b).await;
        let tracked = run.handle.tracked_orders().await;
        assert_eq!(tracked.len(), 1, "{tracked:?}");
        assert_eq!(tracked[0].order.client_id, sent.client_id);
        assert_eq!(tracked[0].status, OrderStatus::Accepted);
        assert_eq!(
            tracked[0].venue_id,
            exchange.order(&sent.client_id).map(|o| o.order_id)
        );
        settle().await;
        assert_eq!(exchange.placed().len(), 1, "looked up, not sent again");
        assert_eq!(exchange.duplicate_placements(), 0);
        run.stop().await.unwrap();
    });
}

fn halting() -> RiskConfig {
    let mut r = RiskConfig::default();
    r.session.loss_cap = Some(-1.0);
    r
}

fn tripping() -> RiskConfig {
    let mut r = RiskConfig::default();
    r.session.loss_cap = None;
    r.breaker.loss_limit = 1;
    r.breaker.cooldown = Duration::from_secs(1800);
    r
}

/// Runs one bot on `store` at `now`; each symbol gets one buy; returns the refusal labels seen.
async fn one_session(
    store: Arc<dyn StateStore>,
    now: Timestamp,
    losses: bool,
) -> (Vec<String>, usize) {
    let exchange = Arc::new(MockExchange::new().without_auto_fill());
    let cfg = config(&["BTCUSDT", "ETHUSDT"])
        .symbol_risk("BTCUSDT", halting())
        .symbol_risk("ETHUSDT", tripping())
        .build()
        .unwrap();
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, _, _| Ok(Decision::buy(1.0))));
    let metrics = Arc::new(MemoryMetrics::new());
    let b = bot(cfg, &exchange, vec![brain]).with_state_store(store);
    let run = start_with(b, metrics.clone(), Arc::new(ManualClock::new(now))).await;
    if losses {
        run.handle
            .record_trade_outcome(&sym("BTCUSDT"), -10.0, 0.0)
            .await;
        run.handle
            .record_trade_outcome(&sym("ETHUSDT"), -1.0, 0.0)
            .await;
    } else {
        run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
        run.bus.publish(candle_event("ETHUSDT", 60, 100.0));
        wait_until("both decided", || {
            let h = run.handle.clone();
            async move { h.health().await.brains[0].events_processed == 2 }
        })
        .await;
        settle().await;
    }
    run.stop().await.unwrap();
    let labels = ["session_halted", "breaker_tripped"]
        .into_iter()
        .filter(|l| {
            metrics.counter_total("rustrade_refusals_total") > 0 && {
                let key = |s: &str| {
                    format!(r#"rustrade_refusals_total{{brain="b",symbol="{s}",reason="{l}"}}"#)
                };
                metrics.counter_value(&key("BTCUSDT")) + metrics.counter_value(&key("ETHUSDT")) > 0
            }
        })
        .map(str::to_owned)
        .collect();
    (labels, exchange.placed().len())
}

#[tokio::test(start_paused = true)]
async fn halted_session_and_tripped_breaker_survive_a_restart_on_the_same_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("risk.db");
    let open =
        || async { Arc::new(SqliteStore::open(&path).await.unwrap()) as Arc<dyn StateStore> };
    let (_, placed) = one_session(open().await, noon(), true).await;
    assert_eq!(placed, 0);
    let later = noon().saturating_add(Duration::from_secs(60));
    let (refused, placed) = one_session(open().await, later, false).await;
    assert_eq!(
        refused,
        ["session_halted", "breaker_tripped"],
        "both restored"
    );
    assert_eq!(placed, 0);
}

#[tokio::test(start_paused = true)]
async fn state_from_an_earlier_day_restores_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("risk.db");
    let open =
        || async { Arc::new(SqliteStore::open(&path).await.unwrap()) as Arc<dyn StateStore> };
    one_session(open().await, noon(), true).await;
    let next_day = noon().saturating_add(Duration::from_secs(24 * 3600));
    let (refused, placed) = one_session(open().await, next_day, false).await;
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(placed, 2, "both symbols trade again");
}

#[tokio::test(start_paused = true)]
async fn the_json_file_store_restores_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let open =
        || async { Arc::new(JsonFileStore::open(&path).await.unwrap()) as Arc<dyn StateStore> };
    one_session(open().await, noon(), true).await;
    let (refused, _) = one_session(
        open().await,
        noon().saturating_add(Duration::from_secs(5)),
        false,
    )
    .await;
    assert_eq!(refused, ["session_halted", "breaker_tripped"]);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("engine/snapshot")
    );
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_snapshot_fails_start_up_instead_of_starting_fresh() {
    let store = Arc::new(MemoryStore::new());
    store
        .save("engine/snapshot", b"{\"version\":1,\"taken")
        .await
        .unwrap();
    let exchange = Arc::new(MockExchange::new());
    let b = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![buy_when_flat("b")],
    )
    .with_state_store(store);
    let err = b.run_until_shutdown().await.unwrap_err();
    match &err {
        BotError::Store(StoreError::Corrupt { key, .. }) => assert_eq!(key, "engine/snapshot"),
        other => panic!("expected a corrupt-store error, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("state store: corrupt state at key \"engine/snapshot\""),
        "{err}"
    );
    assert!(exchange.placed().is_empty());
}

#[tokio::test(start_paused = true)]
async fn journal_records_are_written_with_each_step() {
    let store = Arc::new(MemoryStore::new());
    let exchange = Arc::new(MockExchange::new());
    let b = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![buy_when_flat("b")],
    )
    .with_state_store(store.clone());
    let run = start(b).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    run.stop().await.unwrap();
    let keys = store.list("journal/").await.unwrap();
    let records: Vec<serde_json::Value> = load_all(&store, &keys).await;
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["type"].as_str()).collect();
    for kind in [
        "order_placed",
        "order_accepted",
        "fill_applied",
        "position_changed",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let placed_at = kinds.iter().position(|k| *k == "order_placed").unwrap();
    let filled_at = kinds.iter().position(|k| *k == "fill_applied").unwrap();
    assert!(placed_at < filled_at, "journal keys keep step order");
    assert!(store.load("engine/snapshot").await.unwrap().is_some());
}

async fn load_all(store: &MemoryStore, keys: &[String]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for k in keys {
        let bytes = store.load(k).await.unwrap().unwrap();
        out.push(serde_json::from_slice(&bytes).unwrap());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn journal_records_past_the_retention_are_pruned_at_start_up() {
    let store = Arc::new(MemoryStore::new());
    let old_key = "journal/00000000000000000001-00000000000000000001-0000";
    store.save(old_key, b"{}").await.unwrap();
    let exchange = Arc::new(MockExchange::new());
    let b = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![buy_when_flat("b")],
    )
    .with_state_store(store.clone());
    let run = start(b).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    run.stop().await.unwrap();
    let keys = store.list("journal/").await.unwrap();
    assert!(
        !keys.iter().any(|k| k == old_key),
        "a record from 1970 is past 7 days"
    );
    assert!(!keys.is_empty(), "this run's records are kept");
}
