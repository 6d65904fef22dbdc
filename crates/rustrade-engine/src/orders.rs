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
//! - Live orders sit in a slab (a `Vec` with a free list); the ordered index of live client ids
//!   (a [`SmallMap`]: a sorted `Vec` while a handful of orders are in flight, a `BTreeMap`
//!   past its capacity) holds only each order's slot, so inserting and removing move a small handle
//!   rather than the whole order, and a placed order costs no heap allocation once the slab has
//!   grown to the number of orders in flight. A slot is on the free list exactly when no index
//!   entry names it.
//! - Terminal orders leave the live index and their slots join a bounded list of retired slots
//!   (the oldest are forgotten first, and only then is a slot freed), so retiring moves a slot
//!   number rather than the order, and memory does not grow with history. A slot is named by at
//!   most one of the live index and the retired list.

use std::collections::{BTreeMap, VecDeque};

use rustrade_core::{ClientOrderId, Order, OrderId, OrderStatus, Quantity, Symbol, Timestamp};

use crate::BrainId;
use rustrade_core::{PrintSlab, SmallMap};

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
    /// The operator (or the bot's shutdown) closed every position ([`crate::Engine::flatten_all`]).
    Operator,
    /// The venue's position differed from ours and the drift policy closes it
    /// ([`crate::DriftPolicy::Flatten`]).
    Drift,
}

impl ExitReason {
    /// Whether the engine placed the exit to protect a position (every reason but a brain's own
    /// decision): such an exit is sent again when the venue refuses it.
    pub fn is_protective(self) -> bool {
        self != Self::Decision
    }
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
    /// When the unconfirmed cancel was last sent; it is sent again after
    /// [`EngineConfig::cancel_retry`](crate::EngineConfig::cancel_retry).
    #[serde(default)]
    pub cancel_sent: Option<Timestamp>,
    /// The placement's outcome is unknown (no answer, or a transport failure): the order is
    /// treated as live, its reservation held, until a lookup at the venue settles it.
    #[serde(default)]
    pub outcome_unknown: bool,
    /// What the venue last reported filled of the order, kept while it exceeds the fills
    /// applied: a venue's status can run ahead of its fill history, so the missing fills are
    /// on their way. Meanwhile the order is not judged missing from the venue's open list nor
    /// given a final status, and the difference explains the venue's position (no drift).
    #[serde(default)]
    pub venue_filled: Option<Quantity>,
}

impl TrackedOrder {
    /// A new order as the engine emits its `Place` command at `now`: pending, nothing filled.
    #[inline(always)]
    pub(crate) fn pending(
        order: Order,
        brain: BrainId,
        role: OrderRole,
        parent: Option<ClientOrderId>,
        now: Timestamp,
    ) -> Self {
        Self {
            order,
            brain,
            role,
            parent,
            venue_id: None,
            status: OrderStatus::Pending,
            filled: Quantity::ZERO,
            avg_fill_price: 0.0,
            fees: 0.0,
            created: now,
            updated: now,
            cancel_requested: false,
            cancel_sent: None,
            outcome_unknown: false,
            venue_filled: None,
        }
    }

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

    /// The quantity the venue reported filled beyond the fills applied, when it is at least
    /// half of `lot` (see [`TrackedOrder::venue_filled`]); `0` otherwise.
    pub fn fills_awaited(&self, lot: f64) -> f64 {
        let ahead = self
            .venue_filled
            .map_or(0.0, |v| v.get() - self.filled.get());
        if ahead >= lot / 2.0 { ahead } else { 0.0 }
    }
}

/// Live and recently retired orders, with the venue-id index.
///
/// The venue-id index is a fingerprint table used only for lookups (never iterated into
/// output); it is not serialised but rebuilt from the orders when a book is deserialised.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "RawBook", into = "RawBook")]
pub struct OrderBook {
    /// Client id → slab slot of each live order, in client-id order.
    live: SmallMap<ClientOrderId, usize>,
    slots: Vec<TrackedOrder>,
    free: Vec<usize>,
    /// Slots of retired orders, oldest first.
    retired: VecDeque<usize>,
    by_venue_id: VenueIndex,
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
        let mut by_venue_id = VenueIndex::default();
        for o in raw.retired.iter().chain(raw.live.values()) {
            if let Some(v) = o.venue_id {
                by_venue_id.insert(v, o.order.client_id);
            }
        }
        let mut book = Self {
            by_venue_id,
            retired_capacity: raw.retired_capacity,
            ..Self::default()
        };
        for o in raw.retired {
            book.retired.push_back(book.slots.len());
            book.slots.push(o);
        }
        for (_, o) in raw.live {
            book.insert(o);
        }
        book
    }
}

impl From<OrderBook> for RawBook {
    fn from(book: OrderBook) -> Self {
        Self {
            live: book.live().map(|o| (o.order.client_id, *o)).collect(),
            retired: book.retired().copied().collect(),
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
        self.live.values().map(|&i| &self.slots[i])
    }

    /// Recently retired orders, oldest first.
    pub fn retired(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.retired.iter().map(|&i| &self.slots[i])
    }

    /// A live or retired order by client id.
    pub fn get(&self, id: &ClientOrderId) -> Option<&TrackedOrder> {
        self.find(id).map(|i| &self.slots[i])
    }

    /// The client id of the order the venue knows as `venue_id`.
    pub fn client_id_of(&self, venue_id: &OrderId) -> Option<ClientOrderId> {
        self.by_venue_id.get(venue_id)
    }

    pub(crate) fn insert(&mut self, order: TrackedOrder) {
        self.insert_with(order.order.client_id, || order);
    }

    /// Inserts the order `make` builds under `cid` (its client id). Each branch calls `make`
    /// itself, so the order is built where it is stored rather than built and then copied
    /// into the slab (an order is a few hundred bytes, placed twice per round trip).
    #[inline(always)]
    pub(crate) fn insert_with(&mut self, cid: ClientOrderId, make: impl FnOnce() -> TrackedOrder) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = make();
                i
            }
            None => {
                let i = self.slots.len();
                self.slots.push(make());
                i
            }
        };
        if let Some(old) = self.live.insert(cid, slot) {
            // Client ids are never reused; should one be, its older order's slot is freed.
            self.free.push(old);
        }
    }

    pub(crate) fn get_mut(&mut self, id: &ClientOrderId) -> Option<&mut TrackedOrder> {
        let i = self.find(id)?;
        Some(&mut self.slots[i])
    }

    /// The slot of a live or retired order, for [`Self::at`] and [`Self::at_mut`]; valid until
    /// the book changes.
    pub(crate) fn find(&self, id: &ClientOrderId) -> Option<usize> {
        self.live.get(id).copied().or_else(|| {
            self.retired
                .iter()
                .rev()
                .copied()
                .find(|&i| self.slots[i].order.client_id == *id)
        })
    }

    /// The order in a slot returned by [`Self::find`].
    pub(crate) fn at(&self, slot: usize) -> &TrackedOrder {
        &self.slots[slot]
    }

    /// The order in a slot returned by [`Self::find`].
    pub(crate) fn at_mut(&mut self, slot: usize) -> &mut TrackedOrder {
        &mut self.slots[slot]
    }

    pub(crate) fn live_mut(&mut self, id: &ClientOrderId) -> Option<&mut TrackedOrder> {
        let i = *self.live.get(id)?;
        Some(&mut self.slots[i])
    }

    pub(crate) fn index_venue_id(&mut self, venue_id: OrderId, client_id: ClientOrderId) {
        self.by_venue_id.insert(venue_id, client_id);
    }

    /// Moves a terminal order from the live index to the retired list; the order stays in its
    /// slot until it is forgotten.
    pub(crate) fn retire(&mut self, id: &ClientOrderId) {
        let Some(slot) = self.live.remove(id) else {
            return;
        };
        self.retired.push_back(slot);
        if self.retired.len() > self.retired_capacity
            && let Some(old) = self.retired.pop_front()
        {
            self.free.push(old);
            if let Some(v) = &self.slots[old].venue_id {
                self.by_venue_id.remove(v);
            }
        }
    }
}

impl PartialEq for OrderBook {
    /// Books are equal when they hold the same live orders (in client-id order), the same
    /// retired orders and the same retention, whatever slots the live orders occupy.
    fn eq(&self, other: &Self) -> bool {
        self.retired_capacity == other.retired_capacity
            && self.live.len() == other.live.len()
            && self.live().eq(other.live())
            && self.retired().eq(other.retired())
            && self.by_venue_id == other.by_venue_id
    }
}

/// Venue order id → client order id: a map with `HashMap`'s insert (replacing), remove and get,
/// over a [`PrintSlab`] keyed by the venue ids' fingerprints.
#[derive(Debug, Clone, Default)]
struct VenueIndex {
    entries: PrintSlab<(OrderId, ClientOrderId)>,
}

impl VenueIndex {
    #[inline]
    fn get(&self, venue_id: &OrderId) -> Option<ClientOrderId> {
        let (_, c) = self
            .entries
            .find(venue_id.fingerprint(), |(v, _)| v == venue_id)?;
        Some(*c)
    }

    #[inline]
    fn insert(&mut self, venue_id: OrderId, client_id: ClientOrderId) {
        let print = venue_id.fingerprint();
        if let Some(e) = self.entries.find_mut(print, |(v, _)| *v == venue_id) {
            e.1 = client_id;
            return;
        }
        // Four billion acknowledged orders remembered at once do not fit in memory: a refused
        // insert cannot happen.
        let _ = self.entries.insert(print, (venue_id, client_id));
    }

    #[inline]
    fn remove(&mut self, venue_id: &OrderId) {
        let _ = self
            .entries
            .take(venue_id.fingerprint(), |(v, _)| v == venue_id);
    }
}

impl PartialEq for VenueIndex {
    /// Indexes are equal when they map the same venue ids to the same client ids.
    fn eq(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.values().all(|(v, c)| other.get(v) == Some(*c))
    }
}

#[cfg(test)]
mod tests {
    use rustrade_core::{Side, Timestamp};

    use super::*;

    fn order(cid: &str, venue: Option<&str>) -> TrackedOrder {
        TrackedOrder {
            order: Order::market(
                ClientOrderId::new(cid).unwrap(),
                Symbol::new("BTCUSDT").unwrap(),
                Side::Buy,
                Quantity::new(1.0).unwrap(),
            ),
            brain: BrainId(0),
            role: OrderRole::Entry,
            parent: None,
            venue_id: venue.map(|v| OrderId::new(v).unwrap()),
            status: OrderStatus::Accepted,
            filled: Quantity::ZERO,
            avg_fill_price: 0.0,
            fees: 0.0,
            created: Timestamp::EPOCH,
            updated: Timestamp::EPOCH,
            cancel_requested: false,
            cancel_sent: None,
            outcome_unknown: false,
            venue_filled: None,
        }
    }

    fn cid(s: &str) -> ClientOrderId {
        ClientOrderId::new(s).unwrap()
    }

    #[test]
    fn retired_slots_are_reused_and_lookups_stay_exact() {
        let mut book = OrderBook::new(2);
        for (c, v) in [("a", "1"), ("b", "2"), ("c", "3")] {
            book.insert(order(c, Some(v)));
            book.index_venue_id(OrderId::new(v).unwrap(), cid(c));
        }
        book.retire(&cid("b"));
        book.insert(order("d", None));
        // "b" keeps its slot while it is remembered, so "d" took a new one.
        assert_eq!(book.slots.len(), 4);
        let live: Vec<_> = book.live().map(|o| o.order.client_id.as_str()).collect();
        assert_eq!(live, ["a", "c", "d"]);
        assert_eq!(book.get(&cid("b")).unwrap().order.client_id, cid("b"));
        assert!(book.live_mut(&cid("b")).is_none());
        book.get_mut(&cid("b")).unwrap().fees = 2.0;
        assert_eq!(book.get(&cid("b")).unwrap().fees, 2.0);
        book.live_mut(&cid("d")).unwrap().cancel_requested = true;
        assert!(book.get(&cid("d")).unwrap().cancel_requested);
        assert!(!book.get(&cid("a")).unwrap().cancel_requested);
        // Retiring past the retention forgets the oldest and its venue id, and frees its slot.
        book.retire(&cid("a"));
        book.retire(&cid("c"));
        assert!(book.get(&cid("b")).is_none());
        assert_eq!(book.client_id_of(&OrderId::new("2").unwrap()), None);
        assert_eq!(
            book.client_id_of(&OrderId::new("3").unwrap()),
            Some(cid("c"))
        );
        let retired: Vec<_> = book.retired().map(|o| o.order.client_id.as_str()).collect();
        assert_eq!(retired, ["a", "c"]);
        book.insert(order("e", None));
        // "e" took the slot "b" left; the slab did not grow.
        assert_eq!(book.slots.len(), 4);
        assert_eq!(book.get(&cid("a")).unwrap().order.client_id, cid("a"));
        book.retire(&cid("zz"));
        assert_eq!(book.live().count(), 2);

        // Without retention a retired order is forgotten at once.
        let mut none = OrderBook::new(0);
        none.insert(order("a", Some("1")));
        none.index_venue_id(OrderId::new("1").unwrap(), cid("a"));
        none.retire(&cid("a"));
        assert!(none.get(&cid("a")).is_none());
        assert_eq!(none.client_id_of(&OrderId::new("1").unwrap()), None);
        none.insert(order("b", None));
        assert_eq!(none.slots.len(), 1);
    }

    #[test]
    fn equality_and_serde_ignore_slot_placement() {
        let mut a = OrderBook::new(4);
        a.insert(order("x", None));
        a.insert(order("y", None));
        a.retire(&cid("x"));
        a.insert(order("z", None));
        let mut b = OrderBook::new(4);
        b.insert(order("x", None));
        b.retire(&cid("x"));
        b.insert(order("y", None));
        b.insert(order("z", None));
        assert_eq!(a, b);
        let back: OrderBook = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        b.live_mut(&cid("z")).unwrap().fees = 1.0;
        assert_ne!(a, b);
    }

    #[test]
    fn venue_index_behaves_as_a_hash_map() {
        let mut index = VenueIndex::default();
        let mut model = std::collections::HashMap::new();
        let mut state = 11u64;
        for step in 0..3_000u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let v = OrderId::new(&format!("v{}", (state >> 33) % 40)).unwrap();
            let c = cid(&format!("c{}", (state >> 40) % 7));
            if (state >> 50).is_multiple_of(3) {
                index.remove(&v);
                model.remove(&v);
            } else {
                index.insert(v, c);
                model.insert(v, c);
            }
            assert_eq!(index.entries.len(), model.len(), "{step}");
            for n in 0..40 {
                let v = OrderId::new(&format!("v{n}")).unwrap();
                assert_eq!(index.get(&v), model.get(&v).copied(), "{step} {v}");
            }
        }
        let mut rebuilt = VenueIndex::default();
        for (v, c) in &model {
            rebuilt.insert(*v, *c);
        }
        assert_eq!(rebuilt, index);
        rebuilt.insert(OrderId::new("other").unwrap(), cid("c0"));
        assert_ne!(rebuilt, index);
    }
}
