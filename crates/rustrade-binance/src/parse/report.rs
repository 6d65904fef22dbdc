//! What the order reports of every user stream (Spot `executionReport`, futures
//! `ORDER_TRADE_UPDATE` and `ALGO_UPDATE`) share: their id fields, the reports of an order's
//! lifecycle, and a fill.

use rustrade_core::{
    Asset, ClientOrderId, ExecutionReport, Fill, Liquidity, Money, OrderId, Quantity, RejectReason,
    Symbol, Timestamp,
};
use serde_json::Value;

use super::{Obj, ParseError};
use crate::orders::parse_side;

/// A step in an order's life other than a fill.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lifecycle {
    /// The venue accepted the order.
    Accepted,
    /// The order was cancelled.
    Cancelled,
    /// The order expired.
    Expired,
    /// The venue rejected the order, for this reason.
    Rejected(RejectReason),
}

/// The report of `event` about venue order `order_id`. Acceptances and rejections need our
/// `client_id`; without one they are the error `missing` makes.
pub(crate) fn lifecycle_report(
    event: Lifecycle,
    client_id: Option<ClientOrderId>,
    order_id: OrderId,
    time: Timestamp,
    missing: impl FnOnce() -> ParseError,
) -> Result<ExecutionReport, ParseError> {
    Ok(match event {
        Lifecycle::Accepted => ExecutionReport::Accepted {
            client_id: client_id.ok_or_else(missing)?,
            order_id,
            time,
        },
        Lifecycle::Cancelled => ExecutionReport::Cancelled {
            client_id,
            order_id,
            time,
        },
        Lifecycle::Expired => ExecutionReport::Expired {
            client_id,
            order_id,
            time,
        },
        Lifecycle::Rejected(reason) => ExecutionReport::Rejected {
            client_id: client_id.ok_or_else(missing)?,
            reason,
            time,
        },
    })
}

/// A fill report's fields after its fee `fee` (`n`): fee asset `N` (when absent and nothing
/// was charged, `quote_of(symbol)`), trade id `t`, our client id from `client_id`, side `S`,
/// price `L`, quantity `l`, maker `m`.
pub(crate) fn stream_fill(
    o: &Obj<'_>,
    symbol: Symbol,
    order_id: OrderId,
    time: Timestamp,
    fee: f64,
    client_id: impl FnOnce() -> Result<Option<ClientOrderId>, ParseError>,
    quote_of: &dyn Fn(&Symbol) -> Option<Asset>,
) -> Result<Fill, ParseError> {
    let fee_asset = match o.get("N").and_then(Value::as_str) {
        Some(a) => Asset::new(a).map_err(|_| o.bad("N", "not a valid asset"))?,
        None if fee == 0.0 => {
            quote_of(&symbol).ok_or_else(|| o.bad("N", "no fee asset and no quote asset known"))?
        }
        None => return Err(o.bad("N", "a charged fee needs its asset")),
    };
    let fill_id =
        crate::trades::fill_id(&symbol, o.int("t")?).map_err(|_| o.bad("t", "bad trade id"))?;
    Ok(Fill {
        fill_id,
        order_id,
        client_id: client_id()?,
        symbol,
        side: parse_side(o, "S")?,
        price: o.positive_price("L")?,
        quantity: Quantity::named("l", o.decimal("l")?).map_err(|_| o.bad("l", "must be >= 0"))?,
        fee: Money::named("n", fee).map_err(|_| o.bad("n", "not finite"))?,
        fee_asset,
        liquidity: if o.bool("m")? {
            Liquidity::Maker
        } else {
            Liquidity::Taker
        },
        time,
    })
}

/// Our client id in `field`; `None` when absent or empty.
pub(crate) fn client_id(o: &Obj<'_>, field: &str) -> Result<Option<ClientOrderId>, ParseError> {
    match o.get(field).and_then(Value::as_str) {
        None | Some("") => Ok(None),
        Some(c) => ClientOrderId::new(c)
            .map(Some)
            .map_err(|_| o.bad(field, "not a valid client order id")),
    }
}

/// A numeric venue id in `field` as an [`OrderId`]; `reason` names it when refused.
pub(crate) fn order_id(
    o: &Obj<'_>,
    field: &str,
    reason: &'static str,
) -> Result<OrderId, ParseError> {
    OrderId::new(&o.int(field)?.to_string()).map_err(|_| o.bad(field, reason))
}
