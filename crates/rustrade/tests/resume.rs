//! A restarted bot resumes its market data from the progress in its state store: killed at any
//! point, it is handed every bar that closed while it was down, never again a bar it decided on;
//! stopped cleanly, it is handed nothing twice; unreadable progress refuses to start.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use rustrade::store::{MemoryStore, SqliteStore, StateStore};
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade_core::{
    Brain, Decision, ExchangeError, MarketEvent, MarketSource, StoreOp, Symbol, Timestamp,
    async_trait,
};

/// Bar `i` of BTCUSDT, closing at minute `i + 1`.
fn bar(i: i64) -> MarketEvent {
    candle_event("BTCUSDT", 60 * (i + 1), 100.0)
}

fn index(event: &MarketEvent) -> i64 {
    event.time.as_secs() / 60 - 1
}

/// What a source is asked to resume after: per symbol, the newest event seen.
type Points = Vec<(Symbol, Timestamp)>;

/// Bars that closed so far, shared by every life of the bot (the stream a relay keeps).
#[derive(Clone, Default)]
struct Market {
    bars: Arc<Mutex<Vec<MarketEvent>>>,
    /// What each life's source was asked to resume after.
    asked: Arc<Mutex<Vec<Points>>>,
    /// Connects of every life's source.
    connects: Arc<AtomicUsize>,
}

impl Market {
    fn close_bars(&self, range: std::ops::Range<i64>) {
        self.bars.lock().unwrap().extend(range.map(bar));
    }
    /// A source reading every bar (`from_start`) or only those closing after it connects,
    /// unless it is asked to resume and `replays`.
    fn source(&self, from_start: bool, replays: bool) -> Box<dyn MarketSource> {
        Box::new(Recorded {
            market: self.clone(),
            replays,
            after: from_start.then_some(Timestamp::EPOCH),
            next: None,
        })
    }
    async fn connected(&self, n: usize) {
        wait_until("source connected", || {
            let c = Arc::clone(&self.connects);
            async move { c.load(Ordering::Relaxed) >= n }
        })
        .await;
    }
}

/// A recorded stream: new bars only, unless asked to resume after a point (and able to).
struct Recorded {
    market: Market,
    replays: bool,
    after: Option<Timestamp>,
    next: Option<usize>,
}

#[async_trait]
impl MarketSource for Recorded {
    fn name(&self) -> &str {
        "recorded"
    }
    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        self.market.connects.fetch_add(1, Ordering::Relaxed);
        if self.next.is_none() {
            let bars = self.market.bars.lock().unwrap();
            self.next = Some(match self.after {
                Some(t) => bars.iter().take_while(|b| b.time <= t).count(),
                None => bars.len(),
            });
        }
        Ok(())
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        loop {
            let next = self.next.unwrap_or_default();
            if let Some(event) = self.market.bars.lock().unwrap().get(next).copied() {
                self.next = Some(next + 1);
                return Ok(Some(event));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    fn resume_after(&mut self, through: &[(Symbol, Timestamp)]) -> bool {
        self.market.asked.lock().unwrap().push(through.to_vec());
        if self.replays {
            self.after = through.iter().map(|(_, t)| *t).min();
        }
        self.replays
    }
}

/// Bar indices a brain was handed, across lives.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<i64>>>);

impl Seen {
    fn all(&self) -> Vec<i64> {
        self.0.lock().unwrap().clone()
    }
    fn times(&self, i: i64) -> usize {
        self.all().iter().filter(|s| **s == i).count()
    }
    async fn reach(&self, i: i64) {
        wait_until(&format!("bar {i} handed to the brain"), || {
            let seen = self.clone();
            async move { seen.all().contains(&i) }
        })
        .await;
        settle().await;
    }
}

/// Buys on bar 3, closes on bar 6, holds otherwise.
fn trader(seen: &Seen) -> Arc<dyn Brain> {
    let seen = seen.clone();
    Arc::new(ScriptedBrain::new("trader", move |event, _, _| {
        let i = index(event);
        seen.0.lock().unwrap().push(i);
        Ok(match i {
            3 => Decision::buy(1.0),
            6 => Decision::close(),
            _ => Decision::hold(),
        })
    }))
}

/// One life of the bot on the SQLite state at `path`; `body` runs while it trades. Ends with
/// the runtime dropped (a kill) unless `graceful`.
fn life<F: AsyncFnOnce()>(
    path: &std::path::Path,
    exchange: &Arc<MockExchange>,
    source: Box<dyn MarketSource>,
    brain: Arc<dyn Brain>,
    graceful: bool,
    body: F,
) {
    let rt = runtime();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(path).await.unwrap());
        let b = bot(config(&["BTCUSDT"]).build().unwrap(), exchange, vec![brain])
            .with_state_store(store)
            .with_market_source(source);
        let run = start(b).await;
        body().await;
        if graceful {
            run.stop().await.unwrap();
        }
    });
    drop(rt);
}

/// A first life of the trader on a source that `replays` (or not): bars 0..9 close, the bot
/// buys on bar 3 and closes on bar 6, and is killed after bar 8.
fn traded_then_killed(path: &std::path::Path, replays: bool) -> (Market, Seen, Arc<MockExchange>) {
    let (market, seen, exchange) = (
        Market::default(),
        Seen::default(),
        Arc::new(MockExchange::new()),
    );
    life(
        path,
        &exchange,
        market.source(true, replays),
        trader(&seen),
        false,
        async || {
            market.close_bars(0..4);
            // Bars a minute apart: the buy's fill is in before the bar that closes it.
            wait_placed(&exchange, 1).await;
            market.close_bars(4..9);
            seen.reach(8).await;
        },
    );
    (market, seen, exchange)
}

#[test]
fn a_killed_bot_is_handed_every_bar_it_missed_and_none_it_decided_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let (market, seen, exchange) = traded_then_killed(&path, true);
    // Closed while the bot was down.
    market.close_bars(9..13);
    life(
        &path,
        &exchange,
        market.source(false, true),
        trader(&seen),
        true,
        async || {
            seen.reach(12).await;
        },
    );

    let asked = market.asked.lock().unwrap().clone();
    assert_eq!(
        asked.len(),
        1,
        "the first start had no progress to resume from"
    );
    let point = asked[0][0].1;
    // The decision on bar 6 was durable with its progress; the holds after it need not be.
    assert!(point >= bar(6).time && point <= bar(8).time, "{point:?}");
    let all = seen.all();
    for i in 0..13 {
        assert!(
            all.contains(&i),
            "bar {i} never handed to the brain: {all:?}"
        );
    }
    assert_eq!(
        (seen.times(3), seen.times(6)),
        (1, 1),
        "a bar decided twice: {all:?}"
    );
    assert_eq!(exchange.placed().len(), 2);
    assert_no_duplicates(&exchange);
}

#[test]
fn a_source_that_cannot_replay_loses_the_bars_closed_while_the_bot_was_down() {
    // What the resume prevents: the same run on a live-only stream misses bars 9..13.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let (market, seen, exchange) = traded_then_killed(&path, false);
    market.close_bars(9..13);
    life(
        &path,
        &exchange,
        market.source(false, false),
        trader(&seen),
        true,
        async || {
            market.connected(2).await;
            market.close_bars(13..14);
            seen.reach(13).await;
        },
    );
    let all = seen.all();
    assert!((9..13).all(|i| !all.contains(&i)), "{all:?}");
    assert_eq!(
        market.asked.lock().unwrap().len(),
        1,
        "it was asked, and said no"
    );
}

#[test]
fn a_cleanly_stopped_bot_is_handed_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let (market, seen, exchange) = (
        Market::default(),
        Seen::default(),
        Arc::new(MockExchange::new()),
    );
    let holder = || -> Arc<dyn Brain> {
        let seen = seen.clone();
        Arc::new(ScriptedBrain::new("holder", move |event, _, _| {
            seen.0.lock().unwrap().push(index(event));
            Ok(Decision::hold())
        }))
    };
    life(
        &path,
        &exchange,
        market.source(true, true),
        holder(),
        true,
        async || {
            market.close_bars(0..5);
            seen.reach(4).await;
        },
    );
    market.close_bars(5..8);
    life(
        &path,
        &exchange,
        market.source(false, true),
        holder(),
        true,
        async || {
            seen.reach(7).await;
        },
    );
    assert_eq!(seen.all(), (0..8).collect::<Vec<_>>());
    let asked = market.asked.lock().unwrap().clone();
    assert_eq!(asked, vec![vec![(sym("BTCUSDT"), bar(4).time)]]);
}

#[test]
fn unreadable_progress_refuses_to_start_naming_the_key() {
    let store = Arc::new(MemoryStore::new());
    let rt = runtime();
    let err = rt.block_on(async {
        store
            .apply(&[StoreOp::Put {
                key: "market/consumed/trader".into(),
                value: b"not json".to_vec(),
            }])
            .await
            .unwrap();
        let exchange = Arc::new(MockExchange::new());
        let b = bot(
            config(&["BTCUSDT"]).build().unwrap(),
            &exchange,
            vec![trader(&Seen::default())],
        )
        .with_state_store(store.clone())
        .with_market_source(Market::default().source(true, true));
        b.run_until_shutdown().await.unwrap_err()
    });
    let text = err.to_string();
    assert!(text.contains("market/consumed/trader"), "{text}");
    assert!(text.contains("not json"), "{text}");
}
