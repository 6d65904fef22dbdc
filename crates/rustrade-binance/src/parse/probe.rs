//! The robustness contract of every parser of venue bytes, as one checkable entry point: the
//! fuzz targets (`fuzz/`, nightly) and the stable-toolchain test (`tests/parser_robustness.rs`)
//! both feed inputs to [`fuzz_input`], which calls [`probe`].
//!
//! For each [`Surface`] the probe runs every parser of that surface on the input and checks:
//! none panics (a panic is the fuzzer's crash); every refusal names a field (a non-empty field
//! path that its message repeats); every accepted fill has a positive price and a non-negative
//! quantity. [`samples`] are documented payloads of each surface, and [`mutate`] derives hostile
//! variants of them from a byte string, so that inputs get past the JSON decoder's first field.

use rustrade_core::{Asset, AssetClass, ExecutionReport, Symbol, Timestamp, Venue};
use serde_json::{Value, json};

use super::{
    ParseError, UsdmUserMessage, UserMessage, parse_kline_row, parse_mark_price,
    parse_market_message, parse_premium_index, parse_usdm_user_message, parse_user_message,
};
use crate::{BinanceError, RateLimit, parse_exchange_info};

/// A family of venue inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Market-stream frames (kline, bookTicker, trade, aggTrade, markPriceUpdate) and REST
    /// kline rows.
    Market,
    /// User-data frames, Spot (`executionReport`, answers) and futures (`ORDER_TRADE_UPDATE`,
    /// `ALGO_UPDATE`, `ACCOUNT_UPDATE`).
    User,
    /// REST answers: `exchangeInfo`, `rateLimits`, order, algo-order and trade objects,
    /// `premiumIndex`.
    Rest,
}

impl Surface {
    /// Every surface.
    pub const ALL: [Self; 3] = [Self::Market, Self::User, Self::Rest];
}

/// Runs every parser of `surface` on `bytes`; `Ok(n)` with the number of parsers that accepted
/// it, `Err` with the broken rule (never for a plain refusal that names its field).
pub fn probe(surface: Surface, bytes: &[u8]) -> Result<usize, String> {
    let venue = Venue::new("binance").map_err(|e| e.to_string())?;
    let btc = Symbol::new("BTCUSDT").map_err(|e| e.to_string())?;
    let quote = |_: &Symbol| Asset::new("USDT").ok();
    let mut accepted = 0;
    match surface {
        Surface::Market => {
            accepted += field_named(parse_market_message(bytes, venue, Timestamp::EPOCH))?;
            accepted += field_named(parse_mark_price(bytes))?;
            if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
                let rows = v.as_array().cloned().unwrap_or_else(|| vec![v]);
                for row in &rows {
                    accepted += field_named(parse_kline_row(row, btc, venue, Timestamp::MAX))?;
                }
            }
        }
        Surface::User => {
            match parse_user_message(bytes, &quote) {
                Ok(UserMessage::Report(r)) => {
                    sane(&r)?;
                    accepted += 1;
                }
                Ok(UserMessage::Other) => {}
                Ok(_) => accepted += 1,
                Err(e) => names_field(&e)?,
            }
            match parse_usdm_user_message(bytes, &quote) {
                Ok(UsdmUserMessage::Report(r)) => {
                    sane(&r)?;
                    accepted += 1;
                }
                Ok(UsdmUserMessage::Other) => {}
                Ok(_) => accepted += 1,
                Err(e) => names_field(&e)?,
            }
        }
        Surface::Rest => {
            let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
                return Ok(0);
            };
            let items = v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]);
            for class in [AssetClass::CryptoSpot, AssetClass::CryptoPerp] {
                accepted += binance_named(parse_exchange_info(&v, class))?;
            }
            if let Some(limits) = v.get("rateLimits") {
                accepted += field_named(RateLimit::parse_list(limits))?;
            }
            for item in &items {
                accepted += binance_named(crate::orders::parse_order(item))?;
                accepted += binance_named(crate::usdm_orders::parse_usdm_order(item))?;
                accepted += binance_named(crate::usdm_orders::parse_algo_order(item))?;
                accepted += field_named(parse_premium_index(item))?;
                for trade in [
                    crate::trades::parse_my_trade(item, None),
                    crate::usdm_orders::parse_user_trade(item, None),
                ] {
                    match trade {
                        Ok(f) => {
                            sane(&ExecutionReport::Fill(f))?;
                            accepted += 1;
                        }
                        Err(e) => binance_error_named(&e)?,
                    }
                }
            }
        }
    }
    Ok(accepted)
}

/// One fuzzer input, as the fuzz targets and the stable test feed it: an even first byte
/// probes the rest as raw bytes; an odd one takes a sample (chosen by the second byte) and
/// [`mutate`]s it with the remaining bytes before probing.
pub fn fuzz_input(surface: Surface, data: &[u8]) -> Result<usize, String> {
    let Some((&mode, rest)) = data.split_first() else {
        return Ok(0);
    };
    if mode & 1 == 0 {
        return probe(surface, rest);
    }
    let Some((&pick, choices)) = rest.split_first() else {
        return Ok(0);
    };
    let all = samples(surface);
    let mut value: Value =
        serde_json::from_str(&all[usize::from(pick) % all.len()]).map_err(|e| e.to_string())?;
    mutate(&mut value, choices);
    probe(surface, value.to_string().as_bytes())
}

/// Documented payloads of `surface`, one JSON text each.
pub fn samples(surface: Surface) -> Vec<String> {
    let texts: &[&str] = match surface {
        Surface::Market => &[
            r#"{"stream":"bnbbtc@kline_1m","data":{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0005","v":"1000","n":100,"x":true,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}"#,
            r#"{"stream":"bnbusdt@bookTicker","data":{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}"#,
            r#"{"stream":"bnbusdt@bookTicker","data":{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}"#,
            r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#,
            r#"{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}"#,
            r#"{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}"#,
            r#"{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}}"#,
            r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#,
        ],
        Surface::User => &[
            r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.50000000","z":"0.50000000","L":"0.10264410","n":"0.00050000","N":"ETH","T":1499405658657,"t":77,"I":8641984,"w":false,"m":true,"M":false,"O":1499405658657,"Z":"0.05132205","Y":"0.05132205","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#,
            r#"{"id":"rt-1","status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."}}"#,
            r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"f-1-b","S":"BUY","o":"LIMIT","f":"GTC","q":"0.002","p":"30000","ap":"30000","sp":"0","x":"TRADE","X":"FILLED","i":8886774,"l":"0.002","z":"0.002","L":"30000","N":"USDT","n":"0.024","T":1568879465650,"t":9001,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0"}}"#,
            r#"{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"f-2-s","aid":2148719,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.002","X":"NEW","ai":"","tp":"29000","p":"0","wt":"CONTRACT_PRICE","R":true}}"#,
            r#"{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"0.002","ep":"30000.00000","bep":"30012","cr":"200","up":"0.1","mt":"cross","iw":"0.00000000","ps":"BOTH"}]}}"#,
            r#"{"e":"listenKeyExpired","E":1576653824250,"listenKey":"WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv"}"#,
        ],
        Surface::Rest => &[
            r#"{"timezone":"UTC","serverTime":1700000000000,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50}],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDT","quotePrecision":8,"orderTypes":["LIMIT","LIMIT_MAKER","MARKET"],"filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"1000000","tickSize":"0.01"},{"filterType":"LOT_SIZE","minQty":"0.00001","maxQty":"9000","stepSize":"0.00001"},{"filterType":"NOTIONAL","minNotional":"5","applyMinToMarket":true},{"filterType":"POSITION_RISK_CONTROL","positionControlSide":"NONE"}]}]}"#,
            r#"{"timezone":"UTC","serverTime":1700000000000,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400}],"symbols":[{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","pricePrecision":2,"quantityPrecision":3,"filters":[{"filterType":"PRICE_FILTER","minPrice":"556.80","maxPrice":"4529764","tickSize":"0.10"},{"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"1000","stepSize":"0.001"},{"filterType":"MIN_NOTIONAL","notional":"100"}]}]}"#,
            r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"b-1-a","price":"30000.00","origQty":"0.50000","executedQty":"0.20000","cummulativeQuoteQty":"6000.00","status":"PARTIALLY_FILLED","timeInForce":"GTC","type":"LIMIT","side":"BUY","stopPrice":"0.00","time":1700000000000,"updateTime":1700000000500,"isWorking":true}"#,
            r#"{"avgPrice":"30100.5","clientOrderId":"abc","cumQuote":"60.2","executedQty":"0.002","orderId":1917641,"origQty":"0.004","origType":"LIMIT","price":"30100.5","reduceOnly":true,"side":"BUY","positionSide":"BOTH","status":"PARTIALLY_FILLED","stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","time":1579276756075,"timeInForce":"GTX","type":"LIMIT","updateTime":1579276756075}"#,
            r#"{"algoId":2146760,"clientAlgoId":"f-2-s","algoType":"CONDITIONAL","orderType":"STOP_MARKET","symbol":"BTCUSDT","side":"SELL","positionSide":"BOTH","timeInForce":"GTC","quantity":"0.002","algoStatus":"TRIGGERED","actualOrderId":"555","triggerPrice":"29000.0","price":"0","reduceOnly":true,"createTime":1750485492076}"#,
            r#"[{"symbol":"BNBBTC","id":28457,"orderId":100234,"orderListId":-1,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","commission":"10.10000000","commissionAsset":"BNB","time":1499865549590,"isBuyer":true,"isMaker":false,"isBestMatch":true}]"#,
            r#"[{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,"orderId":25851813,"price":"7819.01","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL","positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}]"#,
            r#"{"symbol":"BTCUSDT","markPrice":"11793.63104562","indexPrice":"11781.80495970","estimatedSettlePrice":"11781.16138815","lastFundingRate":"0.00038246","interestRate":"0.00010000","nextFundingTime":1597392000000,"time":1597370495002}"#,
        ],
    };
    texts.iter().map(|t| (*t).to_owned()).collect()
}

/// Mutates `value` as `choices` direct: each 3-byte step picks a node (by index in a walk of the
/// tree), an operation and an argument. Operations replace the node with a hostile scalar
/// (`"NaN"`, `"-1"`, `"1e9"`, `""`, a 300-character string, `null`, `true`, `-1`, `u64::MAX`,
/// `1.5`, `[]`, `{}`), remove an object key, drop an array element, or copy another node over it.
pub fn mutate(value: &mut Value, choices: &[u8]) {
    for step in choices.chunks_exact(3) {
        let count = count_nodes(value);
        let target = usize::from(step[0]) % count;
        let arg = step[2];
        match step[1] % 4 {
            0 => {
                if let Some(node) = node_mut(value, target) {
                    *node = hostile(arg);
                }
            }
            1 | 2 => {
                if let Some(node) = node_mut(value, target) {
                    match node {
                        Value::Object(map) if !map.is_empty() => {
                            let key = map.keys().nth(usize::from(arg) % map.len()).cloned();
                            if let Some(k) = key {
                                map.remove(&k);
                            }
                        }
                        Value::Array(items) if !items.is_empty() => {
                            items.remove(usize::from(arg) % items.len());
                        }
                        other => *other = hostile(arg),
                    }
                }
            }
            _ => {
                let donor = node_mut(value, usize::from(arg) % count).map(|n| n.clone());
                if let (Some(d), Some(node)) = (donor, node_mut(value, target)) {
                    *node = d;
                }
            }
        }
    }
}

fn hostile(arg: u8) -> Value {
    match arg % 12 {
        0 => json!("NaN"),
        1 => json!("-1"),
        2 => json!("1e9"),
        3 => json!(""),
        4 => json!("x".repeat(300)),
        5 => Value::Null,
        6 => json!(true),
        7 => json!(-1),
        8 => json!(u64::MAX),
        9 => json!(1.5),
        10 => json!([]),
        _ => json!({}),
    }
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `index`-th node of a pre-order walk.
fn node_mut(v: &mut Value, index: usize) -> Option<&mut Value> {
    if index == 0 {
        return Some(v);
    }
    let mut skip = index - 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => return None,
    };
    for child in children {
        let n = count_nodes(child);
        if skip < n {
            return node_mut(child, skip);
        }
        skip -= n;
    }
    None
}

fn names_field(e: &ParseError) -> Result<(), String> {
    let text = e.to_string();
    if e.field.is_empty() || e.reason.is_empty() || !text.contains(e.field.as_str()) {
        return Err(format!("a refusal that names no field: {text}"));
    }
    Ok(())
}

fn binance_error_named(e: &BinanceError) -> Result<(), String> {
    match e {
        BinanceError::Parse(p) => names_field(p),
        BinanceError::Value(v) if v.field().is_empty() || !e.to_string().contains(v.field()) => {
            Err(format!("a value refusal that names no field: {e}"))
        }
        BinanceError::Value(_) | BinanceError::Decode { .. } => Ok(()),
        other => Err(format!("a parser failed with a non-parse error: {other}")),
    }
}

fn field_named<T>(r: Result<T, ParseError>) -> Result<usize, String> {
    match r {
        Ok(_) => Ok(1),
        Err(e) => names_field(&e).map(|()| 0),
    }
}

fn binance_named<T>(r: Result<T, BinanceError>) -> Result<usize, String> {
    match r {
        Ok(_) => Ok(1),
        Err(e) => binance_error_named(&e).map(|()| 0),
    }
}

/// An accepted fill must be usable: price > 0, quantity >= 0, finite fee.
fn sane(r: &ExecutionReport) -> Result<(), String> {
    if let ExecutionReport::Fill(f) = r
        && (f.price.get().is_nan()
            || f.price.get() <= 0.0
            || f.quantity.get().is_nan()
            || f.quantity.get() < 0.0
            || !f.fee.get().is_finite())
    {
        return Err(format!("an accepted fill that is not usable: {f:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_is_accepted_by_some_parser() {
        for surface in Surface::ALL {
            for s in samples(surface) {
                let n = probe(surface, s.as_bytes()).unwrap();
                assert!(n > 0, "{surface:?}: {s}");
            }
        }
    }

    #[test]
    fn the_contract_catches_refusals_without_a_field() {
        assert!(names_field(&ParseError::new("", None, "bad")).is_err());
        assert!(names_field(&ParseError::new("o.L", None, "bad")).is_ok());
        let closed = BinanceError::Closed("x".into());
        assert!(binance_error_named(&closed).is_err());
        let mut nan_fill = samples(Surface::User)[0].clone();
        nan_fill = nan_fill.replace("\"L\":\"0.10264410\"", "\"L\":\"NaN\"");
        assert_eq!(probe(Surface::User, nan_fill.as_bytes()), Ok(0));
    }

    #[test]
    fn mutation_is_deterministic_and_reaches_nested_nodes() {
        let base: Value = serde_json::from_str(&samples(Surface::User)[0]).unwrap();
        let mut a = base.clone();
        let mut b = base.clone();
        mutate(&mut a, &[7, 0, 0, 12, 1, 3]);
        mutate(&mut b, &[7, 0, 0, 12, 1, 3]);
        assert_eq!(a, b);
        assert_ne!(a, base);
        let n = count_nodes(&base);
        assert_eq!(n, 37, "the frame, its two keys and the event's 34 fields");
        assert!(node_mut(&mut base.clone(), n - 1).is_some());
        assert!(node_mut(&mut base.clone(), n).is_none());
    }
}
