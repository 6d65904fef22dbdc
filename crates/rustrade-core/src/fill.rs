//! [`Fill`]s and the other [`ExecutionReport`]s a venue sends about our orders.

use crate::{
    Asset, ClientOrderId, FillId, Money, OrderId, Price, Quantity, Side, Symbol, Timestamp,
};

/// Whether a fill added liquidity (maker) or took it (taker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// Resting order was hit.
    Maker,
    /// Order crossed the book.
    Taker,
}

/// One execution of (part of) an order. Prices and sizes are validated types, so a fill can hold
/// no NaN; a quantity of zero is refused by consumers at the boundary.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fill {
    /// The venue's trade id, unique per fill: a replayed fill is recognised by it.
    pub fill_id: FillId,
    /// The venue's order id.
    pub order_id: OrderId,
    /// Our client order id, when the venue echoes it.
    pub client_id: Option<ClientOrderId>,
    /// Instrument.
    pub symbol: Symbol,
    /// Direction of our order.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Executed quantity.
    pub quantity: Quantity,
    /// Fee charged (negative for a rebate), in `fee_asset`.
    pub fee: Money,
    /// Currency of the fee.
    pub fee_asset: Asset,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Execution time at the venue.
    pub time: Timestamp,
}

/// Something the venue tells us about one of our orders.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExecutionReport {
    /// The order was accepted and is working.
    Accepted {
        /// Our id.
        client_id: ClientOrderId,
        /// The venue's id.
        order_id: OrderId,
        /// When.
        time: Timestamp,
    },
    /// The order was refused.
    Rejected {
        /// Our id.
        client_id: ClientOrderId,
        /// Venue's reason code, truncated to fit; the full text goes to the log.
        reason: RejectReason,
        /// When.
        time: Timestamp,
    },
    /// The order was cancelled.
    Cancelled {
        /// Our id, when known.
        client_id: Option<ClientOrderId>,
        /// The venue's id.
        order_id: OrderId,
        /// When.
        time: Timestamp,
    },
    /// The order expired (time in force).
    Expired {
        /// Our id, when known.
        client_id: Option<ClientOrderId>,
        /// The venue's id.
        order_id: OrderId,
        /// When.
        time: Timestamp,
    },
    /// A fill.
    Fill(Fill),
}

impl ExecutionReport {
    /// When the venue says it happened.
    pub fn time(&self) -> Timestamp {
        match self {
            Self::Accepted { time, .. }
            | Self::Rejected { time, .. }
            | Self::Cancelled { time, .. }
            | Self::Expired { time, .. } => *time,
            Self::Fill(f) => f.time,
        }
    }
}

/// Why a venue refused an order, as a short machine-friendly code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectReason {
    /// Not enough balance or margin.
    InsufficientFunds,
    /// Price or quantity outside the venue's filters.
    InvalidOrder,
    /// A post-only order would have taken liquidity.
    WouldTake,
    /// A fill-or-kill order could not fill completely.
    NotFillable,
    /// A reduce-only order would have increased the position.
    ReduceOnlyViolation,
    /// Rate limit hit.
    RateLimited,
    /// The venue does not support the order type.
    Unsupported,
    /// The venue answered a lookup that it never received the order (sent after a timeout or
    /// a transport failure, the request did not arrive).
    NeverReceived,
    /// Anything else; the adapter logs the venue's text.
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_and_tell_their_time() {
        let fill = Fill {
            fill_id: FillId::new("f1").unwrap(),
            order_id: OrderId::new("o1").unwrap(),
            client_id: Some(ClientOrderId::new("b-0-1").unwrap()),
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side: Side::Buy,
            price: Price::new(100.0).unwrap(),
            quantity: Quantity::new(1.0).unwrap(),
            fee: Money::new(0.05).unwrap(),
            fee_asset: Asset::new("USDT").unwrap(),
            liquidity: Liquidity::Taker,
            time: Timestamp::from_nanos(7),
        };
        let reports = [
            ExecutionReport::Fill(fill),
            ExecutionReport::Accepted {
                client_id: fill.client_id.unwrap(),
                order_id: fill.order_id,
                time: Timestamp::from_nanos(5),
            },
            ExecutionReport::Rejected {
                client_id: fill.client_id.unwrap(),
                reason: RejectReason::WouldTake,
                time: Timestamp::from_nanos(6),
            },
            ExecutionReport::Cancelled {
                client_id: None,
                order_id: fill.order_id,
                time: Timestamp::from_nanos(8),
            },
            ExecutionReport::Expired {
                client_id: None,
                order_id: fill.order_id,
                time: Timestamp::from_nanos(9),
            },
        ];
        for r in reports {
            let back: ExecutionReport =
                serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            assert_eq!(back, r);
        }
        assert_eq!(reports[0].time().as_nanos(), 7);
        assert_eq!(reports[4].time().as_nanos(), 9);
        let bad = serde_json::to_string(&fill)
            .unwrap()
            .replace("0.05", "\"x\"");
        assert!(serde_json::from_str::<Fill>(&bad).is_err());
    }
}
