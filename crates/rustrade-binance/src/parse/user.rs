//! User-data messages of the WebSocket API: `executionReport` into core [`ExecutionReport`]s,
//! the stream's control events, and request answers.
//!
//! Frames arrive as `{"subscriptionId":N,"event":{…}}` (events) or `{"id","status","result"}`
//! (answers); a bare event is accepted too. `executionReport` by execution type `x`: `NEW` →
//! accepted, `TRADE` → a fill (`l`@`L`, fee `n` in `N`, trade id `t`, maker `m`), `CANCELED` →
//! cancelled (our id from `C`, the original client id), `REJECTED` → rejected (reason `r`),
//! `EXPIRED`/`TRADE_PREVENTION` → expired, `REPLACED` → nothing. Fill ids follow
//! [`fill_id`](crate::trades::fill_id), so a fill seen here and in `myTrades` is one fill.

use rustrade_core::{Asset, ExecutionReport, RejectReason, Symbol};
use serde_json::Value;

use super::report::{Lifecycle, client_id, lifecycle_report, order_id, stream_fill};
use super::{Obj, ParseError};

/// One user-data frame.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UserMessage {
    /// A report about one of our orders.
    Report(ExecutionReport),
    /// The subscription ended (`eventStreamTerminated`): subscribe again, then catch up.
    Terminated,
    /// The server will close the connection soon (`serverShutdown`): reconnect.
    ServerShutdown,
    /// An answer to request `id` (`status` 200 is success; else Binance's code and message).
    Response {
        /// The request id echoed.
        id: String,
        /// HTTP-like status.
        status: i64,
        /// Binance's error, when not 200.
        error: Option<(i64, String)>,
    },
    /// An event we do not act on (`outboundAccountPosition`, `balanceUpdate`, `listStatus`,
    /// an execution of type `REPLACED`).
    Other,
}

/// Parses one frame. `quote_of` names a symbol's quote asset, the fee asset of a fill that
/// charged nothing and so came with no `N`.
pub fn parse_user_message(
    bytes: &[u8],
    quote_of: &dyn Fn(&Symbol) -> Option<Asset>,
) -> Result<UserMessage, ParseError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| ParseError::new("<message>", None, "not JSON"))?;
    let root = Obj::root(&v)?;
    if root.get("status").is_some() && root.get("e").is_none() {
        let id = match root.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let status = root.int("status")?;
        let error = root.get("error").map(|e| {
            (
                e.get("code").and_then(Value::as_i64).unwrap_or(0),
                e.get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            )
        });
        return Ok(UserMessage::Response { id, status, error });
    }
    let event = match root.get("event") {
        Some(e) => Obj::root(e).map_err(|_| root.bad("event", "expected an object"))?,
        None => root,
    };
    match event.str("e")? {
        "executionReport" => parse_execution(&event, quote_of),
        "eventStreamTerminated" => Ok(UserMessage::Terminated),
        "serverShutdown" => Ok(UserMessage::ServerShutdown),
        _ => Ok(UserMessage::Other),
    }
}

fn parse_execution(
    o: &Obj<'_>,
    quote_of: &dyn Fn(&Symbol) -> Option<Asset>,
) -> Result<UserMessage, ParseError> {
    let symbol = o.symbol("s")?;
    let order_id = order_id(o, "i", "bad order id")?;
    let time = if o.get("T").is_some() {
        o.time_ms("T")?
    } else {
        o.time_ms("E")?
    };
    let event = match o.str("x")? {
        "NEW" => Lifecycle::Accepted,
        "CANCELED" => Lifecycle::Cancelled,
        "REJECTED" => Lifecycle::Rejected(reject_reason(
            o.get("r").and_then(Value::as_str).unwrap_or(""),
        )),
        "EXPIRED" | "TRADE_PREVENTION" => Lifecycle::Expired,
        "TRADE" => {
            let fee = o.decimal("n")?;
            let fill = stream_fill(
                o,
                symbol,
                order_id,
                time,
                fee,
                || client_id(o, "c"),
                quote_of,
            )?;
            return Ok(UserMessage::Report(ExecutionReport::Fill(fill)));
        }
        "REPLACED" => return Ok(UserMessage::Other),
        _ => return Err(o.bad("x", "unknown execution type")),
    };
    // A cancel names our order in `C`, the original client id.
    let client = match event {
        Lifecycle::Cancelled => client_id(o, "C")?.or(client_id(o, "c")?),
        _ => client_id(o, "c")?,
    };
    let report = lifecycle_report(event, client, order_id, time, || {
        o.bad("c", "missing client order id")
    })?;
    Ok(UserMessage::Report(report))
}

fn reject_reason(r: &str) -> RejectReason {
    match r {
        _ if r.contains("INSUFFICIENT") => RejectReason::InsufficientFunds,
        "WOULD_MATCH_IMMEDIATELY" | "ORDER_WOULD_IMMEDIATELY_MATCH" => RejectReason::WouldTake,
        _ if r.contains("FILTER") || r.contains("PRICE") || r.contains("QTY") => {
            RejectReason::InvalidOrder
        }
        _ => RejectReason::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::Liquidity;

    /// The documented sample (`user-data-stream.md`), as a fill.
    pub(crate) const TRADE: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.50000000","z":"0.50000000","L":"0.10264410","n":"0.00050000","N":"ETH","T":1499405658657,"t":77,"I":8641984,"w":false,"m":true,"M":false,"O":1499405658657,"Z":"0.05132205","Y":"0.05132205","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#;

    fn quote(_: &Symbol) -> Option<Asset> {
        Asset::new("BTC").ok()
    }

    fn report(text: &str) -> ExecutionReport {
        match parse_user_message(text.as_bytes(), &quote).unwrap() {
            UserMessage::Report(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn execution_types_become_reports() {
        let ExecutionReport::Fill(f) = report(TRADE) else {
            panic!()
        };
        assert_eq!(f.fill_id.as_str(), "ETHBTC-77");
        assert_eq!(f.order_id.as_str(), "4293153");
        assert_eq!(f.client_id.unwrap().as_str(), "mUvoqJxFIILMdfAW5iGSOW");
        assert_eq!(
            (f.quantity.get(), f.price.get(), f.fee.get()),
            (0.5, 0.1026441, 0.0005)
        );
        assert_eq!(
            (f.fee_asset.as_str(), f.liquidity),
            ("ETH", Liquidity::Maker)
        );
        assert_eq!(f.time.as_millis(), 1499405658657);
        let new = TRADE.replace("\"x\":\"TRADE\"", "\"x\":\"NEW\"");
        assert!(matches!(report(&new), ExecutionReport::Accepted { .. }));
        let cancel = TRADE
            .replace("\"x\":\"TRADE\"", "\"x\":\"CANCELED\"")
            .replace("\"C\":\"\"", "\"C\":\"orig-1\"");
        let ExecutionReport::Cancelled { client_id, .. } = report(&cancel) else {
            panic!()
        };
        assert_eq!(client_id.unwrap().as_str(), "orig-1");
        let rej = TRADE
            .replace("\"x\":\"TRADE\"", "\"x\":\"REJECTED\"")
            .replace("\"r\":\"NONE\"", "\"r\":\"INSUFFICIENT_BALANCES\"");
        assert!(matches!(
            report(&rej),
            ExecutionReport::Rejected {
                reason: RejectReason::InsufficientFunds,
                ..
            }
        ));
        let exp = TRADE.replace("\"x\":\"TRADE\"", "\"x\":\"EXPIRED\"");
        assert!(matches!(report(&exp), ExecutionReport::Expired { .. }));
        let free = TRADE.replace(
            "\"n\":\"0.00050000\",\"N\":\"ETH\"",
            "\"n\":\"0\",\"N\":null",
        );
        let ExecutionReport::Fill(f) = report(&free) else {
            panic!()
        };
        assert_eq!(f.fee_asset.as_str(), "BTC");
    }

    #[test]
    fn control_events_and_answers() {
        let p = |t: &str| parse_user_message(t.as_bytes(), &quote).unwrap();
        assert_eq!(
            p(r#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1}}"#),
            UserMessage::Terminated
        );
        assert_eq!(
            p(r#"{"event":{"e":"serverShutdown","E":1}}"#),
            UserMessage::ServerShutdown
        );
        assert_eq!(
            p(r#"{"event":{"e":"outboundAccountPosition","E":1,"u":1,"B":[]}}"#),
            UserMessage::Other
        );
        assert_eq!(
            p(r#"{"id":"sub-1","status":200,"result":{"subscriptionId":0}}"#),
            UserMessage::Response {
                id: "sub-1".into(),
                status: 200,
                error: None
            }
        );
        let UserMessage::Response { status, error, .. } =
            p(r#"{"id":3,"status":400,"error":{"code":-1022,"msg":"bad sig"}}"#)
        else {
            panic!()
        };
        assert_eq!((status, error), (400, Some((-1022, "bad sig".into()))));
    }

    #[test]
    fn malformed_reports_name_field_and_value() {
        let cases = [
            (
                TRADE.replace("\"L\":\"0.10264410\"", "\"L\":\"NaN\""),
                "L",
                "\"NaN\"",
            ),
            (
                TRADE.replace("\"x\":\"TRADE\"", "\"x\":\"TELEPORTED\""),
                "x",
                "\"TELEPORTED\"",
            ),
            (
                TRADE.replace("\"S\":\"BUY\"", "\"S\":\"UP\""),
                "S",
                "\"UP\"",
            ),
            (TRADE.replace("\"t\":77,", "\"t\":\"77\","), "t", "\"77\""),
            (TRADE.replace("\"m\":true,", ""), "m", "<missing>"),
            (TRADE.replace("\"N\":\"ETH\"", "\"N\":null"), "N", "null"),
            (
                TRADE.replace("\"l\":\"0.50000000\"", "\"l\":\"-1\""),
                "l",
                "\"-1\"",
            ),
        ];
        for (text, field, value) in cases {
            let e = parse_user_message(text.as_bytes(), &quote).unwrap_err();
            assert_eq!((e.field.as_str(), e.value.as_str()), (field, value), "{e}");
        }
    }
}
