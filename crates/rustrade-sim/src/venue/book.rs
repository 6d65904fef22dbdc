//! The venue's book: the working orders and latest market state of each symbol.

use rustrade_core::{InstrumentSpec, OpenOrder, Order, OrderId, OrderStatus, Quantity, Timestamp};

use super::OcoGroup;
use crate::client_ids::ClientIds;
use crate::funding::FundingCursor;
use crate::matching::{Behaviour, View};

/// Our working orders and the latest market state of one symbol.
#[derive(Debug, Clone)]
pub(super) struct SymbolBook {
    pub(super) spec: InstrumentSpec,
    pub(super) funding: FundingCursor,
    pub(super) orders: Vec<WorkingOrder>,
    /// Events seen for this symbol.
    pub(super) events: u64,
    /// Last prices as one-price views `[buy, sell]`, for `trade_on_close` arrivals.
    pub(super) last: Option<[View; 2]>,
    /// Participation budget left in the latest event, `[buy, sell]`.
    pub(super) budget: [f64; 2],
}

impl SymbolBook {
    pub(super) fn new(spec: InstrumentSpec) -> Self {
        Self {
            spec,
            funding: FundingCursor::default(),
            orders: Vec::new(),
            events: 0,
            last: None,
            budget: [f64::INFINITY; 2],
        }
    }
}

/// One order at the venue.
#[derive(Debug, Clone)]
pub(super) struct WorkingOrder {
    pub(super) order: Order,
    pub(super) id: OrderId,
    /// Submission sequence, which is also the number in `id` (`sim-<seq>`).
    pub(super) seq: u64,
    /// The client id's [`fingerprint`](ClientOrderId::fingerprint).
    pub(super) client_print: u64,
    /// Whether the order was submitted as a stop (fixed even after it triggers).
    pub(super) stop_class: bool,
    pub(super) behaviour: Behaviour,
    pub(super) oco: Option<OcoGroup>,
    pub(super) filled: f64,
    pub(super) arrived: bool,
    /// Arrives on an event with index greater than this...
    pub(super) after_event: u64,
    /// ...that starts at or after this.
    pub(super) not_before: Timestamp,
    pub(super) live: bool,
    pub(super) created: Timestamp,
}

impl WorkingOrder {
    /// Matching priority within an event: entries, then reduce-only stops, then other exits.
    pub(super) fn priority(&self) -> (bool, bool, u64) {
        (self.order.reduce_only, !self.stop_class, self.seq)
    }

    pub(super) fn to_open_order(&self) -> OpenOrder {
        let status = if !self.arrived {
            OrderStatus::Pending
        } else if self.filled > 0.0 {
            OrderStatus::PartiallyFilled
        } else {
            OrderStatus::Accepted
        };
        OpenOrder::of(
            &self.order,
            self.id,
            Quantity::new(self.filled).unwrap_or(Quantity::ZERO),
            status,
            self.created,
        )
    }
}

/// Removes the orders that ended from `orders`, keeping the others in priority order, and
/// records their ends in `ids`.
pub(super) fn sweep(orders: &mut Vec<WorkingOrder>, ids: &mut ClientIds) {
    // The common book: one order, and it ended.
    if let [o] = orders.as_slice()
        && !o.live
    {
        ids.ended(o.client_print, o.seq);
        orders.clear();
        return;
    }
    orders.retain(|o| {
        if !o.live {
            ids.ended(o.client_print, o.seq);
        }
        o.live
    });
}
