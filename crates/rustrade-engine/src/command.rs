//! [`Command`]: what the engine asks its driver to do at the venue.

use rustrade_core::{ClientOrderId, Order, OrderId, Symbol};

use crate::{BrainId, OrderRole};

/// An instruction for the driver, drained with [`crate::Engine::poll_command`].
///
/// The driver executes commands in the order they are polled and reports the outcome back through
/// the engine's `handle_*` inputs (accepted, rejected, cancelled, fills).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Place an order at the venue.
    Place(PlaceOrder),
    /// Cancel one of our orders.
    Cancel(CancelOrder),
}

/// An order to place: built only from a risk approval (entries) or from the exit path (exits are
/// never blocked, but still pass through the risk crate's exit approval).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlaceOrder {
    /// The order, with prices snapped to tick and quantity to lot.
    pub order: Order,
    /// The brain it is attributed to.
    pub brain: BrainId,
    /// Why it exists.
    pub role: OrderRole,
}

/// A cancel request for one of our orders.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CancelOrder {
    /// Instrument of the order.
    pub symbol: Symbol,
    /// Our id of the order.
    pub client_id: ClientOrderId,
    /// The venue's id, when the order was acknowledged.
    pub order_id: Option<OrderId>,
    /// Why the engine cancels it.
    pub reason: CancelReason,
}

/// Why the engine cancels an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The other leg of its OCO group filled.
    OcoSibling,
    /// The position it protects is flat.
    PositionFlat,
    /// A resting order outlived the configured time to live.
    Ttl,
    /// A sibling leg was rejected and the policy closes the entry.
    LegRejected,
    /// An emulated stop or take-profit fired while the entry still had quantity working.
    ProtectionTriggered,
    /// An earlier cancel of the order was not confirmed in time; it is sent again.
    Retry,
}

impl Command {
    /// The order of a `Place` command.
    pub fn as_place(&self) -> Option<&PlaceOrder> {
        match self {
            Self::Place(p) => Some(p),
            Self::Cancel(_) => None,
        }
    }

    /// The request of a `Cancel` command.
    pub fn as_cancel(&self) -> Option<&CancelOrder> {
        match self {
            Self::Cancel(c) => Some(c),
            Self::Place(_) => None,
        }
    }
}
