//! The venue's records in Binance USDⓈ-M's documented JSON shapes: order and algo-order
//! objects, `userTrades` entries, klines, and the user-data events (`ORDER_TRADE_UPDATE`,
//! `ALGO_UPDATE`).
//!
//! Numbers are rendered with Rust's shortest round-trip form, so the adapter parses back the
//! very `f64` the venue holds. Venue order ids `sim-<n>` are Binance order ids `n` (and algo ids
//! `n` for conditional orders, whose triggered order keeps the number and our client id); fill
//! ids `sim-f<n>` are trade ids `n` ([`trade_number`]).

use rustrade_core::{
    Fill, MarketEvent, OpenOrder, OrderId, OrderKind, OrderState, OrderStatus, Side, Timestamp,
};
use serde_json::{Value, json};

use crate::adapter::trade_number;

/// The asset fees and balances are in.
pub(crate) const QUOTE: &str = "USDT";

/// A number as Binance sends it: a decimal string.
pub(crate) fn num(v: f64) -> String {
    format!("{v}")
}

/// Milliseconds since the epoch.
pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millis()
}

/// The number of venue order id `sim-<n>`.
pub(crate) fn order_number(id: &OrderId) -> i64 {
    id.as_str()
        .strip_prefix("sim-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The venue order id of Binance order number `n`.
pub(crate) fn order_id_of(n: i64) -> Option<OrderId> {
    OrderId::new(&format!("sim-{n}")).ok()
}

/// Whether orders of `kind` rest at the algo service until they trigger.
pub(crate) fn is_conditional(kind: OrderKind) -> bool {
    matches!(
        kind,
        OrderKind::StopMarket
            | OrderKind::StopLimit
            | OrderKind::TakeProfit
            | OrderKind::TrailingStop
    )
}

/// Whether a conditional order has fired (a stop that fired fills at once on this venue).
pub(crate) fn triggered(order: &OpenOrder) -> bool {
    order.filled.get() > 0.0
        || matches!(
            order.status,
            OrderStatus::Filled | OrderStatus::PartiallyFilled
        )
}

/// A conditional order still resting at the algo service (no regular order exists for it).
pub(crate) fn resting_algo(order: &OpenOrder) -> bool {
    is_conditional(order.kind) && !triggered(order)
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

fn status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending | OrderStatus::Accepted => "NEW",
        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Cancelled => "CANCELED",
        OrderStatus::Rejected => "REJECTED",
        OrderStatus::Expired => "EXPIRED",
    }
}

/// Binance's type and time in force of an order of `kind`.
fn type_and_tif(kind: OrderKind, has_limit: bool) -> (&'static str, &'static str) {
    match kind {
        OrderKind::Market => ("MARKET", "GTC"),
        OrderKind::Limit => ("LIMIT", "GTC"),
        OrderKind::PostOnly => ("LIMIT", "GTX"),
        OrderKind::Ioc => ("LIMIT", "IOC"),
        OrderKind::Fok => ("LIMIT", "FOK"),
        OrderKind::StopMarket => ("STOP_MARKET", "GTC"),
        OrderKind::StopLimit => ("STOP", "GTC"),
        OrderKind::TakeProfit if has_limit => ("TAKE_PROFIT", "GTC"),
        OrderKind::TakeProfit => ("TAKE_PROFIT_MARKET", "GTC"),
        OrderKind::TrailingStop => ("TRAILING_STOP_MARKET", "GTC"),
    }
}

fn price_of(p: Option<rustrade_core::Price>) -> String {
    num(p.map_or(0.0, |p| p.get()))
}

/// A regular order object (`GET /fapi/v1/order`, `openOrders`).
pub(crate) fn order(state: &OrderState) -> Value {
    let o = &state.order;
    let (ty, tif) = type_and_tif(o.kind, o.limit_price.is_some());
    let avg = state.avg_fill_price.map_or(0.0, |p| p.get());
    json!({
        "avgPrice": num(avg), "clientOrderId": o.client_id.map(|c| c.to_string()).unwrap_or_default(),
        "cumQuote": num(avg * o.filled.get()), "executedQty": num(o.filled.get()),
        "orderId": order_number(&o.order_id), "origQty": num(o.quantity.get()), "origType": ty,
        "price": price_of(o.limit_price), "reduceOnly": o.reduce_only, "side": side(o.side),
        "positionSide": "BOTH", "status": status(o.status), "stopPrice": price_of(o.trigger_price),
        "closePosition": false, "symbol": o.symbol.as_str(), "time": ms(o.created),
        "timeInForce": tif, "type": ty, "updateTime": ms(o.created),
        "workingType": "CONTRACT_PRICE", "priceProtect": false, "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE", "goodTillDate": 0
    })
}

/// A conditional order object (`GET /fapi/v1/algoOrder`, `openAlgoOrders`).
pub(crate) fn algo(state: &OrderState) -> Value {
    let o = &state.order;
    let (ty, tif) = type_and_tif(o.kind, o.limit_price.is_some());
    let fired = triggered(o);
    let algo_status = match o.status {
        OrderStatus::Cancelled if !fired => "CANCELED",
        OrderStatus::Rejected => "REJECTED",
        OrderStatus::Expired if !fired => "EXPIRED",
        _ if fired => "FINISHED",
        _ => "NEW",
    };
    let actual = if fired {
        order_number(&o.order_id).to_string()
    } else {
        String::new()
    };
    json!({
        "algoId": order_number(&o.order_id),
        "clientAlgoId": o.client_id.map(|c| c.to_string()).unwrap_or_default(),
        "algoType": "CONDITIONAL", "orderType": ty, "symbol": o.symbol.as_str(),
        "side": side(o.side), "positionSide": "BOTH", "timeInForce": tif,
        "quantity": num(o.quantity.get()), "algoStatus": algo_status, "actualOrderId": actual,
        "actualPrice": "0", "triggerPrice": price_of(o.trigger_price),
        "price": price_of(o.limit_price), "icebergQuantity": null,
        "selfTradePreventionMode": "NONE", "workingType": "CONTRACT_PRICE", "priceMatch": "NONE",
        "closePosition": false, "priceProtect": false, "reduceOnly": o.reduce_only,
        "createTime": ms(o.created), "updateTime": ms(o.created), "triggerTime": 0,
        "goodTillDate": 0
    })
}

/// A `userTrades` entry.
pub(crate) fn user_trade(f: &Fill) -> Value {
    let maker = f.liquidity == rustrade_core::Liquidity::Maker;
    json!({
        "buyer": f.side == Side::Buy, "commission": num(f.fee.get()),
        "commissionAsset": f.fee_asset.as_str(), "id": trade_number(&f.fill_id).unwrap_or(0),
        "maker": maker, "orderId": order_number(&f.order_id), "price": num(f.price.get()),
        "qty": num(f.quantity.get()), "quoteQty": num(f.price.get() * f.quantity.get()),
        "realizedPnl": "0", "side": side(f.side), "positionSide": "BOTH",
        "symbol": f.symbol.as_str(), "time": ms(f.time)
    })
}

/// A `klines` row: `[openTime, o, h, l, c, v, closeTime, …]`, the close time 1 ms before the
/// next bar opens.
pub(crate) fn kline_row(e: &MarketEvent) -> Option<Value> {
    let c = e.as_candle()?;
    Some(json!([
        ms(c.open_time()),
        num(c.open().get()),
        num(c.high().get()),
        num(c.low().get()),
        num(c.close().get()),
        num(c.volume().get()),
        ms(e.time) - 1,
        "0",
        1,
        "0",
        "0",
        "0"
    ]))
}

/// A closed kline on the combined market stream (`<symbol>@kline_<interval>`).
pub(crate) fn kline_frame(e: &MarketEvent, interval: &str) -> Option<String> {
    let c = e.as_candle()?;
    let sym = e.symbol.as_str();
    Some(
        json!({
            "stream": format!("{}@kline_{interval}", sym.to_ascii_lowercase()),
            "data": {
                "e": "kline", "E": ms(e.time), "s": sym,
                "k": {
                    "t": ms(c.open_time()), "T": ms(e.time) - 1, "s": sym, "i": interval,
                    "f": 0, "L": 0, "o": num(c.open().get()), "c": num(c.close().get()),
                    "h": num(c.high().get()), "l": num(c.low().get()), "v": num(c.volume().get()),
                    "n": 1, "x": true, "q": "0", "V": "0", "Q": "0", "B": "0"
                }
            }
        })
        .to_string(),
    )
}

/// An `ORDER_TRADE_UPDATE` of execution type `x` about `state`, with the trade `fill` when it
/// is one.
pub(crate) fn order_update(state: &OrderState, x: &str, fill: Option<&Fill>, now: i64) -> String {
    let o = &state.order;
    let (ty, tif) = type_and_tif(o.kind, o.limit_price.is_some());
    let (t, l, last, fee, fee_asset, maker, time) = match fill {
        Some(f) => (
            trade_number(&f.fill_id).unwrap_or(0),
            f.quantity.get(),
            f.price.get(),
            f.fee.get(),
            f.fee_asset.as_str().to_owned(),
            f.liquidity == rustrade_core::Liquidity::Maker,
            ms(f.time),
        ),
        None => (0, 0.0, 0.0, 0.0, QUOTE.to_owned(), false, now),
    };
    let order_status = if x == "TRADE" { status(o.status) } else { x };
    json!({
        "e": "ORDER_TRADE_UPDATE", "E": now, "T": time,
        "o": {
            "s": o.symbol.as_str(), "c": o.client_id.map(|c| c.to_string()).unwrap_or_default(),
            "S": side(o.side), "o": ty, "f": tif, "q": num(o.quantity.get()),
            "p": price_of(o.limit_price),
            "ap": num(state.avg_fill_price.map_or(0.0, |p| p.get())),
            "sp": price_of(o.trigger_price), "x": x, "X": order_status,
            "i": order_number(&o.order_id), "l": num(l), "z": num(o.filled.get()), "L": num(last),
            "N": fee_asset, "n": num(fee), "T": time, "t": t, "b": "0", "a": "0", "m": maker,
            "R": o.reduce_only, "wt": "CONTRACT_PRICE", "ot": ty, "ps": "BOTH", "cp": false,
            "rp": "0", "pP": false, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0
        }
    })
    .to_string()
}

/// An `ALGO_UPDATE` with algo status `x` about the conditional order `state`; a trigger
/// (`TRIGGERED`) names the regular order it placed, which keeps the number.
pub(crate) fn algo_update(state: &OrderState, x: &str, now: i64) -> String {
    let o = &state.order;
    let (ty, tif) = type_and_tif(o.kind, o.limit_price.is_some());
    let placed = if x == "TRIGGERED" {
        order_number(&o.order_id).to_string()
    } else {
        String::new()
    };
    json!({
        "e": "ALGO_UPDATE", "T": now, "E": now,
        "o": {
            "caid": o.client_id.map(|c| c.to_string()).unwrap_or_default(),
            "aid": order_number(&o.order_id), "at": "CONDITIONAL", "o": ty,
            "s": o.symbol.as_str(), "S": side(o.side), "ps": "BOTH", "f": tif,
            "q": num(o.quantity.get()), "X": x, "ai": placed,
            "tp": price_of(o.trigger_price), "p": price_of(o.limit_price), "V": "NONE",
            "wt": "CONTRACT_PRICE", "pm": "NONE", "cp": false, "pP": false, "R": o.reduce_only,
            "tt": 0, "gtd": 0
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_binance::parse::{UsdmUserMessage, parse_market_message, parse_usdm_user_message};
    use rustrade_binance::usdm_orders::{parse_algo_order, parse_usdm_order, parse_user_trade};
    use rustrade_core::{
        Asset, Candle, ClientOrderId, ExecutionReport, FillId, Liquidity, Money, Price, Quantity,
        Symbol, Venue,
    };

    fn sym() -> Symbol {
        Symbol::new("AAAUSDT").unwrap()
    }

    fn stop(status: OrderStatus, filled: f64) -> OrderState {
        OrderState {
            order: OpenOrder {
                order_id: OrderId::new("sim-7").unwrap(),
                client_id: Some(ClientOrderId::new("chaos-0-x1").unwrap()),
                symbol: sym(),
                side: Side::Sell,
                kind: OrderKind::StopMarket,
                quantity: Quantity::new(1.0).unwrap(),
                filled: Quantity::new(filled).unwrap(),
                limit_price: None,
                trigger_price: Some(Price::new(99.61).unwrap()),
                reduce_only: true,
                status,
                created: Timestamp::from_secs(1_767_225_601).unwrap(),
            },
            avg_fill_price: (filled > 0.0).then(|| Price::new(99.5).unwrap()),
        }
    }

    fn fill() -> Fill {
        Fill {
            fill_id: FillId::new("sim-f42").unwrap(),
            order_id: OrderId::new("sim-7").unwrap(),
            client_id: Some(ClientOrderId::new("chaos-0-x1").unwrap()),
            symbol: sym(),
            side: Side::Sell,
            price: Price::new(0.1 + 99.4).unwrap(),
            quantity: Quantity::new(1.0).unwrap(),
            fee: Money::new(99.5 * 0.0005).unwrap(),
            fee_asset: Asset::new(QUOTE).unwrap(),
            liquidity: Liquidity::Taker,
            time: Timestamp::from_secs(1_767_225_603).unwrap(),
        }
    }

    /// What the adapter reads back from the front's encodings is the venue's record, value for
    /// value, under the adapter's names.
    #[test]
    fn the_adapter_parses_back_the_venues_records() {
        let f = fill();
        let quote = |_: &Symbol| Asset::new(QUOTE).ok();
        let filled = stop(OrderStatus::Filled, 1.0);
        let frame = order_update(&filled, "TRADE", Some(&f), ms(f.time));
        let Ok(UsdmUserMessage::Report(ExecutionReport::Fill(got))) =
            parse_usdm_user_message(frame.as_bytes(), &quote)
        else {
            panic!("{frame}");
        };
        let want = Fill {
            fill_id: FillId::new("AAAUSDT-42").unwrap(),
            order_id: OrderId::new("7").unwrap(),
            ..f
        };
        assert_eq!(got, want);
        let trade = parse_user_trade(&user_trade(&f), f.client_id).unwrap();
        assert_eq!(trade, want);
        let fired = algo_update(&filled, "TRIGGERED", 0);
        assert!(matches!(
            parse_usdm_user_message(fired.as_bytes(), &quote),
            Ok(UsdmUserMessage::AlgoTriggered { order_id, .. }) if order_id.as_str() == "7"
        ));
        let resting = stop(OrderStatus::Accepted, 0.0);
        let a = parse_algo_order(&algo(&resting)).unwrap();
        assert!(!a.triggered && a.state.order.status == OrderStatus::Accepted);
        assert_eq!(a.state.order.trigger_price, resting.order.trigger_price);
        assert!(a.state.order.reduce_only);
        let a = parse_algo_order(&algo(&filled)).unwrap();
        assert_eq!(a.actual_order_id.map(|i| i.to_string()), Some("7".into()));
        let o = parse_usdm_order(&order(&filled)).unwrap();
        assert_eq!(
            (o.order.status, o.order.filled.get()),
            (OrderStatus::Filled, 1.0)
        );
        assert_eq!(o.avg_fill_price, filled.avg_fill_price);
    }

    /// A kline on the stream and a row of the REST history both parse to the venue's bar with
    /// its close time.
    #[test]
    fn klines_parse_back_to_the_venues_bar() {
        let venue = Venue::new("binance").unwrap();
        let open = Timestamp::from_secs(1_767_225_600).unwrap();
        let close = Timestamp::from_secs(1_767_225_601).unwrap();
        let candle = Candle::new(open, 100.0, 100.37, 99.81, 100.2, 73.125).unwrap();
        let bar = MarketEvent::candle(venue, sym(), close, candle);
        let frame = kline_frame(&bar, "1s").unwrap();
        let got = parse_market_message(frame.as_bytes(), venue, Timestamp::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(got, bar);
        let row = kline_row(&bar).unwrap();
        let got = rustrade_binance::parse::parse_kline_row(&row, sym(), venue, Timestamp::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(got, bar);
    }
}
