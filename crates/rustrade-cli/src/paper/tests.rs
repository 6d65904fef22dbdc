//! `rustrade paper` on a live feed: the `[venue]` table's kline stream, served by a WebSocket
//! server this test starts on 127.0.0.1, feeding a bot that trades the simulated venue.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustrade::Secret;
use rustrade::testkit::wait_until;
use rustrade_core::Side;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use super::*;
use crate::config::Overrides;
use crate::ops::client;
use rustrade_strategies::Registry;

const T0: i64 = 1_700_000_000_000;
const TOKEN: &str = "paper-live-token-0123456789";

/// Closes of the bars the stream sends: flat, a rally (the fast average crosses above the
/// slow one: buy), then a fall (it crosses back: the long is closed).
const CLOSES: [f64; 14] = [
    100.0, 100.0, 100.0, 100.0, 110.0, 120.0, 130.0, 140.0, 130.0, 110.0, 90.0, 80.0, 80.0, 80.0,
];

/// One closed 1-minute BTCUSDT kline, bar `k`, opening and closing at `close`.
fn kline(k: usize, close: f64) -> String {
    let t = T0 + i64::try_from(k).unwrap() * 60_000;
    format!(
        r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":{t},"s":"BTCUSDT","k":{{"t":{t},"T":{},"s":"BTCUSDT","i":"1m","o":"{close}","c":"{close}","h":"{close}","l":"{close}","v":"5","n":3,"x":true,"q":"50","V":"2","Q":"20"}}}}}}"#,
        t + 59_999
    )
}

/// A WebSocket server on 127.0.0.1 that sends every frame of `frames` to each connection and
/// then holds it open, recording each request's path.
async fn stream_server(frames: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&paths);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            let frames = frames.clone();
            tokio::spawn(async move {
                // The handshake callback's error type is tungstenite's.
                #[allow(clippy::result_large_err)]
                let record = move |req: &Request, resp: Response| {
                    seen.lock().unwrap().push(req.uri().to_string());
                    Ok(resp)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, record).await else {
                    return;
                };
                for f in frames {
                    if ws.send(Message::text(f)).await.is_err() {
                        return;
                    }
                }
                while ws.next().await.is_some() {}
            });
        }
    });
    (base, paths)
}

fn config_text(endpoint: &str) -> String {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/Bitcoin.csv");
    format!(
        r#"
[[market]]
symbol = "BTCUSDT"
file = {data:?}
interval = "1m"
tick_size = 0.01
lot_size = 0.00001

[strategy]
name = "sma_cross"

[strategy.params]
fast = 2
slow = 4

[account]
initial_cash = 10000.0

[execution]
fill = "close"

[bot]
name = "paper-live"

[bot.ops]
listen = "127.0.0.1:0"

[venue]
exchange = "binance"
endpoint = "{endpoint}"
interval = "1m"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_on_the_venues_live_stream_trades_the_simulated_venue() {
    let frames = CLOSES
        .iter()
        .enumerate()
        .map(|(k, c)| kline(k, *c))
        .collect();
    let (endpoint, paths) = stream_server(frames).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paper.toml");
    std::fs::write(&path, config_text(&endpoint)).unwrap();
    let overrides = Overrides {
        ops_token: Some(Secret::new(TOKEN)),
        ..Overrides::default()
    };
    let config = Config::load(&path, &overrides, &Registry::builtin()).unwrap();

    let (tx, rx) = tokio::sync::oneshot::channel();
    let run = tokio::spawn(async move {
        run(&config, Feed::Venue, false, move |s| {
            let _ = tx.send((s.handle.clone(), s.ops));
        })
        .await
    });
    let (handle, ops) = rx.await.unwrap();
    let btc = Symbol::new("BTCUSDT").unwrap();
    wait_until("every bar to reach the brain", || async {
        handle.health().await.brains[0].events_processed == CLOSES.len() as u64
    })
    .await;
    wait_until("the long to be closed", || async {
        !handle.closed_trades().await.is_empty() && handle.position(&btc).await.is_flat()
    })
    .await;

    // The ops endpoint serves the live paper bot as any other.
    let ops = format!("http://{}", ops.expect("the ops endpoint is bound"));
    let trades = client::request(&ops, "GET", "/trades", None, Duration::from_secs(10))
        .await
        .unwrap();
    let trades: serde_json::Value = serde_json::from_str(&trades.body).unwrap();
    assert_eq!(trades[0]["symbol"], "BTCUSDT", "{trades}");
    let r = client::request(
        &ops,
        "POST",
        "/control/shutdown",
        Some(&Secret::new(TOKEN)),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    let outcome = run.await.unwrap().unwrap();

    assert_eq!(
        paths.lock().unwrap().first().map(String::as_str),
        Some("/stream?streams=btcusdt@kline_1m"),
        "the kline stream of the config's symbol and interval"
    );
    assert_eq!(outcome.events, CLOSES.len() as u64);
    assert!(outcome.interrupted, "a live feed runs until stopped");
    let sides: Vec<Side> = outcome.fills.iter().map(|f| f.side).collect();
    assert_eq!(sides, [Side::Buy, Side::Sell], "{:?}", outcome.fills);
    for f in &outcome.fills {
        // A bar's event is stamped with its close: its open time plus one minute.
        let bar = usize::try_from((f.time.as_millis() - T0 - 1) / 60_000).unwrap();
        assert!(
            (f.price.get() - CLOSES[bar]).abs() <= CLOSES[bar] * 0.01,
            "{f:?} filled near bar {bar}'s price"
        );
    }
    assert_eq!(outcome.trades, 1);
    assert_eq!(outcome.positions[0].1.quantity, 0.0);
    let realised = outcome.realised_pnl;
    assert!(
        (realised - trades[0]["pnl"].as_f64().unwrap()).abs() < 1e-9,
        "{realised} vs {trades}"
    );
}

#[tokio::test]
async fn paper_on_live_data_needs_a_venue_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paper.toml");
    let text = config_text("http://127.0.0.1:9");
    let text = &text[..text.find("[venue]").unwrap()];
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path, &Overrides::default(), &Registry::builtin()).unwrap();
    let err = run(&config, Feed::Venue, false, |_| {}).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: paper trading on live data needs a [venue] table (or --replay FILE)",
            path.display()
        )
    );
}
