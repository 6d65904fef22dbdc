//! [`Working`]: the engine's order book together with the portfolio reservations of the entries
//! in flight, changed only together.
//!
//! # Invariants
//!
//! - **Reservations = working entries.** Every reservation held belongs to a live entry order
//!   that has not filled yet: it is taken with the entry ([`Working::place`]), confirmed at its
//!   first fill ([`Working::record_fill`]) and released when it ends unfilled
//!   ([`Working::end`]). A live entry may hold none: without portfolio limits nothing is
//!   reserved, and after a restart an entry that no longer fits keeps working unreserved.
//!   [`Working::check`] verifies it.
//! - Reservations are not part of the snapshot; [`Working::retake`] takes them again for the
//!   entries still live after a restore, oldest first.
//! - The book's own rules (ids never reused, statuses only forward, bounded retention) are in
//!   `orders.rs`.

use rustrade_core::{
    ClientOrderId, Fill, OrderId, OrderStatus, Quantity, SmallMap, Symbol, Timestamp,
};
use rustrade_risk::{EntryRequest, OpenExposure, ReservationId};

use crate::gate::RiskDesk;
use crate::{BrainId, InvariantViolation, OrderBook, OrderRole, TrackedOrder};

/// Our orders and the reservations of the working entries among them.
#[derive(Debug)]
pub(crate) struct Working {
    book: OrderBook,
    /// Reservation of each entry in flight, at most one per client id.
    reservations: SmallMap<ClientOrderId, ReservationId>,
}

impl Working {
    /// An empty book keeping at most `retired_capacity` terminal orders.
    pub(crate) fn new(retired_capacity: usize) -> Self {
        Self {
            book: OrderBook::new(retired_capacity),
            reservations: SmallMap::new(),
        }
    }

    /// The book, read-only.
    #[inline]
    pub(crate) fn book(&self) -> &OrderBook {
        &self.book
    }

    /// A live or retired order by client id.
    #[inline]
    pub(crate) fn get(&self, id: &ClientOrderId) -> Option<&TrackedOrder> {
        self.book.get(id)
    }

    /// Live orders in client-id order.
    #[inline]
    pub(crate) fn live(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.book.live()
    }

    /// Recently retired orders, oldest first.
    pub(crate) fn retired(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.book.retired()
    }

    /// The client id of the order the venue knows as `venue_id`.
    #[inline]
    pub(crate) fn client_id_of(&self, venue_id: &OrderId) -> Option<ClientOrderId> {
        self.book.client_id_of(venue_id)
    }

    /// The client id of an order in the book named by a report: our id when the book holds it,
    /// else the venue's id.
    pub(crate) fn resolve(
        &self,
        client_id: Option<ClientOrderId>,
        order_id: Option<&OrderId>,
    ) -> Option<ClientOrderId> {
        client_id
            .filter(|c| self.book.get(c).is_some())
            .or_else(|| order_id.and_then(|v| self.book.client_id_of(v)))
    }

    /// The book slot of the order a fill belongs to: by our client id, else by the venue's id.
    /// Valid until the book changes.
    #[inline]
    pub(crate) fn fill_slot(
        &self,
        client_id: Option<ClientOrderId>,
        order_id: &OrderId,
    ) -> Option<usize> {
        client_id.and_then(|c| self.book.find(&c)).or_else(|| {
            let c = self.book.client_id_of(order_id)?;
            self.book.find(&c)
        })
    }

    /// The order in a slot returned by [`Self::fill_slot`].
    #[inline]
    pub(crate) fn at(&self, slot: usize) -> &TrackedOrder {
        self.book.at(slot)
    }

    /// Adds the new order `cid` that `make` builds, holding `reservation` (an approved entry's)
    /// under its client id.
    #[inline(always)]
    pub(crate) fn place(
        &mut self,
        cid: ClientOrderId,
        make: impl FnOnce() -> TrackedOrder,
        reservation: Option<ReservationId>,
    ) {
        self.book.insert_with(cid, make);
        if let Some(r) = reservation {
            self.reservations.insert(cid, r);
        }
    }

    /// Records the venue's id of `client_id`: the placement is settled, and a pending order is
    /// accepted. `None` for an order the book does not hold; `Some(false)` when the id was
    /// already known.
    #[inline(always)]
    pub(crate) fn acknowledge(
        &mut self,
        client_id: ClientOrderId,
        order_id: OrderId,
        now: Timestamp,
    ) -> Option<bool> {
        let o = self.book.get_mut(&client_id)?;
        if o.venue_id == Some(order_id) {
            return Some(false);
        }
        o.venue_id = Some(order_id);
        o.outcome_unknown = false;
        if o.status == OrderStatus::Pending {
            o.status = OrderStatus::Accepted;
            o.updated = now;
        }
        self.book.index_venue_id(order_id, client_id);
        Some(true)
    }

    /// Marks the placement of a live, unacknowledged order unknown. `None` for an order not
    /// live; `Some(false)` when nothing changed.
    pub(crate) fn mark_unknown(
        &mut self,
        client_id: &ClientOrderId,
        now: Timestamp,
    ) -> Option<bool> {
        let o = self.book.live_mut(client_id)?;
        if o.outcome_unknown || o.venue_id.is_some() {
            return Some(false);
        }
        o.outcome_unknown = true;
        o.updated = now;
        Some(true)
    }

    /// Takes a venue lookup's filled quantity for a live order; returns whether fills the venue
    /// reported are still awaited (see [`TrackedOrder::venue_filled`]).
    pub(crate) fn looked_up(
        &mut self,
        client_id: &ClientOrderId,
        filled: Quantity,
        lot: f64,
    ) -> bool {
        let Some(o) = self.book.live_mut(client_id) else {
            return false;
        };
        o.outcome_unknown = false;
        o.venue_filled = Some(filled);
        if o.fills_awaited(lot) > 0.0 {
            return true;
        }
        o.venue_filled = None;
        false
    }

    /// Ends a live order with the terminal `status` and retires it; an entry's reservation is
    /// released. Returns the order as it ended; `None` for an order not live.
    pub(crate) fn end(
        &mut self,
        client_id: &ClientOrderId,
        status: OrderStatus,
        now: Timestamp,
        risk: &mut RiskDesk,
    ) -> Option<TrackedOrder> {
        let o = self.book.live_mut(client_id)?;
        o.status = status;
        o.updated = now;
        let o = *o;
        self.book.retire(client_id);
        if o.role == OrderRole::Entry
            && let Some(r) = self.reservations.remove(client_id)
        {
            risk.release(r);
        }
        Some(o)
    }

    /// Updates the order in `slot` (from [`Self::fill_slot`]) with a fill; an entry's first fill
    /// confirms its reservation. Returns whether the order is now filled, and the filled and
    /// ordered quantities if the venue filled more than the order's quantity (two numbers
    /// rather than the `Malformed` report, which is as large as a fill and would be copied out
    /// on every call). A filled order stays live until [`Self::retire_filled`].
    #[inline(always)]
    pub(crate) fn record_fill(
        &mut self,
        slot: usize,
        fill: &Fill,
        lot: f64,
        now: Timestamp,
        risk: &mut RiskDesk,
    ) -> (bool, Option<(f64, f64)>) {
        let o = self.book.at_mut(slot);
        let cid = o.order.client_id;
        let confirms = o.role == OrderRole::Entry && o.filled.is_zero();
        let before = o.filled.get();
        let qty = fill.quantity.get();
        let after = before + qty;
        o.avg_fill_price = (o.avg_fill_price * before + fill.price.get() * qty) / after;
        o.filled = Quantity::new(after).unwrap_or(o.filled);
        o.fees += fill.fee.get();
        o.updated = now;
        // A fill proves the placement arrived.
        o.outcome_unknown = false;
        // A venue id already held was indexed when it was set (acknowledgement, earlier fill or
        // restore); only a first sighting here needs indexing.
        let new_venue_id = o.venue_id.is_none().then_some(fill.order_id);
        if new_venue_id.is_some() {
            o.venue_id = new_venue_id;
        }
        if o.venue_filled.is_some() && o.fills_awaited(lot) == 0.0 {
            o.venue_filled = None;
        }
        let quantity = o.order.quantity.get();
        let mut terminal = false;
        if o.status.is_live() {
            if after + lot / 2.0 >= quantity {
                o.status = OrderStatus::Filled;
                terminal = true;
            } else {
                o.status = OrderStatus::PartiallyFilled;
            }
        }
        let overfill = (after > quantity + lot / 2.0).then_some((after, quantity));
        if let Some(v) = new_venue_id {
            self.book.index_venue_id(v, cid);
        }
        if confirms && let Some(r) = self.reservations.remove(&cid) {
            risk.confirm(r);
        }
        (terminal, overfill)
    }

    /// Retires an order [`Self::record_fill`] reported filled (it holds no reservation: an
    /// entry's is confirmed at its first fill).
    #[inline]
    pub(crate) fn retire_filled(&mut self, client_id: &ClientOrderId) {
        self.book.retire(client_id);
    }

    /// Flags a cancel of a live order as requested; `false` when it is not live or already
    /// requested.
    pub(crate) fn request_cancel(&mut self, client_id: &ClientOrderId) -> bool {
        let Some(o) = self.book.live_mut(client_id) else {
            return false;
        };
        if o.cancel_requested || !o.is_live() {
            return false;
        }
        o.cancel_requested = true;
        true
    }

    /// Notes that a cancel of the live order `client_id` was sent at `now`; returns the order's
    /// symbol and venue id, for the command.
    pub(crate) fn cancel_sent(
        &mut self,
        client_id: &ClientOrderId,
        now: Timestamp,
    ) -> Option<(Symbol, Option<OrderId>)> {
        let o = self.book.live_mut(client_id)?;
        o.cancel_sent = Some(now);
        Some((o.symbol(), o.venue_id))
    }

    /// The quantity the live exits of `brain` on `symbol` already cover against a position of
    /// sign `held_sign` (a reduce-only exit whose placement is unknown covers nothing).
    pub(crate) fn covering(&self, brain: BrainId, symbol: Symbol, held_sign: f64) -> f64 {
        self.book
            .live()
            .filter(|o| {
                o.brain == brain
                    && o.symbol() == symbol
                    && matches!(o.role, OrderRole::Exit(_))
                    && o.order.side.sign() != held_sign
                    // A reduce-only exit whose placement is unknown may never have reached the
                    // venue: it does not count, since a second reduce-only close cannot
                    // over-close, while trusting a lost one leaves the position unprotected.
                    && !(o.outcome_unknown && o.order.reduce_only)
            })
            .map(|o| o.remaining().get())
            .sum()
    }

    /// Whether an exit of `brain` on `symbol` is working.
    pub(crate) fn exit_working(&self, brain: BrainId, symbol: Symbol) -> bool {
        self.book.live().any(|o| {
            o.brain == brain && o.symbol() == symbol && matches!(o.role, OrderRole::Exit(_))
        })
    }

    /// Takes the reservations of `entries` (live, unfilled entries, oldest first) again, against
    /// the `open` positions.
    pub(crate) fn retake(
        &mut self,
        entries: impl Iterator<Item = (ClientOrderId, EntryRequest)>,
        open: impl Iterator<Item = OpenExposure>,
        now: Timestamp,
        risk: &mut RiskDesk,
    ) {
        risk.reserve_each(entries, open, now, |cid, r| {
            self.reservations.insert(cid, r);
        });
    }

    /// Replaces the book with a snapshot's, without reservations (see [`Self::retake`]).
    pub(crate) fn restore(&mut self, book: &OrderBook) {
        self.book = book.clone();
        self.reservations = SmallMap::new();
    }

    /// Checks "reservations = working entries" (see the module doc).
    pub(crate) fn check(&self) -> Result<(), InvariantViolation> {
        for cid in self.reservations.keys() {
            let working = self
                .book
                .get(cid)
                .is_some_and(|o| o.role == OrderRole::Entry && o.is_live() && o.filled.is_zero());
            if !working {
                return Err(InvariantViolation(format!(
                    "reservation held by {cid}, which is not a working unfilled entry"
                )));
            }
        }
        Ok(())
    }

    /// The client ids of the entries holding a reservation.
    #[cfg(test)]
    pub(crate) fn reserved_entries(&self) -> Vec<ClientOrderId> {
        self.reservations.keys().copied().collect()
    }

    /// A live order, mutably, to break the invariant in a test.
    #[cfg(test)]
    pub(crate) fn live_mut(&mut self, id: &ClientOrderId) -> Option<&mut TrackedOrder> {
        self.book.live_mut(id)
    }
}
