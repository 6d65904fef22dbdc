//! Degraded mode and drift: while fills or market data cannot be trusted, or the store cannot
//! write, entries are refused with a typed reason, exits still go, health says why, and entries
//! resume by themselves when the cause clears. A manual trade at the venue follows the drift
//! policy. Each scenario drives the bot through its public API and checks the client ids the
//! venue received.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use rustrade::engine::{DriftPolicy, EntryBlock};
use rustrade::store::MemoryStore;
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade::{BotHealth, DEFAULT_MARKET_SILENCE};
use rustrade_core::{
    Brain, Decision, MarketEvent, MarketSource, Side, StateStore, StoreError, StoreOp, Symbol,
};

fn venue() -> Arc<MockExchange> {
    Arc::new(MockExchange::new().starting_at(noon()))
}

/// Buys when flat on even candles, closes on odd ones: an entry or an exit on every candle.
fn flipper() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("b", |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::close()
        })
    }))
}

fn buyer() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("b", |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }))
}

async fn health_until(run: &Running, what: &str, cond: impl Fn(&BotHealth) -> bool) -> BotHealth {
    wait_until(what, || {
        let h = run.handle.clone();
        let ok = async move { h.health().await };
        async { cond(&ok.await) }
    })
    .await;
    run.handle.health().await
}

#[tokio::test(start_paused = true)]
async fn a_manual_trade_found_by_reconciliation_halts_entries_until_acknowledged() {
    let ex = venue();
    let cfg = config(&["BTCUSDT"])
        .reconcile_interval(Duration::from_secs(5))
        .build()
        .unwrap();
    let adder: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, _, _| Ok(Decision::buy(1.0))));
    let run = start(bot(cfg, &ex, vec![adder])).await;
    // The fill stream is lost before the manual trade, so only reconciliation can see it.
    ex.lose_reports(true);
    ex.manual_trade("BTCUSDT", Side::Buy, 2.0, 100.0).unwrap();
    ex.set_position(
        "BTCUSDT",
        rustrade_core::Position {
            quantity: 2.0,
            avg_entry: 100.0,
            ..rustrade_core::Position::FLAT
        },
    );
    let health = health_until(&run, "drift found", |h| {
        h.entry_blocks.contains(&EntryBlock::Drift)
    })
    .await;
    assert!(health.reconciliation.drifts >= 1, "{health:?}");
    assert!(health.healthy, "drift degrades entries, not the services");
    assert_eq!(run.handle.position(&sym("BTCUSDT")).await.quantity, 2.0);

    let before = ex.placed().len();
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    settle().await;
    assert_eq!(ex.placed().len(), before, "no entry while drift waits");
    assert_eq!(
        run.metrics.counter_value(
            r#"rustrade_refusals_total{brain="b",symbol="BTCUSDT",reason="drift_unacknowledged"}"#
        ),
        1
    );
    assert!(
        run.metrics
            .counter_value(r#"rustrade_position_drift_total{symbol="BTCUSDT"}"#)
            >= 1
    );

    assert!(run.handle.acknowledge_drift().await);
    assert!(run.handle.health().await.entry_blocks.is_empty());
    assert_no_duplicates(&ex);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_manual_trade_under_adopt_is_recorded_and_trading_goes_on() {
    let ex = venue();
    ex.manual_trade("BTCUSDT", Side::Sell, 1.0, 100.0).unwrap();
    let cfg = config(&["BTCUSDT"])
        .drift_policy(DriftPolicy::Adopt)
        .build()
        .unwrap();
    let run = start(bot(cfg, &ex, vec![flipper()])).await;
    let health = run.handle.health().await;
    assert!(health.entry_blocks.is_empty(), "{:?}", health.entry_blocks);
    assert_eq!(health.reconciliation.drifts, 1);
    assert_eq!(run.handle.position(&sym("BTCUSDT")).await.quantity, -1.0);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_manual_trade_under_flatten_is_closed_through_the_engine() {
    let ex = venue();
    ex.manual_trade("BTCUSDT", Side::Buy, 3.0, 100.0).unwrap();
    let cfg = config(&["BTCUSDT"])
        .drift_policy(DriftPolicy::Flatten)
        .build()
        .unwrap();
    let run = start(bot(cfg, &ex, vec![Arc::new(ScriptedBrain::holding("b"))])).await;
    settle().await;
    let placed = ex.placed();
    assert_eq!(placed.len(), 1, "{placed:?}");
    assert_eq!(placed[0].side, Side::Sell);
    assert_eq!(placed[0].quantity.get(), 3.0);
    assert!(placed[0].reduce_only);
    assert!(ex.venue_position("BTCUSDT").is_flat());
    assert!(run.handle.position(&sym("BTCUSDT")).await.is_flat());
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn fill_routing_down_refuses_entries_keeps_exits_and_clears_after_catch_up() {
    let ex = venue();
    let cfg = config(&["BTCUSDT"]).build().unwrap();
    let run = start(bot(cfg, &ex, vec![flipper()])).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;

    ex.refuse_stream_connects(3);
    let health = health_until(&run, "fill routing down", |h| {
        h.entry_blocks.contains(&EntryBlock::FillRouting)
    })
    .await;
    assert_eq!(health.entry_blocks, [EntryBlock::FillRouting]);

    // The exit goes out while fill routing is down; its fill is caught up on reconnect.
    run.bus.publish(candle_event("BTCUSDT", 120, 100.0));
    wait_until("exit sent", || {
        let e = Arc::clone(&ex);
        async move { e.placed().len() == 2 }
    })
    .await;
    assert!(ex.placed()[1].reduce_only);

    let health = health_until(&run, "fill routing back", |h| h.entry_blocks.is_empty()).await;
    assert!(health.healthy);
    assert!(
        run.handle.position(&sym("BTCUSDT")).await.is_flat(),
        "caught up"
    );
    run.bus.publish(candle_event("BTCUSDT", 180, 100.0));
    wait_until("entry again", || {
        let e = Arc::clone(&ex);
        async move { e.placed().len() == 3 }
    })
    .await;
    assert_no_duplicates(&ex);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_fill_routing_circuit_that_opens_keeps_entries_refused_with_health_false() {
    let ex = venue();
    let cfg = config(&["BTCUSDT"]).build().unwrap();
    let run = start(bot(cfg, &ex, vec![buyer()])).await;
    ex.refuse_stream_connects(u64::MAX);
    // Long enough on the paused clock for every reconnect the supervisor's policy allows.
    tokio::time::sleep(Duration::from_secs(3_600)).await;
    let health = run.handle.health().await;
    assert!(!health.healthy, "{health:?}");
    assert!(health.entry_blocks.contains(&EntryBlock::FillRouting));
    let routing = health
        .services
        .iter()
        .find(|s| s.name.starts_with("fill-routing"))
        .unwrap();
    assert!(routing.last_error.is_some(), "{routing:?}");
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    settle().await;
    assert!(ex.placed().is_empty(), "no entry without fill routing");
    assert_eq!(
        run.metrics.counter_value(
            r#"rustrade_refusals_total{brain="b",symbol="BTCUSDT",reason="fill_routing_down"}"#
        ),
        1
    );
    run.stop().await.unwrap();
}

/// A market source that delivers its events, then stays silent forever.
struct QuietAfter(std::collections::VecDeque<MarketEvent>);

#[async_trait::async_trait]
impl MarketSource for QuietAfter {
    fn name(&self) -> &str {
        "quiet"
    }
    async fn connect(&mut self, _: &[Symbol]) -> Result<(), rustrade_core::ExchangeError> {
        Ok(())
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, rustrade_core::ExchangeError> {
        match self.0.pop_front() {
            Some(e) => Ok(Some(e)),
            None => std::future::pending().await,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_silent_market_feed_raises_its_block_and_the_next_event_clears_it() {
    let ex = venue();
    let cfg = config(&["BTCUSDT"]).build().unwrap();
    let source = QuietAfter(std::collections::VecDeque::new());
    let run = start(bot(cfg, &ex, vec![buyer()]).with_market_source(Box::new(source))).await;
    assert!(run.handle.health().await.entry_blocks.is_empty());
    tokio::time::sleep(DEFAULT_MARKET_SILENCE + Duration::from_secs(1)).await;
    settle().await;
    let health = run.handle.health().await;
    assert_eq!(health.entry_blocks, [EntryBlock::MarketData]);
    assert_eq!(
        run.metrics
            .gauge_value(r#"rustrade_entries_blocked{reason="market_data_silent"}"#),
        Some(1.0)
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_stale_back_log_is_not_traded_on() {
    let ex = venue();
    let cfg = config(&["BTCUSDT"])
        .max_event_age(Duration::from_secs(120))
        .build()
        .unwrap();
    let run = start(bot(cfg, &ex, vec![buyer()])).await;
    // Candles of an hour ago, delivered now (a feed's back-log after a reconnect).
    let now = noon().as_secs();
    for minute in 0..3 {
        run.bus
            .publish(candle_event("BTCUSDT", now - 3_600 + minute * 60, 100.0));
    }
    settle().await;
    assert!(ex.placed().is_empty(), "{:?}", ex.placed());
    assert_eq!(
        run.metrics.counter_value(
            r#"rustrade_refusals_total{brain="b",symbol="BTCUSDT",reason="stale_event"}"#
        ),
        3
    );
    run.bus.publish(candle_event("BTCUSDT", now, 100.0));
    wait_until("fresh entry", || {
        let e = Arc::clone(&ex);
        async move { e.placed().len() == 1 }
    })
    .await;
    run.stop().await.unwrap();
}

/// A memory store whose writes fail while `failing` is set.
#[derive(Default)]
struct FlakyStore {
    inner: MemoryStore,
    failing: AtomicBool,
}

impl FlakyStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(StoreError::Backend("disk full".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl StateStore for FlakyStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.load(key).await
    }
    async fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.save(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn apply(&self, ops: &[StoreOp]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.apply(ops).await
    }
    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_store_that_cannot_write_refuses_entries_sends_exits_and_recovers() {
    let ex = venue();
    let store = Arc::new(FlakyStore::default());
    let cfg = config(&["BTCUSDT"]).build().unwrap();
    let b = bot(cfg, &ex, vec![flipper()]).with_state_store(store.clone() as Arc<dyn StateStore>);
    let run = start(b).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("long", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;

    store.failing.store(true, Ordering::SeqCst);
    run.bus.publish(candle_event("BTCUSDT", 120, 100.0));
    wait_until("exit sent", || {
        let e = Arc::clone(&ex);
        async move { e.placed().len() == 2 }
    })
    .await;
    assert!(
        ex.placed()[1].reduce_only,
        "the exit went without a journal"
    );
    let health = run.handle.health().await;
    assert_eq!(health.entry_blocks, [EntryBlock::Store]);
    run.bus.publish(candle_event("BTCUSDT", 180, 100.0));
    settle().await;
    assert_eq!(ex.placed().len(), 2, "no entry while the store fails");

    store.failing.store(false, Ordering::SeqCst);
    run.bus.publish(candle_event("BTCUSDT", 240, 100.0));
    settle().await;
    run.bus.publish(candle_event("BTCUSDT", 300, 100.0));
    wait_until("entry again", || {
        let e = Arc::clone(&ex);
        async move { e.placed().len() == 3 }
    })
    .await;
    assert!(run.handle.health().await.entry_blocks.is_empty());
    assert_no_duplicates(&ex);
    run.stop().await.unwrap();
}
