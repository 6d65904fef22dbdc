//! The USD-M futures client and user stream against the local mock venue: one-way set-up,
//! orders of every native kind (regular and algo), reduce-only, real average entry from
//! `positionRisk`, hedge mode refused, unknown outcomes resolved, and the listenKey stream with
//! keep-alive and renewal. Network only to the mock on 127.0.0.1.

use std::time::Duration;

use rustrade_binance::mock::{Fault, MockBinance, MockConfig};
use rustrade_binance::{
    BinanceError, BinanceUsdm, BinanceUsdmUserStream, Environment, MarginType, SymbolSetup,
    UsdmConfig, UsdmUserConfig,
};
use rustrade_core::{
    Asset, AssetClass, Capability, ClientOrderId, ExchangeClient, ExchangeError, ExecutionReport,
    FillCursor, FillSource, Liquidity, Order, OrderKind, OrderStatus, Price, Quantity, Side,
    Symbol, Timestamp,
};

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn qty(v: f64) -> Quantity {
    Quantity::new(v).unwrap()
}

fn px(v: f64) -> Price {
    Price::new(v).unwrap()
}

async fn venue() -> MockBinance {
    MockBinance::start(MockConfig::default()).await.unwrap()
}

fn client(mock: &MockBinance) -> BinanceUsdm {
    let config = UsdmConfig::new(
        Environment::Custom(mock.usdm_endpoints()),
        Some(mock.credentials()),
    )
    .with_setup(
        btc(),
        SymbolSetup {
            leverage: 5,
            margin_type: MarginType::Isolated,
        },
    );
    BinanceUsdm::new(config).unwrap()
}

fn limit(id: &str, side: Side, q: f64, p: f64) -> Order {
    Order::limit(cid(id), btc(), side, qty(q), px(p))
}

fn conditional(id: &str, kind: OrderKind, side: Side, q: f64, trigger: f64) -> Order {
    let mut o = Order::market(cid(id), btc(), side, qty(q)).reduce_only();
    o.kind = kind;
    o.trigger_price = Some(px(trigger));
    o
}

fn rejected_with(e: &ExchangeError, code: &str) -> bool {
    matches!(e, ExchangeError::Rejected { reason } if reason.starts_with(code))
}

#[tokio::test]
async fn setup_orders_fills_and_the_venue_average_entry_end_to_end() {
    let mock = venue().await;
    let fut = client(&mock);
    fut.prepare().await.unwrap();
    fut.prepare().await.unwrap(); // margin type already set: -4046 is not an error
    {
        let s = mock.state();
        assert_eq!(s.usdm.leverage.get("BTCUSDT"), Some(&5));
        assert_eq!(
            s.usdm.margin_type.get("BTCUSDT").map(String::as_str),
            Some("ISOLATED")
        );
    }
    let spec = fut.instrument(&btc()).await.unwrap();
    assert_eq!(spec.asset_class(), AssetClass::CryptoPerp);
    assert_eq!((spec.tick_size(), spec.min_notional()), (0.01, 5.0));
    assert!(fut.supports(Capability::StopMarket) && fut.supports(Capability::ReduceOnly));
    assert!(!fut.supports(Capability::TrailingStop));
    assert!(fut.supports(Capability::Positions) && fut.supports(Capability::OrderTracking));
    assert_eq!(fut.venue().as_str(), "binance-usdm");

    // Two buys at different prices: the venue's entry is their average.
    fut.place_order(&Order::market(cid("f-1"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap();
    let st = fut
        .order_status(&btc(), &cid("f-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.status, OrderStatus::Filled);
    assert_eq!(st.avg_fill_price.unwrap().get(), 30_000.0);
    mock.set_price("BTCUSDT", 31_000.0);
    fut.place_order(&Order::market(cid("f-2"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap();
    let p = fut.position(&btc()).await.unwrap();
    assert!((p.quantity - 0.2).abs() < 1e-9, "{p:?}");
    assert!((p.avg_entry - 30_500.0).abs() < 1e-6, "{p:?}");
    assert!((p.unrealised_pnl - 100.0).abs() < 1e-6, "{p:?}");
    assert_eq!(fut.positions().await.unwrap().len(), 1);

    // Fills with our client ids, trade-id paging.
    let fills = fut
        .fills_since(&btc(), &FillCursor::since(Timestamp::EPOCH))
        .await
        .unwrap();
    assert_eq!(fills.len(), 2);
    assert_eq!(fills[0].client_id, Some(cid("f-1")));
    assert_eq!(fills[1].client_id, Some(cid("f-2")));
    assert_eq!(
        (fills[1].liquidity, fills[1].fee_asset.as_str()),
        (Liquidity::Taker, "USDT")
    );
    assert!(
        fut.fills_since(&btc(), &FillCursor::after(&fills[1]))
            .await
            .unwrap()
            .is_empty()
    );

    // Margin in use is locked.
    let usdt = fut.balance(&Asset::new("USDT").unwrap()).await.unwrap();
    assert!(usdt.locked.get() > 0.0 && usdt.free.get() > 0.0, "{usdt:?}");

    // Reduce-only cannot flip the position.
    let too_much = Order::market(cid("f-3"), btc(), Side::Sell, qty(0.3)).reduce_only();
    let e = fut.place_order(&too_much).await.unwrap_err();
    assert!(rejected_with(&e, "-2022"), "{e}");

    // Close: a reduce-only market order for the whole position; then flat.
    let id = fut.close_position(&btc()).await.unwrap();
    assert!(id.is_some());
    assert_eq!(fut.position(&btc()).await.unwrap().quantity, 0.0);
    assert!(fut.positions().await.unwrap().is_empty());
    assert_eq!(fut.close_position(&btc()).await.unwrap(), None);
    // 0.2 bought at 30 500 on average, sold at 31 000: +100 less fees.
    let wallet = mock.state().usdm.wallet;
    assert!(wallet > 10_090.0 && wallet < 10_100.0, "{wallet}");
}

#[tokio::test]
async fn post_only_ioc_and_algo_orders_are_native_and_tracked() {
    let mock = venue().await;
    let fut = client(&mock);
    fut.place_order(&limit("r-1", Side::Buy, 0.1, 29_000.0))
        .await
        .unwrap();
    let mut crossing = limit("p-1", Side::Buy, 0.1, 31_000.0);
    crossing.kind = OrderKind::PostOnly;
    let e = fut.place_order(&crossing).await.unwrap_err();
    assert!(rejected_with(&e, "-5022"), "{e}");
    let mut maker = limit("p-2", Side::Buy, 0.1, 28_000.0);
    maker.kind = OrderKind::PostOnly;
    fut.place_order(&maker).await.unwrap();
    let mut ioc = limit("i-1", Side::Buy, 0.1, 28_000.0);
    ioc.kind = OrderKind::Ioc;
    fut.place_order(&ioc).await.unwrap();
    let st = fut
        .order_status(&btc(), &cid("i-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.status, OrderStatus::Expired);

    // A conditional order goes to the algo service and shows among open orders.
    fut.place_order(&Order::market(cid("e-1"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap();
    let stop = conditional("s-1", OrderKind::StopMarket, Side::Sell, 0.1, 29_500.0);
    fut.place_order(&stop).await.unwrap();
    assert_eq!(mock.hits("/fapi/v1/algoOrder"), 1);
    let open = fut.open_orders(Some(&btc())).await.unwrap();
    assert_eq!(open.len(), 3, "{open:?}");
    let s = open
        .iter()
        .find(|o| o.client_id == Some(cid("s-1")))
        .unwrap();
    assert_eq!(
        (s.kind, s.trigger_price, s.reduce_only),
        (OrderKind::StopMarket, Some(px(29_500.0)), true)
    );
    fut.cancel_order(&btc(), &cid("s-1"), None).await.unwrap();
    let st = fut
        .order_status(&btc(), &cid("s-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.status, OrderStatus::Cancelled);

    // A fresh client (nothing remembered) finds the algo order behind a regular miss, and a
    // triggered one reports the fills of the order its trigger placed.
    let stop = conditional("s-2", OrderKind::StopMarket, Side::Sell, 0.1, 29_500.0);
    fut.place_order(&stop).await.unwrap();
    let fresh = client(&mock);
    let st = fresh
        .order_status(&btc(), &cid("s-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (st.order.kind, st.order.status),
        (OrderKind::StopMarket, OrderStatus::Accepted)
    );
    mock.set_price("BTCUSDT", 29_400.0);
    let st = fut
        .order_status(&btc(), &cid("s-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.status, OrderStatus::Filled);
    assert_eq!(st.avg_fill_price.unwrap().get(), 29_400.0);
    assert_eq!(fut.position(&btc()).await.unwrap().quantity, 0.0);

    // A take-profit above the market, then cancel everything: regular and algo.
    fut.place_order(&Order::market(cid("e-2"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap();
    let tp = conditional("t-1", OrderKind::TakeProfit, Side::Sell, 0.1, 32_000.0);
    fut.place_order(&tp).await.unwrap();
    assert_eq!(fut.cancel_all(&btc()).await.unwrap(), 3);
    assert!(fut.open_orders(None).await.unwrap().is_empty());

    // Unsupported kinds are refused before sending.
    let mut trail = Order::market(cid("x-1"), btc(), Side::Sell, qty(0.1));
    trail.kind = OrderKind::TrailingStop;
    trail.trailing_offset = Some(px(50.0));
    let e = fut.place_order(&trail).await.unwrap_err();
    assert!(matches!(e, ExchangeError::Unsupported(_)), "{e}");
    // Cancelling an order neither endpoint knows is a definite "no such order".
    let e = fut
        .cancel_order(&btc(), &cid("never-1"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, ExchangeError::UnknownOrder(_)), "{e}");
}

#[tokio::test]
async fn hedge_mode_is_refused_clearly() {
    let mock = venue().await;
    mock.state().usdm.dual_side = true;
    let fut = client(&mock);
    let e = fut.prepare().await.unwrap_err();
    assert!(
        matches!(&e, BinanceError::Unsupported(m) if m.contains("hedge mode")),
        "{e}"
    );
    let e = fut
        .place_order(&Order::market(cid("h-1"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ExchangeError::Unsupported(m) if m.contains("hedge")),
        "{e}"
    );
    assert_eq!(mock.hits("/fapi/v1/order"), 0);
    mock.state()
        .usdm
        .positions
        .insert("BTCUSDT".into(), (0.1, 30_000.0));
    let e = fut.positions().await.unwrap_err();
    assert!(
        matches!(&e, ExchangeError::Unsupported(m) if m.contains("hedge")),
        "{e}"
    );
}

#[tokio::test]
async fn unknown_outcomes_are_resolved_by_status_and_absence_is_definite() {
    let mock = venue().await;
    let fut = client(&mock);
    mock.inject(Fault::PlaceThenFail(502));
    let e = fut
        .place_order(&Order::market(cid("u-1"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    let st = fut
        .order_status(&btc(), &cid("u-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.status, OrderStatus::Filled);

    mock.inject(Fault::PlaceThenFail(503));
    let stop = conditional("u-2", OrderKind::StopMarket, Side::Sell, 0.1, 29_000.0);
    assert!(
        fut.place_order(&stop)
            .await
            .unwrap_err()
            .is_outcome_unknown()
    );
    let st = fut
        .order_status(&btc(), &cid("u-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.order.kind, OrderKind::StopMarket);

    mock.inject(Fault::DropPlacement(504));
    let e = fut
        .place_order(&Order::market(cid("u-3"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert_eq!(fut.order_status(&btc(), &cid("u-3")).await.unwrap(), None);

    // Fills of an order this client never saw still carry our id (looked up by order id).
    let fresh = client(&mock);
    let fills = fresh
        .fills_since(&btc(), &FillCursor::since(Timestamp::EPOCH))
        .await
        .unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].client_id, Some(cid("u-1")));

    let m = fut.mark_price(&btc()).await.unwrap();
    assert_eq!((m.mark.get(), m.funding_rate), (30_000.0, 0.0001));
    assert!(m.next_funding > m.time);
}

#[tokio::test]
async fn user_stream_reports_orders_and_positions_and_renews_its_key() {
    let mock = venue().await;
    let fut = client(&mock);
    let mut config = UsdmUserConfig::new(mock.usdm_endpoints().streams);
    config.keepalive = Duration::from_millis(20);
    let mut stream = BinanceUsdmUserStream::new(config, fut.rest());
    stream.connect().await.unwrap();

    fut.place_order(&Order::market(cid("w-1"), btc(), Side::Buy, qty(0.1)))
        .await
        .unwrap();
    let r = stream.next_report().await.unwrap().unwrap();
    assert!(
        matches!(r, ExecutionReport::Accepted { client_id, .. } if client_id == cid("w-1")),
        "{r:?}"
    );
    let ExecutionReport::Fill(f) = stream.next_report().await.unwrap().unwrap() else {
        panic!("expected a fill")
    };
    assert_eq!((f.client_id, f.quantity.get()), (Some(cid("w-1")), 0.1));
    let fills = fut
        .fills_since(&btc(), &FillCursor::since(Timestamp::EPOCH))
        .await
        .unwrap();
    assert_eq!(
        fills[0].fill_id, f.fill_id,
        "stream and REST agree on fill ids"
    );

    // A conditional order reports through ALGO_UPDATE; the ACCOUNT_UPDATE before it is kept.
    let stop = conditional("w-2", OrderKind::StopMarket, Side::Sell, 0.1, 29_000.0);
    fut.place_order(&stop).await.unwrap();
    let r = stream.next_report().await.unwrap().unwrap();
    assert!(
        matches!(r, ExecutionReport::Accepted { client_id, .. } if client_id == cid("w-2")),
        "{r:?}"
    );
    let p = stream.account_positions().get(&btc()).copied().unwrap();
    assert_eq!((p.quantity, p.avg_entry), (0.1, 30_000.0));

    // An order placed by a trigger is reported under our conditional order's id, whatever id
    // the venue gave it.
    mock.push_usdm_event(r#"{"e":"ALGO_UPDATE","T":1,"E":1,"o":{"caid":"w-9","aid":91,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.1","X":"TRIGGERED","ai":"777","tp":"29000","p":"0","R":true}}"#);
    mock.push_usdm_event(r#"{"e":"ORDER_TRADE_UPDATE","E":2,"T":2,"o":{"s":"BTCUSDT","c":"venue-made-id","S":"SELL","o":"MARKET","f":"GTC","q":"0.1","p":"0","ap":"29000","sp":"0","x":"TRADE","X":"FILLED","i":777,"l":"0.1","z":"0.1","L":"29000","N":"USDT","n":"1.16","T":2,"t":555,"m":false,"R":true,"ps":"BOTH"}}"#);
    let ExecutionReport::Fill(f) = stream.next_report().await.unwrap().unwrap() else {
        panic!("expected the triggered order's fill")
    };
    assert_eq!(
        (f.client_id, f.order_id.as_str()),
        (Some(cid("w-9")), "777")
    );

    // The key is kept alive while the stream waits: once the mock has counted two keep-alives,
    // an order produces the report the stream is waiting for.
    let waiting = stream.next_report();
    let trigger = async {
        while mock.state().usdm.keepalives < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fut.cancel_order(&btc(), &cid("w-2"), None).await.unwrap();
    };
    let (r, ()) = tokio::join!(waiting, trigger);
    assert!(matches!(
        r.unwrap().unwrap(),
        ExecutionReport::Cancelled { .. }
    ));
    assert!(stream.keepalives() >= 2);

    // A key the venue forgot: the next keep-alive's -1125 ends the stream.
    mock.revoke_listen_keys(false);
    let e = stream.next_report().await.unwrap_err();
    assert!(
        matches!(&e, ExchangeError::Closed(m) if m.contains("-1125")),
        "{e}"
    );
    // Reconnecting gets a new key; an announced expiry ends the stream too.
    stream.connect().await.unwrap();
    assert_eq!(mock.state().usdm.listen_keys.len(), 1);
    mock.revoke_listen_keys(true);
    let e = stream.next_report().await.unwrap_err();
    assert!(
        matches!(&e, ExchangeError::Closed(m) if m.contains("listenKeyExpired")),
        "{e}"
    );
}

#[tokio::test]
async fn futures_clock_skew_ban_and_key_hygiene() {
    let mock = MockBinance::start(MockConfig {
        api_key: "FUTKEYTHATMUSTNOTLEAK".into(),
        secret: "FUTSECRETTHATMUSTNOTLEAK".into(),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let fut = client(&mock);
    fut.positions().await.unwrap();
    assert_eq!(mock.hits("/fapi/v1/time"), 1, "the futures clock endpoint");
    assert_eq!(mock.hits("/api/v3/time"), 0);

    // The venue's clock falls 3 s behind: -1021, one resync, the request succeeds.
    mock.state().skew_ms = -3_000;
    fut.positions().await.unwrap();
    assert_eq!(mock.state().timestamp_rejections, 1);
    assert_eq!(mock.hits("/fapi/v1/time"), 2);

    // No key material in Debug; a keyless client refuses signed calls before sending.
    let shown = format!("{fut:?} {fut:#?}");
    assert!(!shown.contains("MUSTNOTLEAK"), "{shown}");
    let keyless = BinanceUsdm::new(UsdmConfig::new(
        Environment::Custom(mock.usdm_endpoints()),
        None,
    ))
    .unwrap();
    let e = keyless.balances().await.unwrap_err();
    assert!(e.to_string().contains("needs an API key"), "{e}");

    // A 418 stops every request until the ban ends, and shows in health.
    mock.inject(Fault::Ban(Duration::from_secs(30)));
    let e = fut.positions().await.unwrap_err();
    assert!(
        matches!(e, ExchangeError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{e}"
    );
    assert!(fut.health().banned_for.expect("ban in health") > Duration::from_secs(25));
    let before = mock.hits("/fapi/v3/positionRisk") + mock.hits("/fapi/v1/order");
    assert!(fut.positions().await.is_err());
    assert!(fut.order_status(&btc(), &cid("b-1")).await.is_err());
    assert_eq!(
        mock.hits("/fapi/v3/positionRisk") + mock.hits("/fapi/v1/order"),
        before
    );
}
