//! Two bots and a relay on one NATS server and one PostgreSQL database, as `docs/scaling-out.md`
//! deploys them: the relay is killed and restarted on overlapping data, one bot is killed while
//! the market and its venue go on, and restarted with no start point given. Asserted: that bot
//! is handed every closed bar (the ones published while it was down included), never decides
//! twice on one bar, and every fill its venue made (one while it was down) reaches its state
//! and its `fills` table; the other bot, in the same schema, keeps its own state.
//!
//! Skipped with a note when either server is not reachable, unless `RUSTRADE_REQUIRE_SERVERS=1`.

#![cfg(all(feature = "nats", feature = "postgres"))]
#![expect(
    clippy::disallowed_methods,
    reason = "waits on real servers and bot threads, bounded by wall time"
)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use rustrade::testkit::{ManualClock, MockExchange, ScriptedBrain};
use rustrade::{Bot, BotConfig, BotHandle};
use rustrade_core::{
    Brain, Candle, Decision, ExchangeError, MarketEvent, MarketSource, MemoryMetrics, Price,
    Symbol, Timestamp, Venue, async_trait,
};
use rustrade_nats::{
    MarketStream, NatsMarketSource, NatsOptions, NatsSourceConfig, Relay, RelayConfig, StartAt,
    async_nats, testing,
};
use rustrade_postgres::testing::TestSchema;
use tokio::sync::mpsc;

const MINUTE: i64 = 60_000_000_000;
/// 2024-01-01T00:00:00Z: bars published now are stored after they closed, as live ones are.
const T0: i64 = 1_704_067_200 * 1_000_000_000;
/// How long any one wait in this test may take before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

/// The `i`-th one-minute bar, stamped with its close time.
fn bar(venue: Venue, i: i64) -> MarketEvent {
    let open = Timestamp::from_nanos(T0 + i * MINUTE);
    #[allow(clippy::cast_precision_loss, reason = "small test indices")]
    let p = 100.0 + i as f64;
    let c = Candle::new(open, p, p + 2.0, p - 1.0, p + 1.0, 10.0).unwrap();
    MarketEvent::candle(
        venue,
        btc(),
        Timestamp::from_nanos(T0 + (i + 1) * MINUTE),
        c,
    )
}

fn index(event: &MarketEvent) -> i64 {
    (event.as_candle().unwrap().open_time().as_nanos() - T0) / MINUTE
}

/// A venue feed the test hands bars to; it never ends on its own.
struct Feed(mpsc::UnboundedReceiver<MarketEvent>);

#[async_trait]
impl MarketSource for Feed {
    fn name(&self) -> &str {
        "feed"
    }
    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        Ok(())
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        match self.0.recv().await {
            Some(e) => Ok(Some(e)),
            None => std::future::pending().await,
        }
    }
}

/// Every bar index a brain was handed, across a bot's lives.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<i64>>>);

impl Seen {
    fn all(&self) -> Vec<i64> {
        self.0.lock().unwrap().clone()
    }
    fn counts(&self) -> BTreeMap<i64, usize> {
        let mut counts = BTreeMap::new();
        for i in self.all() {
            *counts.entry(i).or_default() += 1;
        }
        counts
    }
    fn wait_for(&self, what: &str, i: i64) {
        let deadline = std::time::Instant::now() + PATIENCE;
        while !self.all().contains(&i) {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: bar {i} not seen within {PATIENCE:?}; seen {:?}",
                self.all()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A brain deciding by bar index: `schedule[i]` on bar `i`, hold otherwise; records every bar.
fn brain(name: &str, seen: &Seen, schedule: &[(i64, Decision)]) -> Arc<dyn Brain> {
    let seen = seen.clone();
    let schedule: BTreeMap<i64, Decision> = schedule.iter().cloned().collect();
    Arc::new(ScriptedBrain::new(name, move |event, _, _| {
        let i = index(event);
        seen.0.lock().unwrap().push(i);
        Ok(schedule.get(&i).cloned().unwrap_or_else(Decision::hold))
    }))
}

/// Where the bots read and the relays write.
#[derive(Clone)]
struct Servers {
    nats: String,
    stream: MarketStream,
}

/// One life of a bot, in a thread of its own; killed (its runtime dropped, nothing persisted
/// on the way out) or stopped.
struct Life {
    stop: Option<std::sync::mpsc::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
    handle: Arc<Mutex<Option<BotHandle>>>,
}

impl Life {
    fn start(
        name: &str,
        servers: &Servers,
        schema: &TestSchema,
        exchange: &Arc<MockExchange>,
        brain: Arc<dyn Brain>,
        start: StartAt,
    ) -> Self {
        let (stop, stopped) = std::sync::mpsc::channel::<bool>();
        let handle = Arc::new(Mutex::new(None));
        let (name, servers) = (name.to_owned(), servers.clone());
        let options = schema.options(&name).lock_wait(Duration::from_secs(10));
        let (exchange, slot) = (Arc::clone(exchange), Arc::clone(&handle));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let client = rustrade_nats::connect(&NatsOptions::new(&servers.nats, &name))
                    .await
                    .unwrap();
                let mut source = NatsSourceConfig::new(&servers.stream.name, servers.stream.venue);
                source.start = start;
                let store = options.connect().await.unwrap();
                let config = BotConfig::builder()
                    .name(&name)
                    .symbols(["BTCUSDT"])
                    .without_signal_handler()
                    .shutdown_timeout(Duration::from_secs(2))
                    .build()
                    .unwrap();
                let bot = Bot::new(config, exchange.clone(), vec![brain])
                    .unwrap()
                    .with_market_source(Box::new(NatsMarketSource::new(
                        jetstream::new(client),
                        source,
                    )))
                    .with_fill_source(exchange.fill_source())
                    .with_state_store(Arc::new(store))
                    .with_order_tracking()
                    .with_metrics(Arc::new(MemoryMetrics::new()))
                    .with_clock(Arc::new(ManualClock::new(Timestamp::from_nanos(
                        T0 + 24 * 60 * MINUTE,
                    ))));
                *slot.lock().unwrap() = Some(bot.handle());
                let task = tokio::spawn(bot.run_until_shutdown());
                let graceful = tokio::task::spawn_blocking(move || stopped.recv().unwrap_or(false))
                    .await
                    .unwrap();
                if graceful {
                    let h = slot.lock().unwrap().clone().unwrap();
                    h.shutdown();
                    task.await.unwrap().unwrap();
                }
            });
            drop(rt);
        });
        Self {
            stop: Some(stop),
            thread: Some(thread),
            handle,
        }
    }

    /// Runs `f` on the bot's handle inside a runtime of the caller's.
    fn with_handle<R>(
        &self,
        rt: &tokio::runtime::Runtime,
        f: impl AsyncFnOnce(BotHandle) -> R,
    ) -> R {
        let h = self.handle.lock().unwrap().clone().unwrap();
        rt.block_on(f(h))
    }

    fn end(mut self, graceful: bool) {
        let _ = self.stop.take().unwrap().send(graceful);
        self.thread.take().unwrap().join().unwrap();
    }
}

/// A relay publishing what the test feeds it, as a task of `rt` (aborted to kill it).
fn relay(
    rt: &tokio::runtime::Runtime,
    js: &jetstream::Context,
    servers: &Servers,
) -> (
    mpsc::UnboundedSender<MarketEvent>,
    rustrade_nats::RelayHealth,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut config = RelayConfig::new(servers.stream.clone(), vec![btc()]);
    config.reconnect_initial = Duration::from_millis(10);
    let mut relay = rt
        .block_on(Relay::new(js.clone(), Box::new(Feed(rx)), config))
        .unwrap();
    let health = relay.health();
    let task = rt.spawn(async move {
        let _ = relay.run_until(std::future::pending()).await;
    });
    (tx, health, task)
}

/// A running bot as the feeding loop sees it.
struct Live<'a> {
    seen: &'a Seen,
    life: &'a Life,
    exchange: &'a MockExchange,
    schedule: &'a [(i64, Decision)],
}

/// Hands bars `range` to the relay one at a time, each once every live bot was handed the one
/// before and, after a bar a bot decides on, once its order reached the venue and the venue's
/// fills reached the bot: bars a minute apart, as the brains' schedules assume.
fn feed_paced(
    rt: &tokio::runtime::Runtime,
    feed: &mpsc::UnboundedSender<MarketEvent>,
    venue: Venue,
    range: std::ops::Range<i64>,
    live: &[Live<'_>],
) {
    for i in range {
        let placed: Vec<usize> = live.iter().map(|l| l.exchange.placed().len()).collect();
        feed.send(bar(venue, i)).unwrap();
        for (l, before) in live.iter().zip(placed) {
            l.seen.wait_for("a live bot", i);
            if !l.schedule.iter().any(|(at, _)| *at == i) {
                continue;
            }
            let deadline = std::time::Instant::now() + PATIENCE;
            loop {
                let ours = l.life.with_handle(rt, async |h| h.position(&btc()).await);
                let theirs = l.exchange.venue_position("BTCUSDT");
                if l.exchange.placed().len() > before
                    && (ours.quantity - theirs.quantity).abs() < 1e-9
                {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "bar {i}: {ours:?} vs {theirs:?}"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

fn wait_published(health: &rustrade_nats::RelayHealth, n: u64) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let s = health.status();
        if s.published + s.skipped >= n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "relay: {s:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn unique_venue() -> Venue {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Venue::new(&format!("s{}x{n}", std::process::id() % 100_000)).unwrap()
}

fn fill_rows(schema: &TestSchema, bot: &str) -> i64 {
    let rows = schema
        .query(&format!(
            "SELECT count(*) FROM {}.fills WHERE bot_id = '{bot}'",
            schema.name()
        ))
        .unwrap();
    rows[0].get(0)
}

#[test]
fn a_killed_relay_and_a_killed_bot_lose_no_closed_bar_and_no_fill() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(client) = rt.block_on(testing::client_or_skip("scale_out")) else {
        return;
    };
    let Some(schema) = TestSchema::new("scale_out") else {
        return;
    };
    let _inside = rt.enter();
    let js = jetstream::new(client);
    let venue = unique_venue();
    let mut stream = MarketStream::new(testing::unique_name("scaleout"), venue);
    stream.max_age = Duration::from_secs(3600);
    stream.duplicate_window = Duration::from_secs(120);
    let servers = Servers {
        nats: testing::url(),
        stream,
    };
    let p = |x: f64| Price::new(x).unwrap();

    // Bot A: round trips at market, and a resting limit buy on bar 15 that the venue fills
    // while the bot is down.
    let (seen_a, ex_a) = (Seen::default(), Arc::new(MockExchange::new()));
    let schedule_a = [
        (5, Decision::buy(1.0)),
        (12, Decision::close()),
        (15, Decision::buy(1.0).with_limit_price(p(90.0))),
        (25, Decision::close()),
        (33, Decision::buy(1.0)),
        (37, Decision::close()),
    ];
    // Bot B, same database schema, its own venue account.
    let (seen_b, ex_b) = (Seen::default(), Arc::new(MockExchange::new()));
    let schedule_b = [(8, Decision::buy(1.0)), (28, Decision::close())];

    let (feed, first_health, first_relay) = relay(&rt, &js, &servers);
    let bot_b = Life::start(
        "bot-b",
        &servers,
        &schema,
        &ex_b,
        brain("b", &seen_b, &schedule_b),
        StartAt::All,
    );
    let life_a = Life::start(
        "bot-a",
        &servers,
        &schema,
        &ex_a,
        brain("a", &seen_a, &schedule_a),
        StartAt::All,
    );
    let live_b = Live {
        seen: &seen_b,
        life: &bot_b,
        exchange: &ex_b,
        schedule: &schedule_b,
    };
    {
        let live_a = Live {
            seen: &seen_a,
            life: &life_a,
            exchange: &ex_a,
            schedule: &schedule_a,
        };
        feed_paced(&rt, &feed, venue, 0..20, &[live_a, live_b]);
    }
    life_a.end(false);

    // While A is down: its resting order fills, and ten more bars close.
    let resting = ex_a
        .placed()
        .into_iter()
        .find(|o| o.limit_price.is_some())
        .expect("the limit buy of bar 15 was placed before the kill");
    ex_a.fill_order_silently(&resting.client_id, 90.0).unwrap();
    let live_b = Live {
        seen: &seen_b,
        life: &bot_b,
        exchange: &ex_b,
        schedule: &schedule_b,
    };
    feed_paced(&rt, &feed, venue, 20..30, &[live_b]);
    wait_published(&first_health, 30);
    // The relay dies; the next one backfills from bar 25.
    first_relay.abort();
    let _ = rt.block_on(first_relay);

    // Restarted with no start point (`New` would skip the bars published while it was down):
    // it resumes after the progress in its store.
    let life_a = Life::start(
        "bot-a",
        &servers,
        &schema,
        &ex_a,
        brain("a", &seen_a, &schedule_a),
        StartAt::New,
    );
    let (feed, second_health, _second_relay) = relay(&rt, &js, &servers);
    // The second relay's source backfills bars 25..30, which the stream already holds.
    for i in 25..30 {
        feed.send(bar(venue, i)).unwrap();
    }
    wait_published(&second_health, 5);
    seen_a.wait_for("bot A, second life", 29);
    let live = [
        Live {
            seen: &seen_a,
            life: &life_a,
            exchange: &ex_a,
            schedule: &schedule_a,
        },
        Live {
            seen: &seen_b,
            life: &bot_b,
            exchange: &ex_b,
            schedule: &schedule_b,
        },
    ];
    feed_paced(&rt, &feed, venue, 30..40, &live);
    wait_published(&second_health, 15);
    let deadline = std::time::Instant::now() + PATIENCE;
    while ex_a.venue_fills("BTCUSDT").len() < 6 || ex_b.venue_fills("BTCUSDT").len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "venue fills: A {:?}, B {:?}; placed: A {:?}, B {:?}; seen A {:?}",
            ex_a.venue_fills("BTCUSDT"),
            ex_b.venue_fills("BTCUSDT"),
            ex_a.placed(),
            ex_b.placed(),
            seen_a.counts()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (a, b) = (
            life_a.with_handle(&rt, async |h| h.position(&btc()).await),
            bot_b.with_handle(&rt, async |h| h.position(&btc()).await),
        );
        if (a.is_flat() && b.is_flat()) || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let seen_before = life_a.with_handle(&rt, async |h| {
        h.health().await.brains[0].details["framework"]["events_seen_before"].clone()
    });
    life_a.end(true);
    bot_b.end(true);

    // Every closed bar reached A, the ten published while it was down included.
    let counts = seen_a.counts();
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>()
    );
    // No bar A acted on was handed to it twice; only bars it held on after its last
    // decision before the kill may have been.
    for (i, _) in &schedule_a {
        assert_eq!(counts[i], 1, "bar {i} decided more than once: {counts:?}");
    }
    let repeated: Vec<i64> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| *i)
        .collect();
    assert!(
        repeated.iter().all(|i| (16..20).contains(i)),
        "{repeated:?}"
    );
    assert!(seen_before.as_u64().is_some(), "{seen_before}");
    // B, never killed, saw each bar once.
    assert_eq!(seen_b.counts(), (0..40).map(|i| (i, 1)).collect());

    // Every fill reached each bot's state: six for A (one made while it was down), two for B,
    // both flat, and each bot's rows are its own.
    assert_eq!(ex_a.venue_fills("BTCUSDT").len(), 6);
    assert_eq!(fill_rows(&schema, "bot-a"), 6);
    assert_eq!(fill_rows(&schema, "bot-b"), 2);
    assert!(ex_a.venue_position("BTCUSDT").is_flat());
    assert!(ex_b.venue_position("BTCUSDT").is_flat());
    let stored = schema
        .query(&format!(
            "SELECT count(*) FROM {}.kv WHERE key LIKE 'market/consumed/%' AND bot_id = 'bot-a'",
            schema.name()
        ))
        .unwrap();
    assert_eq!(
        stored[0].get::<_, i64>(0),
        1,
        "A's progress, under A's id only"
    );
    // Each closed bar is stored once, across the two relays.
    let mut stored = rt.block_on(js.get_stream(&servers.stream.name)).unwrap();
    assert_eq!(rt.block_on(stored.info()).unwrap().state.messages, 40);
    rt.block_on(js.delete_stream(&servers.stream.name)).unwrap();
}
