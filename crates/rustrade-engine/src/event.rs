//! [`EngineEvent`]: the journal of everything the engine decided and learned.
//!
//! Each event carries the full values it is about (the order as sent with its protective prices,
//! the fill as received, the position after the change), so a journal of events is a complete
//! record of the state's history: [`crate::Engine::replay`] rebuilds the state from it.
//! [`crate::EngineSnapshot`] is the compact form of the same state.

use rustrade_core::{
    Action, ClientOrderId, Fill, OpenOrder, Order, OrderId, Position, RejectReason, Symbol,
    Timestamp,
};

use crate::{
    BracketPrices, BrainId, CancelReason, ClosedTrade, EntryBlock, ExitReason, OrderRole,
    RefusalRecord,
};

/// Something the engine did or learned, drained with [`crate::Engine::poll_event`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// A brain's entry was refused by the risk gates or by an order-construction rule.
    DecisionRefused {
        /// The brain.
        brain: BrainId,
        /// Instrument.
        symbol: Symbol,
        /// What the brain asked for.
        action: Action,
        /// Why it was refused.
        refusal: RefusalRecord,
        /// When.
        time: Timestamp,
    },
    /// A place command was emitted.
    OrderPlaced {
        /// The brain the order is attributed to.
        brain: BrainId,
        /// Why it exists.
        role: OrderRole,
        /// The order as sent.
        order: Order,
        /// The entry whose bracket it belongs to, for legs and triggered exits.
        parent: Option<ClientOrderId>,
        /// Protective prices requested with an entry.
        bracket: Option<BracketPrices>,
        /// When.
        time: Timestamp,
    },
    /// The venue acknowledged an order.
    OrderAccepted {
        /// Our id.
        client_id: ClientOrderId,
        /// The venue's id.
        order_id: OrderId,
        /// When.
        time: Timestamp,
    },
    /// A placement got no definite answer (timed out, transport failure): the order stays live
    /// with its reservation until a lookup at the venue settles it.
    OrderOutcomeUnknown {
        /// Our id.
        client_id: ClientOrderId,
        /// When.
        time: Timestamp,
    },
    /// The venue refused an order.
    OrderRejected {
        /// Our id.
        client_id: ClientOrderId,
        /// The venue's reason.
        reason: RejectReason,
        /// When.
        time: Timestamp,
    },
    /// The engine asked for an order to be cancelled.
    CancelRequested {
        /// Our id.
        client_id: ClientOrderId,
        /// Why.
        reason: CancelReason,
        /// When.
        time: Timestamp,
    },
    /// The venue confirmed an order is cancelled.
    OrderCancelled {
        /// Our id.
        client_id: ClientOrderId,
        /// Quantity filled before the cancel.
        filled: f64,
        /// When.
        time: Timestamp,
    },
    /// An order expired at the venue.
    OrderExpired {
        /// Our id.
        client_id: ClientOrderId,
        /// Quantity filled before expiry.
        filled: f64,
        /// When.
        time: Timestamp,
    },
    /// A fill was applied to the order book and positions.
    FillApplied {
        /// The brain the fill is attributed to.
        brain: BrainId,
        /// Role of the filled order.
        role: OrderRole,
        /// The fill as received.
        fill: Fill,
        /// PnL realised by this fill for the brain (net of both fee shares).
        realised_pnl: f64,
        /// When the engine applied it.
        time: Timestamp,
    },
    /// An emulated stop, take-profit or trailing stop was crossed by a market event; the exit
    /// it sends (if anything is left to close) follows as `OrderPlaced`.
    ProtectionTriggered {
        /// The entry whose bracket fired.
        entry: ClientOrderId,
        /// Owner of the entry.
        brain: BrainId,
        /// Instrument.
        symbol: Symbol,
        /// Which protection fired.
        reason: ExitReason,
        /// When.
        time: Timestamp,
    },
    /// A round trip returned to flat; its outcome was fed to the session PnL and breaker.
    TradeClosed {
        /// The brain whose trade closed.
        brain: BrainId,
        /// Instrument.
        symbol: Symbol,
        /// The outcome.
        trade: ClosedTrade,
    },
    /// A position changed.
    PositionChanged {
        /// The brain whose position changed.
        brain: BrainId,
        /// Instrument.
        symbol: Symbol,
        /// The brain's position after the change.
        position: Position,
        /// The bot's net position on the symbol after the change.
        net: Position,
        /// When.
        time: Timestamp,
    },
    /// A trade outcome was recorded by hand ([`crate::Engine::record_trade_outcome`]).
    OutcomeRecorded {
        /// Instrument.
        symbol: Symbol,
        /// Gross PnL of the outcome.
        gross_pnl: f64,
        /// Fees of both legs.
        fee: f64,
        /// When.
        time: Timestamp,
    },
    /// A manual trade outcome claimed a round trip the fills had already closed and counted
    /// ([`crate::Engine::record_manual_outcome`]); nothing was recorded again.
    OutcomeClaimed {
        /// Instrument.
        symbol: Symbol,
        /// When.
        time: Timestamp,
    },
    /// New entries on the symbol are blocked (session loss cap reached or breaker tripped).
    RiskHalted {
        /// Instrument.
        symbol: Symbol,
        /// Why.
        refusal: RefusalRecord,
        /// When.
        time: Timestamp,
    },
    /// The host paused (`true`) or resumed (`false`) new entries on every symbol.
    EntriesPaused {
        /// Whether entries are paused from now on.
        paused: bool,
        /// When.
        time: Timestamp,
    },
    /// An entry block other than the operator's pause was raised or cleared (see
    /// [`crate::EntryBlock`]).
    EntryBlock {
        /// Which block.
        block: EntryBlock,
        /// Whether it is raised from now on.
        raised: bool,
        /// When.
        time: Timestamp,
    },
    /// New entries on the symbol are allowed again.
    RiskResumed {
        /// Instrument.
        symbol: Symbol,
        /// When.
        time: Timestamp,
    },
    /// The venue's position differs from ours; the venue's was adopted.
    PositionDrift {
        /// Instrument.
        symbol: Symbol,
        /// Our net position before adoption.
        ours: Position,
        /// The venue's position (adopted).
        venue: Position,
        /// The brain the difference was attributed to.
        attributed_to: BrainId,
        /// When.
        time: Timestamp,
    },
    /// The venue holds an open order we did not place (or no longer track).
    UnknownVenueOrder {
        /// The venue's report of it.
        order: OpenOrder,
        /// When.
        time: Timestamp,
    },
    /// One of our live orders is missing from the venue's open orders; it is marked cancelled.
    OrderMissingAtVenue {
        /// Our id.
        client_id: ClientOrderId,
        /// When.
        time: Timestamp,
    },
    /// An input was refused as malformed; nothing in the state changed (a duplicate fill is not
    /// applied again).
    MalformedInput {
        /// What was wrong.
        problem: Malformed,
        /// When.
        time: Timestamp,
    },
}

/// What was wrong with an input the engine refused.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Malformed {
    /// A decision named a brain that is not registered.
    UnknownBrain {
        /// The index given.
        brain: BrainId,
    },
    /// An input named an instrument the engine was not given.
    UnknownSymbol {
        /// The symbol.
        symbol: Symbol,
    },
    /// A report or fill referred to an order we do not know.
    UnknownOrder {
        /// Our id, if the report carried one.
        client_id: Option<ClientOrderId>,
        /// The venue's id, if the report carried one.
        order_id: Option<OrderId>,
    },
    /// A fill id was seen before; the fill was not applied again.
    DuplicateFill {
        /// The fill.
        fill: Fill,
    },
    /// A fill carried a value no fill may have (see [`check_fill`](crate::check_fill)): a
    /// price or quantity not `> 0`, a fee not finite.
    InvalidFill {
        /// The fill.
        fill: Fill,
        /// The field and value refused.
        problem: crate::InvalidFill,
    },
    /// A fill does not match its order (symbol or side differ).
    FillMismatch {
        /// The fill.
        fill: Fill,
        /// Which field disagrees.
        field: FillField,
    },
    /// A fill took the order beyond its quantity; it was applied (the venue is the truth for
    /// executions) and reported.
    Overfill {
        /// Our id.
        client_id: ClientOrderId,
        /// Filled quantity after the fill.
        filled: f64,
        /// The order's quantity.
        quantity: f64,
    },
    /// A venue position report held a non-finite number; it was ignored.
    NonFinitePosition {
        /// Instrument.
        symbol: Symbol,
        /// Which field.
        field: PositionField,
    },
}

/// A field of a fill the engine refused: one that disagrees with its order, or one with a value
/// no fill may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillField {
    /// The fill's symbol is not the order's.
    Symbol,
    /// The fill's side is not the order's.
    Side,
    /// The fill's quantity is not `> 0`.
    Quantity,
    /// The fill's price is not `> 0`.
    Price,
    /// The fill's fee is not finite.
    Fee,
}

impl std::fmt::Display for FillField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Symbol => "symbol",
            Self::Side => "side",
            Self::Quantity => "quantity",
            Self::Price => "price",
            Self::Fee => "fee",
        })
    }
}

/// The field of a venue position report that was not finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionField {
    /// The signed quantity.
    Quantity,
    /// The average entry price.
    AvgEntry,
}
