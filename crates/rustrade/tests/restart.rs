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
    let seqs: Vec<u64> = records.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(
        seqs,
        (1..=records.len() as u64).collect::<Vec<_>>(),
        "records numbered from 1 without a gap, in key order"
    );
    assert!(records.iter().all(|r| r["format"] == 1));
    let kinds: Vec<&str> = records
        .iter()
        .filter_map(|r| r["event"]["type"].as_str())
        .collect();
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

/// Runs a bot on `store` that buys once, until it is long, then stops it cleanly.
async fn go_long_and_stop(
    store: Arc<dyn StateStore>,
    exchange: &Arc<MockExchange>,
    snapshot_every: u64,
    at: Timestamp,
) {
    let b = bot(
        config(&["BTCUSDT"])
            .snapshot_every(snapshot_every)
            .build()
            .unwrap(),
        exchange,
        vec![buy_when_flat("b")],
    )
    .with_state_store(store);
    let run = start_with(
        b,
        Arc::new(MemoryMetrics::new()),
        Arc::new(ManualClock::new(at)),
    )
    .await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    run.stop().await.unwrap();
}

/// Starts a bot on `store` at `at` and returns its position once running, then stops it.
async fn restarted_position(
    store: Arc<dyn StateStore>,
    exchange: &Arc<MockExchange>,
    at: Timestamp,
) -> Result<rustrade_core::Position, BotError> {
    let b = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        exchange,
        vec![Arc::new(ScriptedBrain::holding("b"))],
    )
    .with_state_store(store);
    let b = b.with_clock(Arc::new(ManualClock::new(at)));
    let handle = b.handle();
    let task = tokio::spawn(b.run_until_shutdown());
    for _ in 0..10_000 {
        if task.is_finished() || !handle.health().await.services.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if task.is_finished() {
        return Err(task.await.unwrap().unwrap_err());
    }
    let position = handle.position(&sym("BTCUSDT")).await;
    handle.shutdown();
    task.await.unwrap()?;
    Ok(position)
}

#[tokio::test(start_paused = true)]
async fn journal_records_past_the_retention_are_pruned_at_start_up() {
    let store = Arc::new(MemoryStore::new());
    let exchange = Arc::new(MockExchange::new());
    go_long_and_stop(store.clone(), &exchange, 1, noon()).await;
    let before = store.list("journal/").await.unwrap();
    let prev: serde_json::Value =
        serde_json::from_slice(&store.load("engine/snapshot.prev").await.unwrap().unwrap())
            .unwrap();
    let covered = prev["journal_seq"].as_u64().unwrap();
    assert!(
        covered > 0 && (covered as usize) < before.len(),
        "{covered} of {}",
        before.len()
    );

    let eight_days_later = noon().saturating_add(Duration::from_secs(8 * 24 * 3600));
    let position = restarted_position(store.clone(), &exchange, eight_days_later)
        .await
        .unwrap();
    assert_eq!(position.quantity, 1.0, "state intact after pruning");
    let after = store.list("journal/").await.unwrap();
    for key in &before {
        let seq: u64 = key["journal/".len()..][..20].parse().unwrap();
        assert_eq!(
            after.contains(key),
            seq > covered,
            "record {seq}: only records the previous snapshot covers are pruned"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_replays_the_journal_written_after_the_last_snapshot() {
    let store = Arc::new(MemoryStore::new());
    let exchange = Arc::new(MockExchange::new());
    go_long_and_stop(store.clone(), &exchange, 1, noon()).await;
    // Then a snapshot only every 1 000 records: the close is in the journal alone.
    let close_when_long: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, pos, _| {
        Ok(if pos.is_long() {
            Decision::close()
        } else {
            Decision::hold()
        })
    }));
    let b = bot(
        config(&["BTCUSDT"]).snapshot_every(1_000).build().unwrap(),
        &exchange,
        vec![close_when_long],
    )
    .with_state_store(store.clone());
    let run = start(b).await;
    run.bus.publish(candle_event("BTCUSDT", 120, 101.0));
    wait_until("flat", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_flat() }
    })
    .await;
    settle().await;
    // Killed: no final snapshot.
    run.task.abort();
    let _ = run.task.await;
    let snapshot: serde_json::Value =
        serde_json::from_slice(&store.load("engine/snapshot").await.unwrap().unwrap()).unwrap();
    let records = store.list("journal/").await.unwrap().len() as u64;
    assert!(
        snapshot["journal_seq"].as_u64().unwrap() < records,
        "a tail to replay"
    );
    let position = restarted_position(store.clone(), &exchange, noon())
        .await
        .unwrap();
    assert!(
        position.is_flat(),
        "the close in the tail is applied: {position:?}"
    );
    assert_eq!(exchange.placed().len(), 2, "nothing sent again");
}

#[tokio::test(start_paused = true)]
async fn killed_before_any_snapshot_the_whole_journal_restores() {
    let store = Arc::new(MemoryStore::new());
    let exchange = Arc::new(MockExchange::new());
    let b = bot(
        config(&["BTCUSDT"]).snapshot_every(1_000).build().unwrap(),
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
    settle().await;
    run.task.abort();
    let _ = run.task.await;
    assert!(store.load("engine/snapshot").await.unwrap().is_none());
    let position = restarted_position(store.clone(), &exchange, noon())
        .await
        .unwrap();
    assert_eq!(position.quantity, 1.0);
    assert_eq!(exchange.placed().len(), 1, "nothing sent again");
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_snapshot_falls_back_to_the_previous_one_and_then_to_the_whole_journal() {
    let store = Arc::new(MemoryStore::new());
    let exchange = Arc::new(MockExchange::new());
    go_long_and_stop(store.clone(), &exchange, 1, noon()).await;
    store
        .save("engine/snapshot", b"{\"version\":2,\"tak")
        .await
        .unwrap();
    let position = restarted_position(store.clone(), &exchange, noon())
        .await
        .unwrap();
    assert_eq!(position.quantity, 1.0, "previous snapshot + tail");

    store.save("engine/snapshot", b"garbage").await.unwrap();
    store
        .save("engine/snapshot.prev", b"garbage")
        .await
        .unwrap();
    let position = restarted_position(store.clone(), &exchange, noon())
        .await
        .unwrap();
    assert_eq!(position.quantity, 1.0, "the whole journal from its genesis");
    assert_eq!(exchange.placed().len(), 1, "nothing sent again");

    // With the first records gone too, nothing can rebuild the state: refuse to start.
    store.save("engine/snapshot", b"garbage").await.unwrap();
    store
        .save("engine/snapshot.prev", b"garbage")
        .await
        .unwrap();
    let first = store.list("journal/").await.unwrap()[0].clone();
    store.delete(&first).await.unwrap();
    let err = restarted_position(store.clone(), &exchange, noon())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("state store: corrupt state at key \"engine/snapshot\""),
        "{text}"
    );
    assert!(text.contains("first records were pruned"), "{text}");
    assert!(text.contains("engine/snapshot.prev"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_journal_record_fails_start_up_naming_its_key() {
    let store = Arc::new(MemoryStore::new());
    let exchange = Arc::new(MockExchange::new());
    go_long_and_stop(store.clone(), &exchange, 1_000, noon()).await;
    store.delete("engine/snapshot").await.unwrap();
    let keys = store.list("journal/").await.unwrap();
    store
        .save(
            &keys[1],
            b"{\"format\":1,\"seq\":2,\"event\":{\"type\":\"nope\"}}",
        )
        .await
        .unwrap();
    let err = restarted_position(store.clone(), &exchange, noon())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&keys[1]), "{text}");
    assert!(
        text.contains("journal record 2: undecodable event"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_store_of_the_older_layout_restores_from_its_version_1_snapshot() {
    let store = Arc::new(MemoryStore::new());
    let exchange = Arc::new(MockExchange::new());
    go_long_and_stop(store.clone(), &exchange, 1, noon()).await;
    // Rewrite it as an older release left it: a version-1 snapshot covering everything, bare
    // events under time-keyed journal keys, no genesis, no previous snapshot.
    let mut snapshot: serde_json::Value =
        serde_json::from_slice(&store.load("engine/snapshot").await.unwrap().unwrap()).unwrap();
    snapshot["version"] = 1.into();
    snapshot.as_object_mut().unwrap().remove("journal_seq");
    store
        .save("engine/snapshot", &serde_json::to_vec(&snapshot).unwrap())
        .await
        .unwrap();
    store.delete("engine/snapshot.prev").await.unwrap();
    store.delete("engine/genesis").await.unwrap();
    for key in store.list("journal/").await.unwrap() {
        store.delete(&key).await.unwrap();
    }
    let legacy = "journal/00000000000000000001-00000000000000000001-0000";
    store.save(legacy, b"{}").await.unwrap();

    let position = restarted_position(store.clone(), &exchange, noon())
        .await
        .unwrap();
    assert_eq!(position.quantity, 1.0);
    let keys = store.list("journal/").await.unwrap();
    assert!(
        !keys.iter().any(|k| k == legacy),
        "a record from 1970 is past 7 days"
    );
    assert_eq!(exchange.placed().len(), 1);
}
