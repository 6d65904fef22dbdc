//! The ops endpoint against a running paper bot, over real loopback TCP with this crate's HTTP
//! client. Every wait is for a condition the bot reaches (a position, a metric, a service
//! phase), bounded only to fail instead of hanging.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustrade::metrics::PrometheusMetrics;
use rustrade::store::{MemoryStore, StateStore};
use rustrade::testkit::{ScriptedBrain, candle_event, wait_until};
use rustrade::{Bot, BotConfig, BotError, BotHandle, Secret};
use rustrade_core::{AssetClass, Decision, InstrumentSpec, MarketDataBus, MetricsSink, Symbol};
use rustrade_engine::{EngineEvent, JournalRecord, OrderRole};
use rustrade_sim::{FeeModel, PaperExchange, SimConfig};
use serde_json::Value;

use super::client::{Response, request};
use super::*;
use crate::paper::replay::VenueClock;

const TOKEN: &str = "test-token-0123456789abcdef";

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

/// A paper bot whose brain follows `script`, its ops endpoint, and what the tests inspect.
struct Running {
    handle: BotHandle,
    bus: MarketDataBus,
    endpoint: String,
    metrics: PrometheusMetrics,
    store: Arc<MemoryStore>,
    task: tokio::task::JoinHandle<Result<(), BotError>>,
    server: tokio::task::JoinHandle<()>,
}

async fn start(
    script: impl Fn(&rustrade_core::MarketEvent, &rustrade_core::Position, u64) -> Decision
    + Send
    + Sync
    + 'static,
) -> Running {
    let spec = InstrumentSpec::new(btc(), AssetClass::CryptoSpot, 0.01, 0.0001).unwrap();
    let sim = SimConfig::default()
        .with_initial_cash(100_000.0)
        .with_fees(FeeModel::rates(0.0002, 0.001))
        .with_trade_on_close(true);
    let (exchange, reports) = PaperExchange::from_config(sim, [spec]).unwrap();
    let venue = exchange.shared_venue();
    let config = BotConfig::builder()
        .name("ops")
        .symbol("BTCUSDT")
        .without_signal_handler()
        .shutdown_timeout(Duration::from_secs(5))
        .timer_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let brain = Arc::new(ScriptedBrain::new("scripted", move |e, p, n| {
        Ok(script(e, p, n))
    }));
    let metrics = PrometheusMetrics::local();
    let sink: Arc<dyn MetricsSink> = Arc::new(metrics.clone());
    let store = Arc::new(MemoryStore::new());
    let bot = Bot::paper(config, exchange, reports, vec![brain])
        .unwrap()
        .with_clock(Arc::new(VenueClock::new(
            venue,
            rustrade_core::Timestamp::from_secs(60).unwrap(),
        )))
        .with_metrics(sink)
        .with_state_store(store.clone());
    let handle = bot.handle();
    let bus = bot.market_data_bus();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let state = OpsState::new(
        handle.clone(),
        metrics.clone(),
        Secret::new(TOKEN),
        vec![btc()],
    );
    let server = spawn(listener, state);
    let task = tokio::spawn(bot.run_until_shutdown());
    let running = Running {
        handle,
        bus,
        endpoint,
        metrics,
        store,
        task,
        server,
    };
    let h = running.handle.clone();
    wait_until("the services to run", || {
        let h = h.clone();
        async move {
            let health = h.health().await;
            !health.services.is_empty()
                && health
                    .services
                    .iter()
                    .all(|s| s.phase == rustrade_supervisor::ServicePhase::Running)
        }
    })
    .await;
    running
}

impl Running {
    async fn get(&self, path: &str) -> Response {
        request(&self.endpoint, "GET", path, None, Duration::from_secs(10))
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, token: Option<&str>) -> Response {
        let token = token.map(Secret::new);
        request(
            &self.endpoint,
            "POST",
            path,
            token.as_ref(),
            Duration::from_secs(10),
        )
        .await
        .unwrap()
    }

    /// Publishes a one-price candle at `secs`.
    fn candle(&self, secs: i64, price: f64) {
        self.bus.publish(candle_event("BTCUSDT", secs, price));
    }

    async fn wait_quantity(&self, what: &str, pred: impl Fn(f64) -> bool) {
        wait_until(what, || async {
            pred(self.handle.position(&btc()).await.quantity)
        })
        .await;
    }

    async fn journal(&self) -> Vec<EngineEvent> {
        let mut out = Vec::new();
        for key in self.store.list("journal/").await.unwrap() {
            let bytes = self.store.load(&key).await.unwrap().unwrap();
            out.push(JournalRecord::decode(&bytes).unwrap().event);
        }
        out
    }

    async fn stop(self) {
        self.handle.shutdown();
        self.task.await.unwrap().unwrap();
        self.server.abort();
    }
}

/// Buys on the first event, then holds.
fn buy_once() -> impl Fn(&rustrade_core::MarketEvent, &rustrade_core::Position, u64) -> Decision
+ Send
+ Sync
+ 'static {
    |_, _, n| {
        if n == 0 {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        }
    }
}

/// `health_json` without the one field that moves between two snapshots.
fn stable(mut v: Value) -> Value {
    for s in v["services"].as_array_mut().into_iter().flatten() {
        s.as_object_mut().unwrap().remove("time_in_phase_secs");
    }
    v.as_object_mut().unwrap().remove("entries_paused");
    v.as_object_mut().unwrap().remove("reconciliation");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_positions_and_orders_are_served() {
    let bot = start(buy_once()).await;
    bot.candle(60, 100.0);
    bot.wait_quantity("the entry to fill", |q| q > 0.0).await;

    let r = bot.get("/health").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let served: Value = serde_json::from_str(&r.body).unwrap();
    let direct = health_json(&bot.handle.health().await);
    assert_eq!(
        stable(served.clone()),
        stable(direct),
        "GET /health is BotHandle::health"
    );
    assert_eq!(served["entries_paused"], false);
    assert_eq!(served["brains"][0]["events_processed"], 1);

    let r = bot.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.unwrap().starts_with("text/plain"));
    assert!(
        r.body.contains("rustrade_orders_placed_total{"),
        "{}",
        r.body
    );
    assert_prometheus_text(&r.body);

    let r = bot.get("/positions").await;
    let positions: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(positions[0]["symbol"], "BTCUSDT");
    assert_eq!(
        positions[0]["quantity"].as_f64().unwrap(),
        bot.handle.position(&btc()).await.quantity
    );

    let r = bot.get("/orders").await;
    assert_eq!(r.status, 200);
    let orders: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        orders,
        serde_json::to_value(bot.handle.live_orders().await).unwrap()
    );

    let r = bot.get("/openapi.json").await;
    let doc: Value = serde_json::from_str(&r.body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/health",
        "/metrics",
        "/positions",
        "/orders",
        "/trades",
        "/control/shutdown",
        "/control/pause",
        "/control/resume",
        "/control/flatten",
        "/control/acknowledge",
        "/risk",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is described");
    }
    assert_eq!(bot.get("/nope").await.status, 404);
    bot.stop().await;
}

/// Every non-comment line is `name{labels} value` or `name value`, with a number for a value.
fn assert_prometheus_text(text: &str) {
    let mut samples = 0;
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "value of {line:?}"
        );
        let name = match series.split_once('{') {
            Some((name, labels)) => {
                assert!(labels.ends_with('}'), "labels of {line:?}");
                name
            }
            None => series,
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "name of {line:?}"
        );
        samples += 1;
    }
    assert!(samples > 0, "no samples in {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_routes_refuse_a_missing_or_wrong_token() {
    let bot = start(buy_once()).await;
    for route in [
        "/control/pause",
        "/control/resume",
        "/control/flatten",
        "/control/acknowledge",
        "/control/shutdown",
    ] {
        for token in [None, Some("wrong-token-0123456789abcdef"), Some("")] {
            let r = bot.post(route, token).await;
            assert_eq!(r.status, 401, "{route} with {token:?}: {}", r.body);
            assert!(r.body.contains("bearer token"), "{}", r.body);
        }
    }
    assert!(!bot.handle.is_shutting_down());
    assert!(!bot.handle.entries_paused());
    assert_eq!(
        bot.get("/control/pause").await.status,
        405,
        "control is POST only"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_refuses_entries_but_not_exits_and_resume_allows_them() {
    // Buys when flat, closes when long: every event is an entry or an exit.
    let bot = start(|_, p, _| {
        if p.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::close()
        }
    })
    .await;
    bot.candle(60, 100.0);
    bot.wait_quantity("the first entry", |q| q > 0.0).await;

    let r = bot.post("/control/pause", Some(TOKEN)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"entries_paused":true}"#)
    );
    assert!(bot.handle.entries_paused());
    let health: Value = serde_json::from_str(&bot.get("/health").await.body).unwrap();
    assert_eq!(health["entries_paused"], true);

    bot.candle(120, 101.0);
    bot.wait_quantity("the exit, allowed while paused", |q| q == 0.0)
        .await;
    bot.candle(180, 102.0);
    // The refusal's metric is counted as the step runs, before its journal write lands: wait
    // for the journal record, which comes last.
    wait_until("the paused entry to be refused and journalled", || async {
        bot.journal().await.into_iter().any(|e| {
            matches!(e, EngineEvent::DecisionRefused { ref refusal, .. } if refusal.label == "entries_paused")
        })
    })
    .await;
    assert!(bot.metrics.render().contains(r#"reason="entries_paused""#));
    assert_eq!(bot.handle.position(&btc()).await.quantity, 0.0);

    let r = bot.post("/control/resume", Some(TOKEN)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"entries_paused":false}"#)
    );
    bot.candle(240, 103.0);
    bot.wait_quantity("an entry after resuming", |q| q > 0.0)
        .await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledge_answers_whether_entries_waited_and_health_lists_blocks() {
    let bot = start(buy_once()).await;
    let r = bot.post("/control/acknowledge", Some(TOKEN)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"acknowledged":false}"#)
    );
    let h: Value = serde_json::from_str(&bot.get("/health").await.body).unwrap();
    assert_eq!(h["entry_blocks"], serde_json::json!([]));
    assert_eq!(h["reconciliation"]["drifts"], 0);
    assert!(h["reconciliation"]["last_at"].is_string(), "{h}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flatten_closes_through_the_engine_and_counts_in_pnl() {
    let bot = start(buy_once()).await;
    bot.candle(60, 100.0);
    bot.wait_quantity("the entry", |q| q > 0.0).await;
    let before = bot.handle.position(&btc()).await;

    let r = bot.post("/control/flatten", Some(TOKEN)).await;
    assert_eq!((r.status, r.body.as_str()), (202, r#"{"exit_orders":1}"#));
    // A market exit: filled at once on close, or by the next market event otherwise.
    bot.candle(120, 100.0);
    bot.wait_quantity("the position to be flat", |q| q == 0.0)
        .await;

    let after = bot.handle.position(&btc()).await;
    assert!(
        after.realised_pnl < 0.0 && before.realised_pnl == 0.0,
        "the round trip's fees are realised (no price change): {before:?} -> {after:?}"
    );
    let journal = bot.journal().await;
    let exit_placed = journal.iter().any(|e| {
        matches!(
            e,
            EngineEvent::OrderPlaced {
                role: OrderRole::Exit(_),
                ..
            }
        )
    });
    let closed = journal.iter().any(|e| {
        matches!(e, EngineEvent::TradeClosed { trade, .. }
            if (trade.net_pnl - after.realised_pnl).abs() < 1e-9)
    });
    assert!(
        exit_placed,
        "the journal holds the exit order: {journal:#?}"
    );
    assert!(
        closed,
        "the trade's outcome reached the session PnL: {journal:#?}"
    );

    // The risk route shows the same round trip as the session's.
    let risk: Value = serde_json::from_str(&bot.get("/risk").await.body).unwrap();
    assert_eq!(risk[0]["symbol"], "BTCUSDT", "{risk}");
    let net = risk[0]["session_net_pnl"].as_f64().unwrap();
    assert!(
        (net - after.realised_pnl).abs() < 1e-9,
        "{risk} vs {after:?}"
    );
    assert_eq!(risk[0]["session_losses"], 1, "{risk}");

    let r = bot.post("/control/flatten", Some(TOKEN)).await;
    assert_eq!(r.body, r#"{"exit_orders":0}"#, "nothing left to close");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_are_the_engines_closed_round_trips() {
    // Buys when flat, closes when long: each pair of candles is one round trip.
    let bot = start(|_, p, _| {
        if p.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::close()
        }
    })
    .await;
    let r = bot.get("/trades").await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"), "none closed yet");

    bot.candle(60, 100.0);
    bot.wait_quantity("the first entry", |q| q > 0.0).await;
    bot.candle(120, 110.0);
    bot.wait_quantity("the first exit", |q| q == 0.0).await;
    bot.candle(180, 105.0);
    bot.wait_quantity("the second entry", |q| q > 0.0).await;
    bot.candle(240, 95.0);
    bot.wait_quantity("the second exit", |q| q == 0.0).await;
    // The trade log is filled as the step's events are observed, before the journal write
    // lands: wait for the journal, which comes last.
    wait_until("both trades journalled", || async {
        bot.journal()
            .await
            .iter()
            .filter(|e| matches!(e, EngineEvent::TradeClosed { .. }))
            .count()
            == 2
    })
    .await;

    let r = bot.get("/trades").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let served: Value = serde_json::from_str(&r.body).unwrap();
    let journalled: Vec<Value> = bot
        .journal()
        .await
        .into_iter()
        .filter_map(|e| match e {
            EngineEvent::TradeClosed { symbol, trade, .. } => {
                Some(trade_json(&rustrade::ClosedTradeRecord {
                    brain: "scripted".to_owned(),
                    symbol,
                    trade,
                }))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        served,
        Value::Array(journalled),
        "GET /trades serves the engine's TradeClosed outcomes, in order"
    );
    let first = &served[0];
    assert_eq!(first["symbol"], "BTCUSDT");
    assert_eq!(first["brain"], "scripted");
    assert_eq!(first["side"], "buy");
    assert_eq!(first["quantity"].as_f64().unwrap(), 1.0);
    assert_eq!(first["entry_price"].as_f64().unwrap(), 100.0);
    assert_eq!(first["exit_price"].as_f64().unwrap(), 110.0);
    assert_eq!(first["entry_time"], "1970-01-01T00:01:00Z");
    assert_eq!(first["exit_time"], "1970-01-01T00:02:00Z");
    // Taker 0.1 % on 100 and on 110 (market orders).
    let fees = first["fees"].as_f64().unwrap();
    assert!((fees - 0.21).abs() < 1e-9, "{first}");
    assert!((first["pnl"].as_f64().unwrap() - (10.0 - fees)).abs() < 1e-9);
    let total: f64 = served
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["pnl"].as_f64().unwrap())
        .sum();
    let realised = bot.handle.position(&btc()).await.realised_pnl;
    assert!(
        (total - realised).abs() < 1e-9,
        "the trades add up to the realised PnL: {total} vs {realised}"
    );

    let r = bot.get("/trades?symbol=BTCUSDT").await;
    assert_eq!(serde_json::from_str::<Value>(&r.body).unwrap(), served);
    let r = bot.get("/trades?symbol=ETHUSDT").await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"));
    let r = bot.get("/trades?symbol=").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains(r#"symbol: \"\" is not a symbol"#),
        "{}",
        r.body
    );
    let r = bot.get("/trades?limit=3").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("unknown field `limit`"), "{}", r.body);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_bot() {
    let bot = start(buy_once()).await;
    let r = bot.post("/control/shutdown", Some(TOKEN)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (202, r#"{"shutting_down":true}"#)
    );
    bot.handle.await_shutdown().await;
    bot.task.await.unwrap().unwrap();
    bot.server.await.unwrap();
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_token_never_shows_in_logs_errors_debug_or_metrics() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let bot = start(buy_once()).await;
    bot.candle(60, 100.0);
    bot.wait_quantity("the entry", |q| q > 0.0).await;
    let mut seen = String::new();
    for (method, path, token) in [
        ("POST", "/control/pause", Some(TOKEN)),
        (
            "POST",
            "/control/resume",
            Some("wrong-token-0123456789abcdef"),
        ),
        ("POST", "/control/resume", Some(TOKEN)),
        ("GET", "/health", None),
        ("GET", "/metrics", None),
        ("GET", "/orders", None),
        ("GET", "/trades", None),
        ("GET", "/nope", Some(TOKEN)),
    ] {
        let token = token.map(Secret::new);
        let r = request(
            &bot.endpoint,
            method,
            path,
            token.as_ref(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        seen.push_str(&r.body);
    }
    let state = OpsState::new(
        bot.handle.clone(),
        bot.metrics.clone(),
        Secret::new(TOKEN),
        vec![btc()],
    );
    seen.push_str(&format!("{state:?} {state:#?}"));
    let config_error = crate::config::parse(
        std::path::Path::new("x.toml"),
        &format!("[strategy]\nname = \"sma_cross\"\n[bot.ops]\ntoken = \"{TOKEN}\"\nextra = 1\n"),
    )
    .unwrap_err();
    seen.push_str(&config_error.to_string());
    bot.stop().await;
    seen.push_str(&String::from_utf8_lossy(&logs.0.lock().unwrap()));
    assert!(
        seen.contains("ops control request"),
        "the logs were captured"
    );
    assert!(!seen.contains(TOKEN), "the token leaked:\n{seen}");
}
