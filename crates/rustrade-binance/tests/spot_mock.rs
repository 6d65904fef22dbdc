//! The Spot client against the local mock venue: orders end to end, recovery lookups, clock
//! skew, rate limits and unknown outcomes. Network only to the mock on 127.0.0.1.

use std::time::Duration;

use rustrade_binance::mock::{Fault, MockBinance, MockConfig};
use rustrade_binance::{BinanceSpot, Environment, LimitKind, RateLimit, RestOptions, SpotConfig};
use rustrade_core::{
    ClientOrderId, ExchangeClient, ExchangeError, FillCursor, Liquidity, Order, OrderKind,
    OrderStatus, Price, Quantity, Side, Symbol, Timestamp,
};

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

async fn venue(config: MockConfig) -> MockBinance {
    MockBinance::start(config).await.unwrap()
}

fn client(mock: &MockBinance, rest: RestOptions) -> BinanceSpot {
    let mut c = SpotConfig::new(
        Environment::Custom(mock.endpoints()),
        Some(mock.credentials()),
    )
    .with_symbols([btc()]);
    c.rest = rest;
    BinanceSpot::new(c).unwrap()
}

fn qty(v: f64) -> Quantity {
    Quantity::new(v).unwrap()
}

fn px(v: f64) -> Price {
    Price::new(v).unwrap()
}

#[tokio::test]
async fn place_cancel_status_fills_and_positions_end_to_end() {
    let mock = venue(MockConfig::default()).await;
    let spot = client(&mock, RestOptions::default());
    let spec = spot.instrument(&btc()).await.unwrap();
    assert_eq!(
        (spec.tick_size(), spec.lot_size(), spec.min_notional()),
        (0.01, 0.00001, 5.0)
    );

    // A market buy fills at once.
    let buy = Order::market(cid("b-1-1"), btc(), Side::Buy, qty(0.1));
    let id = spot.place_order(&buy).await.unwrap();
    let st = spot
        .order_status(&btc(), &cid("b-1-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.order_id, id);
    assert_eq!(st.order.status, OrderStatus::Filled);
    assert_eq!(st.avg_fill_price.unwrap().get(), 30_000.0);

    // Its fill, with our client id and the fee.
    let fills = spot
        .fills_since(&btc(), &FillCursor::since(Timestamp::EPOCH))
        .await
        .unwrap();
    assert_eq!(fills.len(), 1);
    let f = fills[0];
    assert_eq!(f.client_id, Some(cid("b-1-1")));
    assert_eq!(
        (f.side, f.liquidity, f.quantity.get()),
        (Side::Buy, Liquidity::Taker, 0.1)
    );
    assert_eq!(f.fee_asset.as_str(), "BTC");
    assert!(
        spot.fills_since(&btc(), &FillCursor::after(&f))
            .await
            .unwrap()
            .is_empty()
    );

    // Spot position = base holdings (fee paid in BTC).
    let pos = spot.positions().await.unwrap();
    assert_eq!(pos.len(), 1);
    assert!((pos[0].1.quantity - 0.0999).abs() < 1e-9, "{pos:?}");

    // A resting limit: open, then cancelled by client id, then unknown to a second cancel.
    let rest = Order::limit(cid("b-1-2"), btc(), Side::Buy, qty(0.01), px(29_000.0));
    spot.place_order(&rest).await.unwrap();
    let open = spot.open_orders(Some(&btc())).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].client_id, Some(cid("b-1-2")));
    assert_eq!(open[0].limit_price, Some(px(29_000.0)));
    spot.cancel_order(&btc(), &cid("b-1-2"), None)
        .await
        .unwrap();
    let st = spot
        .order_status(&btc(), &cid("b-1-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.status, OrderStatus::Cancelled);
    let e = spot
        .cancel_order(&btc(), &cid("b-1-2"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, ExchangeError::UnknownOrder(_)), "{e}");
    assert_eq!(spot.cancel_all(&btc()).await.unwrap(), 0);

    // Never sent: a definite None.
    assert_eq!(
        spot.order_status(&btc(), &cid("never-sent")).await.unwrap(),
        None
    );

    // A resting sell that the market later crosses: a maker fill found from the cursor.
    let sell = Order::limit(cid("b-1-3"), btc(), Side::Sell, qty(0.05), px(31_000.0));
    spot.place_order(&sell).await.unwrap();
    mock.set_price("BTCUSDT", 31_500.0);
    let fills = spot
        .fills_since(&btc(), &FillCursor::after(&f))
        .await
        .unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].liquidity, Liquidity::Maker);
    assert_eq!(fills[0].client_id, Some(cid("b-1-3")));

    // Documented rejections.
    let mut post = Order::limit(cid("b-1-4"), btc(), Side::Buy, qty(0.01), px(32_000.0));
    post.kind = OrderKind::PostOnly;
    let e = spot.place_order(&post).await.unwrap_err();
    assert!(
        e.to_string().contains("-2010") && e.to_string().contains("match"),
        "{e}"
    );
    let big = Order::market(cid("b-1-5"), btc(), Side::Buy, qty(100.0));
    let e = spot.place_order(&big).await.unwrap_err();
    assert!(
        matches!(&e, ExchangeError::Rejected { reason } if reason.contains("insufficient")),
        "{e}"
    );
    let bad = Order::market(cid("b.1:6"), btc(), Side::Buy, qty(0.001));
    let e = spot.place_order(&bad).await.unwrap_err();
    assert!(
        matches!(e, ExchangeError::Value(_)) && e.to_string().contains("b.1:6"),
        "{e}"
    );
    let mut stop = Order::market(cid("b-1-7"), btc(), Side::Sell, qty(0.01));
    stop.kind = OrderKind::StopMarket;
    stop.trigger_price = Some(px(20_000.0));
    assert!(matches!(
        spot.place_order(&stop).await,
        Err(ExchangeError::Unsupported(_))
    ));

    // Closing sells the free base balance.
    let closed = spot.close_position(&btc()).await.unwrap();
    assert!(closed.is_some());
    assert!(spot.positions().await.unwrap().is_empty());
    assert_eq!(spot.close_position(&btc()).await.unwrap(), None);
}

#[tokio::test]
async fn clock_skew_resyncs_once_and_the_request_succeeds() {
    let mock = venue(MockConfig::default()).await;
    let spot = client(&mock, RestOptions::default());
    spot.balances().await.unwrap();
    assert!(spot.rest().clock().offset_ms().abs() < 500);
    // The venue's clock falls 3 s behind ours: our timestamps are now in its future.
    mock.state().skew_ms = -3_000;
    let b = spot.balances().await.unwrap();
    assert!(!b.is_empty());
    assert_eq!(mock.state().timestamp_rejections, 1);
    let off = spot.rest().clock().offset_ms();
    assert!((off + 3_000).abs() < 500, "offset {off}");
}

#[tokio::test]
async fn unknown_outcomes_are_resolved_by_order_status() {
    let mock = venue(MockConfig::default()).await;
    let spot = client(&mock, RestOptions::default());
    spot.instrument(&btc()).await.unwrap();

    mock.inject(Fault::PlaceThenFail(502));
    let o = Order::market(cid("u-1-1"), btc(), Side::Buy, qty(0.01));
    let e = spot.place_order(&o).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    let st = spot.order_status(&btc(), &cid("u-1-1")).await.unwrap();
    assert_eq!(st.unwrap().order.status, OrderStatus::Filled);

    mock.inject(Fault::DropPlacement(503));
    let o = Order::market(cid("u-1-2"), btc(), Side::Buy, qty(0.01));
    assert!(spot.place_order(&o).await.unwrap_err().is_outcome_unknown());
    assert_eq!(
        spot.order_status(&btc(), &cid("u-1-2")).await.unwrap(),
        None
    );

    // No answer within the deadline: a timeout, also unknown.
    let quick = client(
        &mock,
        RestOptions {
            timeout: Duration::from_millis(300),
            ..RestOptions::default()
        },
    );
    quick.instrument(&btc()).await.unwrap();
    mock.inject(Fault::Delay(Duration::from_secs(3)));
    let o = Order::market(cid("u-1-3"), btc(), Side::Buy, qty(0.01));
    let e = quick.place_order(&o).await.unwrap_err();
    assert!(matches!(e, ExchangeError::Timeout(_)), "{e}");
}

#[tokio::test]
async fn the_budget_waits_for_the_next_window_instead_of_drawing_a_429() {
    let mock = venue(MockConfig {
        weight_limit: 40,
        weight_interval: Duration::from_secs(1),
        ..MockConfig::default()
    })
    .await;
    let spot = client(&mock, RestOptions::default());
    // exchangeInfo (20) brings the live limit: 40 per second, 36 usable with 0.9 headroom.
    spot.instrument(&btc()).await.unwrap();
    let usage = spot.health().usage;
    assert!(
        usage
            .iter()
            .any(|u| u.limit.kind == LimitKind::RequestWeight
                && u.limit.interval == Duration::from_secs(1)
                && u.limit.limit == 40)
    );
    for _ in 0..4 {
        spot.balances().await.unwrap(); // 20 each: every call but the first waits for a window
    }
    assert_eq!(mock.state().too_many, 0);
    assert!(spot.health().is_open());
}

#[tokio::test]
async fn a_429_stops_requests_until_retry_after_and_ignoring_it_bans() {
    let mock = venue(MockConfig {
        weight_limit: 45,
        weight_interval: Duration::from_secs(60),
        ..MockConfig::default()
    })
    .await;
    let spot = client(&mock, RestOptions::default());
    spot.instrument(&btc()).await.unwrap();
    // Pretend we share nothing and the venue allows far more: the venue's 429 is the guard.
    spot.rest().set_limits(vec![RateLimit::new(
        LimitKind::RequestWeight,
        Duration::from_secs(60),
        100_000,
    )]);
    let mut got = None;
    for _ in 0..5 {
        if let Err(e) = spot.balances().await {
            got = Some(e);
            break;
        }
    }
    let e: ExchangeError = got.expect("the venue refuses past 45").into();
    let ExchangeError::RateLimited {
        retry_after: Some(d),
    } = e
    else {
        panic!("{e}");
    };
    assert!(d <= Duration::from_secs(60));
    let health = spot.health();
    assert!(health.backoff_for.is_some() && !health.is_open());
    // Refused locally while Retry-After runs: the venue sees nothing.
    let before = mock.hits("/api/v3/account");
    assert!(spot.balances().await.is_err());
    assert_eq!(mock.hits("/api/v3/account"), before);

    // A client that ignores the 429 is banned (418 with Retry-After).
    let r = reqwest::get(format!("{}/api/v3/exchangeInfo", mock.url()))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 418);
    assert_eq!(r.headers()["retry-after"], "120");
}

#[tokio::test]
async fn a_418_ban_is_visible_in_health_and_stops_every_request() {
    let mock = venue(MockConfig::default()).await;
    let spot = client(&mock, RestOptions::default());
    spot.instrument(&btc()).await.unwrap();
    mock.inject(Fault::Ban(Duration::from_secs(30)));
    let e: ExchangeError = spot.balances().await.unwrap_err().into();
    assert!(
        matches!(e, ExchangeError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{e}"
    );
    let banned = spot.health().banned_for.expect("ban shows in health");
    assert!(banned > Duration::from_secs(25));
    let hits = mock.hits("/api/v3/account") + mock.hits("/api/v3/order");
    assert!(spot.order_status(&btc(), &cid("x-1")).await.is_err());
    assert!(spot.balances().await.is_err());
    assert_eq!(
        mock.hits("/api/v3/account") + mock.hits("/api/v3/order"),
        hits
    );
}

#[tokio::test]
async fn debug_of_the_client_shows_no_key_material() {
    let mock = venue(MockConfig {
        api_key: "AKEYTHATMUSTNOTLEAK".into(),
        secret: "SECRETTHATMUSTNOTLEAK".into(),
        ..MockConfig::default()
    })
    .await;
    let spot = client(&mock, RestOptions::default());
    spot.balances().await.unwrap();
    let shown = format!("{spot:?} {spot:#?}");
    assert!(!shown.contains("MUSTNOTLEAK"), "{shown}");
    assert!(shown.contains("REDACTED"));
    let e = BinanceSpot::new(SpotConfig::new(Environment::Custom(mock.endpoints()), None))
        .unwrap()
        .balances()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("needs an API key"), "{e}");
}
