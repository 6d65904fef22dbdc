//! The front's REST side: each USDⓈ-M request the adapter sends, turned into a
//! [`wire::Request`](crate::wire::Request) for [`ChaosVenue::serve`] (so every venue fault
//! applies) or read from the venue's records, and its answer in Binance's shape.
//!
//! Requests are authenticated as Binance does it: the `X-MBX-APIKEY` header (`-2015`) and the
//! HMAC-SHA256 signature over the exact query (`-1022`). The `timestamp` is not held to
//! `recvWindow`: the venue's clock is simulated and runs far faster than the wall clock the
//! adapter stamps requests with.

use std::collections::BTreeMap;

use rustrade_core::{
    ClientOrderId, Order, OrderKind, Price, Quantity, Side, Symbol, TimeInForce, Timestamp,
};
use serde_json::{Value, json};

use super::json::{self, QUOTE, num};
use super::{API_KEY, LISTEN_KEY, SECRET};
use crate::venue::{ChaosVenue, FILL_PAGE};
use crate::wire::{Answer, Request, WireError};

/// Paths answered without a key.
const PUBLIC: [&str; 3] = ["/fapi/v1/time", "/fapi/v1/exchangeInfo", "/fapi/v1/klines"];

/// One HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HttpReply {
    /// Status code.
    pub(crate) status: u16,
    /// Body (JSON unless a gateway error).
    pub(crate) body: String,
    /// `Retry-After`, in seconds.
    pub(crate) retry_after: Option<u64>,
}

impl HttpReply {
    fn ok(v: &Value) -> Self {
        Self {
            status: 200,
            body: v.to_string(),
            retry_after: None,
        }
    }

    fn error(status: u16, code: i64, msg: &str) -> Self {
        Self {
            status,
            body: json!({"code": code, "msg": msg}).to_string(),
            retry_after: None,
        }
    }
}

/// What a failed request answers: an HTTP reply, or nothing (the connection is dropped).
type Refusal = Option<HttpReply>;

/// Serves one request; `None`: drop the connection without an answer.
pub(crate) fn route(
    v: &mut ChaosVenue,
    method: &str,
    path: &str,
    raw: &str,
    api_key: Option<&str>,
) -> Option<HttpReply> {
    let params = rustrade_binance::decode_query(raw);
    if !PUBLIC.contains(&path) {
        if api_key != Some(API_KEY) {
            return Some(HttpReply::error(
                401,
                -2015,
                "Invalid API-key, IP, or permissions for action.",
            ));
        }
        if path != "/fapi/v1/listenKey" && !signed(raw) {
            return Some(HttpReply::error(
                400,
                -1022,
                "Signature for this request is not valid.",
            ));
        }
    }
    match endpoint(v, method, path, &params) {
        Ok(value) => Some(HttpReply::ok(&value)),
        Err(refusal) => refusal,
    }
}

fn endpoint(
    v: &mut ChaosVenue,
    method: &str,
    path: &str,
    p: &BTreeMap<String, String>,
) -> Result<Value, Refusal> {
    let get = |k: &str| p.get(k).map(String::as_str);
    match (method, path) {
        ("GET", "/fapi/v1/time") => {
            let now = serve(v, Request::Time, Lookup::Read)?.0;
            Ok(json!({ "serverTime": json::ms(now) }))
        }
        // Trading rules and market data: counted, never faulted (as the kit's own protocol).
        ("GET", "/fapi/v1/exchangeInfo") => {
            serve(v, Request::Time, Lookup::Read)?;
            Ok(exchange_info(v))
        }
        ("GET", "/fapi/v1/klines") => {
            serve(v, Request::Time, Lookup::Read)?;
            let symbol = symbol(get("symbol"))?;
            let from = get("startTime")
                .and_then(|t| t.parse().ok())
                .and_then(|t| Timestamp::from_millis(t).ok())
                .unwrap_or(Timestamp::MIN);
            let limit = get("limit").and_then(|l| l.parse().ok()).unwrap_or(500);
            let rows = v.bars_from(&symbol, from);
            Ok(Value::Array(
                rows.iter()
                    .take(limit)
                    .filter_map(json::kline_row)
                    .collect(),
            ))
        }
        ("GET", "/fapi/v1/positionSide/dual") => {
            serve(v, Request::Time, Lookup::Read)?;
            Ok(json!({ "dualSidePosition": false }))
        }
        ("POST" | "PUT", "/fapi/v1/listenKey") => {
            serve(v, Request::Time, Lookup::Read)?;
            Ok(json!({ "listenKey": LISTEN_KEY }))
        }
        ("DELETE", "/fapi/v1/listenKey") => Ok(json!({})),
        ("POST", "/fapi/v1/order") => place(v, p, false),
        ("POST", "/fapi/v1/algoOrder") => place(v, p, true),
        ("GET", "/fapi/v1/order") => {
            let state = status(v, p, "origClientOrderId", Lookup::Status)?;
            match state {
                Some(s) if !json::resting_algo(&s.order) => Ok(json::order(&s)),
                _ => Err(unknown(Lookup::Status)),
            }
        }
        ("GET", "/fapi/v1/algoOrder") => match status(v, p, "clientAlgoId", Lookup::Status)? {
            Some(s) if json::is_conditional(s.order.kind) => Ok(json::algo(&s)),
            _ => Err(unknown(Lookup::Status)),
        },
        ("DELETE", "/fapi/v1/order") => cancel(v, p, "origClientOrderId", false),
        ("DELETE", "/fapi/v1/algoOrder") => cancel(v, p, "clientAlgoId", true),
        ("GET", "/fapi/v1/openOrders" | "/fapi/v1/openAlgoOrders") => {
            let symbol = get("symbol").map(|s| symbol(Some(s))).transpose()?;
            let (_, answer) = serve(v, Request::OpenOrders { symbol }, Lookup::Read)?;
            let Answer::Orders(orders) = answer else {
                return Err(internal());
            };
            let algos = path.ends_with("AlgoOrders");
            Ok(Value::Array(
                orders
                    .iter()
                    .filter(|o| json::resting_algo(o) == algos)
                    .filter_map(|o| v.order_state(o.client_id.as_ref()?))
                    .map(|s| {
                        if algos {
                            json::algo(&s)
                        } else {
                            json::order(&s)
                        }
                    })
                    .collect(),
            ))
        }
        ("DELETE", "/fapi/v1/allOpenOrders" | "/fapi/v1/algoOpenOrders") => {
            let symbol = symbol(get("symbol"))?;
            serve(v, Request::CancelAll { symbol }, Lookup::Cancel)?;
            Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
        }
        ("GET", "/fapi/v1/userTrades") => {
            v.admit_read().map_err(|ms| rate_limited(ms, false))?;
            let symbol = symbol(get("symbol"))?;
            let int = |k: &str| get(k).and_then(|x| x.parse::<i64>().ok());
            let limit = int("limit").unwrap_or(500).clamp(1, 1000);
            let limit = usize::try_from(limit).unwrap_or(FILL_PAGE).min(FILL_PAGE);
            let fills = v.all_fills(&symbol);
            Ok(Value::Array(
                fills
                    .iter()
                    .filter(|f| {
                        let id = crate::adapter::trade_number(&f.fill_id).unwrap_or(0);
                        let t = json::ms(f.time);
                        int("fromId").is_none_or(|from| id >= from)
                            && int("startTime").is_none_or(|s| t >= s)
                            && int("endTime").is_none_or(|e| t <= e)
                    })
                    .take(limit)
                    .map(json::user_trade)
                    .collect(),
            ))
        }
        ("GET", "/fapi/v3/positionRisk") => {
            let (now, answer) = serve(v, Request::Positions, Lookup::Read)?;
            let Answer::Positions(list) = answer else {
                return Err(internal());
            };
            let only = get("symbol");
            Ok(Value::Array(
                list.iter()
                    .filter(|(s, _)| only.is_none_or(|o| o == s.as_str()))
                    .map(|(s, pos)| {
                        json!({
                            "symbol": s.as_str(), "positionSide": "BOTH",
                            "positionAmt": num(pos.quantity), "entryPrice": num(pos.avg_entry),
                            "breakEvenPrice": num(pos.avg_entry), "markPrice": "0",
                            "unRealizedProfit": num(pos.unrealised_pnl), "liquidationPrice": "0",
                            "isolatedMargin": "0", "notional": "0", "marginAsset": QUOTE,
                            "isolatedWallet": "0", "initialMargin": "0", "maintMargin": "0",
                            "positionInitialMargin": "0", "openOrderInitialMargin": "0",
                            "adl": 0, "bidNotional": "0", "askNotional": "0",
                            "updateTime": json::ms(now)
                        })
                    })
                    .collect(),
            ))
        }
        ("GET", "/fapi/v3/balance") => {
            let (now, answer) = serve(v, Request::Cash, Lookup::Read)?;
            let Answer::Cash(cash) = answer else {
                return Err(internal());
            };
            Ok(json!([{
                "accountAlias": "chaos", "asset": QUOTE, "balance": num(cash),
                "crossWalletBalance": num(cash), "crossUnPnl": "0",
                "availableBalance": num(cash), "maxWithdrawAmount": num(cash),
                "marginAvailable": true, "updateTime": json::ms(now)
            }]))
        }
        _ => Err(Some(HttpReply::error(404, -1000, "Unknown endpoint."))),
    }
}

/// What a request is, for the failure shape of its refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// A placement.
    Place,
    /// A cancel (`-2011` when unknown).
    Cancel,
    /// An order lookup (`-2013` when unknown).
    Status,
    /// Any other read.
    Read,
}

/// [`ChaosVenue::serve`] with the venue's refusals in Binance's failure shapes (see the
/// module doc of [`binance`](super)).
fn serve(
    v: &mut ChaosVenue,
    request: Request,
    what: Lookup,
) -> Result<(Timestamp, Answer), Refusal> {
    let Some(reply) = v.serve(request) else {
        return Err(None);
    };
    let now = reply.now;
    reply.result.map(|a| (now, a)).map_err(|e| match e {
        WireError::Timeout(_) => Some(HttpReply::error(
            503,
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        )),
        WireError::OutcomeUnknown(_) => Some(HttpReply {
            status: 502,
            body: "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
            retry_after: None,
        }),
        WireError::RateLimited { retry_after_ms } => rate_limited(retry_after_ms, what == Lookup::Place),
        WireError::Rejected(reason) if reason.contains("ReduceOnly") => {
            Some(HttpReply::error(400, -2022, "ReduceOnly Order is rejected."))
        }
        WireError::Rejected(reason) => Some(HttpReply::error(400, -2010, &reason)),
        WireError::UnknownOrder(_) => unknown(what),
        WireError::UnknownSymbol(_) => Some(HttpReply::error(400, -1121, "Invalid symbol.")),
    })
}

/// A rate limit: placements get 429 (too many orders), reads 418 (the IP banned for the
/// delay), both with `Retry-After` in whole seconds.
fn rate_limited(retry_after_ms: u64, placement: bool) -> Refusal {
    let secs = retry_after_ms.div_ceil(1000).max(1);
    let mut reply = if placement {
        HttpReply::error(429, -1015, "Too many new orders.")
    } else {
        HttpReply::error(418, -1003, "Way too much request weight used; IP banned.")
    };
    reply.retry_after = Some(secs);
    Some(reply)
}

fn unknown(what: Lookup) -> Refusal {
    Some(if what == Lookup::Cancel {
        HttpReply::error(400, -2011, "Unknown order sent.")
    } else {
        HttpReply::error(400, -2013, "Order does not exist.")
    })
}

fn internal() -> Refusal {
    Some(HttpReply::error(500, -1000, "An unknown error occurred."))
}

fn bad_param(name: &str) -> Refusal {
    Some(HttpReply::error(
        400,
        -1102,
        &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    ))
}

fn symbol(s: Option<&str>) -> Result<Symbol, Refusal> {
    s.and_then(|s| Symbol::new(s).ok())
        .ok_or_else(|| bad_param("symbol"))
}

/// `POST /fapi/v1/order` or `/fapi/v1/algoOrder`.
fn place(v: &mut ChaosVenue, p: &BTreeMap<String, String>, algo: bool) -> Result<Value, Refusal> {
    let order = order_of(p, algo)?;
    if json::is_conditional(order.kind) != algo {
        return Err(Some(HttpReply::error(
            400,
            -4120,
            "Order type not supported for this endpoint.",
        )));
    }
    let (now, answer) = serve(v, Request::Place { order }, Lookup::Place)?;
    let Answer::Placed(id) = answer else {
        return Err(internal());
    };
    let n = json::order_number(&id);
    let client = order.client_id.as_str();
    Ok(if algo {
        json!({"algoId": n, "clientAlgoId": client, "algoType": "CONDITIONAL",
               "algoStatus": "NEW", "symbol": order.symbol.as_str(), "createTime": json::ms(now)})
    } else {
        json!({"orderId": n, "clientOrderId": client, "symbol": order.symbol.as_str(),
               "status": "NEW", "updateTime": json::ms(now)})
    })
}

/// The core order a placement's parameters describe.
fn order_of(p: &BTreeMap<String, String>, algo: bool) -> Result<Order, Refusal> {
    let text = |k: &'static str| p.get(k).map(String::as_str).ok_or_else(|| bad_param(k));
    let price = |k: &'static str| -> Result<Option<Price>, Refusal> {
        match p.get(k) {
            None => Ok(None),
            Some(t) => {
                let x: f64 = t.parse().map_err(|_| bad_param(k))?;
                (x > 0.0)
                    .then(|| Price::new(x))
                    .transpose()
                    .map_err(|_| bad_param(k))
            }
        }
    };
    let symbol = symbol(p.get("symbol").map(String::as_str))?;
    let side = match text("side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(bad_param("side")),
    };
    let quantity = text("quantity")?
        .parse::<f64>()
        .ok()
        .and_then(|q| Quantity::new(q).ok())
        .ok_or_else(|| bad_param("quantity"))?;
    let id_field = if algo {
        "clientAlgoId"
    } else {
        "newClientOrderId"
    };
    let client_id = ClientOrderId::new(text(id_field)?).map_err(|_| bad_param(id_field))?;
    let tif = match p.get("timeInForce").map(String::as_str) {
        Some("IOC") => TimeInForce::Ioc,
        Some("FOK") => TimeInForce::Fok,
        Some("GTX") => TimeInForce::PostOnly,
        _ => TimeInForce::Gtc,
    };
    let limit = price("price")?;
    let trigger = price("triggerPrice")?;
    let kind = match (text("type")?, tif) {
        ("MARKET", _) => OrderKind::Market,
        ("LIMIT", TimeInForce::PostOnly) => OrderKind::PostOnly,
        ("LIMIT", TimeInForce::Ioc) => OrderKind::Ioc,
        ("LIMIT", TimeInForce::Fok) => OrderKind::Fok,
        ("LIMIT", _) => OrderKind::Limit,
        ("STOP_MARKET", _) => OrderKind::StopMarket,
        ("STOP", _) => OrderKind::StopLimit,
        ("TAKE_PROFIT" | "TAKE_PROFIT_MARKET", _) => OrderKind::TakeProfit,
        _ => return Err(bad_param("type")),
    };
    let mut order = Order::market(client_id, symbol, side, quantity);
    order.kind = kind;
    order.limit_price = limit;
    order.trigger_price = trigger;
    order.time_in_force = tif;
    order.reduce_only = p.get("reduceOnly").map(String::as_str) == Some("true");
    Ok(order)
}

/// The venue's state of the order named by `field` (or `orderId`/`algoId`), through
/// [`ChaosVenue::serve`].
fn status(
    v: &mut ChaosVenue,
    p: &BTreeMap<String, String>,
    field: &str,
    what: Lookup,
) -> Result<Option<rustrade_core::OrderState>, Refusal> {
    let symbol = symbol(p.get("symbol").map(String::as_str))?;
    let by_number = p
        .get("orderId")
        .or_else(|| p.get("algoId"))
        .and_then(|n| n.parse().ok())
        .and_then(json::order_id_of)
        .and_then(|id| v.client_of(&id));
    let client_id = match p.get(field) {
        Some(c) => ClientOrderId::new(c).ok(),
        None => by_number,
    };
    let Some(client_id) = client_id else {
        return Err(unknown(what));
    };
    match serve(v, Request::OrderStatus { symbol, client_id }, what)? {
        (_, Answer::Status(state)) => Ok(state),
        _ => Err(internal()),
    }
}

/// `DELETE /fapi/v1/order` or `/fapi/v1/algoOrder`: a conditional order still resting is
/// cancelled on the algo endpoint only, any other on the order endpoint only.
fn cancel(
    v: &mut ChaosVenue,
    p: &BTreeMap<String, String>,
    field: &str,
    algo: bool,
) -> Result<Value, Refusal> {
    let symbol = symbol(p.get("symbol").map(String::as_str))?;
    let state = p
        .get(field)
        .and_then(|c| ClientOrderId::new(c).ok())
        .and_then(|c| v.order_state(&c))
        .filter(|s| s.order.symbol == symbol && json::resting_algo(&s.order) == algo);
    let Some(state) = state else {
        serve(v, Request::Time, Lookup::Cancel)?;
        return Err(unknown(Lookup::Cancel));
    };
    let Some(client_id) = state.order.client_id else {
        return Err(unknown(Lookup::Cancel));
    };
    let request = Request::Cancel {
        symbol,
        client_id,
        order_id: Some(state.order.order_id),
    };
    serve(v, request, Lookup::Cancel)?;
    let after = v.order_state(&client_id).unwrap_or(state);
    Ok(if algo {
        json!({"algoId": json::order_number(&after.order.order_id), "clientAlgoId": client_id.as_str(),
               "code": "200", "msg": "success"})
    } else {
        json::order(&after)
    })
}

fn exchange_info(v: &ChaosVenue) -> Value {
    let symbols: Vec<Value> = v
        .symbols()
        .iter()
        .filter_map(|s| v.instrument(s))
        .map(|spec| {
            let sym = spec.symbol();
            let base = sym.as_str().trim_end_matches(QUOTE);
            json!({
                "symbol": sym.as_str(), "pair": sym.as_str(), "contractType": "PERPETUAL",
                "status": "TRADING", "baseAsset": base, "quoteAsset": QUOTE, "marginAsset": QUOTE,
                "pricePrecision": 2, "quantityPrecision": 3,
                "orderTypes": ["LIMIT","MARKET","STOP","STOP_MARKET","TAKE_PROFIT","TAKE_PROFIT_MARKET","TRAILING_STOP_MARKET"],
                "timeInForce": ["GTC","IOC","FOK","GTX"],
                "filters": [
                    {"filterType":"PRICE_FILTER","minPrice":num(spec.tick_size()),"maxPrice":"1000000","tickSize":num(spec.tick_size())},
                    {"filterType":"LOT_SIZE","minQty":num(spec.min_qty()),"maxQty":"1000000","stepSize":num(spec.lot_size())},
                    {"filterType":"MARKET_LOT_SIZE","minQty":num(spec.min_qty()),"maxQty":"1000000","stepSize":num(spec.lot_size())},
                    {"filterType":"MIN_NOTIONAL","notional":num(spec.min_notional())}
                ]
            })
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": json::ms(v.now()),
        "rateLimits": [
            {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":1_000_000},
            {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":1_000_000}
        ],
        "assets": [], "symbols": symbols
    })
}

/// Whether the query's `signature` is the HMAC-SHA256 of everything before it.
fn signed(raw: &str) -> bool {
    raw.rsplit_once("&signature=")
        .is_some_and(|(payload, sig)| {
            rustrade_binance::hmac_sha256_hex(SECRET.as_bytes(), payload.as_bytes())
                .eq_ignore_ascii_case(sig)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Profile;

    fn venue() -> ChaosVenue {
        let s = [Symbol::new("AAAUSDT").unwrap()];
        ChaosVenue::new(3, Profile::CALM, &s, "bot").unwrap()
    }

    fn signed_query(q: &str) -> String {
        let sig = rustrade_binance::hmac_sha256_hex(SECRET.as_bytes(), q.as_bytes());
        format!("{q}&signature={sig}")
    }

    fn call(v: &mut ChaosVenue, method: &str, path: &str, q: &str) -> HttpReply {
        route(v, method, path, &signed_query(q), Some(API_KEY)).expect("an answer")
    }

    #[test]
    fn placement_lookup_and_refusals_speak_binance() {
        let mut v = venue();
        let bad = route(
            &mut v,
            "GET",
            "/fapi/v3/balance",
            "timestamp=1&signature=00",
            Some(API_KEY),
        );
        assert_eq!(bad.map(|r| r.status), Some(400));
        let no_key = route(
            &mut v,
            "GET",
            "/fapi/v3/balance",
            &signed_query("timestamp=1"),
            None,
        );
        assert!(no_key.is_some_and(|r| r.body.contains("-2015")));
        let placed = call(
            &mut v,
            "POST",
            "/fapi/v1/order",
            "symbol=AAAUSDT&side=BUY&type=MARKET&quantity=1&newClientOrderId=bot-1&timestamp=1",
        );
        assert_eq!(placed.status, 200, "{}", placed.body);
        let found = call(
            &mut v,
            "GET",
            "/fapi/v1/order",
            "symbol=AAAUSDT&origClientOrderId=bot-1&timestamp=1",
        );
        assert!(
            found.body.contains("\"clientOrderId\":\"bot-1\""),
            "{}",
            found.body
        );
        let missing = call(
            &mut v,
            "GET",
            "/fapi/v1/order",
            "symbol=AAAUSDT&origClientOrderId=bot-9&timestamp=1",
        );
        assert!(
            missing.status == 400 && missing.body.contains("-2013"),
            "{}",
            missing.body
        );
        let wrong = call(
            &mut v,
            "POST",
            "/fapi/v1/order",
            "symbol=AAAUSDT&side=SELL&type=STOP_MARKET&triggerPrice=90&quantity=1&newClientOrderId=bot-2&timestamp=1",
        );
        assert!(wrong.body.contains("-4120"), "{}", wrong.body);
        let stop = call(
            &mut v,
            "POST",
            "/fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=AAAUSDT&side=SELL&type=STOP_MARKET&triggerPrice=90&quantity=1&reduceOnly=true&clientAlgoId=bot-3&timestamp=1",
        );
        assert!(stop.body.contains("algoId"), "{}", stop.body);
        let as_regular = call(
            &mut v,
            "GET",
            "/fapi/v1/order",
            "symbol=AAAUSDT&origClientOrderId=bot-3&timestamp=1",
        );
        assert!(
            as_regular.body.contains("-2013"),
            "a resting stop is an algo order"
        );
        let algo = call(
            &mut v,
            "GET",
            "/fapi/v1/algoOrder",
            "symbol=AAAUSDT&clientAlgoId=bot-3&timestamp=1",
        );
        assert!(
            algo.body.contains("\"algoStatus\":\"NEW\""),
            "{}",
            algo.body
        );
        let open = call(
            &mut v,
            "GET",
            "/fapi/v1/openAlgoOrders",
            "symbol=AAAUSDT&timestamp=1",
        );
        assert!(open.body.contains("bot-3"), "{}", open.body);
        let gone = call(
            &mut v,
            "DELETE",
            "/fapi/v1/algoOrder",
            "symbol=AAAUSDT&clientAlgoId=bot-3&timestamp=1",
        );
        assert_eq!(gone.status, 200, "{}", gone.body);
        v.advance().unwrap();
        let trades = call(
            &mut v,
            "GET",
            "/fapi/v1/userTrades",
            "symbol=AAAUSDT&limit=1000&timestamp=1",
        );
        assert!(trades.body.contains("\"buyer\":true"), "{}", trades.body);
        let risk = call(&mut v, "GET", "/fapi/v3/positionRisk", "timestamp=1");
        assert!(risk.body.contains("\"positionAmt\":\"1\""), "{}", risk.body);
    }

    #[test]
    fn faults_take_binance_failure_shapes() {
        let mut p = Profile::CALM;
        p.accept_then_timeout = 1.0;
        let s = [Symbol::new("AAAUSDT").unwrap()];
        let mut v = ChaosVenue::new(3, p, &s, "bot").unwrap();
        let q = "symbol=AAAUSDT&side=BUY&type=MARKET&quantity=1&newClientOrderId=bot-1&timestamp=1";
        let r = call(&mut v, "POST", "/fapi/v1/order", q);
        assert!(r.status == 503 && r.body.contains("-1007"), "{r:?}");
        let mut p = Profile::CALM;
        p.drop_ack = 1.0;
        let mut v = ChaosVenue::new(3, p, &s, "bot").unwrap();
        assert_eq!(
            route(
                &mut v,
                "POST",
                "/fapi/v1/order",
                &signed_query(q),
                Some(API_KEY)
            ),
            None
        );
        let mut p = Profile::CALM;
        p.rate_limit = 1.0;
        p.reject_retryable = 1.0;
        let mut v = ChaosVenue::new(3, p, &s, "bot").unwrap();
        let r = call(
            &mut v,
            "GET",
            "/fapi/v1/userTrades",
            "symbol=AAAUSDT&timestamp=1",
        );
        assert_eq!((r.status, r.retry_after), (418, Some(1)));
        let r = call(&mut v, "POST", "/fapi/v1/order", q);
        assert_eq!((r.status, r.retry_after), (429, Some(1)));
        let mut p = Profile::CALM;
        p.lost_in_transit = 1.0;
        let mut v = ChaosVenue::new(3, p, &s, "bot").unwrap();
        let r = call(&mut v, "POST", "/fapi/v1/order", q);
        assert_eq!(r.status, 502);
        assert_eq!(v.bot_orders(), 0, "lost in transit: not carried out");
    }
}
