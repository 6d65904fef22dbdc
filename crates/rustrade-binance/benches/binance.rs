//! The adapter's per-message and per-request costs: parsing each kind of venue message,
//! signing a request, and an order placement through the whole client (budget, clock,
//! signing, HTTP) against the local mock venue on 127.0.0.1.
//!
//! Run with `cargo bench -p rustrade-binance --bench binance`; divan's allocation profiler
//! reports heap allocations per iteration next to the timings. `placement_latency` also prints
//! the p50/p99 of its samples to stderr.
#![allow(missing_docs)]
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock latency"
)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use divan::{AllocProfiler, Bencher};
use rustrade_binance::mock::{MockBinance, MockConfig};
use rustrade_binance::parse::{parse_market_message, parse_usdm_user_message, parse_user_message};
use rustrade_binance::{BinanceUsdm, Credentials, Environment, UsdmConfig, ws_payload};
use rustrade_core::{
    Asset, ClientOrderId, ExchangeClient, Order, Price, Quantity, Side, Symbol, Timestamp, Venue,
};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

const KLINE: &str = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"16541.10","c":"16542.20","h":"16545.00","l":"16540.00","v":"103.215","n":100,"x":true,"q":"1707341.0000","V":"50.5","Q":"835000.5","B":"0"}}}"#;
const BOOK: &str = r#"{"stream":"btcusdt@bookTicker","data":{"u":400900217,"s":"BTCUSDT","b":"16541.10000000","B":"31.21000000","a":"16541.20000000","A":"40.66000000"}}"#;
const TRADE: &str = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,"p":"16541.10","q":"0.015","T":1672515782136,"m":true,"M":true}}"#;
const EXECUTION: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.50000000","z":"0.50000000","L":"0.10264410","n":"0.00050000","N":"ETH","T":1499405658657,"t":77,"I":8641984,"w":false,"m":true,"M":false,"O":1499405658657,"Z":"0.05132205","Y":"0.05132205","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#;
const ORDER_TRADE_UPDATE: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"f-1-b","S":"BUY","o":"LIMIT","f":"GTC","q":"0.002","p":"30000","ap":"30000","sp":"0","x":"TRADE","X":"FILLED","i":8886774,"l":"0.002","z":"0.002","L":"30000","N":"USDT","n":"0.024","T":1568879465650,"t":9001,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0"}}"#;

/// The REST example of Binance's signing docs (the first HMAC vector).
const QUERY: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

mod parse {
    use super::*;

    fn venue() -> Venue {
        Venue::new("binance").unwrap()
    }

    #[divan::bench]
    fn kline_closed() -> usize {
        let e = parse_market_message(black_box(KLINE.as_bytes()), venue(), Timestamp::EPOCH);
        usize::from(e.unwrap().is_some())
    }

    #[divan::bench]
    fn book_ticker() -> usize {
        let e = parse_market_message(black_box(BOOK.as_bytes()), venue(), Timestamp::EPOCH);
        usize::from(e.unwrap().is_some())
    }

    #[divan::bench]
    fn trade() -> usize {
        let e = parse_market_message(black_box(TRADE.as_bytes()), venue(), Timestamp::EPOCH);
        usize::from(e.unwrap().is_some())
    }

    #[divan::bench]
    fn execution_report() -> bool {
        let quote = |_: &Symbol| Asset::new("BTC").ok();
        parse_user_message(black_box(EXECUTION.as_bytes()), &quote).is_ok()
    }

    #[divan::bench]
    fn order_trade_update() -> bool {
        let quote = |_: &Symbol| Asset::new("USDT").ok();
        parse_usdm_user_message(black_box(ORDER_TRADE_UPDATE.as_bytes()), &quote).is_ok()
    }
}

mod sign {
    use super::*;

    #[divan::bench]
    fn hmac_sha256_rest(b: Bencher) {
        let c = Credentials::hmac("key", SECRET);
        b.bench_local(|| c.signer().sign_for_query(black_box(QUERY)));
    }

    #[divan::bench]
    fn ed25519_rest(b: Bencher) {
        let c = Credentials::ed25519_from_seed("key", [7u8; 32]);
        b.bench_local(|| c.signer().sign_for_query(black_box(QUERY)));
    }

    /// The WebSocket API form: parameters sorted into the payload, then signed.
    #[divan::bench]
    fn hmac_sha256_ws_api(b: Bencher) {
        let c = Credentials::hmac("key", SECRET);
        let params = [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01000000"),
            ("price", "52000.00"),
            ("recvWindow", "100"),
            ("timestamp", "1645423376532"),
            (
                "apiKey",
                "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            ),
        ];
        b.bench_local(|| c.signer().sign(&ws_payload(black_box(params))));
    }
}

/// A futures client against the mock, with limits high enough that the budget never waits.
fn mock_client(rt: &tokio::runtime::Runtime) -> (MockBinance, BinanceUsdm) {
    rt.block_on(async {
        let mock = MockBinance::start(MockConfig {
            weight_limit: u32::MAX / 4,
            orders_per_10s: u32::MAX / 4,
            ..MockConfig::default()
        })
        .await
        .unwrap();
        let client = BinanceUsdm::new(UsdmConfig::new(
            Environment::Custom(mock.usdm_endpoints()),
            Some(mock.credentials()),
        ))
        .unwrap();
        let warm = order(0);
        client.place_order(&warm).await.unwrap();
        (mock, client)
    })
}

/// A resting limit buy far below the market (no fill, no margin), with a fresh client id.
fn order(n: u64) -> Order {
    Order::limit(
        ClientOrderId::new(&format!("bench-{n}")).unwrap(),
        Symbol::new("BTCUSDT").unwrap(),
        Side::Buy,
        Quantity::new(0.001).unwrap(),
        Price::new(20_000.0).unwrap(),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

static SEQ: AtomicU64 = AtomicU64::new(1);

/// One `place_order` through the client: budget, clock, parameters, signature, HTTP/1.1 to
/// the mock on loopback (which verifies the signature and books the order), answer decoded.
#[divan::bench(sample_count = 200, sample_size = 5)]
fn place_order_round_trip(b: Bencher) {
    let rt = runtime();
    let (_mock, client) = mock_client(&rt);
    b.bench_local(|| {
        let o = order(SEQ.fetch_add(1, Ordering::Relaxed));
        rt.block_on(client.place_order(&o)).unwrap()
    });
}

/// The latency distribution of the same placement: 2 000 samples, p50 and p99 to stderr.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn placement_latency() {
    let rt = runtime();
    let (_mock, client) = mock_client(&rt);
    let mut samples: Vec<Duration> = (0..2_000)
        .map(|_| {
            let o = order(SEQ.fetch_add(1, Ordering::Relaxed));
            let start = Instant::now();
            rt.block_on(client.place_order(&o)).unwrap();
            start.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    eprintln!(
        "placement_latency: p50 {:?}, p99 {:?}, max {:?} over {} placements",
        at(0.50),
        at(0.99),
        at(1.0),
        samples.len()
    );
}
