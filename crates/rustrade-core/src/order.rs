//! Orders: what we send ([`Order`]), what the venue holds ([`OpenOrder`]) and their status.
//!
//! An [`Order`] is the wire-level instruction an adapter renders; inside rustrade it is only ever
//! built by the engine from a risk-approved intent.

use crate::{ClientOrderId, OrderId, Price, Quantity, Side, Symbol, Timestamp, ValueError};

/// The kind of order a strategy may request.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// Fill now at the best available price.
    Market,
    /// Rest at a limit price until filled or cancelled.
    Limit,
    /// Limit order that must add liquidity; rejected if it would take.
    PostOnly,
    /// Limit order: fill what is possible now, cancel the rest.
    Ioc,
    /// Limit order: fill entirely now or not at all.
    Fok,
    /// Market order once the trigger price trades.
    StopMarket,
    /// Limit order once the trigger price trades.
    StopLimit,
    /// Market order once a favourable trigger price trades.
    TakeProfit,
    /// Stop whose trigger follows the best price by a fixed offset.
    TrailingStop,
}

impl OrderKind {
    /// The time in force this kind implies.
    pub const fn time_in_force(self) -> TimeInForce {
        match self {
            Self::PostOnly => TimeInForce::PostOnly,
            Self::Ioc => TimeInForce::Ioc,
            Self::Fok => TimeInForce::Fok,
            _ => TimeInForce::Gtc,
        }
    }

    /// Whether the kind carries a limit price.
    pub const fn needs_limit_price(self) -> bool {
        matches!(
            self,
            Self::Limit | Self::PostOnly | Self::Ioc | Self::Fok | Self::StopLimit
        )
    }

    /// Whether the kind carries a trigger price.
    pub const fn needs_trigger_price(self) -> bool {
        matches!(self, Self::StopMarket | Self::StopLimit | Self::TakeProfit)
    }

    /// Whether the order waits for a trigger (stop, take-profit, trailing).
    pub const fn is_conditional(self) -> bool {
        matches!(
            self,
            Self::StopMarket | Self::StopLimit | Self::TakeProfit | Self::TrailingStop
        )
    }
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Post only (good till crossing).
    PostOnly,
}

/// Protective prices attached to an order, for venues that hold them natively with the entry.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Protection {
    /// Stop-loss trigger.
    pub stop: Option<Price>,
    /// Take-profit trigger.
    pub take_profit: Option<Price>,
}

/// An order instruction for a venue.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    /// Our idempotency key for this order.
    pub client_id: ClientOrderId,
    /// Instrument.
    pub symbol: Symbol,
    /// Direction.
    pub side: Side,
    /// Order kind.
    pub kind: OrderKind,
    /// Quantity, snapped to the instrument's lot, `> 0`.
    pub quantity: Quantity,
    /// Limit price, snapped to tick, for kinds that need one.
    pub limit_price: Option<Price>,
    /// Trigger price for stop and take-profit kinds.
    pub trigger_price: Option<Price>,
    /// Distance of a trailing stop's trigger from the best price, `> 0`.
    pub trailing_offset: Option<Price>,
    /// Time in force (normally [`OrderKind::time_in_force`]).
    pub time_in_force: TimeInForce,
    /// Only reduce an existing position, never open or increase one.
    pub reduce_only: bool,
    /// Protective prices the venue should attach, if it can.
    pub protection: Option<Protection>,
}

impl Order {
    /// A market order.
    pub fn market(
        client_id: ClientOrderId,
        symbol: Symbol,
        side: Side,
        quantity: Quantity,
    ) -> Self {
        Self {
            client_id,
            symbol,
            side,
            kind: OrderKind::Market,
            quantity,
            limit_price: None,
            trigger_price: None,
            trailing_offset: None,
            time_in_force: TimeInForce::Gtc,
            reduce_only: false,
            protection: None,
        }
    }

    /// A good-till-cancelled limit order.
    pub fn limit(
        client_id: ClientOrderId,
        symbol: Symbol,
        side: Side,
        quantity: Quantity,
        price: Price,
    ) -> Self {
        Self {
            kind: OrderKind::Limit,
            limit_price: Some(price),
            ..Self::market(client_id, symbol, side, quantity)
        }
    }

    /// Marks the order reduce-only.
    pub fn reduce_only(mut self) -> Self {
        self.reduce_only = true;
        self
    }

    /// Checks that the prices the kind needs are present and positive and the quantity is `> 0`.
    /// Inlined, with the errors built out of line: a venue checks every order it is sent.
    #[inline]
    pub fn validate(&self) -> Result<(), ValueError> {
        if self.quantity.get() <= 0.0 {
            return Err(not_positive("quantity", self.quantity.get()));
        }
        check_price(
            "limit_price",
            self.kind.needs_limit_price(),
            self.limit_price,
            self.kind,
        )?;
        check_price(
            "trigger_price",
            self.kind.needs_trigger_price(),
            self.trigger_price,
            self.kind,
        )?;
        let trailing = self.kind == OrderKind::TrailingStop;
        check_price("trailing_offset", trailing, self.trailing_offset, self.kind)?;
        Ok(())
    }
}

#[inline]
fn check_price(
    field: &'static str,
    needed: bool,
    value: Option<Price>,
    kind: OrderKind,
) -> Result<(), ValueError> {
    match (needed, value) {
        (true, None) => Err(missing_price(field, kind)),
        (true, Some(p)) if p.get() <= 0.0 => Err(not_positive(field, p.get())),
        _ => Ok(()),
    }
}

#[cold]
#[inline(never)]
fn missing_price(field: &'static str, kind: OrderKind) -> ValueError {
    ValueError::Inconsistent {
        field,
        reason: format!("a {kind:?} order needs {field}"),
    }
}

#[cold]
#[inline(never)]
fn not_positive(field: &'static str, value: f64) -> ValueError {
    ValueError::NotPositive { field, value }
}

/// Life-cycle status of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Sent, not yet acknowledged.
    Pending,
    /// Acknowledged and working.
    Accepted,
    /// Partly filled and still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled (by us, by the venue, or as the other leg of an OCO pair).
    Cancelled,
    /// Refused by the venue.
    Rejected,
    /// Expired (time in force or our TTL).
    Expired,
}

impl OrderStatus {
    /// Whether the order may still fill.
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Accepted | Self::PartiallyFilled)
    }
}

/// An order as the venue reports it (for reconciliation).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenOrder {
    /// The venue's id.
    pub order_id: OrderId,
    /// Our id, when the order was placed with one.
    pub client_id: Option<ClientOrderId>,
    /// Instrument.
    pub symbol: Symbol,
    /// Direction.
    pub side: Side,
    /// Kind.
    pub kind: OrderKind,
    /// Original quantity.
    pub quantity: Quantity,
    /// Quantity filled so far.
    pub filled: Quantity,
    /// Limit price, if any.
    pub limit_price: Option<Price>,
    /// Trigger price, if any.
    pub trigger_price: Option<Price>,
    /// Reduce-only flag.
    pub reduce_only: bool,
    /// Status at the venue.
    pub status: OrderStatus,
    /// When the venue created it.
    pub created: Timestamp,
}

impl OpenOrder {
    /// The venue's report of `order`, received under `order_id`, with `filled` executed so far
    /// and status `status`: what a venue (simulated or test double) lists for an order it holds.
    pub fn of(
        order: &Order,
        order_id: OrderId,
        filled: Quantity,
        status: OrderStatus,
        created: Timestamp,
    ) -> Self {
        Self {
            order_id,
            client_id: Some(order.client_id),
            symbol: order.symbol,
            side: order.side,
            kind: order.kind,
            quantity: order.quantity,
            filled,
            limit_price: order.limit_price,
            trigger_price: order.trigger_price,
            reduce_only: order.reduce_only,
            status,
            created,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (ClientOrderId, Symbol) {
        (
            ClientOrderId::new("t-0-1").unwrap(),
            Symbol::new("BTCUSDT").unwrap(),
        )
    }

    #[test]
    fn validate_requires_prices_for_the_kind() {
        let (c, s) = ids();
        let q = Quantity::new(1.0).unwrap();
        assert!(Order::market(c, s, Side::Buy, q).validate().is_ok());
        let mut o = Order::market(c, s, Side::Buy, q);
        o.kind = OrderKind::Limit;
        let e = o.validate().unwrap_err();
        assert!(e.to_string().contains("limit_price"), "{e}");
        o.kind = OrderKind::StopMarket;
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("trigger_price")
        );
        o.trigger_price = Some(Price::new(-1.0).unwrap());
        assert!(matches!(o.validate(), Err(ValueError::NotPositive { .. })));
        o.kind = OrderKind::TrailingStop;
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("trailing_offset")
        );
        let zero = Order::market(c, s, Side::Buy, Quantity::ZERO);
        assert!(zero.validate().is_err());
        let l = Order::limit(c, s, Side::Sell, q, Price::new(10.0).unwrap()).reduce_only();
        assert!(l.validate().is_ok() && l.reduce_only);
    }

    #[test]
    fn kind_properties() {
        assert_eq!(OrderKind::PostOnly.time_in_force(), TimeInForce::PostOnly);
        assert_eq!(OrderKind::Fok.time_in_force(), TimeInForce::Fok);
        assert_eq!(OrderKind::Market.time_in_force(), TimeInForce::Gtc);
        assert!(
            OrderKind::StopLimit.needs_limit_price() && OrderKind::StopLimit.needs_trigger_price()
        );
        assert!(OrderKind::TrailingStop.is_conditional() && !OrderKind::Limit.is_conditional());
        assert!(OrderStatus::PartiallyFilled.is_live() && !OrderStatus::Filled.is_live());
    }

    #[test]
    fn serde_round_trips() {
        let (c, s) = ids();
        let o = Order {
            protection: Some(Protection {
                stop: Some(Price::new(90.0).unwrap()),
                take_profit: None,
            }),
            ..Order::limit(
                c,
                s,
                Side::Buy,
                Quantity::new(2.0).unwrap(),
                Price::new(99.5).unwrap(),
            )
        };
        let back: Order = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(back, o);
        let oo = OpenOrder {
            order_id: OrderId::new("123").unwrap(),
            client_id: Some(c),
            symbol: s,
            side: Side::Sell,
            kind: OrderKind::StopMarket,
            quantity: Quantity::new(1.0).unwrap(),
            filled: Quantity::ZERO,
            limit_price: None,
            trigger_price: Some(Price::new(90.0).unwrap()),
            reduce_only: true,
            status: OrderStatus::Accepted,
            created: Timestamp::EPOCH,
        };
        let back: OpenOrder = serde_json::from_str(&serde_json::to_string(&oo).unwrap()).unwrap();
        assert_eq!(back, oo);
        for st in [OrderStatus::Pending, OrderStatus::Expired] {
            let back: OrderStatus =
                serde_json::from_str(&serde_json::to_string(&st).unwrap()).unwrap();
            assert_eq!(back, st);
        }
    }
}
