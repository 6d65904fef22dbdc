//! Nothing lost on PostgreSQL: a paper bot on a `PostgresStore`, killed by dropping its runtime
//! mid-run while the venue keeps trading, restarts into the state the venue implies — as the
//! facade's recovery tests show on SQLite — and its closed trade is a queryable row.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rustrade::testkit::{
    ManualClock, MockExchange, ScriptedBrain, candle_event, settle, wait_until,
};
use rustrade::{Bot, BotConfig, BotError, BotHandle};
use rustrade_core::{
    Brain, ClientOrderId, Decision, MarketDataBus, MemoryMetrics, OrderKind, Price, Symbol,
    Timestamp,
};
use rustrade_postgres::testing::TestSchema;
use tokio::task::JoinHandle;

fn sym() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn noon() -> Timestamp {
    Timestamp::parse_rfc3339("2024-01-02T12:00:00Z").unwrap()
}

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

struct Running {
    handle: BotHandle,
    bus: MarketDataBus,
    task: JoinHandle<Result<(), BotError>>,
}

/// One session of bot `t` on its PostgreSQL state in `schema`; ends with the runtime dropped,
/// a kill unless `body` stopped the bot itself.
fn session<F, Fut>(
    schema: &TestSchema,
    exchange: &Arc<MockExchange>,
    brain: Arc<dyn Brain>,
    body: F,
) where
    F: FnOnce(Running, Arc<MockExchange>) -> Fut,
    Fut: Future<Output = ()>,
{
    session_of("t", schema, exchange, brain, body);
}

/// [`session`] of the bot named `name` (its bot id in the store too).
fn session_of<F, Fut>(
    name: &str,
    schema: &TestSchema,
    exchange: &Arc<MockExchange>,
    brain: Arc<dyn Brain>,
    body: F,
) where
    F: FnOnce(Running, Arc<MockExchange>) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        // A killed predecessor's session may still be ending on the server.
        let store = schema
            .options(name)
            .lock_wait(Duration::from_secs(5))
            .connect()
            .await
            .unwrap();
        let config = BotConfig::builder()
            .name(name)
            .symbols(["BTCUSDT"])
            .without_signal_handler()
            .shutdown_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let bot = Bot::new(config, exchange.clone(), vec![brain])
            .unwrap()
            .with_fill_source(exchange.fill_source())
            .with_state_store(Arc::new(store))
            .with_order_tracking()
            .with_metrics(Arc::new(MemoryMetrics::new()))
            .with_clock(Arc::new(ManualClock::new(noon())));
        let handle = bot.handle();
        let bus = bot.market_data_bus();
        let task = tokio::spawn(bot.run_until_shutdown());
        wait_until("services running", || {
            let handle = handle.clone();
            async move { !handle.health().await.services.is_empty() }
        })
        .await;
        body(Running { handle, bus, task }, Arc::clone(exchange)).await;
    });
    drop(rt);
}

fn placed_of(exchange: &MockExchange, kind: OrderKind) -> Vec<ClientOrderId> {
    exchange
        .placed()
        .into_iter()
        .filter(|o| o.kind == kind)
        .map(|o| o.client_id)
        .collect()
}

fn assert_no_duplicates(exchange: &MockExchange) {
    let ids: Vec<_> = exchange.placed().iter().map(|o| o.client_id).collect();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "a client id was sent twice: {ids:?}"
    );
    assert_eq!(exchange.duplicate_placements(), 0);
}

/// A first session of bot `name` that places `n` orders, then is killed.
fn placed_then_killed_as(name: &str, schema: &TestSchema, exchange: &Arc<MockExchange>, n: usize) {
    session_of(
        name,
        schema,
        exchange,
        bracketed_buyer(),
        move |run, exchange| async move {
            run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
            wait_until(&format!("{n} orders placed"), || {
                let e = Arc::clone(&exchange);
                async move { e.placed().len() >= n }
            })
            .await;
            settle().await;
        },
    );
}

fn placed_then_killed(schema: &TestSchema, exchange: &Arc<MockExchange>, n: usize) {
    placed_then_killed_as("t", schema, exchange, n);
}

#[test]
fn a_stop_filled_while_down_counts_as_a_loss_on_restart_and_is_a_trade_row() {
    let Some(schema) = TestSchema::new("recovery_stop_filled_while_down") else {
        return;
    };
    let exchange = Arc::new(MockExchange::new().starting_at(noon()));
    placed_then_killed(&schema, &exchange, 3);
    let stop = placed_of(&exchange, OrderKind::StopMarket)[0];
    let tp = placed_of(&exchange, OrderKind::TakeProfit)[0];
    exchange.fill_order_silently(&stop, 95.0).unwrap();

    session(
        &schema,
        &exchange,
        Arc::new(ScriptedBrain::holding("b")),
        |run, exchange| async move {
            settle().await;
            assert!(run.handle.position(&sym()).await.is_flat());
            let r = run.handle.risk(&sym()).await.unwrap();
            assert_eq!(r.session_losses, 1, "{r:?}");
            assert!((r.session_net_pnl + 5.0).abs() < 1e-9, "{r:?}");
            assert!(exchange.cancels().contains(&tp), "OCO sibling cancelled");
            assert!(run.handle.tracked_orders().await.is_empty());
            run.handle.shutdown();
            run.task.await.unwrap().unwrap();
        },
    );
    assert_no_duplicates(&exchange);
    let s = schema.name();
    let trades = schema
        .query(&format!(
            "SELECT bot_id, side, net_pnl FROM {s}.trades \
             WHERE closed_at >= '2024-01-02' AND closed_at < '2024-01-03'"
        ))
        .unwrap();
    let trades: Vec<(String, String, f64)> = trades
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(trades.len(), 1, "{trades:?}");
    assert_eq!((&trades[0].0[..], &trades[0].1[..]), ("t", "buy"));
    assert!((trades[0].2 + 5.0).abs() < 1e-9, "{trades:?}");
    let statuses = schema
        .query(&format!(
            "SELECT kind, status FROM {s}.orders WHERE bot_id = 't' ORDER BY placed_ns, kind"
        ))
        .unwrap();
    let statuses: Vec<(String, String)> = statuses.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(
        statuses.contains(&("stop_market".into(), "filled".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("take_profit".into(), "cancelled".into())),
        "{statuses:?}"
    );
}

#[test]
fn an_entry_filled_while_down_gets_its_protection_on_restart() {
    let Some(schema) = TestSchema::new("recovery_entry_filled_while_down") else {
        return;
    };
    let exchange = Arc::new(MockExchange::new().starting_at(noon()).without_auto_fill());
    placed_then_killed(&schema, &exchange, 1);
    let entry = exchange.placed()[0].client_id;
    exchange.fill_order_silently(&entry, 100.0).unwrap();

    session(
        &schema,
        &exchange,
        Arc::new(ScriptedBrain::holding("b")),
        |run, exchange| async move {
            settle().await;
            assert_eq!(run.handle.position(&sym()).await.quantity, 1.0);
            let legs = (
                placed_of(&exchange, OrderKind::StopMarket).len(),
                placed_of(&exchange, OrderKind::TakeProfit).len(),
            );
            assert_eq!(legs, (1, 1), "both legs placed on restart");
            assert!(run.handle.health().await.healthy);
            run.handle.shutdown();
            run.task.await.unwrap().unwrap();
        },
    );
    assert_no_duplicates(&exchange);
    let fills = schema
        .query(&format!(
            "SELECT count(*) FROM {}.fills WHERE bot_id = 't' AND role = 'entry'",
            schema.name()
        ))
        .unwrap();
    assert_eq!(
        fills[0].get::<_, i64>(0),
        1,
        "the fill made while down is a row"
    );
}

#[test]
fn two_bots_in_one_schema_each_recover_their_own_state() {
    let Some(schema) = TestSchema::new("recovery_two_bots_in_one_schema") else {
        return;
    };
    // Bot t1's bracket is placed and its stop fills while it is down; bot t2's entry rests and
    // fills while it is down. Same tables, different bot ids.
    let one = Arc::new(MockExchange::new().starting_at(noon()));
    let two = Arc::new(MockExchange::new().starting_at(noon()).without_auto_fill());
    placed_then_killed_as("t1", &schema, &one, 3);
    placed_then_killed_as("t2", &schema, &two, 1);
    one.fill_order_silently(&placed_of(&one, OrderKind::StopMarket)[0], 95.0)
        .unwrap();
    two.fill_order_silently(&two.placed()[0].client_id, 100.0)
        .unwrap();

    let holder = || -> Arc<dyn Brain> { Arc::new(ScriptedBrain::holding("b")) };
    session_of("t1", &schema, &one, holder(), |run, _| async move {
        settle().await;
        assert!(run.handle.position(&sym()).await.is_flat());
        assert_eq!(run.handle.risk(&sym()).await.unwrap().session_losses, 1);
        run.handle.shutdown();
        run.task.await.unwrap().unwrap();
    });
    session_of("t2", &schema, &two, holder(), |run, exchange| async move {
        settle().await;
        assert_eq!(run.handle.position(&sym()).await.quantity, 1.0);
        assert_eq!(run.handle.risk(&sym()).await.unwrap().session_losses, 0);
        assert_eq!(placed_of(&exchange, OrderKind::StopMarket).len(), 1);
        run.handle.shutdown();
        run.task.await.unwrap().unwrap();
    });
    assert_no_duplicates(&one);
    assert_no_duplicates(&two);
    let rows = schema
        .query(&format!(
            "SELECT bot_id, (SELECT count(*) FROM {s}.trades t WHERE t.bot_id = f.bot_id), \
                    count(*) \
             FROM {s}.fills f GROUP BY bot_id ORDER BY bot_id",
            s = schema.name()
        ))
        .unwrap();
    let rows: Vec<(String, i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        rows,
        vec![("t1".into(), 1, 2), ("t2".into(), 0, 1)],
        "bot, its trades, its fills"
    );
}
