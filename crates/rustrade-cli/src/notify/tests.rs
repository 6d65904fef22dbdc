//! Notifications against mock HTTP servers this test starts on 127.0.0.1: the JSON each channel
//! sends, failures (500, 429 with `retry_after`, a server that never answers), the rate limit's
//! coalescing, the bounded queue, and that no token reaches a log line or an error.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rustrade::Secret;
use rustrade::engine::{BrainId, EngineEvent, EntryBlock, OrderRole};
use rustrade::metrics::PrometheusMetrics;
use rustrade_core::{
    Asset, Fill, FillId, Liquidity, Money, OrderId, Price, Quantity, Side, Symbol, Timestamp,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::commands::Command;
use super::message::Message;
use super::notice::DailyTally;
use super::outbox::Outbox;
use super::sink::{DeliveryError, Sink};
use super::telegram::{ChatId, TelegramApi, TelegramSender};
use super::webhook::Webhook;
use super::*;
use crate::config::RateLimit;

const TOKEN: &str = "123456:SECRET-telegram-token-abcdef";

/// One request the mock received: its path and JSON body.
type Seen = (String, Value);

/// A mock HTTP server answering from a script (then 200 `{"ok":true,"result":true}`), and
/// what it received.
struct Mock {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
}

/// A scripted answer: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

struct MockState {
    answers: Mutex<VecDeque<Answer>>,
    seen: mpsc::UnboundedSender<Seen>,
}

async fn mock(answers: Vec<Answer>) -> Mock {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Arc::new(MockState {
        answers: Mutex::new(answers.into()),
        seen: tx,
    });
    let app = Router::new().fallback(answer).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Mock { addr, seen: rx }
}

async fn answer(State(s): State<Arc<MockState>>, uri: Uri, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let _ = s.seen.send((uri.path().to_owned(), body));
    let next = s.answers.lock().unwrap().pop_front();
    if next.is_none() && uri.path().ends_with("/getUpdates") {
        // A long poll with nothing to report: held open.
        std::future::pending::<()>().await;
    }
    let (status, headers, text) =
        next.unwrap_or((200, Vec::new(), r#"{"ok":true,"result":true}"#.to_owned()));
    let mut r = (StatusCode::from_u16(status).unwrap(), text).into_response();
    r.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    for (name, value) in headers {
        r.headers_mut()
            .insert(name, axum::http::HeaderValue::from_str(&value).unwrap());
    }
    r
}

impl Mock {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next request, failing the test instead of hanging.
    async fn next(&mut self) -> Seen {
        tokio::time::timeout(Duration::from_secs(20), self.seen.recv())
            .await
            .expect("the mock saw no request")
            .expect("mock closed")
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn webhook(url: &str) -> Sink {
    Sink::Webhook(Webhook::new(
        client(),
        Secret::new(format!("{url}/hook/secret-path")),
        "127.0.0.1".into(),
        "bot-1".into(),
    ))
}

fn telegram_api(url: &str) -> TelegramApi {
    TelegramApi::new(client(), url, Secret::new(TOKEN))
}

fn telegram(url: &str) -> Sink {
    Sink::Telegram(TelegramSender::new(
        telegram_api(url),
        ChatId::Id(-10_042),
        "bot-1".into(),
    ))
}

/// Fast retries, so failure tests do not wait out the production backoff.
const QUICK: Retry = Retry {
    first_backoff: Duration::from_millis(1),
    max_retry_after: Duration::from_millis(1),
};

fn spec(sink: Sink, per_minute: u32, burst: u32) -> ChannelSpec {
    ChannelSpec {
        sink,
        kinds: KindSet::all(),
        limit: RateLimit { per_minute, burst },
        retry: QUICK,
    }
}

fn notice(kind: Kind, critical: bool, text: &str) -> Notice {
    Notice {
        kind,
        critical,
        time: Timestamp::from_secs(1_700_000_000).unwrap(),
        text: text.to_owned(),
        details: json!({ "n": text }),
    }
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn fill_event(secs: i64, qty: f64, realised: f64) -> EngineEvent {
    let time = Timestamp::from_secs(secs).unwrap();
    EngineEvent::FillApplied {
        brain: BrainId(0),
        role: OrderRole::Entry,
        fill: Fill {
            fill_id: FillId::new(&format!("f{secs}")).unwrap(),
            order_id: OrderId::new("o1").unwrap(),
            client_id: None,
            symbol: btc(),
            side: Side::Buy,
            price: Price::new(100.5).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            fee: Money::new(0.05).unwrap(),
            fee_asset: Asset::new("USDT").unwrap(),
            liquidity: Liquidity::Taker,
            time,
        },
        realised_pnl: realised,
        time,
    }
}

/// The sum of the samples of `name` carrying every label in `labels`.
fn metric(m: &PrometheusMetrics, name: &str, labels: &[(&str, &str)]) -> f64 {
    m.render()
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn sink_of(m: &PrometheusMetrics) -> Arc<dyn MetricsSink> {
    Arc::new(m.clone())
}

/// A log capture for a tracing subscriber.
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

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every log line of this test binary's threads that set no subscriber of their own, from
/// TRACE up. Global rather than scoped: a scoped subscriber misses lines whose callsites other
/// tests' threads registered first.
fn global_logs() -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the unit tests");
        logs
    })
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn engine_events_become_notices() {
    let brains = vec!["sma".to_owned()];
    let n = Notice::from_event(&fill_event(1_700_000_000, 0.5, 1.25), &brains).unwrap();
    assert_eq!((n.kind, n.critical), (Kind::Fill, false));
    assert_eq!(
        n.text,
        "fill: buy 0.5 BTCUSDT @ 100.5 (fee 0.05, realised 1.25) [sma]"
    );
    assert_eq!(n.details["symbol"], "BTCUSDT");
    assert_eq!(n.details["realised_pnl"], 1.25);

    let t = Timestamp::from_secs(1_700_000_000).unwrap();
    let raised = EngineEvent::EntryBlock {
        block: EntryBlock::MarketData,
        raised: true,
        time: t,
    };
    let n = Notice::from_event(&raised, &brains).unwrap();
    assert_eq!((n.kind, n.critical), (Kind::Degraded, true));
    assert_eq!(
        n.text,
        "entries blocked (market_data_silent): market data is silent; entries wait until it flows again"
    );
    let cleared = EngineEvent::EntryBlock {
        block: EntryBlock::MarketData,
        raised: false,
        time: t,
    };
    let n = Notice::from_event(&cleared, &brains).unwrap();
    assert_eq!((n.kind, n.critical), (Kind::Degraded, false));
    assert_eq!(n.text, "entry block cleared (market_data_silent)");
    let drift = EngineEvent::EntryBlock {
        block: EntryBlock::Drift,
        raised: true,
        time: t,
    };
    let n = Notice::from_event(&drift, &brains).unwrap();
    assert_eq!((n.kind, n.critical), (Kind::Recovery, true));
    let paused = EngineEvent::EntriesPaused {
        paused: true,
        time: t,
    };
    let n = Notice::from_event(&paused, &brains).unwrap();
    assert_eq!((n.kind, n.critical), (Kind::Degraded, false));
    let resumed = EngineEvent::RiskResumed {
        symbol: btc(),
        time: t,
    };
    let n = Notice::from_event(&resumed, &brains).unwrap();
    assert_eq!(
        (n.kind, n.text.as_str()),
        (Kind::Halt, "entries resumed on BTCUSDT")
    );
    let accepted = EngineEvent::OrderAccepted {
        client_id: rustrade_core::ClientOrderId::compose("b", 0, 1).unwrap(),
        order_id: OrderId::new("o1").unwrap(),
        time: t,
    };
    assert_eq!(Notice::from_event(&accepted, &brains), None);
}

#[test]
fn the_daily_summary_comes_at_the_utc_day_boundary() {
    // 2023-11-14T22:13:20Z, then fills that day and one the next.
    let day1 = 1_700_000_000;
    let mut tally = DailyTally::new(Timestamp::from_secs(day1).unwrap(), &[btc()]);
    assert_eq!(tally.record(&fill_event(day1 + 10, 1.0, 0.0)), None);
    assert_eq!(tally.record(&fill_event(day1 + 20, 1.0, 2.5)), None);
    let closed = EngineEvent::TradeClosed {
        brain: BrainId(0),
        symbol: btc(),
        trade: rustrade_core::ClosedTrade {
            side: Side::Buy,
            quantity: 1.0,
            entry_price: 100.0,
            exit_price: 103.0,
            gross_pnl: 3.0,
            fees: 0.5,
            entry_fees: 0.25,
            exit_fees: 0.25,
            net_pnl: 2.5,
            opened_at: Timestamp::from_secs(day1 + 10).unwrap(),
            closed_at: Timestamp::from_secs(day1 + 20).unwrap(),
        },
    };
    assert_eq!(tally.record(&closed), None);
    assert_eq!(
        tally.roll(Timestamp::from_secs(day1 + 3_600).unwrap()),
        None
    );
    let summary = tally
        .record(&fill_event(day1 + 7_200, 1.0, -1.0))
        .expect("the next UTC day's first event ends the day");
    assert_eq!((summary.kind, summary.critical), (Kind::Summary, false));
    assert_eq!(
        summary.text,
        "daily summary 2023-11-14 (UTC): BTCUSDT: realised 2.50, 2 fills, 1 trades"
    );
    assert_eq!(summary.time.to_rfc3339(), "2023-11-15T00:00:00Z");
    assert_eq!(
        summary.details["symbols"][0],
        json!({"symbol": "BTCUSDT", "realised_pnl": 2.5, "fills": 2, "trades": 1})
    );
    // The clock alone ends a quiet day; the new day already counts its fill.
    let next = tally
        .roll(Timestamp::from_secs(day1 + 2 * 86_400).unwrap())
        .unwrap();
    assert_eq!(
        next.text,
        "daily summary 2023-11-15 (UTC): BTCUSDT: realised -1.00, 1 fills, 0 trades"
    );
}

#[test]
fn coalesced_messages_count_every_notice() {
    let notices = vec![
        notice(Kind::Fill, false, "f1"),
        notice(Kind::Halt, true, "halted"),
        notice(Kind::Fill, false, "f2"),
    ];
    let m = Message::coalesce(&notices, 2);
    assert_eq!(m.kind, "coalesced");
    assert!(m.critical);
    assert_eq!(
        m.text,
        "3 more events (rate limited): fill 2, halt 1; 2 dropped (queue full)\n- halted"
    );
    assert_eq!(m.details["count"], 3);
    assert_eq!(m.details["dropped"], 2);
    assert_eq!(
        Message::coalesce(&notices[..1], 0),
        Message::single(&notices[0])
    );
}

#[test]
fn commands_parse_with_or_without_the_bot_name() {
    assert_eq!(Command::parse("/pause"), Some(Command::Pause));
    assert_eq!(
        Command::parse("/flatten@my_bot now"),
        Some(Command::Flatten)
    );
    assert_eq!(Command::parse(" /status "), Some(Command::Status));
    assert_eq!(Command::parse("/resume"), Some(Command::Resume));
    assert_eq!(Command::parse("/buy"), None);
    assert_eq!(Command::parse("pause"), None);
}

#[test]
fn a_full_outbox_drops_the_oldest_non_critical_notice() {
    let outbox = Outbox::new(3);
    assert!(!outbox.push(notice(Kind::Halt, true, "c1")));
    assert!(!outbox.push(notice(Kind::Fill, false, "f1")));
    assert!(!outbox.push(notice(Kind::Fill, false, "f2")));
    assert!(outbox.push(notice(Kind::Fill, false, "f3")));
    assert!(outbox.push(notice(Kind::Halt, true, "c2")));
    let texts: Vec<String> = outbox.drain().into_iter().map(|n| n.text).collect();
    assert_eq!(texts, ["c1", "f3", "c2"]);
    assert_eq!(outbox.take_dropped(), 2);
    assert_eq!(outbox.take_dropped(), 0);
}

#[tokio::test]
async fn the_webhook_posts_each_notice_as_json() {
    let mut server = mock(Vec::new()).await;
    let metrics = PrometheusMetrics::local();
    let n = Notifier::start(
        vec![spec(webhook(&server.url()), 60, 5)],
        16,
        sink_of(&metrics),
    );
    n.publish(&notice(Kind::Halt, true, "entries halted on BTCUSDT"));
    let (path, body) = server.next().await;
    assert_eq!(path, "/hook/secret-path");
    assert_eq!(
        body,
        json!({
            "bot": "bot-1",
            "kind": "halt",
            "critical": true,
            "time": "2023-11-14T22:13:20Z",
            "text": "entries halted on BTCUSDT",
            "details": {"n": "entries halted on BTCUSDT"},
        })
    );
    n.close(Duration::from_secs(5)).await;
    assert_eq!(
        metric(&metrics, names::SENT, &[("channel", "webhook")]),
        1.0
    );
}

#[tokio::test]
async fn a_channel_sends_only_its_kinds() {
    let mut server = mock(Vec::new()).await;
    let metrics = PrometheusMetrics::local();
    let mut only_halts = spec(webhook(&server.url()), 60, 5);
    only_halts.kinds = KindSet::from_kinds([Kind::Halt]);
    let n = Notifier::start(vec![only_halts], 16, sink_of(&metrics));
    n.publish(&notice(Kind::Fill, false, "a fill"));
    n.publish(&notice(Kind::Halt, true, "a halt"));
    assert_eq!(server.next().await.1["text"], "a halt");
    n.close(Duration::from_secs(5)).await;
    assert!(server.seen.try_recv().is_err(), "the fill was not sent");
}

#[tokio::test]
async fn telegram_sends_to_the_chat_with_the_token_in_the_path() {
    let mut server = mock(Vec::new()).await;
    let metrics = PrometheusMetrics::local();
    let n = Notifier::start(
        vec![spec(telegram(&server.url()), 60, 5)],
        16,
        sink_of(&metrics),
    );
    n.publish(&notice(Kind::Fill, false, "fill: buy 1 BTCUSDT @ 100"));
    let (path, body) = server.next().await;
    assert_eq!(path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(
        body,
        json!({
            "chat_id": -10_042,
            "text": "[bot-1] fill: buy 1 BTCUSDT @ 100",
            "disable_web_page_preview": true,
        })
    );
    n.close(Duration::from_secs(5)).await;
    assert_eq!(
        metric(&metrics, names::SENT, &[("channel", "telegram")]),
        1.0
    );
}

#[tokio::test]
async fn a_500_is_counted_and_retried() {
    let mut server = mock(vec![(500, Vec::new(), "boom".into())]).await;
    let metrics = PrometheusMetrics::local();
    let n = Notifier::start(
        vec![spec(webhook(&server.url()), 60, 5)],
        16,
        sink_of(&metrics),
    );
    n.publish(&notice(Kind::Service, true, "service failed"));
    let first = server.next().await;
    let again = server.next().await;
    assert_eq!(first, again, "the same message is sent again");
    n.close(Duration::from_secs(5)).await;
    let failed = [("channel", "webhook"), ("reason", "status")];
    assert_eq!(metric(&metrics, names::FAILURES, &failed), 1.0);
    assert_eq!(
        metric(&metrics, names::SENT, &[("channel", "webhook")]),
        1.0
    );
}

#[tokio::test]
async fn a_4xx_other_than_429_is_not_retried() {
    let mut server = mock(vec![(404, Vec::new(), "no such hook".into())]).await;
    let metrics = PrometheusMetrics::local();
    let n = Notifier::start(
        vec![spec(webhook(&server.url()), 60, 5)],
        16,
        sink_of(&metrics),
    );
    n.publish(&notice(Kind::Fill, false, "f"));
    server.next().await;
    n.close(Duration::from_secs(5)).await;
    assert!(server.seen.try_recv().is_err(), "not sent again");
    let dropped = [("channel", "webhook"), ("reason", "undeliverable")];
    assert_eq!(metric(&metrics, names::DROPPED, &dropped), 1.0);
}

#[tokio::test]
async fn a_429_waits_retry_after_and_is_counted() {
    // The webhook's Retry-After header, then Telegram's `parameters.retry_after`.
    let mut server = mock(vec![(
        429,
        vec![("retry-after", "7".into())],
        String::new(),
    )])
    .await;
    let Sink::Webhook(w) = webhook(&server.url()) else {
        unreachable!()
    };
    let m = Message::single(&notice(Kind::Fill, false, "f"));
    assert_eq!(
        w.deliver(&m).await,
        Err(DeliveryError::RateLimited {
            retry_after: Duration::from_secs(7)
        })
    );
    server.next().await;
    let mut tg = mock(vec![(
        429,
        Vec::new(),
        r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#.into(),
    )])
    .await;
    let api = telegram_api(&tg.url());
    assert_eq!(
        api.send_message(&ChatId::Id(1), "x", Duration::from_secs(10))
            .await,
        Err(DeliveryError::RateLimited {
            retry_after: Duration::from_secs(3)
        })
    );
    tg.next().await;

    // Through the sender: counted, then delivered on the retry.
    let mut server = mock(vec![(429, Vec::new(), r#"{"retry_after": 2}"#.into())]).await;
    let metrics = PrometheusMetrics::local();
    let n = Notifier::start(
        vec![spec(webhook(&server.url()), 60, 5)],
        16,
        sink_of(&metrics),
    );
    n.publish(&notice(Kind::Fill, false, "f"));
    server.next().await;
    server.next().await;
    n.close(Duration::from_secs(5)).await;
    let limited = [("channel", "webhook"), ("reason", "rate_limited")];
    assert_eq!(metric(&metrics, names::FAILURES, &limited), 1.0);
    assert_eq!(
        metric(&metrics, names::SENT, &[("channel", "webhook")]),
        1.0
    );
}

#[tokio::test]
async fn the_rate_limit_coalesces_the_excess_into_one_counted_message() {
    let mut server = mock(Vec::new()).await;
    let metrics = PrometheusMetrics::local();
    // One message at once, then one every 100 ms.
    let n = Notifier::start(
        vec![spec(webhook(&server.url()), 600, 1)],
        64,
        sink_of(&metrics),
    );
    for i in 0..10 {
        n.publish(&notice(Kind::Fill, false, &format!("fill {i}")));
    }
    n.publish(&notice(Kind::Halt, true, "entries halted on BTCUSDT"));
    let (_, first) = server.next().await;
    assert_eq!(first["text"], "fill 0");
    let (_, rest) = server.next().await;
    assert_eq!(rest["kind"], "coalesced");
    assert_eq!(
        rest["text"],
        "10 more events (rate limited): fill 9, halt 1\n- entries halted on BTCUSDT"
    );
    assert_eq!(rest["details"]["count"], 10);
    n.close(Duration::from_secs(5)).await;
    assert!(server.seen.try_recv().is_err(), "two messages in all");
    assert_eq!(
        metric(&metrics, names::COALESCED, &[("channel", "webhook")]),
        10.0
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_server_never_blocks_the_publisher() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let metrics = PrometheusMetrics::local();
    let n = Notifier::start(
        vec![spec(webhook(&format!("http://{addr}")), 6_000, 100)],
        8,
        sink_of(&metrics),
    );
    n.publish(&notice(Kind::Fill, false, "first"));
    // Let the sender take the first notice and hang on it.
    while n.queued() != [0] {
        tokio::task::yield_now().await;
    }
    let before = paused_now();
    for i in 0..1_000 {
        n.publish(&notice(Kind::Fill, i == 500, &format!("n{i}")));
    }
    assert_eq!(paused_now(), before, "publishing took no time");
    assert_eq!(n.queued(), [8], "the queue stays bounded");
    let full = [("channel", "webhook"), ("reason", "queue_full")];
    assert_eq!(metric(&metrics, names::DROPPED, &full), 992.0);
    // Time passes only while the sender waits: each call times out and is counted.
    n.close(Duration::from_secs(600)).await;
    let timeouts = [("channel", "webhook"), ("reason", "timeout")];
    assert!(metric(&metrics, names::FAILURES, &timeouts) >= 1.0);
}

#[allow(clippy::disallowed_methods, reason = "reads tokio's paused test clock")]
fn paused_now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

#[tokio::test]
async fn no_token_reaches_a_log_line_or_an_error() {
    let captured = global_logs();

    // A server that fails, echoing the request path (with the token) in its error.
    let mut server = mock(vec![
        (
            500,
            Vec::new(),
            format!(r#"{{"ok":false,"description":"bad path /bot{TOKEN}/sendMessage"}}"#),
        );
        MAX_ATTEMPTS as usize
    ])
    .await;
    let metrics = PrometheusMetrics::local();
    let n = Notifier::start(
        vec![spec(telegram(&server.url()), 60, 5)],
        16,
        sink_of(&metrics),
    );
    n.publish(&notice(Kind::Halt, true, "halted"));
    for _ in 0..MAX_ATTEMPTS {
        server.next().await;
    }
    n.close(Duration::from_secs(5)).await;

    // A transport failure: nothing listens on the port any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let api = telegram_api(&format!("http://{closed}"));
    let e = api
        .send_message(&ChatId::Id(1), "x", Duration::from_secs(10))
        .await
        .unwrap_err();
    let shown = format!("{e} {e:?} {api:?}");
    assert!(
        !shown.contains(TOKEN) && !shown.contains("SECRET"),
        "{shown}"
    );
    tracing::warn!(error = %e, "logged like the sender logs it");

    let logs = captured.text();
    assert!(logs.contains("notification failed; retrying"), "{logs}");
    assert!(
        logs.contains("[REDACTED]"),
        "the echoed token is masked: {logs}"
    );
    assert!(!logs.contains("SECRET"), "{logs}");
    let failed = [("channel", "telegram"), ("reason", "status")];
    assert_eq!(metric(&metrics, names::FAILURES, &failed), 4.0);
    assert!(!metrics.render().contains("SECRET"));
}

#[tokio::test]
async fn telegram_commands_from_allowed_chats_act_through_the_handle() {
    use rustrade::testkit::{MockExchange, ScriptedBrain};
    use rustrade::{Bot, BotConfig};

    let stale = r#"{"ok":true,"result":[{"update_id":5,"message":{"chat":{"id":-100},"text":"/flatten"}}]}"#;
    let fresh = r#"{"ok":true,"result":[
        {"update_id":6,"message":{"chat":{"id":999},"text":"/pause"}},
        {"update_id":7,"message":{"chat":{"id":-100},"text":"/pause@rustrade_bot"}}]}"#;
    let mut server = mock(vec![
        (200, Vec::new(), stale.into()),
        (200, Vec::new(), fresh.into()),
    ])
    .await;

    let exchange = Arc::new(MockExchange::new());
    let config = BotConfig::builder()
        .name("tg")
        .symbol("BTCUSDT")
        .without_signal_handler()
        .build()
        .unwrap();
    let brain: Arc<dyn rustrade_core::Brain> = Arc::new(ScriptedBrain::holding("hold"));
    let bot = Bot::new(config, exchange, vec![brain]).unwrap();
    let handle = bot.handle();
    let task = tokio::spawn(bot.run_until_shutdown());
    tokio::time::timeout(Duration::from_secs(20), async {
        while !handle
            .health()
            .await
            .services
            .iter()
            .any(|s| s.phase == rustrade::supervisor::ServicePhase::Running)
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the bot started");

    let metrics = PrometheusMetrics::local();
    let poller = commands::spawn(commands::Commands {
        api: telegram_api(&server.url()),
        allowed: vec![-100],
        handle: handle.clone(),
        symbols: vec![btc()],
        bot: "tg".into(),
        metrics: sink_of(&metrics),
    });
    let (path, body) = server.next().await;
    assert_eq!(path, format!("/bot{TOKEN}/getUpdates"));
    assert_eq!(
        body,
        json!({"offset": -1, "timeout": 0}),
        "stale commands skipped"
    );
    let (_, body) = server.next().await;
    assert_eq!(body["offset"], 6);
    assert_eq!(body["timeout"], 30);
    let (path, body) = server.next().await;
    assert_eq!(path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(body["chat_id"], -100);
    assert_eq!(body["text"], "[tg] new entries paused; exits still go");
    let (_, body) = server.next().await;
    assert_eq!(body["offset"], 8);
    assert!(handle.entries_paused());
    let refused = [("reason", "chat_not_allowed")];
    assert_eq!(metric(&metrics, names::COMMANDS_REFUSED, &refused), 1.0);

    let status = commands::act(
        &commands::Commands {
            api: telegram_api(&server.url()),
            allowed: vec![-100],
            handle: handle.clone(),
            symbols: vec![btc()],
            bot: "tg".into(),
            metrics: sink_of(&metrics),
        },
        Command::Status,
    )
    .await;
    assert!(
        status.starts_with("healthy; entries blocked (entries_paused)\nBTCUSDT: position 0"),
        "{status}"
    );
    poller.abort();
    handle.shutdown();
    task.await.unwrap().unwrap();
}
