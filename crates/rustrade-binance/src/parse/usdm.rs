//! USD-M futures messages: the user-data events (`ORDER_TRADE_UPDATE`, `ALGO_UPDATE`,
//! `ACCOUNT_UPDATE`, `listenKeyExpired`) and the mark price with funding (`markPriceUpdate`
//! stream, `GET /fapi/v1/premiumIndex`).
//!
//! `ORDER_TRADE_UPDATE` by execution type `o.x`: `NEW` → accepted, `TRADE` and `CALCULATED`
//! (a liquidation fill, client id `autoclose-…`) → a fill (`l`@`L`, fee `n` in `N`, trade id
//! `t`, maker `m`), `CANCELED` → cancelled, `EXPIRED` → expired, `REJECTED` → rejected,
//! `AMENDMENT` → nothing. `ALGO_UPDATE` by algo status `o.X`: `NEW` → accepted (the order id is
//! the algo id), `CANCELED` → cancelled, `EXPIRED` → expired, `REJECTED` → rejected; a trigger
//! (`TRIGGERING`, `TRIGGERED`, `FINISHED`) names the regular order it placed (`ai`), whose own
//! `ORDER_TRADE_UPDATE`s carry the fills. Positions in `ACCOUNT_UPDATE` must be one-way (`ps` = `BOTH`).

use rustrade_core::{
    Asset, ClientOrderId, ExecutionReport, Money, OrderId, Position, Price, RejectReason, Symbol,
    Timestamp,
};
use serde_json::Value;

use super::report::{Lifecycle, client_id, lifecycle_report, order_id, stream_fill};
use super::{Obj, ParseError};

/// One futures user-data frame.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UsdmUserMessage {
    /// A report about one of our orders (regular or conditional).
    Report(ExecutionReport),
    /// Balances and positions changed (`ACCOUNT_UPDATE`).
    Account(AccountUpdate),
    /// A conditional order fired and placed regular order `order_id` (`ALGO_UPDATE` with a
    /// non-empty `ai`): that order's reports belong to our `client_id`.
    AlgoTriggered {
        /// Our id of the conditional order (`caid`).
        client_id: ClientOrderId,
        /// The regular order it placed (`ai`).
        order_id: OrderId,
    },
    /// The listenKey expired: get a new one, reconnect, catch up.
    ListenKeyExpired,
    /// An event we do not act on (`MARGIN_CALL`, `ACCOUNT_CONFIG_UPDATE`, an algo trigger, an
    /// amendment).
    Other,
}

/// The balances and positions an `ACCOUNT_UPDATE` carries (only those that changed).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountUpdate {
    /// Why (`a.m`: `ORDER`, `FUNDING_FEE`, `DEPOSIT`, ...).
    pub reason: String,
    /// Transaction time.
    pub time: Timestamp,
    /// Wallet balance per asset (`a.B[].wb`).
    pub balances: Vec<(Asset, Money)>,
    /// Position per symbol: amount `pa` (signed), entry `ep`, unrealised PnL `up`.
    pub positions: Vec<(Symbol, Position)>,
}

/// A symbol's mark price and funding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarkPrice {
    /// The contract.
    pub symbol: Symbol,
    /// Mark price (what PnL and liquidation use).
    pub mark: Price,
    /// Index price (spot reference).
    pub index: Price,
    /// Funding rate of the coming settlement (a fraction: `0.0001` is 0.01 %).
    pub funding_rate: f64,
    /// When funding is next settled.
    pub next_funding: Timestamp,
    /// When the venue computed this.
    pub time: Timestamp,
}

/// Parses one futures user-data frame. `quote_of` names a symbol's quote asset, the fee asset
/// of a fill sent without `N`.
pub fn parse_usdm_user_message(
    bytes: &[u8],
    quote_of: &dyn Fn(&Symbol) -> Option<Asset>,
) -> Result<UsdmUserMessage, ParseError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| ParseError::new("<message>", None, "not JSON"))?;
    let root = Obj::root(&v)?;
    // The combined form wraps the event as {"stream","data"}.
    let event = match root.get("data") {
        Some(d) => Obj::root(d).map_err(|_| root.bad("data", "expected an object"))?,
        None => root,
    };
    match event.str("e")? {
        "ORDER_TRADE_UPDATE" => order_update(&event, quote_of),
        "ALGO_UPDATE" => algo_update(&event),
        "ACCOUNT_UPDATE" => account_update(&event),
        "listenKeyExpired" => Ok(UsdmUserMessage::ListenKeyExpired),
        _ => Ok(UsdmUserMessage::Other),
    }
}

/// Parses a `markPriceUpdate` stream frame (raw or combined); `Ok(None)` for a subscription
/// answer.
pub fn parse_mark_price(bytes: &[u8]) -> Result<Option<MarkPrice>, ParseError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| ParseError::new("<message>", None, "not JSON"))?;
    let root = Obj::root(&v)?;
    if root.get("result").is_some() || (root.get("id").is_some() && root.get("e").is_none()) {
        return Ok(None);
    }
    let o = match root.get("data") {
        Some(d) => Obj::root(d).map_err(|_| root.bad("data", "expected an object"))?,
        None => root,
    };
    if o.str("e")? != "markPriceUpdate" {
        return Err(o.bad("e", "expected markPriceUpdate"));
    }
    Ok(Some(MarkPrice {
        symbol: o.symbol("s")?,
        mark: o.positive_price("p")?,
        index: o.positive_price("i")?,
        funding_rate: o.decimal("r")?,
        next_funding: o.time_ms("T")?,
        time: o.time_ms("E")?,
    }))
}

/// Parses one `GET /fapi/v1/premiumIndex` entry.
pub fn parse_premium_index(v: &Value) -> Result<MarkPrice, ParseError> {
    let o = Obj::root(v)?;
    Ok(MarkPrice {
        symbol: o.symbol("symbol")?,
        mark: o.positive_price("markPrice")?,
        index: o.positive_price("indexPrice")?,
        funding_rate: o.decimal("lastFundingRate")?,
        next_funding: o.time_ms("nextFundingTime")?,
        time: o.time_ms("time")?,
    })
}

fn order_update(
    e: &Obj<'_>,
    quote_of: &dyn Fn(&Symbol) -> Option<Asset>,
) -> Result<UsdmUserMessage, ParseError> {
    let o = e.obj("o")?;
    let symbol = o.symbol("s")?;
    let client = client_id(&o, "c")?;
    let order_id = order_id(&o, "i", "bad order id")?;
    let time = if o.get("T").is_some() {
        o.time_ms("T")?
    } else {
        e.time_ms("E")?
    };
    let event = match o.str("x")? {
        "NEW" => Lifecycle::Accepted,
        "CANCELED" => Lifecycle::Cancelled,
        "EXPIRED" => Lifecycle::Expired,
        "REJECTED" => Lifecycle::Rejected(RejectReason::Other),
        "TRADE" | "CALCULATED" => {
            let fee = match o.get("n") {
                Some(_) => o.decimal("n")?,
                None => 0.0,
            };
            let fill = stream_fill(&o, symbol, order_id, time, fee, || Ok(client), quote_of)?;
            return Ok(UsdmUserMessage::Report(ExecutionReport::Fill(fill)));
        }
        "AMENDMENT" => return Ok(UsdmUserMessage::Other),
        _ => return Err(o.bad("x", "unknown execution type")),
    };
    let report = lifecycle_report(event, client, order_id, time, || {
        o.bad("c", "missing client order id")
    })?;
    Ok(UsdmUserMessage::Report(report))
}

fn algo_update(e: &Obj<'_>) -> Result<UsdmUserMessage, ParseError> {
    let o = e.obj("o")?;
    let client = client_id(&o, "caid")?;
    let order_id = order_id(&o, "aid", "bad algo id")?;
    let time = e.time_ms("E")?;
    let event = match o.str("X")? {
        "NEW" => Lifecycle::Accepted,
        "CANCELED" => Lifecycle::Cancelled,
        "EXPIRED" => Lifecycle::Expired,
        "REJECTED" => Lifecycle::Rejected(RejectReason::Other),
        "TRIGGERING" | "TRIGGERED" | "FINISHED" => {
            let placed = match o.get("ai") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Ok(UsdmUserMessage::Other),
            };
            let order_id = OrderId::new(&placed).map_err(|_| o.bad("ai", "bad order id"))?;
            return Ok(match client {
                Some(client_id) => UsdmUserMessage::AlgoTriggered {
                    client_id,
                    order_id,
                },
                None => UsdmUserMessage::Other,
            });
        }
        _ => return Err(o.bad("X", "unknown algo status")),
    };
    let report = lifecycle_report(event, client, order_id, time, || {
        o.bad("caid", "missing client algo id")
    })?;
    Ok(UsdmUserMessage::Report(report))
}

fn account_update(e: &Obj<'_>) -> Result<UsdmUserMessage, ParseError> {
    let a = e.obj("a")?;
    let time = if e.get("T").is_some() {
        e.time_ms("T")?
    } else {
        e.time_ms("E")?
    };
    let list = |field: &str| -> Result<Vec<&Value>, ParseError> {
        match a.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.iter().collect()),
            Some(_) => Err(a.bad(field, "expected an array")),
        }
    };
    let mut balances = Vec::new();
    for b in list("B")? {
        let b = Obj::root(b).map_err(|_| a.bad("B", "expected objects"))?;
        let asset = Asset::new(b.str("a")?).map_err(|_| b.bad("a", "not a valid asset"))?;
        let wallet = Money::named("wb", b.decimal("wb")?).map_err(|_| b.bad("wb", "not finite"))?;
        balances.push((asset, wallet));
    }
    let mut positions = Vec::new();
    for p in list("P")? {
        let p = Obj::root(p).map_err(|_| a.bad("P", "expected objects"))?;
        if p.str("ps")? != "BOTH" {
            return Err(p.bad(
                "ps",
                "a hedge-mode position (only one-way mode is supported)",
            ));
        }
        let mut position = Position::new(p.decimal("pa")?, p.decimal("ep")?);
        position.unrealised_pnl = p.decimal("up")?;
        positions.push((p.symbol("s")?, position));
    }
    Ok(UsdmUserMessage::Account(AccountUpdate {
        reason: a.get("m").and_then(Value::as_str).unwrap_or("").to_owned(),
        time,
        balances,
        positions,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rustrade_core::Liquidity;

    /// A fill, in the documented field layout.
    pub(crate) const TRADE: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"f-1-b","S":"BUY","o":"LIMIT","f":"GTC","q":"0.002","p":"30000","ap":"30000","sp":"0","x":"TRADE","X":"FILLED","i":8886774,"l":"0.002","z":"0.002","L":"30000","N":"USDT","n":"0.024","T":1568879465650,"t":9001,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0"}}"#;

    /// Balance and position change, in the documented field layout.
    pub(crate) const ACCOUNT: &str = r#"{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"0.002","ep":"30000.00000","bep":"30012","cr":"200","up":"0.1","mt":"cross","iw":"0.00000000","ps":"BOTH"}]}}"#;

    fn quote(_: &Symbol) -> Option<Asset> {
        Asset::new("USDT").ok()
    }

    fn report(text: &str) -> ExecutionReport {
        match parse_usdm_user_message(text.as_bytes(), &quote).unwrap() {
            UsdmUserMessage::Report(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn order_updates_become_reports() {
        let ExecutionReport::Fill(f) = report(TRADE) else {
            panic!()
        };
        assert_eq!(f.fill_id.as_str(), "BTCUSDT-9001");
        assert_eq!(f.client_id.unwrap().as_str(), "f-1-b");
        assert_eq!(
            (f.quantity.get(), f.price.get(), f.fee.get()),
            (0.002, 30_000.0, 0.024)
        );
        assert_eq!(f.liquidity, Liquidity::Taker);
        for (x, want) in [
            ("NEW", "Accepted"),
            ("CANCELED", "Cancelled"),
            ("EXPIRED", "Expired"),
        ] {
            let r = report(&TRADE.replace("\"x\":\"TRADE\"", &format!("\"x\":\"{x}\"")));
            assert!(format!("{r:?}").starts_with(want), "{x}: {r:?}");
        }
        let liq = TRADE
            .replace("\"x\":\"TRADE\"", "\"x\":\"CALCULATED\"")
            .replace("f-1-b", "autoclose-1568879465650");
        let ExecutionReport::Fill(f) = report(&liq) else {
            panic!()
        };
        assert_eq!(f.client_id.unwrap().as_str(), "autoclose-1568879465650");
        let free = TRADE.replace("\"N\":\"USDT\",\"n\":\"0.024\",", "");
        let ExecutionReport::Fill(f) = report(&free) else {
            panic!()
        };
        assert_eq!((f.fee.get(), f.fee_asset.as_str()), (0.0, "USDT"));
        let amend = TRADE.replace("\"x\":\"TRADE\"", "\"x\":\"AMENDMENT\"");
        assert_eq!(
            parse_usdm_user_message(amend.as_bytes(), &quote).unwrap(),
            UsdmUserMessage::Other
        );
    }

    #[test]
    fn algo_updates_and_account_updates() {
        let algo = r#"{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"f-2-s","aid":2148719,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.002","X":"NEW","ai":"","tp":"29000","p":"0","wt":"CONTRACT_PRICE","R":true}}"#;
        let ExecutionReport::Accepted {
            client_id,
            order_id,
            ..
        } = report(algo)
        else {
            panic!()
        };
        assert_eq!(
            (client_id.as_str(), order_id.as_str()),
            ("f-2-s", "2148719")
        );
        let pending = algo.replace("\"X\":\"NEW\"", "\"X\":\"TRIGGERING\"");
        assert_eq!(
            parse_usdm_user_message(pending.as_bytes(), &quote).unwrap(),
            UsdmUserMessage::Other
        );
        let trig = pending
            .replace("TRIGGERING", "TRIGGERED")
            .replace("\"ai\":\"\"", "\"ai\":\"777\"");
        assert_eq!(
            parse_usdm_user_message(trig.as_bytes(), &quote).unwrap(),
            UsdmUserMessage::AlgoTriggered {
                client_id: ClientOrderId::new("f-2-s").unwrap(),
                order_id: OrderId::new("777").unwrap()
            }
        );
        let UsdmUserMessage::Account(a) =
            parse_usdm_user_message(ACCOUNT.as_bytes(), &quote).unwrap()
        else {
            panic!()
        };
        assert_eq!(a.reason, "ORDER");
        assert_eq!(a.balances[0].1.get(), 122_624.123_456_78);
        assert_eq!(a.positions[0].0.as_str(), "BTCUSDT");
        assert_eq!(
            (a.positions[0].1.quantity, a.positions[0].1.avg_entry),
            (0.002, 30_000.0)
        );
        let hedge = ACCOUNT.replace("\"ps\":\"BOTH\"", "\"ps\":\"LONG\"");
        let e = parse_usdm_user_message(hedge.as_bytes(), &quote).unwrap_err();
        assert_eq!((e.field.as_str(), e.value.as_str()), ("ps", "\"LONG\""));
        assert_eq!(
            parse_usdm_user_message(br#"{"e":"listenKeyExpired","E":1,"listenKey":"k"}"#, &quote)
                .unwrap(),
            UsdmUserMessage::ListenKeyExpired
        );
    }

    #[test]
    fn mark_price_from_stream_and_rest() {
        let m = parse_mark_price(br#"{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}}"#)
            .unwrap()
            .unwrap();
        assert_eq!((m.mark.get(), m.funding_rate), (11_794.15, 0.000_381_67));
        assert_eq!(m.next_funding.as_millis(), 1_562_306_400_000);
        let v = serde_json::json!({"symbol":"BTCUSDT","markPrice":"11793.63104562","indexPrice":"11781.80495970","estimatedSettlePrice":"11781.16138815","lastFundingRate":"0.00038246","interestRate":"0.00010000","nextFundingTime":1597392000000i64,"time":1597370495002i64});
        let m = parse_premium_index(&v).unwrap();
        assert_eq!(m.index.get(), 11_781.804_959_7);
        let mut bad = v;
        bad["markPrice"] = serde_json::json!("NaN");
        let e = parse_premium_index(&bad).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.value.as_str()),
            ("markPrice", "\"NaN\"")
        );
        assert_eq!(
            parse_mark_price(br#"{"result":null,"id":1}"#).unwrap(),
            None
        );
    }

    #[test]
    fn malformed_order_updates_name_field_and_value() {
        let cases = [
            (
                TRADE.replace("\"L\":\"30000\"", "\"L\":\"NaN\""),
                "o.L",
                "\"NaN\"",
            ),
            (
                TRADE.replace("\"x\":\"TRADE\"", "\"x\":\"WARPED\""),
                "o.x",
                "\"WARPED\"",
            ),
            (
                TRADE.replace("\"t\":9001", "\"t\":\"9001\""),
                "o.t",
                "\"9001\"",
            ),
            (TRADE.replace("\"m\":false,", ""), "o.m", "<missing>"),
            (
                TRADE.replace("\"S\":\"BUY\"", "\"S\":\"UP\""),
                "o.S",
                "\"UP\"",
            ),
        ];
        for (text, field, value) in cases {
            let e = parse_usdm_user_message(text.as_bytes(), &quote).unwrap_err();
            assert_eq!((e.field.as_str(), e.value.as_str()), (field, value), "{e}");
        }
    }
}
