//! The feeding services: fill routing's boundary, the candle poller, a market source, the
//! order reaper.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rustrade::testkit::{MockExchange, ScriptedBrain, ScriptedCandleSource, candle_event};
use rustrade::{DroppedReport, decode_report};
use rustrade_core::{
    Brain, Candle, Decision, ExchangeError, ExecutionReport, FillSource, MarketEvent, MarketSource,
    Price, Symbol, Timestamp, ValueError,
};
use rustrade_supervisor::{ServicePhase, TerminationReason};

/// Yields scripted results, then waits forever.
struct Scripted(VecDeque<Result<Option<ExecutionReport>, ExchangeError>>);

#[async_trait::async_trait]
impl FillSource for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn connect(&mut self) -> Result<(), ExchangeError> {
        Ok(())
    }
    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        match self.0.pop_front() {
            Some(r) => r,
            None => std::future::pending().await,
        }
    }
}

fn fill_json(client_id: &str, price: &str, quantity: &str) -> String {
    format!(
        r#"{{"type":"fill","fill_id":"x{price}{quantity}","order_id":"m1","client_id":"{client_id}",
        "symbol":"BTCUSDT","side":"buy","price":{price},"quantity":{quantity},"fee":0.1,
        "fee_asset":"USDT","liquidity":"taker","time":5}}"#
    )
}

#[tokio::test(start_paused = true)]
async fn invalid_fills_are_dropped_counted_and_logged_and_valid_ones_apply() {
    let exchange = Arc::new(MockExchange::new().without_auto_fill());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, _, n| {
        Ok(if n == 0 {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }));
    // The order's client id is the engine's first: "<bot>-<brain>-<seq>".
    let cid = "t-0-1";
    let mut script = VecDeque::new();
    for bad in [
        fill_json(cid, "100.0", "-1.0"),
        fill_json(cid, "1e999", "1.0"),
        "{".to_owned(),
    ] {
        let e = decode_report(bad.as_bytes()).unwrap_err();
        assert!(matches!(e, DroppedReport::Undecodable { .. }), "{e}");
        script.push_back(Err(ExchangeError::Malformed {
            reason: e.to_string(),
            payload: bad,
        }));
    }
    script.push_back(Err(ExchangeError::Value(ValueError::NotFinite {
        field: "price",
        value: f64::NAN,
    })));
    for zero in [
        fill_json(cid, "100.0", "0.0"),
        fill_json(cid, "-5.0", "1.0"),
    ] {
        let parsed: ExecutionReport = serde_json::from_str(&zero).unwrap();
        script.push_back(Ok(Some(parsed)));
    }
    let b = rustrade::Bot::new(
        config(&["BTCUSDT"]).build().unwrap(),
        exchange.clone(),
        vec![brain],
    )
    .unwrap();
    let b = b.with_fill_source(Box::new(Scripted(script)));
    let run = start(b).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("dropped", || {
        let m = run.metrics.clone();
        async move { m.counter_total("rustrade_fills_dropped_total") == 6 }
    })
    .await;
    assert_eq!(
        run.metrics
            .counter_value(r#"rustrade_fills_dropped_total{reason="invalid_value"}"#),
        4
    );
    assert_eq!(
        run.metrics
            .counter_value(r#"rustrade_fills_dropped_total{reason="zero_quantity"}"#),
        1
    );
    assert_eq!(
        run.metrics
            .counter_value(r#"rustrade_fills_dropped_total{reason="non_positive_price"}"#),
        1
    );
    assert!(
        run.handle.position(&sym("BTCUSDT")).await.is_flat(),
        "nothing applied"
    );
    let ok = decode_report(fill_json(cid, "100.0", "1.0").as_bytes()).unwrap();
    assert!(matches!(ok, ExecutionReport::Fill(_)));
    let svc = run
        .handle
        .health()
        .await
        .services
        .into_iter()
        .find(|s| s.name == "fill-routing[scripted]")
        .unwrap();
    assert_eq!(
        (svc.phase, svc.restarts),
        (ServicePhase::Running, 0),
        "dropping is not failing"
    );
    run.stop().await.unwrap();
}

fn bar(secs: i64) -> Candle {
    Candle::new(
        Timestamp::from_secs(secs).unwrap(),
        10.0,
        11.0,
        9.0,
        10.5,
        1.0,
    )
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_candle_poller_publishes_each_bar_once_across_overlapping_polls() {
    let exchange = Arc::new(MockExchange::new());
    let source = Arc::new(ScriptedCandleSource::new(
        Duration::from_secs(1),
        vec![
            (100..=103).map(bar).collect(),
            (102..=105).map(bar).collect(),
        ],
    ));
    let brains: Vec<Arc<dyn Brain>> = vec![Arc::new(ScriptedBrain::holding("h"))];
    let b = bot(config(&["BTCUSDT"]).build().unwrap(), &exchange, brains)
        .with_candle_poller(source.clone());
    let mut rx = b.market_data_bus().subscribe();
    let run = start(b).await;
    wait_until("polled three times", || {
        let s = source.clone();
        async move { s.polls() >= 3 }
    })
    .await;
    let mut times = Vec::new();
    while let Ok(e) = rx.try_recv() {
        times.push(e.as_candle().unwrap().open_time().as_secs());
        assert_eq!(
            e.time.as_secs(),
            e.as_candle().unwrap().open_time().as_secs() + 1,
            "event at bar close"
        );
    }
    assert_eq!(times, vec![100, 101, 102, 103, 104, 105]);
    assert_eq!(
        run.metrics
            .counter_total("rustrade_candles_published_total"),
        6
    );
    run.stop().await.unwrap();
}

struct Replay(VecDeque<MarketEvent>);

#[async_trait::async_trait]
impl MarketSource for Replay {
    fn name(&self) -> &str {
        "replay"
    }
    async fn connect(&mut self, symbols: &[Symbol]) -> Result<(), ExchangeError> {
        assert_eq!(symbols, [Symbol::new("BTCUSDT").unwrap()]);
        Ok(())
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        Ok(self.0.pop_front())
    }
}

#[tokio::test(start_paused = true)]
async fn a_finished_market_source_completes_and_health_shows_it() {
    let exchange = Arc::new(MockExchange::new());
    let brain = Arc::new(ScriptedBrain::holding("h"));
    let events = (1..=3)
        .map(|i| candle_event("BTCUSDT", 60 * i, 100.0))
        .collect();
    let b = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![brain.clone() as Arc<dyn Brain>],
    )
    .with_market_source(Box::new(Replay(events)));
    let run = start(b).await;
    wait_until("all seen", || {
        let b = brain.clone();
        async move { b.seen().len() == 3 }
    })
    .await;
    wait_until("feed done", || {
        let h = run.handle.clone();
        async move {
            h.health().await.services.iter().any(|s| {
                s.name == "market-feed[replay]"
                    && s.termination == Some(TerminationReason::Completed)
            })
        }
    })
    .await;
    assert!(
        !run.handle.health().await.healthy,
        "a terminated service makes the bot unhealthy"
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_order_reaper_cancels_entries_older_than_the_ttl() {
    let exchange = Arc::new(MockExchange::new());
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("maker", |_, _, n| {
        Ok(if n == 0 {
            Decision::buy(1.0).with_limit_price(Price::new(95.0).unwrap())
        } else {
            Decision::hold()
        })
    }));
    let cfg = config(&["BTCUSDT"])
        .order_ttl(Duration::from_secs(30))
        .build()
        .unwrap();
    let run = start(bot(cfg, &exchange, vec![brain])).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    wait_until("resting", || {
        let e = exchange.clone();
        async move { e.placed().len() == 1 }
    })
    .await;
    settle().await;
    assert!(exchange.cancels().is_empty(), "young orders stay");
    run.clock.advance(Duration::from_secs(31));
    wait_until("reaped", || {
        let e = exchange.clone();
        async move { e.cancels().len() == 1 }
    })
    .await;
    assert_eq!(exchange.cancels()[0], exchange.placed()[0].client_id);
    run.stop().await.unwrap();
}

/// Delivers the events scripted for each connection, then stays connected and silent.
struct Stalling {
    connections: Arc<std::sync::atomic::AtomicUsize>,
    per_connection: Vec<Vec<MarketEvent>>,
    pending: VecDeque<MarketEvent>,
}

#[async_trait::async_trait]
impl MarketSource for Stalling {
    fn name(&self) -> &str {
        "stalling"
    }
    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        let n = self
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.pending = self
            .per_connection
            .get(n)
            .cloned()
            .unwrap_or_default()
            .into();
        Ok(())
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        match self.pending.pop_front() {
            Some(e) => Ok(Some(e)),
            None => std::future::pending().await,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_silent_market_source_is_reconnected_and_health_says_why() {
    let exchange = Arc::new(MockExchange::new());
    let brain = Arc::new(ScriptedBrain::holding("h"));
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let source = Stalling {
        connections: connections.clone(),
        per_connection: vec![
            vec![candle_event("BTCUSDT", 60, 100.0)],
            vec![
                candle_event("BTCUSDT", 120, 101.0),
                candle_event("BTCUSDT", 180, 102.0),
            ],
        ],
        pending: VecDeque::new(),
    };
    let cfg = config(&["BTCUSDT"])
        .market_silence_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let b = bot(cfg, &exchange, vec![brain.clone() as Arc<dyn Brain>])
        .with_market_source(Box::new(source));
    let run = start(b).await;
    wait_until("events of both connections seen", || {
        let b = brain.clone();
        async move { b.seen().len() == 3 }
    })
    .await;
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    let health = run.handle.health().await;
    let feed = health
        .services
        .iter()
        .find(|s| s.name == "market-feed[stalling]")
        .expect("feed service listed");
    assert!(feed.restarts >= 1, "{feed:?}");
    assert!(
        feed.last_error
            .as_deref()
            .is_some_and(|e| e.contains("silent for 2s")),
        "{feed:?}"
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn without_a_silence_timeout_a_quiet_source_is_left_connected() {
    let exchange = Arc::new(MockExchange::new());
    let brain = Arc::new(ScriptedBrain::holding("h"));
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let source = Stalling {
        connections: connections.clone(),
        per_connection: vec![vec![candle_event("BTCUSDT", 60, 100.0)]],
        pending: VecDeque::new(),
    };
    let b = bot(
        config(&["BTCUSDT"])
            .without_market_silence_timeout()
            .build()
            .unwrap(),
        &exchange,
        vec![brain.clone() as Arc<dyn Brain>],
    )
    .with_market_source(Box::new(source));
    let run = start(b).await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(brain.seen().len(), 1);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    run.stop().await.unwrap();
}
