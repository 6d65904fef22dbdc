//! [`History`]: the account history a [`SimVenue`](crate::SimVenue) keeps when asked to, so it
//! can answer what a real venue answers after a crash: the final state of a finished order by
//! client id, and the account's fills after a cursor.
//!
//! # Rules
//!
//! - The history is off by default: a backtest never asks, and keeping it costs memory that grows
//!   with the run. [`SimVenue::with_history`](crate::SimVenue::with_history) turns it on.
//! - It is built from the venue's own execution reports, in the order the venue queued them, plus
//!   each order's terms at receipt; it never decides anything the venue did not report.
//! - One record per client id: the latest order received under it (a client id the venue forgot
//!   and judged afresh replaces the older record).
//! - Fills are kept per symbol in arrival order, with an index by fill id, so a cursor resumes in
//!   `O(log n)`.
//! - A venue that received orders before its history was turned on has an *incomplete* history:
//!   an unknown client id may then be an order that finished earlier, so it is not a definite
//!   "never received".

use std::collections::BTreeMap;

use rustrade_core::{
    ClientOrderId, ExecutionReport, Fill, FillCursor, FillId, OpenOrder, Order, OrderId,
    OrderState, OrderStatus, Price, Quantity, Symbol, Timestamp,
};

use crate::venue::is_complete_fill;

/// The venue id recorded for an order refused at submit, before it was given a number: the
/// venue numbers its orders from 1, so `sim-0` never names a real order.
pub(crate) const REFUSED_ORDER_ID: &str = "sim-0";

/// Finished and working orders by client id, and fills per symbol (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct History {
    orders: BTreeMap<ClientOrderId, Record>,
    fills: BTreeMap<Symbol, SymbolFills>,
    complete: bool,
    started: Timestamp,
}

/// One order's terms and what the venue reported about it.
#[derive(Debug, Clone, Copy)]
struct Record {
    order: OpenOrder,
    filled: f64,
    /// `Σ qty × price` of its fills, for the average fill price.
    notional: f64,
}

#[derive(Debug, Clone, Default)]
struct SymbolFills {
    fills: Vec<Fill>,
    by_id: BTreeMap<FillId, usize>,
}

impl History {
    /// An empty history started at venue time `started`; `complete` when the venue had received
    /// no order before.
    pub(crate) fn new(complete: bool, started: Timestamp) -> Self {
        Self {
            orders: BTreeMap::new(),
            fills: BTreeMap::new(),
            complete,
            started,
        }
    }

    /// Whether every order the venue ever received is recorded.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// Records an order the venue received and numbered `order_id`, at venue time `now`.
    pub(crate) fn received(&mut self, order: &Order, order_id: OrderId, now: Timestamp) {
        self.orders
            .insert(order.client_id, Record::new(order, order_id, now));
    }

    /// Records an order refused at submit, before it was numbered.
    pub(crate) fn refused(&mut self, order: &Order, now: Timestamp) {
        let id = OrderId::new(REFUSED_ORDER_ID).expect("`sim-0` is a valid order id");
        let mut record = Record::new(order, id, now);
        record.order.status = OrderStatus::Rejected;
        self.orders.insert(order.client_id, record);
    }

    /// Applies one report the venue queued.
    pub(crate) fn apply(&mut self, report: &ExecutionReport) {
        match report {
            ExecutionReport::Accepted {
                client_id,
                order_id,
                ..
            } => {
                if let Some(r) = self.record_mut(client_id, Some(order_id))
                    && r.order.status == OrderStatus::Pending
                {
                    r.order.status = OrderStatus::Accepted;
                }
            }
            ExecutionReport::Rejected { client_id, .. } => {
                if let Some(r) = self.record_mut(client_id, None) {
                    r.order.status = OrderStatus::Rejected;
                }
            }
            ExecutionReport::Cancelled {
                client_id: Some(client_id),
                order_id,
                ..
            } => self.finish(client_id, order_id, OrderStatus::Cancelled),
            ExecutionReport::Expired {
                client_id: Some(client_id),
                order_id,
                ..
            } => self.finish(client_id, order_id, OrderStatus::Expired),
            ExecutionReport::Cancelled { .. } | ExecutionReport::Expired { .. } => {}
            ExecutionReport::Fill(fill) => self.fill(fill),
        }
    }

    /// The state of the order last received under `client_id`, if recorded.
    pub(crate) fn order_state(&self, client_id: &ClientOrderId) -> Option<OrderState> {
        self.orders.get(client_id).map(Record::state)
    }

    /// Fills of `symbol` after `cursor`: strictly after `cursor.after` when that fill is
    /// recorded, else every fill with time `>= cursor.since`; in arrival order.
    pub(crate) fn fills_after<'a>(
        &'a self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> impl Iterator<Item = &'a Fill> + use<'a> {
        let book = self.fills.get(symbol);
        let fills = book.map_or(&[][..], |b| &b.fills[..]);
        let resume = cursor
            .after
            .and_then(|id| book.and_then(|b| b.by_id.get(&id)).copied());
        let (start, since) = match resume {
            Some(k) => (k + 1, Timestamp::MIN),
            None => (0, cursor.since),
        };
        fills[start..].iter().filter(move |f| f.time >= since)
    }

    /// Whether [`History::fills_after`] misses no fill the venue made after `cursor`: the history
    /// is complete, the cursor's fill is recorded, or the cursor starts after the history did.
    pub(crate) fn covers(&self, symbol: &Symbol, cursor: &FillCursor) -> bool {
        self.complete
            || cursor.since > self.started
            || cursor.after.is_some_and(|id| {
                self.fills
                    .get(symbol)
                    .is_some_and(|b| b.by_id.contains_key(&id))
            })
    }

    fn record_mut(
        &mut self,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Option<&mut Record> {
        self.orders
            .get_mut(client_id)
            .filter(|r| order_id.is_none_or(|id| r.order.order_id == *id))
    }

    fn finish(&mut self, client_id: &ClientOrderId, order_id: &OrderId, status: OrderStatus) {
        if let Some(r) = self.record_mut(client_id, Some(order_id)) {
            r.order.status = status;
        }
    }

    fn fill(&mut self, fill: &Fill) {
        let book = self.fills.entry(fill.symbol).or_default();
        book.by_id.insert(fill.fill_id, book.fills.len());
        book.fills.push(*fill);
        let Some(client_id) = fill.client_id else {
            return;
        };
        if let Some(r) = self.record_mut(&client_id, Some(&fill.order_id)) {
            let qty = fill.quantity.get();
            r.filled += qty;
            r.notional += qty * fill.price.get();
            r.order.status = if is_complete_fill(r.filled, r.order.quantity.get()) {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
        }
    }
}

impl Record {
    fn new(order: &Order, order_id: OrderId, now: Timestamp) -> Self {
        Self {
            order: OpenOrder::of(order, order_id, Quantity::ZERO, OrderStatus::Pending, now),
            filled: 0.0,
            notional: 0.0,
        }
    }

    fn state(&self) -> OrderState {
        let avg = (self.filled > 0.0)
            .then(|| Price::new(self.notional / self.filled).ok())
            .flatten();
        OrderState {
            order: OpenOrder {
                filled: Quantity::new(self.filled).unwrap_or(Quantity::ZERO),
                ..self.order
            },
            avg_fill_price: avg,
        }
    }
}
