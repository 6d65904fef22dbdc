//! Each fill exactly once: fill ids applied are recorded durably in the state store, in the
//! transaction of the step that applied them, so a fill replayed long after (beyond the engine's
//! window), a fill killed before it was stored, a partial fill interrupted by a kill, and a fill
//! the venue lists late are each applied once, with the protection their entry asked for.
//!
//! Every scenario runs on a real SQLite file in a temp dir; a kill is the bot's runtime dropped
//! while a store write is held back, so the step's transaction never commits. Each checks the
//! position, the session PnL, the breaker, the open protective orders, that the venue received
//! every client id once, and health.

mod common;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use rustrade::store::{JsonFileStore, SqliteStore, StateStore, StoreError, StoreOp, applied_fills};
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade::{Bot, BotConfigBuilder, RiskView};
use rustrade_core::{
    AssetClass, Brain, ClientOrderId, Decision, InstrumentSpec, OrderKind, OrderStatus, Price,
};

fn p(x: f64) -> Price {
    Price::new(x).unwrap()
}

/// Rests one limit buy of `qty` at 90, protected by a stop at 80 and a take-profit at 120.
fn resting_bracket(qty: f64) -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("b", move |_, pos, n| {
        Ok(if pos.is_flat() && n == 0 {
            Decision::buy(qty)
                .with_limit_price(p(90.0))
                .with_stop(p(80.0))
                .with_take_profit(p(120.0))
        } else {
            Decision::hold()
        })
    }))
}

/// Buys 1 at market when flat, protected by a stop at 95 and a take-profit at 110.
fn market_bracket() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("b", |_, pos, n| {
        Ok(if pos.is_flat() && n == 0 {
            Decision::buy(1.0)
                .with_stop(p(95.0))
                .with_take_profit(p(110.0))
        } else {
            Decision::hold()
        })
    }))
}

fn holder() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::holding("b"))
}

/// A SQLite store whose writes can be held back: once armed, a batch that records an applied
/// fill never completes (nor does any write after it), as when the process dies before the
/// transaction commits.
struct HeldBackStore {
    inner: SqliteStore,
    armed: AtomicBool,
}

#[async_trait::async_trait]
impl StateStore for HeldBackStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.load(key).await
    }
    async fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.save(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn apply(&self, ops: &[StoreOp]) -> Result<(), StoreError> {
        let records_a_fill = ops.iter().any(|op| match op {
            StoreOp::Put { key, .. } => key.starts_with(applied_fills::PREFIX),
            StoreOp::Delete { .. } => false,
        });
        if records_a_fill && self.armed.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner.apply(ops).await
    }
    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }
}

/// Runs one bot session on the SQLite file at `path`; `body` drives it and gets the store's
/// write switch. The session ends with the runtime dropped: a kill, unless `body` stopped the
/// bot itself.
fn session<F, Fut>(
    path: &Path,
    exchange: &Arc<MockExchange>,
    brain: Arc<dyn Brain>,
    tune: impl FnOnce(BotConfigBuilder) -> BotConfigBuilder,
    body: F,
) where
    F: FnOnce(Running, Arc<MockExchange>, Arc<HeldBackStore>) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = runtime();
    rt.block_on(async {
        let store = Arc::new(HeldBackStore {
            inner: SqliteStore::open(path).await.unwrap(),
            armed: AtomicBool::new(false),
        });
        let config = tune(config(&["BTCUSDT"])).build().unwrap();
        let b = bot(config, exchange, vec![brain])
            .with_state_store(store.clone())
            .with_order_tracking();
        let run = start(b).await;
        body(run, Arc::clone(exchange), store).await;
    });
    drop(rt);
}

fn same<T>(b: T) -> T {
    b
}

fn venue() -> Arc<MockExchange> {
    Arc::new(MockExchange::new().starting_at(noon()))
}

async fn risk(run: &Running) -> RiskView {
    run.handle.risk(&sym("BTCUSDT")).await.unwrap()
}

async fn quantity(run: &Running) -> f64 {
    run.handle.position(&sym("BTCUSDT")).await.quantity
}

async fn wait_quantity(run: &Running, want: f64) {
    wait_until(&format!("position {want}"), || {
        let h = run.handle.clone();
        async move { (h.position(&sym("BTCUSDT")).await.quantity - want).abs() < 1e-6 }
    })
    .await;
    settle().await;
}

fn placed_of(exchange: &MockExchange, kind: OrderKind) -> Vec<(ClientOrderId, f64)> {
    exchange
        .placed()
        .into_iter()
        .filter(|o| o.kind == kind)
        .map(|o| (o.client_id, o.quantity.get()))
        .collect()
}

/// No round trip closed: session PnL zero, breaker untouched, entries allowed.
async fn assert_risk_untouched(run: &Running) {
    let r = risk(run).await;
    assert_eq!((r.session_wins, r.session_losses), (0, 0), "{r:?}");
    assert!(r.session_net_pnl.abs() < 1e-9, "{r:?}");
    assert_eq!(r.breaker_recent_losses, 0, "{r:?}");
    assert!(!r.breaker_tripped && !r.entries_halted, "{r:?}");
}

/// Exactly one stop and one take-profit, each for `qty`, working at the venue and tracked.
async fn assert_protected(run: &Running, exchange: &MockExchange, qty: f64) {
    let stops = placed_of(exchange, OrderKind::StopMarket);
    let tps = placed_of(exchange, OrderKind::TakeProfit);
    assert_eq!((stops.len(), tps.len()), (1, 1), "{stops:?} {tps:?}");
    for (cid, q) in stops.iter().chain(&tps) {
        assert!((q - qty).abs() < 1e-9, "leg {cid} for {q}, want {qty}");
        assert!(exchange.order(cid).is_some(), "leg {cid} working");
    }
    let tracked = run.handle.tracked_orders().await;
    let legs = tracked.iter().filter(|o| o.role.is_leg()).count();
    assert_eq!(legs, 2, "{tracked:?}");
}

async fn assert_healthy(run: &Running) {
    let health = run.handle.health().await;
    assert!(health.healthy, "{health:?}");
    assert_eq!(health.reconciliation.drifts, 0, "{health:?}");
    assert!(health.entry_blocks.is_empty(), "{health:?}");
}

#[test]
fn a_fill_replayed_after_10_000_other_fills_is_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    // A fine lot, so 10 001 partial fills fit in one entry.
    let lot = 0.000_01;
    let spec = InstrumentSpec::new(sym("BTCUSDT"), AssetClass::CryptoPerp, 0.01, lot).unwrap();
    let exchange = Arc::new(
        MockExchange::new()
            .starting_at(noon())
            .with_instrument(spec),
    );
    let first = std::cell::Cell::new(None);
    let first_ref = &first;
    session(
        &path,
        &exchange,
        resting_bracket(1.0),
        same,
        |run, exchange, _| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, 1).await;
            let entry = exchange.placed()[0].client_id;
            first_ref.set(Some(exchange.partial_fill(&entry, lot, 90.0).unwrap()));
            wait_quantity(&run, lot).await;
        },
    );
    let first = first.get().unwrap();
    let entry = exchange.placed()[0].client_id;
    let ordered = exchange.placed()[0].quantity.get();
    assert!(ordered > 10_002.0 * lot, "{ordered}");
    // While the bot is down the entry fills 10 000 more times: more than the engine's window
    // of recent fill ids holds, so the first fill's id is no longer in it after the catch-up.
    exchange.lose_reports(true);
    for _ in 0..10_000 {
        exchange.partial_fill(&entry, lot, 90.0).unwrap();
    }
    exchange.lose_reports(false);

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange, _| async move {
            wait_quantity(&run, 10_001.0 * lot).await;
            // The venue sends the very first fill again.
            exchange.replay_fill(&first);
            settle().await;
            assert!((quantity(&run).await - 10_001.0 * lot).abs() < 1e-6);
            let orders = run.handle.tracked_orders().await;
            assert_eq!(orders.len(), 1, "the entry still works: {orders:?}");
            assert_eq!(orders[0].status, OrderStatus::PartiallyFilled);
            assert!((orders[0].filled.get() - 10_001.0 * lot).abs() < 1e-6);
            // The rest fills: the legs cover exactly what was ordered, not one lot more.
            exchange.fill_order(&entry, 90.0).unwrap();
            wait_quantity(&run, ordered).await;
            assert_protected(&run, &exchange, ordered).await;
            assert_risk_untouched(&run).await;
            assert_healthy(&run).await;
            run.stop().await.unwrap();
        },
    );
    assert_eq!(exchange.placed().len(), 3, "entry and two legs");
    assert_no_duplicates(&exchange);
}

#[test]
fn kill_after_a_fill_before_it_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    session(
        &path,
        &exchange,
        market_bracket(),
        same,
        |run, exchange, store| async move {
            store.armed.store(true, Ordering::SeqCst);
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, 1).await;
            // The entry filled at the venue and its report arrived; the step applying it
            // never commits: the kill comes first.
            assert_eq!(exchange.venue_position("BTCUSDT").quantity, 1.0);
        },
    );
    assert_eq!(
        exchange.placed().len(),
        1,
        "no leg went out before the fill was stored"
    );
    {
        let rt = runtime();
        let stored = rt.block_on(async {
            let s = SqliteStore::open(&path).await.unwrap();
            s.list(applied_fills::PREFIX).await.unwrap()
        });
        assert!(stored.is_empty(), "the fill was not stored: {stored:?}");
    }

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange, _| async move {
            // Caught up from the venue's history, applied once, legs placed.
            wait_quantity(&run, 1.0).await;
            assert_protected(&run, &exchange, 1.0).await;
            assert_risk_untouched(&run).await;
            assert_healthy(&run).await;
            run.stop().await.unwrap();
        },
    );
    assert_eq!(exchange.venue_position("BTCUSDT").quantity, 1.0);
    assert_eq!(exchange.placed().len(), 3, "entry and two legs");
    assert_no_duplicates(&exchange);
}

#[test]
fn kill_during_a_partial_fill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    session(
        &path,
        &exchange,
        resting_bracket(1.0),
        same,
        |run, exchange, store| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, 1).await;
            let entry = exchange.placed()[0].client_id;
            exchange.partial_fill(&entry, 0.2, 90.0).unwrap();
            wait_quantity(&run, 0.2).await;
            // The next partial fill is being applied when the bot dies.
            store.armed.store(true, Ordering::SeqCst);
            exchange.partial_fill(&entry, 0.3, 90.0).unwrap();
            settle().await;
        },
    );
    let entry = exchange.placed()[0].client_id;
    let ordered = exchange.placed()[0].quantity.get();
    // While down, the venue fills some more of the resting entry.
    exchange.lose_reports(true);
    exchange.partial_fill(&entry, 0.1, 90.0).unwrap();
    exchange.lose_reports(false);

    session(
        &path,
        &exchange,
        holder(),
        same,
        |run, exchange, _| async move {
            wait_quantity(&run, 0.6).await;
            let orders = run.handle.tracked_orders().await;
            assert_eq!(orders.len(), 1, "{orders:?}");
            assert_eq!(orders[0].status, OrderStatus::PartiallyFilled);
            assert!((orders[0].filled.get() - 0.6).abs() < 1e-9);
            assert!(
                placed_of(&exchange, OrderKind::StopMarket).is_empty(),
                "legs wait for the entry to stop working"
            );
            // The venue repeats the interrupted fill on its stream: already caught up.
            let interrupted = exchange.venue_fills("BTCUSDT")[1];
            exchange.replay_fill(&interrupted);
            settle().await;
            assert!((quantity(&run).await - 0.6).abs() < 1e-9);
            exchange.fill_order(&entry, 90.0).unwrap();
            wait_quantity(&run, ordered).await;
            assert_protected(&run, &exchange, ordered).await;
            assert_risk_untouched(&run).await;
            assert_healthy(&run).await;
            run.stop().await.unwrap();
        },
    );
    assert_eq!(exchange.placed().len(), 3, "entry and two legs");
    assert_no_duplicates(&exchange);
}

#[test]
fn a_fill_the_venue_lists_after_reporting_the_order_filled_still_gets_its_bracket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = venue();
    session(
        &path,
        &exchange,
        resting_bracket(1.0),
        |c| c.reconcile_interval(Duration::from_secs(1)),
        |run, exchange, _| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_placed(&exchange, 1).await;
            let entry = exchange.placed()[0].client_id;
            // The entry fills; the stream loses the report and the venue's trade history does
            // not list it yet, while its order status already says filled.
            exchange.lag_fill_history(true);
            exchange.fill_order_silently(&entry, 90.0).unwrap();
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                settle().await;
            }
            let orders = run.handle.tracked_orders().await;
            assert_eq!(orders.len(), 1, "not retired as missing: {orders:?}");
            let ordered = orders[0].order.quantity;
            assert_eq!(orders[0].venue_filled, Some(ordered), "filled at the venue");
            assert_eq!(quantity(&run).await, 0.0, "no fill seen yet");
            assert_eq!(
                run.handle.health().await.reconciliation.drifts,
                0,
                "the awaited fill explains the venue's position"
            );
            // The history catches up; the next reconciliation applies the fill once.
            exchange.lag_fill_history(false);
            wait_quantity(&run, ordered.get()).await;
            wait_placed(&exchange, 3).await;
            assert_protected(&run, &exchange, ordered.get()).await;
            assert_risk_untouched(&run).await;
            assert_healthy(&run).await;
            run.stop().await.unwrap();
        },
    );
    assert_eq!(exchange.placed().len(), 3, "entry and two legs");
    assert_no_duplicates(&exchange);
}

/// A state written before the applied-fill record existed (layout 1, as the release before it
/// wrote it: a resting entry with one partial fill) is migrated at start-up, in both stores.
#[test]
fn a_layout_1_state_migrates_its_applied_fills_in_both_stores() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/state-layout1.json");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("state.json");
    std::fs::copy(fixture, &json).unwrap();
    let db = dir.path().join("state.db");
    let rt = runtime();
    rt.block_on(async {
        // The same layout-1 entries in a SQLite file.
        let from = JsonFileStore::open(&json).await.unwrap();
        let to = SqliteStore::open(&db).await.unwrap();
        let mut ops = Vec::new();
        for key in from.list("").await.unwrap() {
            let value = from.load(&key).await.unwrap().unwrap();
            ops.push(StoreOp::Put { key, value });
        }
        to.apply(&ops).await.unwrap();
        assert!(to.load(applied_fills::LAYOUT_KEY).await.unwrap().is_none());
        assert!(to.list(applied_fills::PREFIX).await.unwrap().is_empty());
    });
    drop(rt);
    for name in ["json", "sqlite"] {
        let exchange = venue();
        exchange.set_position("BTCUSDT", rustrade_core::Position::new(0.4, 90.0));
        let rt = runtime();
        rt.block_on(async {
            let store: Arc<dyn StateStore> = if name == "json" {
                Arc::new(JsonFileStore::open(&json).await.unwrap())
            } else {
                Arc::new(SqliteStore::open(&db).await.unwrap())
            };
            let b = Bot::new(
                config(&["BTCUSDT"]).build().unwrap(),
                exchange.clone(),
                vec![holder()],
            )
            .unwrap()
            .with_state_store(Arc::clone(&store));
            let run = start(b).await;
            assert!(
                (quantity(&run).await - 0.4).abs() < 1e-9,
                "{name}: restored the partial fill"
            );
            assert_eq!(
                store.load(applied_fills::LAYOUT_KEY).await.unwrap(),
                Some(applied_fills::LAYOUT_VERSION.to_string().into_bytes()),
                "{name}"
            );
            let fill_id = rustrade_core::FillId::new("f2").unwrap();
            let record = store.load(&applied_fills::key(&fill_id)).await.unwrap();
            let record = String::from_utf8(record.expect("fill recorded")).unwrap();
            assert!(record.starts_with('m'), "{name}: names the order: {record}");
            run.stop().await.unwrap();
        });
    }
}
