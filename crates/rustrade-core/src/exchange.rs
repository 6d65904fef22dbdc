//! [`ExchangeClient`]: the order-entry and account side of a venue, and its [`Capability`] set.

use crate::{
    Asset, ClientOrderId, ExchangeError, InstrumentSpec, Money, OpenOrder, Order, OrderId,
    OrderKind, Position, Symbol, Venue,
};

/// A feature a venue may or may not offer. The engine refuses a request needing a missing
/// capability rather than silently changing it (a post-only entry is never sent as a plain limit).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Capability {
    /// Market orders.
    MarketOrders,
    /// Limit orders.
    LimitOrders,
    /// Post-only limit orders.
    PostOnly,
    /// Immediate-or-cancel limit orders.
    Ioc,
    /// Fill-or-kill limit orders.
    Fok,
    /// Stop-market orders held at the venue.
    StopMarket,
    /// Stop-limit orders held at the venue.
    StopLimit,
    /// Take-profit orders held at the venue.
    TakeProfit,
    /// Trailing stops held at the venue.
    TrailingStop,
    /// The reduce-only flag.
    ReduceOnly,
    /// Open orders can be listed and looked up by client id, so resting orders can be tracked.
    OrderTracking,
    /// The venue reports positions (derivatives); spot venues derive them from balances.
    Positions,
}

impl Capability {
    /// Every capability, in declaration order: for building capability sets and checking an
    /// adapter against each one.
    pub const ALL: [Self; 12] = [
        Self::MarketOrders,
        Self::LimitOrders,
        Self::PostOnly,
        Self::Ioc,
        Self::Fok,
        Self::StopMarket,
        Self::StopLimit,
        Self::TakeProfit,
        Self::TrailingStop,
        Self::ReduceOnly,
        Self::OrderTracking,
        Self::Positions,
    ];

    /// The capability an order kind needs.
    pub const fn for_kind(kind: OrderKind) -> Self {
        match kind {
            OrderKind::Market => Self::MarketOrders,
            OrderKind::Limit => Self::LimitOrders,
            OrderKind::PostOnly => Self::PostOnly,
            OrderKind::Ioc => Self::Ioc,
            OrderKind::Fok => Self::Fok,
            OrderKind::StopMarket => Self::StopMarket,
            OrderKind::StopLimit => Self::StopLimit,
            OrderKind::TakeProfit => Self::TakeProfit,
            OrderKind::TrailingStop => Self::TrailingStop,
        }
    }
}

/// An account balance in one asset.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Balance {
    /// The asset.
    pub asset: Asset,
    /// Available to trade.
    pub free: Money,
    /// Held by open orders or margin.
    pub locked: Money,
}

/// Order entry and account queries on one venue.
///
/// Implementations speak the venue's real protocol (or simulate it). Rules every implementation
/// keeps: `place_order` sends the order's `client_id` so a retried placement is recognised by the
/// venue rather than duplicated; prices and quantities are rendered with the instrument's exact
/// decimal rendering; errors say whether they are retryable ([`ExchangeError::is_retryable`]).
///
/// Inside rustrade, only the engine's risk-approved orders reach `place_order`.
///
/// ```
/// use rustrade_core::*;
///
/// /// A venue that accepts every order and holds nothing.
/// struct Null;
///
/// #[async_trait]
/// impl ExchangeClient for Null {
///     fn venue(&self) -> Venue { Venue::new("null").unwrap() }
///     fn supports(&self, cap: Capability) -> bool { cap == Capability::MarketOrders }
///     async fn instrument(&self, s: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
///         Ok(InstrumentSpec::new(*s, AssetClass::CryptoSpot, 0.01, 0.001)?)
///     }
///     async fn place_order(&self, o: &Order) -> Result<OrderId, ExchangeError> {
///         Ok(OrderId::new(o.client_id.as_str())?)
///     }
///     async fn cancel_order(&self, _: &Symbol, _: &ClientOrderId, _: Option<&OrderId>)
///         -> Result<(), ExchangeError> { Ok(()) }
///     async fn cancel_all(&self, _: &Symbol) -> Result<usize, ExchangeError> { Ok(0) }
///     async fn open_orders(&self, _: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
///         Ok(vec![])
///     }
///     async fn position(&self, _: &Symbol) -> Result<Position, ExchangeError> { Ok(Position::FLAT) }
///     async fn balance(&self, a: &Asset) -> Result<Balance, ExchangeError> {
///         Ok(Balance { asset: *a, free: Money::ZERO, locked: Money::ZERO })
///     }
///     async fn close_position(&self, _: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
///         Ok(None)
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait ExchangeClient: Send + Sync {
    /// Which venue this is.
    fn venue(&self) -> Venue;

    /// Whether the venue offers `capability`.
    fn supports(&self, capability: Capability) -> bool;

    /// Trading rules of `symbol`.
    async fn instrument(&self, symbol: &Symbol) -> Result<InstrumentSpec, ExchangeError>;

    /// Sends an order; returns the venue's id once accepted for processing.
    async fn place_order(&self, order: &Order) -> Result<OrderId, ExchangeError>;

    /// Cancels one order, by our id and, when known, the venue's.
    async fn cancel_order(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Result<(), ExchangeError>;

    /// Cancels every open order in `symbol`; returns how many were cancelled.
    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, ExchangeError>;

    /// Open orders, in one symbol or all.
    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError>;

    /// The venue's view of our position in `symbol`.
    async fn position(&self, symbol: &Symbol) -> Result<Position, ExchangeError>;

    /// Balance of `asset`.
    async fn balance(&self, asset: &Asset) -> Result<Balance, ExchangeError>;

    /// Closes the whole position in `symbol` with a reduce-only market order; `None` when flat.
    async fn close_position(&self, symbol: &Symbol) -> Result<Option<OrderId>, ExchangeError>;

    /// Looks an order up by our client id (open orders only, by default).
    async fn find_order(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OpenOrder>, ExchangeError> {
        Ok(self
            .open_orders(Some(symbol))
            .await?
            .into_iter()
            .find(|o| o.client_id.as_ref() == Some(client_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_a_capability() {
        let kinds = [
            OrderKind::Market,
            OrderKind::Limit,
            OrderKind::PostOnly,
            OrderKind::Ioc,
            OrderKind::Fok,
            OrderKind::StopMarket,
            OrderKind::StopLimit,
            OrderKind::TakeProfit,
            OrderKind::TrailingStop,
        ];
        let caps: std::collections::BTreeSet<_> =
            kinds.iter().map(|k| Capability::for_kind(*k)).collect();
        assert_eq!(caps.len(), kinds.len());
        let back: Capability = serde_json::from_str("\"post_only\"").unwrap();
        assert_eq!(back, Capability::PostOnly);
    }

    #[test]
    fn balance_round_trip() {
        let b = Balance {
            asset: Asset::new("USDT").unwrap(),
            free: Money::new(10.0).unwrap(),
            locked: Money::ZERO,
        };
        let back: Balance = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        assert_eq!(back, b);
    }
}
