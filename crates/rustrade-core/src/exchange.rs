//! [`ExchangeClient`]: the order-entry and account side of a venue, and its [`Capability`] set.

use crate::{
    Asset, ClientOrderId, ExchangeError, Fill, FillId, InstrumentSpec, Money, OpenOrder, Order,
    OrderId, OrderKind, Position, Price, Symbol, Timestamp, Venue,
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

/// An order as the venue knows it, open or finished: what [`ExchangeClient::order_status`]
/// answers. `order.status` is the venue's verdict (`Filled`, `Cancelled`, `Expired`, `Rejected`
/// are final) and `order.filled` the quantity executed so far.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderState {
    /// The order with its status and filled quantity.
    pub order: OpenOrder,
    /// Volume-weighted price of the fills so far; `None` while nothing filled.
    pub avg_fill_price: Option<Price>,
}

/// Where a fill catch-up resumes: the last fill already applied on a symbol.
///
/// Venues whose trade ids grow (most: Binance `fromId`) start after `after`; others list
/// fills at or after `since` and may repeat fills already seen. Either way the caller
/// deduplicates by [`Fill::fill_id`], so an overlapping page is harmless and a gap is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FillCursor {
    /// The last fill applied, if any.
    pub after: Option<FillId>,
    /// Its venue time (or the time from which to search when nothing was applied yet).
    pub since: Timestamp,
}

impl FillCursor {
    /// A cursor that starts at `since`, with no fill applied yet.
    pub const fn since(since: Timestamp) -> Self {
        Self { after: None, since }
    }

    /// The cursor just after `fill`.
    pub const fn after(fill: &Fill) -> Self {
        Self {
            after: Some(fill.fill_id),
            since: fill.time,
        }
    }
}

/// Order entry and account queries on one venue.
///
/// # What recovery needs from an adapter
///
/// A bot killed at any instant must learn, on restart, everything the venue did meanwhile. Four
/// calls carry that, and each must keep its promise exactly:
///
/// - [`order_status`](Self::order_status) finds **any** order the venue still knows by our client
///   id — open or finished (filled, cancelled, expired, rejected) — with its filled quantity.
///   `Ok(None)` is a *definite* "never received" (Binance `-2013`); an error is not an answer and
///   leaves the order unknown.
/// - [`fills_since`](Self::fills_since) lists our fills on a symbol after a [`FillCursor`],
///   oldest first, with the venue's trade id, fee and time. It returns one page (possibly
///   overlapping the cursor); the caller asks again from the last fill until a page brings
///   nothing new, so an adapter never needs to fetch more than one venue page per call.
/// - [`open_orders`](Self::open_orders) lists every working order, including conditional ones
///   held apart (futures algo orders).
/// - [`positions`](Self::positions) reports every non-flat position the account holds.
///
/// `place_order` must send our client id so that a placement retried after a timeout is
/// recognised, and must return an error that says *unknown outcome* (a [`ExchangeError::Transport`]
/// or [`ExchangeError::Timeout`]) whenever the request may have reached the venue without an
/// answer: the bot then looks the order up rather than assuming a rejection.
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
/// /// A venue that refuses every order, so it never holds one: each lookup below is a true,
/// /// definite "nothing" (an order it refused was never received as an order).
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
///         Err(ExchangeError::Rejected { reason: format!("null venue: {} refused", o.client_id) })
///     }
///     async fn cancel_order(&self, _: &Symbol, c: &ClientOrderId, _: Option<&OrderId>)
///         -> Result<(), ExchangeError> { Err(ExchangeError::UnknownOrder(c.to_string())) }
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
///     async fn order_status(&self, _: &Symbol, _: &ClientOrderId)
///         -> Result<Option<OrderState>, ExchangeError> { Ok(None) }
///     async fn fills_since(&self, _: &Symbol, _: &FillCursor) -> Result<Vec<Fill>, ExchangeError> {
///         Ok(vec![])
///     }
///     async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError> { Ok(vec![]) }
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

    /// Any order the venue knows by our client id, open or finished; `Ok(None)` only when the
    /// venue definitely never received it (see the trait's recovery rules).
    async fn order_status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, ExchangeError>;

    /// One page of our fills on `symbol` after `cursor`, oldest first (see the trait's
    /// recovery rules); an empty page means nothing newer.
    async fn fills_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, ExchangeError>;

    /// Every non-flat position the account holds, one per symbol.
    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError>;

    /// Checks that the venue accepts every client order id composed under `prefix`
    /// ([`ClientOrderId::compose`]: `"{prefix}-{brain}-{seq}"`), before anything is sent.
    ///
    /// The bot calls it with its name at construction, so a name the venue would refuse is a
    /// start-up error naming the name and the character, not a refusal of every order. The
    /// default accepts any prefix: core's client id rules are those of most venues. A venue that
    /// accepts fewer characters (Binance refuses `.`, `:` and `/`) overrides it.
    fn check_client_id_prefix(&self, prefix: &str) -> Result<(), ExchangeError> {
        let _ = prefix;
        Ok(())
    }

    /// The order with our client id while it is still working (pending, accepted or partly
    /// filled); `None` when it is finished or unknown.
    ///
    /// By default one [`order_status`](Self::order_status) lookup, keeping only a live answer,
    /// rather than listing every open order: a finished order is not open, and callers who need
    /// finished orders ask `order_status` itself. Its errors pass through unchanged.
    async fn find_order(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OpenOrder>, ExchangeError> {
        Ok(self
            .order_status(symbol, client_id)
            .await?
            .map(|state| state.order)
            .filter(|order| order.status.is_live()))
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
