//! USD-M futures orders on the wire: our [`Order`] as a regular `POST /fapi/v1/order` or a
//! conditional `POST /fapi/v1/algoOrder`, and the venue's order, algo-order and trade objects
//! back as core types.
//!
//! | our kind | endpoint | Binance type | time in force |
//! |---|---|---|---|
//! | `Market` | order | `MARKET` | — |
//! | `Limit` | order | `LIMIT` (`GTX` if its time in force is post-only) | `GTC`/`IOC`/`FOK` |
//! | `PostOnly` | order | `LIMIT` | `GTX` |
//! | `Ioc`, `Fok` | order | `LIMIT` | `IOC`, `FOK` |
//! | `StopMarket` | algo | `STOP_MARKET` (`triggerPrice`) | — |
//! | `StopLimit` | algo | `STOP` (`price`, `triggerPrice`) | `GTC` |
//! | `TakeProfit` | algo | `TAKE_PROFIT_MARKET`, or `TAKE_PROFIT` with a limit price | — / `GTC` |
//! | `TrailingStop` | not sent: the venue wants a callback *rate*, core gives a price offset |
//!
//! Conditional orders have gone to the algo endpoint since 2025-12 (`/fapi/v1/order` answers
//! `-4120`); our client id travels as `clientAlgoId` there and as `newClientOrderId` here.
//! Only one-way mode is spoken: `positionSide` is left at its default `BOTH` and reduce-only is
//! the `reduceOnly` flag (which hedge mode refuses).

use rustrade_core::{
    ClientOrderId, Fill, InstrumentSpec, OpenOrder, Order, OrderKind, OrderState, OrderStatus,
    Price, Quantity, Symbol, TimeInForce,
};
use serde_json::Value;

use crate::BinanceError;
use crate::orders::{
    id_text, limit_time_in_force, optional_price, order_state, parse_side, push_client_id,
    request_head,
};
use crate::parse::{Obj, ParseError};
use crate::trades::{TradeSide, rest_trade};

/// Which endpoint an order goes to, with its parameters in sending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsdmRequest {
    /// `POST /fapi/v1/order`.
    Order(Vec<(&'static str, String)>),
    /// `POST /fapi/v1/algoOrder` (conditional).
    Algo(Vec<(&'static str, String)>),
}

impl UsdmRequest {
    /// The parameters.
    pub fn params(&self) -> &[(&'static str, String)] {
        match self {
            Self::Order(p) | Self::Algo(p) => p,
        }
    }
}

/// The request for `order`, prices and quantities rendered with `spec`. `mark_trigger` makes
/// conditional orders trigger on the mark price instead of the last trade.
pub fn usdm_order_request(
    order: &Order,
    spec: &InstrumentSpec,
    mark_trigger: bool,
) -> Result<UsdmRequest, BinanceError> {
    let mut p = request_head(order, "futures")?;
    let price = |p: Option<Price>| spec.render_price(p.unwrap_or(Price::ZERO));
    let tif = |t: TimeInForce| match t {
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
        TimeInForce::PostOnly => "GTX",
        TimeInForce::Gtc => "GTC",
    };
    let algo = match order.kind {
        OrderKind::Market => {
            p.push(("type", "MARKET".into()));
            false
        }
        OrderKind::Limit | OrderKind::PostOnly | OrderKind::Ioc | OrderKind::Fok => {
            p.push(("type", "LIMIT".into()));
            p.push(("timeInForce", tif(limit_time_in_force(order)).into()));
            p.push(("price", price(order.limit_price)));
            false
        }
        OrderKind::StopMarket => {
            p.push(("algoType", "CONDITIONAL".into()));
            p.push(("type", "STOP_MARKET".into()));
            p.push(("triggerPrice", price(order.trigger_price)));
            true
        }
        OrderKind::StopLimit => {
            p.push(("algoType", "CONDITIONAL".into()));
            p.push(("type", "STOP".into()));
            p.push(("timeInForce", "GTC".into()));
            p.push(("price", price(order.limit_price)));
            p.push(("triggerPrice", price(order.trigger_price)));
            true
        }
        OrderKind::TakeProfit => {
            p.push(("algoType", "CONDITIONAL".into()));
            if order.limit_price.is_some() {
                p.push(("type", "TAKE_PROFIT".into()));
                p.push(("timeInForce", "GTC".into()));
                p.push(("price", price(order.limit_price)));
            } else {
                p.push(("type", "TAKE_PROFIT_MARKET".into()));
            }
            p.push(("triggerPrice", price(order.trigger_price)));
            true
        }
        OrderKind::TrailingStop => {
            return Err(BinanceError::Unsupported(
                "trailing stops on futures (Binance takes a callback rate, not a price offset; \
                 the engine emulates them)"
                    .into(),
            ));
        }
    };
    p.push(("quantity", spec.render_qty(order.quantity)));
    if order.reduce_only {
        p.push(("reduceOnly", "true".into()));
    }
    if algo {
        let working = if mark_trigger {
            "MARK_PRICE"
        } else {
            "CONTRACT_PRICE"
        };
        p.push(("workingType", working.into()));
        p.push(("clientAlgoId", order.client_id.as_str().to_owned()));
        Ok(UsdmRequest::Algo(p))
    } else {
        push_client_id(&mut p, order);
        Ok(UsdmRequest::Order(p))
    }
}

/// A futures order object (`GET /fapi/v1/order`, `openOrders`) as core's [`OrderState`].
pub fn parse_usdm_order(v: &Value) -> Result<OrderState, BinanceError> {
    let o = Obj::root(v)?;
    let state = order_state(
        &o,
        |tif| kind_of(&o, "type", tif),
        |filled| Ok(optional_price(&o, "avgPrice")?.filter(|_| filled.get() > 0.0)),
        || o.time_ms("time"),
        o.get("reduceOnly").and_then(Value::as_bool) == Some(true),
    )?;
    Ok(state)
}

/// A conditional order (`GET /fapi/v1/algoOrder`, `openAlgoOrders`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlgoOrder {
    /// The order as core sees it; `order_id` is the algo id, `status` the algo status mapped
    /// (a triggered one is `Accepted` until [`AlgoOrder::actual_order_id`] is looked up).
    pub state: OrderState,
    /// The regular order the trigger placed, once triggered.
    pub actual_order_id: Option<rustrade_core::OrderId>,
    /// Whether the trigger fired (`TRIGGERING`, `TRIGGERED`, `FINISHED`).
    pub triggered: bool,
}

/// Parses an algo order object.
pub fn parse_algo_order(v: &Value) -> Result<AlgoOrder, BinanceError> {
    let o = Obj::root(v)?;
    let symbol = Symbol::new(o.str("symbol")?)?;
    let order_id = id_text(&o, "algoId")?;
    let client_id = Some(
        ClientOrderId::new(o.str("clientAlgoId")?)
            .map_err(|_| o.bad("clientAlgoId", "not a valid client order id"))?,
    );
    let side = parse_side(&o, "side")?;
    let tif = o
        .get("timeInForce")
        .and_then(Value::as_str)
        .unwrap_or("GTC");
    let kind = kind_of(&o, "orderType", tif)?;
    let algo_status = o.str("algoStatus")?;
    let (status, triggered) = match algo_status {
        "NEW" => (OrderStatus::Accepted, false),
        "TRIGGERING" | "TRIGGERED" | "FINISHED" => (OrderStatus::Accepted, true),
        "CANCELED" => (OrderStatus::Cancelled, false),
        "REJECTED" => (OrderStatus::Rejected, false),
        "EXPIRED" => (OrderStatus::Expired, false),
        _ => return Err(o.bad("algoStatus", "unknown algo status").into()),
    };
    let quantity = Quantity::named("quantity", o.decimal("quantity")?)?;
    let filled = match o.get("executedQty") {
        Some(_) => Quantity::named("executedQty", o.decimal("executedQty")?)?,
        None => Quantity::ZERO,
    };
    let actual_order_id = match o.get("actualOrderId") {
        Some(Value::String(s)) if !s.is_empty() => Some(rustrade_core::OrderId::new(s)?),
        Some(Value::Number(n)) => Some(rustrade_core::OrderId::new(&n.to_string())?),
        _ => None,
    };
    Ok(AlgoOrder {
        state: OrderState {
            order: OpenOrder {
                order_id,
                client_id,
                symbol,
                side,
                kind,
                quantity,
                filled,
                limit_price: optional_price(&o, "price")?,
                trigger_price: optional_price(&o, "triggerPrice")?,
                reduce_only: o.get("reduceOnly").and_then(Value::as_bool) == Some(true),
                status,
                created: o.time_ms("createTime")?,
            },
            avg_fill_price: optional_price(&o, "avgPrice")?.filter(|_| filled.get() > 0.0),
        },
        actual_order_id,
        triggered,
    })
}

/// One `GET /fapi/v1/userTrades` entry as a [`Fill`] (`client_id` from the caller's lookup).
/// The fill id is `SYMBOL-id`, as for Spot and `ORDER_TRADE_UPDATE`.
pub fn parse_user_trade(v: &Value, client_id: Option<ClientOrderId>) -> Result<Fill, BinanceError> {
    rest_trade(v, client_id, TradeSide::Text("side"), "maker")
}

/// A futures order type (with its time in force) as our kind.
fn kind_of(o: &Obj<'_>, field: &str, tif: &str) -> Result<OrderKind, ParseError> {
    Ok(match (o.str(field)?, tif) {
        ("MARKET", _) => OrderKind::Market,
        ("LIMIT", "IOC") => OrderKind::Ioc,
        ("LIMIT", "FOK") => OrderKind::Fok,
        ("LIMIT", "GTX") => OrderKind::PostOnly,
        ("LIMIT", _) => OrderKind::Limit,
        ("STOP_MARKET", _) => OrderKind::StopMarket,
        ("STOP", _) => OrderKind::StopLimit,
        ("TAKE_PROFIT" | "TAKE_PROFIT_MARKET", _) => OrderKind::TakeProfit,
        ("TRAILING_STOP_MARKET", _) => OrderKind::TrailingStop,
        _ => return Err(o.bad(field, "unknown order type")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::{AssetClass, Liquidity, Side};
    use serde_json::json;

    fn spec() -> InstrumentSpec {
        InstrumentSpec::new(
            Symbol::new("BTCUSDT").unwrap(),
            AssetClass::CryptoPerp,
            0.1,
            0.001,
        )
        .unwrap()
    }

    fn order(kind: OrderKind) -> Order {
        let mut o = Order::limit(
            ClientOrderId::new("f-1-a").unwrap(),
            Symbol::new("BTCUSDT").unwrap(),
            Side::Sell,
            Quantity::new(0.002).unwrap(),
            Price::new(30_000.1).unwrap(),
        );
        o.kind = kind;
        o.trigger_price = Some(Price::new(29_000.0).unwrap());
        o
    }

    fn get<'a>(p: &'a [(&str, String)], k: &str) -> Option<&'a str> {
        p.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn regular_kinds_go_to_the_order_endpoint() {
        let r = usdm_order_request(&order(OrderKind::Limit), &spec(), false).unwrap();
        let UsdmRequest::Order(p) = &r else { panic!() };
        assert_eq!(get(p, "type"), Some("LIMIT"));
        assert_eq!(get(p, "timeInForce"), Some("GTC"));
        assert_eq!(get(p, "price"), Some("30000.1"));
        assert_eq!(get(p, "quantity"), Some("0.002"));
        assert_eq!(get(p, "newClientOrderId"), Some("f-1-a"));
        assert_eq!(get(p, "reduceOnly"), None);
        for (k, tif) in [
            (OrderKind::PostOnly, "GTX"),
            (OrderKind::Ioc, "IOC"),
            (OrderKind::Fok, "FOK"),
        ] {
            let r = usdm_order_request(&order(k), &spec(), false).unwrap();
            assert_eq!(get(r.params(), "timeInForce"), Some(tif), "{k:?}");
        }
        let m =
            usdm_order_request(&order(OrderKind::Market).reduce_only(), &spec(), false).unwrap();
        assert_eq!(get(m.params(), "type"), Some("MARKET"));
        assert_eq!(get(m.params(), "price"), None);
        assert_eq!(get(m.params(), "reduceOnly"), Some("true"));
    }

    #[test]
    fn conditional_kinds_go_to_the_algo_endpoint() {
        let r = usdm_order_request(&order(OrderKind::StopMarket), &spec(), false).unwrap();
        let UsdmRequest::Algo(p) = &r else { panic!() };
        assert_eq!(get(p, "algoType"), Some("CONDITIONAL"));
        assert_eq!(get(p, "type"), Some("STOP_MARKET"));
        assert_eq!(get(p, "triggerPrice"), Some("29000.0"));
        assert_eq!(get(p, "clientAlgoId"), Some("f-1-a"));
        assert_eq!(get(p, "workingType"), Some("CONTRACT_PRICE"));
        assert_eq!(get(p, "newClientOrderId"), None);
        let r = usdm_order_request(&order(OrderKind::StopLimit), &spec(), true).unwrap();
        assert_eq!(get(r.params(), "type"), Some("STOP"));
        assert_eq!(get(r.params(), "price"), Some("30000.1"));
        assert_eq!(get(r.params(), "workingType"), Some("MARK_PRICE"));
        let mut tp = order(OrderKind::TakeProfit);
        tp.limit_price = None;
        let r = usdm_order_request(&tp, &spec(), false).unwrap();
        assert_eq!(get(r.params(), "type"), Some("TAKE_PROFIT_MARKET"));
        let mut trail = order(OrderKind::TrailingStop);
        trail.trailing_offset = Some(Price::new(100.0).unwrap());
        let e = usdm_order_request(&trail, &spec(), false).unwrap_err();
        assert!(matches!(e, BinanceError::Unsupported(_)), "{e}");
        let mut bad = order(OrderKind::Limit);
        bad.client_id = ClientOrderId::new("a.b").unwrap();
        let e = usdm_order_request(&bad, &spec(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("client_order_id") && e.contains("a.b"), "{e}");
    }

    proptest::proptest! {
        /// Every kind goes to exactly one endpoint with exactly one id field, and prices and
        /// quantities are sent as exact multiples of the tick and lot.
        #[test]
        fn requests_are_well_formed(
            kind in 0usize..9,
            tick_exp in 0i32..4,
            lot_exp in 0i32..5,
            price in 1.0f64..200_000.0,
            qty in 0.0001f64..50.0,
            reduce in proptest::bool::ANY,
        ) {
            let kinds = [
                OrderKind::Market, OrderKind::Limit, OrderKind::PostOnly, OrderKind::Ioc,
                OrderKind::Fok, OrderKind::StopMarket, OrderKind::StopLimit,
                OrderKind::TakeProfit, OrderKind::TrailingStop,
            ];
            let (tick, lot) = (10f64.powi(-tick_exp), 10f64.powi(-lot_exp));
            let spec = InstrumentSpec::new(
                Symbol::new("BTCUSDT").unwrap(), AssetClass::CryptoPerp, tick, lot,
            ).unwrap();
            let q = spec.round_qty_down(qty);
            proptest::prop_assume!(q.get() > 0.0);
            let p = spec.round_price(price);
            let mut o = Order::limit(ClientOrderId::new("p-1").unwrap(), spec.symbol(), Side::Buy, q, p);
            o.kind = kinds[kind];
            o.trigger_price = Some(p);
            o.trailing_offset = Some(p);
            o.reduce_only = reduce;
            let Ok(r) = usdm_order_request(&o, &spec, false) else {
                proptest::prop_assert_eq!(o.kind, OrderKind::TrailingStop);
                return Ok(());
            };
            let ids = ["newClientOrderId", "clientAlgoId"]
                .iter()
                .filter(|k| get(r.params(), k).is_some())
                .count();
            proptest::prop_assert_eq!(ids, 1);
            let algo = matches!(r, UsdmRequest::Algo(_));
            proptest::prop_assert_eq!(algo, get(r.params(), "algoType").is_some());
            for (field, step) in [("price", tick), ("triggerPrice", tick), ("quantity", lot)] {
                if let Some(text) = get(r.params(), field) {
                    let v: f64 = text.parse().unwrap();
                    let steps = v / step;
                    proptest::prop_assert!((steps - steps.round()).abs() < 1e-6, "{field} {text} on {step}");
                }
            }
            proptest::prop_assert_eq!(get(r.params(), "reduceOnly").is_some(), reduce);
        }
    }

    #[test]
    fn documented_order_and_algo_objects_parse() {
        let v = json!({
            "avgPrice":"30100.5","clientOrderId":"abc","cumQuote":"60.2","executedQty":"0.002",
            "orderId":1917641,"origQty":"0.004","origType":"LIMIT","price":"30100.5",
            "reduceOnly":true,"side":"BUY","positionSide":"BOTH","status":"PARTIALLY_FILLED",
            "stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","time":1579276756075i64,
            "timeInForce":"GTX","type":"LIMIT","updateTime":1579276756075i64,
            "workingType":"CONTRACT_PRICE","priceProtect":false
        });
        let s = parse_usdm_order(&v).unwrap();
        assert_eq!(s.order.kind, OrderKind::PostOnly);
        assert!(s.order.reduce_only);
        assert_eq!(s.avg_fill_price.unwrap().get(), 30_100.5);
        assert_eq!(s.order.trigger_price, None);
        let mut bad = v;
        bad["executedQty"] = json!("NaN");
        let e = parse_usdm_order(&bad).unwrap_err().to_string();
        assert!(e.contains("executedQty") && e.contains("NaN"), "{e}");

        let a = json!({
            "algoId":2146760,"clientAlgoId":"f-2-s","algoType":"CONDITIONAL",
            "orderType":"STOP_MARKET","symbol":"BTCUSDT","side":"SELL","positionSide":"BOTH",
            "timeInForce":"GTC","quantity":"0.002","algoStatus":"NEW","triggerPrice":"29000.0",
            "price":"0","workingType":"CONTRACT_PRICE","closePosition":false,
            "reduceOnly":true,"createTime":1750485492076i64,"updateTime":1750485492076i64
        });
        let o = parse_algo_order(&a).unwrap();
        assert_eq!(o.state.order.kind, OrderKind::StopMarket);
        assert_eq!(o.state.order.order_id.as_str(), "2146760");
        assert_eq!(o.state.order.trigger_price.unwrap().get(), 29_000.0);
        assert!(!o.triggered && o.actual_order_id.is_none());
        let mut t = a.clone();
        t["algoStatus"] = json!("TRIGGERED");
        t["actualOrderId"] = json!("555");
        let o = parse_algo_order(&t).unwrap();
        assert!(o.triggered);
        assert_eq!(o.actual_order_id.unwrap().as_str(), "555");
        let mut bad = a;
        bad["algoStatus"] = json!("SLEEPING");
        let e = parse_algo_order(&bad).unwrap_err().to_string();
        assert!(e.contains("algoStatus") && e.contains("SLEEPING"), "{e}");
    }

    #[test]
    fn documented_user_trade_becomes_a_fill() {
        let v = json!({
            "buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,
            "maker":false,"orderId":25851813,"price":"7819.01","qty":"0.002",
            "quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL",
            "positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020i64
        });
        let f = parse_user_trade(&v, None).unwrap();
        assert_eq!(f.fill_id.as_str(), "BTCUSDT-698759");
        assert_eq!((f.side, f.liquidity), (Side::Sell, Liquidity::Taker));
        assert_eq!(f.fee.get(), -0.0781901);
        let mut bad = v;
        bad["maker"] = json!(1);
        let e = parse_user_trade(&bad, None).unwrap_err().to_string();
        assert!(e.contains("maker"), "{e}");
    }
}
