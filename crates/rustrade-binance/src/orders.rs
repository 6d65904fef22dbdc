//! Orders on the wire: our [`Order`] as Spot `POST /api/v3/order` parameters, and Binance's
//! order objects (query, open orders) as [`OrderState`].
//!
//! | our kind | Binance type | time in force |
//! |---|---|---|
//! | `Market` | `MARKET` | — |
//! | `Limit` | `LIMIT` (`LIMIT_MAKER` if its time in force is post-only) | `GTC`/`IOC`/`FOK` |
//! | `PostOnly` | `LIMIT_MAKER` | — |
//! | `Ioc`, `Fok` | `LIMIT` | `IOC`, `FOK` |
//! | `StopLimit` | `STOP_LOSS_LIMIT` (`stopPrice` = trigger) | `GTC` |
//! | `StopMarket`, `TakeProfit`, `TrailingStop` | not sent: unsupported, so the engine emulates them |
//!
//! Client ids must match `[A-Za-z0-9_-]{1,36}` (see [`client_ids`](crate::check_client_id)):
//! an id outside it is refused here, naming the id.
//!
//! The rules both products' order requests and order objects share live here too: the checks
//! before anything is rendered ([`request_head`]), the time in force an order kind implies, and
//! the fields every order object carries ([`order_state`]).

use rustrade_core::{
    ClientOrderId, InstrumentSpec, OpenOrder, Order, OrderId, OrderKind, OrderState, OrderStatus,
    Price, Quantity, Side, Symbol, TimeInForce, Timestamp,
};
use serde_json::Value;

use crate::BinanceError;
use crate::parse::{Obj, ParseError};

pub use crate::client_ids::check_client_id;

/// The `POST /api/v3/order` parameters of `order`, prices and quantities rendered with `spec`.
pub fn spot_order_params(
    order: &Order,
    spec: &InstrumentSpec,
) -> Result<Vec<(&'static str, String)>, BinanceError> {
    let mut p = request_head(order, "spot")?;
    if order.reduce_only && order.side == Side::Buy {
        return Err(BinanceError::Unsupported(
            "a reduce-only buy on spot (spot holdings are never short)".into(),
        ));
    }
    let price = |p: Option<Price>| spec.render_price(p.unwrap_or(Price::ZERO));
    let tif = |t: TimeInForce| match t {
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
        TimeInForce::Gtc | TimeInForce::PostOnly => "GTC",
    };
    match order.kind {
        OrderKind::Market => p.push(("type", "MARKET".into())),
        OrderKind::Limit | OrderKind::PostOnly | OrderKind::Ioc | OrderKind::Fok => {
            match limit_time_in_force(order) {
                TimeInForce::PostOnly => p.push(("type", "LIMIT_MAKER".into())),
                t => {
                    p.push(("type", "LIMIT".into()));
                    p.push(("timeInForce", tif(t).into()));
                }
            }
            p.push(("price", price(order.limit_price)));
        }
        OrderKind::StopLimit => {
            p.push(("type", "STOP_LOSS_LIMIT".into()));
            p.push(("timeInForce", "GTC".into()));
            p.push(("price", price(order.limit_price)));
            p.push(("stopPrice", price(order.trigger_price)));
        }
        kind @ (OrderKind::StopMarket | OrderKind::TakeProfit | OrderKind::TrailingStop) => {
            return Err(BinanceError::Unsupported(format!(
                "{kind:?} orders on spot (the engine emulates them)"
            )));
        }
    }
    p.push(("quantity", spec.render_qty(order.quantity)));
    push_client_id(&mut p, order);
    Ok(p)
}

/// A Binance order object (`GET /api/v3/order`, `openOrders`) as core's [`OrderState`].
pub fn parse_order(v: &Value) -> Result<OrderState, BinanceError> {
    let o = Obj::root(v)?;
    order_state(
        &o,
        |tif| {
            Ok(match (o.str("type")?, tif) {
                ("MARKET", _) => OrderKind::Market,
                ("LIMIT", "IOC") => OrderKind::Ioc,
                ("LIMIT", "FOK") => OrderKind::Fok,
                ("LIMIT", _) => OrderKind::Limit,
                ("LIMIT_MAKER", _) => OrderKind::PostOnly,
                ("STOP_LOSS", _) => OrderKind::StopMarket,
                ("STOP_LOSS_LIMIT", _) => OrderKind::StopLimit,
                // A take-profit limit has no kind of its own in core: shown as a take-profit
                // with a limit price.
                ("TAKE_PROFIT" | "TAKE_PROFIT_LIMIT", _) => OrderKind::TakeProfit,
                _ => return Err(o.bad("type", "unknown order type")),
            })
        },
        |filled| {
            let quote = o.decimal("cummulativeQuoteQty").unwrap_or(0.0);
            Ok((filled.get() > 0.0 && quote > 0.0)
                .then(|| Price::new(quote / filled.get()).ok())
                .flatten())
        },
        || {
            o.time_ms(if o.get("time").is_some() {
                "time"
            } else {
                "transactTime"
            })
        },
        false,
    )
}

/// The fields every order object carries, read in this order: `symbol`, `orderId`,
/// `clientOrderId` (an id core refuses reads as none), `side`, the kind from `kind_of` given
/// `timeInForce` (`GTC` when absent), `origQty`, `executedQty`, the average fill price from
/// `avg_of` given the filled quantity, `status`, the creation time from `created_of`, then
/// `price` (none for a market order) and `stopPrice`, absent or `0` when unset.
pub(crate) fn order_state(
    o: &Obj<'_>,
    kind_of: impl FnOnce(&str) -> Result<OrderKind, ParseError>,
    avg_of: impl FnOnce(Quantity) -> Result<Option<Price>, ParseError>,
    created_of: impl FnOnce() -> Result<Timestamp, ParseError>,
    reduce_only: bool,
) -> Result<OrderState, BinanceError> {
    let symbol = Symbol::new(o.str("symbol")?)?;
    let order_id = id_text(o, "orderId")?;
    let client_id = o
        .get("clientOrderId")
        .and_then(Value::as_str)
        .and_then(|c| ClientOrderId::new(c).ok());
    let side = parse_side(o, "side")?;
    let tif = o
        .get("timeInForce")
        .and_then(Value::as_str)
        .unwrap_or("GTC");
    let kind = kind_of(tif)?;
    let quantity = Quantity::named("origQty", o.decimal("origQty")?)?;
    let filled = Quantity::named("executedQty", o.decimal("executedQty")?)?;
    let avg = avg_of(filled)?;
    let status = parse_status(o, "status")?;
    let created = created_of()?;
    Ok(OrderState {
        order: OpenOrder {
            order_id,
            client_id,
            symbol,
            side,
            kind,
            quantity,
            filled,
            limit_price: if kind == OrderKind::Market {
                None
            } else {
                optional_price(o, "price")?
            },
            trigger_price: optional_price(o, "stopPrice")?,
            reduce_only,
            status,
            created,
        },
        avg_fill_price: avg,
    })
}

/// The checks every order passes before it is rendered for `product` (`spot`, `futures`):
/// core's validation, a Binance-safe client id, no protective prices attached (they are
/// separate orders on Binance); then the first parameters, `symbol` and `side`.
pub(crate) fn request_head(
    order: &Order,
    product: &str,
) -> Result<Vec<(&'static str, String)>, BinanceError> {
    order.validate()?;
    check_client_id(order.client_id.as_str())?;
    if order
        .protection
        .is_some_and(|p| p.stop.is_some() || p.take_profit.is_some())
    {
        return Err(BinanceError::Unsupported(format!(
            "protective prices attached to a {product} order (place them as separate orders)"
        )));
    }
    Ok(vec![
        ("symbol", order.symbol.as_str().to_owned()),
        ("side", side_text(order.side).to_owned()),
    ])
}

/// The time in force of a limit-family order: its kind's (post-only, IOC, FOK), else the one it
/// names.
pub(crate) fn limit_time_in_force(order: &Order) -> TimeInForce {
    match order.kind {
        OrderKind::PostOnly => TimeInForce::PostOnly,
        OrderKind::Ioc => TimeInForce::Ioc,
        OrderKind::Fok => TimeInForce::Fok,
        _ => order.time_in_force,
    }
}

/// Our client id as `newClientOrderId`, with the short (`ACK`) answer asked for.
pub(crate) fn push_client_id(p: &mut Vec<(&'static str, String)>, order: &Order) {
    p.push(("newClientOrderId", order.client_id.as_str().to_owned()));
    p.push(("newOrderRespType", "ACK".into()));
}

/// A price field that is absent or `0` when unset.
pub(crate) fn optional_price(o: &Obj<'_>, field: &str) -> Result<Option<Price>, ParseError> {
    match o.get(field) {
        None => Ok(None),
        Some(_) => {
            let p = o.decimal(field)?;
            if p > 0.0 {
                Price::new(p)
                    .map(Some)
                    .map_err(|_| o.bad(field, "not a valid price"))
            } else {
                Ok(None)
            }
        }
    }
}

/// Binance's order status text as core's [`OrderStatus`].
pub fn status_from_text(s: &str) -> Option<OrderStatus> {
    Some(match s {
        "PENDING_NEW" => OrderStatus::Pending,
        // A pending cancel may still fill until the cancel completes.
        "NEW" | "PENDING_CANCEL" => OrderStatus::Accepted,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" => OrderStatus::Cancelled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        _ => return None,
    })
}

pub(crate) fn parse_status(o: &Obj<'_>, field: &str) -> Result<OrderStatus, ParseError> {
    status_from_text(o.str(field)?).ok_or_else(|| o.bad(field, "unknown order status"))
}

pub(crate) fn parse_side(o: &Obj<'_>, field: &str) -> Result<Side, ParseError> {
    match o.str(field)? {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(o.bad(field, "expected BUY or SELL")),
    }
}

/// A numeric venue id as an [`OrderId`].
pub(crate) fn id_text(o: &Obj<'_>, field: &str) -> Result<OrderId, BinanceError> {
    let id = o.int(field)?;
    Ok(OrderId::new(&id.to_string())?)
}

pub(crate) fn side_text(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::AssetClass;
    use serde_json::json;

    fn spec() -> InstrumentSpec {
        InstrumentSpec::new(
            Symbol::new("BTCUSDT").unwrap(),
            AssetClass::CryptoSpot,
            0.01,
            0.00001,
        )
        .unwrap()
    }

    fn order(kind: OrderKind) -> Order {
        let mut o = Order::limit(
            ClientOrderId::new("b-1-a").unwrap(),
            Symbol::new("BTCUSDT").unwrap(),
            Side::Buy,
            Quantity::new(0.1 * 3.0).unwrap(),
            Price::new(30_000.1 + 0.2).unwrap(),
        );
        o.kind = kind;
        o.trigger_price = Some(Price::new(29_000.0).unwrap());
        o
    }

    fn get<'a>(p: &'a [(&str, String)], k: &str) -> Option<&'a str> {
        p.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn kinds_map_to_binance_types_rendered_exactly() {
        let p = spot_order_params(&order(OrderKind::Limit), &spec()).unwrap();
        assert_eq!(get(&p, "type"), Some("LIMIT"));
        assert_eq!(get(&p, "timeInForce"), Some("GTC"));
        assert_eq!(get(&p, "price"), Some("30000.30"));
        assert_eq!(get(&p, "quantity"), Some("0.30000"));
        assert_eq!(get(&p, "newClientOrderId"), Some("b-1-a"));
        let p = spot_order_params(&order(OrderKind::PostOnly), &spec()).unwrap();
        assert_eq!(get(&p, "type"), Some("LIMIT_MAKER"));
        assert_eq!(get(&p, "timeInForce"), None);
        let p = spot_order_params(&order(OrderKind::Ioc), &spec()).unwrap();
        assert_eq!(get(&p, "timeInForce"), Some("IOC"));
        let p = spot_order_params(&order(OrderKind::Fok), &spec()).unwrap();
        assert_eq!(get(&p, "timeInForce"), Some("FOK"));
        let p = spot_order_params(&order(OrderKind::StopLimit), &spec()).unwrap();
        assert_eq!(get(&p, "type"), Some("STOP_LOSS_LIMIT"));
        assert_eq!(get(&p, "stopPrice"), Some("29000.00"));
        let p = spot_order_params(&order(OrderKind::Market), &spec()).unwrap();
        assert_eq!(get(&p, "price"), None);
        for k in [OrderKind::StopMarket, OrderKind::TakeProfit] {
            let e = spot_order_params(&order(k), &spec()).unwrap_err();
            assert!(matches!(e, BinanceError::Unsupported(_)), "{e}");
        }
    }

    #[test]
    fn client_ids_outside_binance_set_are_refused_by_name() {
        let mut o = order(OrderKind::Limit);
        o.client_id = ClientOrderId::new("bot.1:2").unwrap();
        let e = spot_order_params(&o, &spec()).unwrap_err().to_string();
        assert!(
            e.contains("client_order_id") && e.contains("bot.1:2"),
            "{e}"
        );
        assert!(check_client_id(&"a".repeat(36)).is_ok());
        assert!(check_client_id(&"a".repeat(37)).is_err());
        assert!(check_client_id("").is_err());
        let mut o = order(OrderKind::Limit).reduce_only();
        assert!(spot_order_params(&o, &spec()).is_err());
        o.side = Side::Sell;
        assert!(spot_order_params(&o, &spec()).is_ok());
    }

    #[test]
    fn order_objects_parse_with_average_price() {
        let v = json!({
            "symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"b-1-a",
            "price":"30000.00","origQty":"0.50000","executedQty":"0.20000",
            "cummulativeQuoteQty":"6000.00","status":"PARTIALLY_FILLED","timeInForce":"GTC",
            "type":"LIMIT","side":"BUY","stopPrice":"0.00","icebergQty":"0.0",
            "time":1_700_000_000_000i64,"updateTime":1_700_000_000_500i64,"isWorking":true
        });
        let s = parse_order(&v).unwrap();
        assert_eq!(s.order.order_id.as_str(), "28");
        assert_eq!(s.order.status, OrderStatus::PartiallyFilled);
        assert_eq!(s.order.filled.get(), 0.2);
        assert_eq!(s.avg_fill_price.unwrap().get(), 30_000.0);
        assert_eq!(s.order.trigger_price, None);
        let mut bad = v.clone();
        bad["status"] = json!("HALF_DONE");
        let e = parse_order(&bad).unwrap_err().to_string();
        assert!(e.contains("status") && e.contains("HALF_DONE"), "{e}");
        let mut bad = v;
        bad["type"] = json!("OCO_MAGIC");
        assert!(parse_order(&bad).unwrap_err().to_string().contains("type"));
    }
}
