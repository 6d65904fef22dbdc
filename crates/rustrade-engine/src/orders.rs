//! The book of our own orders: every order the engine has asked the driver to place, keyed by
//! client order id, with its venue id, role, fills and life-cycle status.
//!
//! # Invariants
//!
//! - A client id enters the book exactly once, when the engine emits the `Place` command for it;
//!   ids are never reused (see [`crate::ClientIdSequence`]).
//! - `filled <= quantity` unless the venue over-fills, which is applied (the venue is the truth for
//!   executions) and reported as malformed input.
//! - Status moves only forward: `Pending → Accepted → PartiallyFilled → Filled`, or from any live
//!   status to `Cancelled`, `Rejected` or `Expired`. A fill arriving for a terminal order is still
//!   applied to positions, because venues may report a fill after the cancel that raced it.
//! - Live orders are boxed in their map, so inserting, removing and rebalancing move a pointer
//!   rather than the whole order (a bot can hold many orders in flight).
//! - Terminal orders leave the live map and are kept in a bounded list of retired orders (the
//!   oldest are forgotten first), so memory does not grow with history.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::BuildHasherDefault;

use rustrade_core::{ClientOrderId, Order, OrderId, OrderStatus, Quantity, Symbol, Timestamp};

use crate::BrainId;
use crate::engine::Fnv64;

/// Why an order exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderRole {
    /// Opens or increases a position; passed the risk gate chain.
    Entry,
    /// Reduces or closes a position (never blocked by the gates).
    Exit(ExitReason),
    /// Venue-held protective stop of a bracket.
    StopLeg,
    /// Venue-held take-profit of a bracket.
    TakeProfitLeg,
    /// Venue-held trailing stop of a bracket.
    TrailingLeg,
}

impl OrderRole {
    /// Whether the order is a venue-held protective leg of a bracket.
    pub const fn is_leg(self) -> bool {
        matches!(
            self,
            Self::StopLeg | Self::TakeProfitLeg | Self::TrailingLeg
        )
    }

    /// Whether the order can only reduce a position.
    pub const fn is_exit(self) -> bool {
        !matches!(self, Self::Entry)
    }
}

/// What triggered an exit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// A brain decided to close or reverse.
    Decision,
    /// An engine-emulated stop was crossed by a market event.
    EmulatedStop,
    /// An engine-emulated take-profit was crossed by a market event.
    EmulatedTakeProfit,
    /// An engine-emulated trailing stop was crossed by a market event.
    EmulatedTrailingStop,
    /// A protective leg was rejected and the policy closes the unprotected entry.
    LegRejected,
}

/// One of our orders and what we know of it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrackedOrder {
    /// The order as sent.
    pub order: Order,
    /// The brain it is attributed to.
    pub brain: BrainId,
    /// Why it exists.
    pub role: OrderRole,
    /// Client id of the entry whose bracket this order belongs to (legs and emulated exits).
    pub parent: Option<ClientOrderId>,
    /// The venue's id, once acknowledged.
    pub venue_id: Option<OrderId>,
    /// Life-cycle status.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled: Quantity,
    /// Volume-weighted price of the fills so far (`0` before the first fill).
    pub avg_fill_price: f64,
    /// Fees of the fills so far.
    pub fees: f64,
    /// When the engine emitted the place command.
    pub created: Timestamp,
    /// Last status change.
    pub updated: Timestamp,
    /// Whether the engine has asked for a cancel that is not confirmed yet.
    pub cancel_requested: bool,
}

impl TrackedOrder {
    /// The symbol of the order.
    pub fn symbol(&self) -> Symbol {
        self.order.symbol
    }

    /// Quantity still working (`quantity − filled`, never negative).
    pub fn remaining(&self) -> Quantity {
        self.order.quantity.saturating_sub(self.filled)
    }

    /// Whether the order may still fill.
    pub fn is_live(&self) -> bool {
        self.status.is_live()
    }
}

/// Live and recently retired orders, with the venue-id index.
///
/// The venue-id index is a hash map used only for lookups (never iterated); it is not
/// serialised but rebuilt from the orders when a book is deserialised.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(from = "RawBook", into = "RawBook")]
pub struct OrderBook {
    live: BTreeMap<ClientOrderId, Box<TrackedOrder>>,
    retired: VecDeque<TrackedOrder>,
    by_venue_id: HashMap<OrderId, ClientOrderId, BuildHasherDefault<Fnv64>>,
    retired_capacity: usize,
}

/// Serialised form of an [`OrderBook`].
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct RawBook {
    live: BTreeMap<ClientOrderId, TrackedOrder>,
    retired: VecDeque<TrackedOrder>,
    retired_capacity: usize,
}

impl From<RawBook> for OrderBook {
    fn from(raw: RawBook) -> Self {
        let by_venue_id = raw
            .retired
            .iter()
            .chain(raw.live.values())
            .filter_map(|o| o.venue_id.map(|v| (v, o.order.client_id)))
            .collect();
        Self {
            live: raw
                .live
                .into_iter()
                .map(|(k, o)| (k, Box::new(o)))
                .collect(),
            retired: raw.retired,
            by_venue_id,
            retired_capacity: raw.retired_capacity,
        }
    }
}

impl From<OrderBook> for RawBook {
    fn from(book: OrderBook) -> Self {
        Self {
            live: book.live.into_iter().map(|(k, o)| (k, *o)).collect(),
            retired: book.retired,
            retired_capacity: book.retired_capacity,
        }
    }
}

impl OrderBook {
    /// An empty book keeping at most `retired_capacity` terminal orders.
    pub fn new(retired_capacity: usize) -> Self {
        Self {
            retired_capacity,
            ..Self::default()
        }
    }

    /// Live orders in client-id order.
    pub fn live(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.live.values().map(|o| &**o)
    }

    /// Recently retired orders, oldest first.
    pub fn retired(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.retired.iter()
    }

    /// A live or retired order by client id.
    pub fn get(&self, id: &ClientOrderId) -> Option<&TrackedOrder> {
        self.live
            .get(id)
            .map(|o| &**o)
            .or_else(|| self.retired.iter().rev().find(|o| o.order.client_id == *id))
    }

    /// The client id of the order the venue knows as `venue_id`.
    pub fn client_id_of(&self, venue_id: &OrderId) -> Option<ClientOrderId> {
        self.by_venue_id.get(venue_id).copied()
    }

    pub(crate) fn insert(&mut self, order: TrackedOrder) {
        self.live.insert(order.order.client_id, Box::new(order));
    }

    pub(crate) fn get_mut(&mut self, id: &ClientOrderId) -> Option<&mut TrackedOrder> {
        let retired = &mut self.retired;
        self.live
            .get_mut(id)
            .map(|o| &mut **o)
            .or_else(|| retired.iter_mut().rev().find(|o| o.order.client_id == *id))
    }

    pub(crate) fn live_mut(&mut self, id: &ClientOrderId) -> Option<&mut TrackedOrder> {
        self.live.get_mut(id).map(|o| &mut **o)
    }

    pub(crate) fn index_venue_id(&mut self, venue_id: OrderId, client_id: ClientOrderId) {
        self.by_venue_id.insert(venue_id, client_id);
    }

    /// Moves a terminal order from the live map to the retired list.
    pub(crate) fn retire(&mut self, id: &ClientOrderId) {
        let Some(order) = self.live.remove(id) else {
            return;
        };
        if self.retired_capacity == 0 {
            if let Some(v) = order.venue_id {
                self.by_venue_id.remove(&v);
            }
            return;
        }
        if self.retired.len() == self.retired_capacity
            && let Some(old) = self.retired.pop_front()
            && let Some(v) = old.venue_id
        {
            self.by_venue_id.remove(&v);
        }
        self.retired.push_back(*order);
    }
}
