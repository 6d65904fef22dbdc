//! The market-data source against a local WebSocket server (and the mock venue for REST kline
//! backfill): pong, reconnect and resubscribe, backfill without gaps or duplicates, silence.

// The handshake callback's signature (and its large error type) is tungstenite's.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustrade_binance::mock::{MockBinance, MockConfig};
use rustrade_binance::{
    Backoff, BinanceMarkPriceStream, BinanceMarketSource, MarkPriceConfig, MarketConfig,
    StreamRoute,
};
use rustrade_core::{MarketSource, Symbol};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

const T0: i64 = 1_600_000_000_000;

fn bar(k: i64, closed: bool) -> Message {
    let t = T0 + k * 60_000;
    Message::text(format!(
        r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":{t},"s":"BTCUSDT","k":{{"t":{t},"T":{},"s":"BTCUSDT","i":"1m","o":"10","c":"11","h":"12","l":"9","v":"5","n":3,"x":{closed},"q":"50","V":"2","Q":"20"}}}}}}"#,
        t + 59_999
    ))
}

/// A server that plays `script[n]` to its n-th connection, recording each request path and
/// whether the pong to its ping came back. After the script it holds the connection open.
async fn server(script: Vec<Vec<Step>>) -> (String, Arc<Mutex<Vec<String>>>, Arc<Mutex<bool>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let paths = Arc::new(Mutex::new(Vec::new()));
    let ponged = Arc::new(Mutex::new(false));
    let (p, g) = (Arc::clone(&paths), Arc::clone(&ponged));
    tokio::spawn(async move {
        for steps in script {
            let (tcp, _) = listener.accept().await.unwrap();
            let p2 = Arc::clone(&p);
            let mut ws =
                tokio_tungstenite::accept_hdr_async(tcp, move |req: &Request, resp: Response| {
                    p2.lock().unwrap().push(req.uri().to_string());
                    Ok(resp)
                })
                .await
                .unwrap();
            let g = Arc::clone(&g);
            tokio::spawn(async move {
                for step in steps {
                    match step {
                        Step::Send(m) => ws.send(m).await.unwrap(),
                        Step::PingExpectPong => {
                            ws.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
                            if let Some(Ok(Message::Pong(p))) = ws.next().await {
                                *g.lock().unwrap() = &p[..] == b"hi";
                            }
                        }
                        Step::Close => {
                            let _ = ws.close(None).await;
                            return;
                        }
                    }
                }
                while ws.next().await.is_some() {}
            });
        }
    });
    (url, paths, ponged)
}

enum Step {
    Send(Message),
    PingExpectPong,
    Close,
}

fn config(streams: &str, rest: &str) -> MarketConfig {
    MarketConfig {
        streams_url: streams.to_owned(),
        rest_url: rest.to_owned(),
        kline_interval: Some("1m".into()),
        book_ticker: false,
        trades: false,
        silence: Duration::from_secs(10),
        max_age: Duration::from_secs(3_600),
        backoff: Backoff {
            min: Duration::from_millis(10),
            max: Duration::from_millis(50),
            seed: 1,
        },
        max_attempts: 5,
        route: StreamRoute::Spot,
    }
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

#[tokio::test]
async fn reconnect_backfills_the_gap_and_drops_the_replay() {
    let mock = MockBinance::start(MockConfig::default()).await.unwrap();
    mock.state().klines.insert(
        "BTCUSDT".into(),
        (1..=2)
            .map(|k| (T0 + k * 60_000, 10.0, 12.0, 9.0, 11.0, 5.0))
            .collect(),
    );
    let (url, paths, ponged) = server(vec![
        vec![
            Step::PingExpectPong,
            Step::Send(bar(1, false)),
            Step::Send(bar(1, true)),
            Step::Close,
        ],
        vec![Step::Send(bar(1, true)), Step::Send(bar(3, true))],
    ])
    .await;
    let mut src = BinanceMarketSource::new(config(&url, &mock.url())).unwrap();
    src.connect(&[btc()]).await.unwrap();
    let mut opens = Vec::new();
    for _ in 0..3 {
        let e = src.next_event().await.unwrap().unwrap();
        assert_eq!(e.symbol, btc());
        opens.push((e.as_candle().unwrap().open_time().as_millis() - T0) / 60_000);
    }
    assert_eq!(
        opens,
        [1, 2, 3],
        "bar 1 once, bar 2 from the backfill, then bar 3"
    );
    assert!(
        *ponged.lock().unwrap(),
        "the server's ping was answered with its payload"
    );
    assert_eq!(src.reconnects(), 1);
    let paths = paths.lock().unwrap().clone();
    assert_eq!(paths.len(), 2);
    assert!(
        paths
            .iter()
            .all(|p| p == "/stream?streams=btcusdt@kline_1m"),
        "{paths:?}"
    );
    assert_eq!(mock.hits("/api/v3/klines"), 1);
}

#[tokio::test]
async fn a_restarted_bot_is_backfilled_from_where_it_stopped() {
    let mock = MockBinance::start(MockConfig::default()).await.unwrap();
    mock.state().klines.insert(
        "BTCUSDT".into(),
        (0..=4)
            .map(|k| (T0 + k * 60_000, 10.0, 12.0, 9.0, 11.0, 5.0))
            .collect(),
    );
    let (url, _, _) = server(vec![vec![
        Step::Send(bar(4, true)),
        Step::Send(bar(5, true)),
    ]])
    .await;
    let mut src = BinanceMarketSource::new(config(&url, &mock.url())).unwrap();
    // The bot saw bars up to bar 1 (closing at the open of bar 2).
    let seen_through = rustrade_core::Timestamp::from_millis(T0 + 2 * 60_000).unwrap();
    assert!(src.resume_after(&[(btc(), seen_through)]));
    src.connect(&[btc()]).await.unwrap();
    let mut opens = Vec::new();
    for _ in 0..4 {
        let e = src.next_event().await.unwrap().unwrap();
        opens.push((e.as_candle().unwrap().open_time().as_millis() - T0) / 60_000);
    }
    assert_eq!(
        opens,
        [2, 3, 4, 5],
        "the bars closed while down, once, then the stream"
    );
    let mut quotes_only = config(&url, &mock.url());
    quotes_only.kline_interval = None;
    quotes_only.book_ticker = true;
    let mut live = BinanceMarketSource::new(quotes_only).unwrap();
    assert!(
        !live.resume_after(&[(btc(), seen_through)]),
        "a quote stream cannot replay"
    );
}

#[tokio::test]
async fn a_silent_connection_is_replaced() {
    let mock = MockBinance::start(MockConfig::default()).await.unwrap();
    let (url, paths, _) = server(vec![vec![], vec![Step::Send(bar(7, true))]]).await;
    let mut c = config(&url, &mock.url());
    c.silence = Duration::from_millis(200);
    let mut src = BinanceMarketSource::new(c).unwrap();
    src.connect(&[btc()]).await.unwrap();
    let e = src.next_event().await.unwrap().unwrap();
    assert_eq!(
        e.as_candle().unwrap().open_time().as_millis(),
        T0 + 7 * 60_000
    );
    assert_eq!(src.reconnects(), 1);
    assert_eq!(paths.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn futures_klines_use_the_market_route_and_fapi_backfill() {
    let mock = MockBinance::start(MockConfig::default()).await.unwrap();
    mock.state().klines.insert(
        "BTCUSDT".into(),
        vec![(T0 + 2 * 60_000, 10.0, 12.0, 9.0, 11.0, 5.0)],
    );
    let (url, paths, _) = server(vec![
        vec![Step::Send(bar(1, true)), Step::Close],
        vec![Step::Send(bar(3, true))],
    ])
    .await;
    let mut c = config(&url, &mock.url());
    c.route = StreamRoute::UsdmMarket;
    let mut src = BinanceMarketSource::new(c).unwrap();
    src.connect(&[btc()]).await.unwrap();
    let mut opens = Vec::new();
    for _ in 0..3 {
        let e = src.next_event().await.unwrap().unwrap();
        opens.push((e.as_candle().unwrap().open_time().as_millis() - T0) / 60_000);
    }
    assert_eq!(opens, [1, 2, 3], "bar 2 from the futures backfill");
    assert_eq!(mock.hits("/fapi/v1/klines"), 1);
    assert_eq!(mock.hits("/api/v3/klines"), 0);
    let paths = paths.lock().unwrap().clone();
    assert!(
        paths
            .iter()
            .all(|p| p == "/market/stream?streams=btcusdt@kline_1m"),
        "{paths:?}"
    );
}

fn mark(symbol: &str, price: &str) -> Message {
    Message::text(format!(
        r#"{{"stream":"{}@markPrice@1s","data":{{"e":"markPriceUpdate","E":{T0},"s":"{symbol}","p":"{price}","i":"11784.62","P":"11784.25","r":"0.00038167","T":1562306400000}}}}"#,
        symbol.to_ascii_lowercase()
    ))
}

fn mark_config(url: &str) -> MarkPriceConfig {
    let mut c = MarkPriceConfig::new(url, [btc(), Symbol::new("ETHUSDT").unwrap()]);
    c.backoff = Backoff {
        min: Duration::from_millis(10),
        max: Duration::from_millis(50),
        seed: 1,
    };
    c.silence = Duration::from_millis(300);
    c
}

#[tokio::test]
async fn mark_prices_arrive_typed_on_the_market_route_across_reconnects() {
    let (url, paths, ponged) = server(vec![
        vec![
            Step::Send(Message::text(r#"{"result":null,"id":1}"#)),
            Step::PingExpectPong,
            Step::Send(mark("BTCUSDT", "11794.15")),
            Step::Close,
        ],
        vec![],
        vec![Step::Send(mark("ETHUSDT", "3000.5"))],
    ])
    .await;
    let mut marks = BinanceMarkPriceStream::new(mark_config(&url)).unwrap();
    marks.connect().await.unwrap();
    let m = marks.next_mark().await.unwrap();
    assert_eq!(
        (m.symbol, m.mark.get(), m.funding_rate),
        (btc(), 11_794.15, 0.000_381_67)
    );
    assert_eq!(m.next_funding.as_millis(), 1_562_306_400_000);
    assert!(*ponged.lock().unwrap(), "the server's ping was answered");
    // The venue closes; the next connection stays silent and is replaced; the third speaks.
    let m = marks.next_mark().await.unwrap();
    assert_eq!((m.symbol.as_str(), m.mark.get()), ("ETHUSDT", 3_000.5));
    assert_eq!(marks.reconnects(), 2);
    assert_eq!(marks.latest(&btc()).unwrap().mark.get(), 11_794.15);
    let paths = paths.lock().unwrap().clone();
    assert_eq!(paths.len(), 3);
    assert!(
        paths
            .iter()
            .all(|p| p == "/market/stream?streams=btcusdt@markPrice@1s/ethusdt@markPrice@1s"),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_malformed_mark_price_is_an_error_naming_its_field() {
    let (url, _, _) = server(vec![vec![Step::Send(mark("BTCUSDT", "NaN"))]]).await;
    let mut marks = BinanceMarkPriceStream::new(mark_config(&url)).unwrap();
    marks.connect().await.unwrap();
    let e = marks.next_mark().await.unwrap_err().to_string();
    assert!(e.contains("\"p\"") && e.contains("NaN"), "{e}");
    assert!(BinanceMarkPriceStream::new(MarkPriceConfig::new(&url, [])).is_err());
}
