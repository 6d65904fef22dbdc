//! The venue server's wire format: JSON lines over TCP.
//!
//! A connection opens with one [`Hello`] line naming its role. An `rpc` connection then carries
//! one [`Request`] line and one [`Reply`] line at a time, in order; a `fills` connection
//! receives [`ExecutionReport`](rustrade_core::ExecutionReport) lines and a `market` connection
//! [`MarketEvent`](rustrade_core::MarketEvent) lines, until the venue closes it. A reply may
//! never come (the venue dropped it): the client's deadline turns that into a timeout.

use rustrade_core::{
    ClientOrderId, Fill, FillCursor, InstrumentSpec, OpenOrder, Order, OrderId, OrderState,
    Position, Symbol, Timestamp,
};

/// The first line of every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hello {
    /// What the connection carries.
    pub role: Role,
    /// The client's process id, so the harness knows which bot process subscribed.
    pub pid: u32,
}

/// The kind of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Request/reply order entry and account queries.
    Rpc,
    /// The account's execution reports.
    Fills,
    /// Market events.
    Market,
    /// The venue's time, for a bot whose adapter speaks another protocol.
    Clock,
}

/// One order-entry or account request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Only the venue time.
    Time,
    /// Trading rules of a symbol.
    Instrument {
        /// The symbol.
        symbol: Symbol,
    },
    /// Place an order.
    Place {
        /// The order.
        order: Order,
    },
    /// Cancel one order.
    Cancel {
        /// Its symbol.
        symbol: Symbol,
        /// Our id.
        client_id: ClientOrderId,
        /// The venue's id, when known.
        order_id: Option<OrderId>,
    },
    /// Cancel every order of a symbol.
    CancelAll {
        /// The symbol.
        symbol: Symbol,
    },
    /// Working orders.
    OpenOrders {
        /// One symbol, or all.
        symbol: Option<Symbol>,
    },
    /// The position in one symbol.
    Position {
        /// The symbol.
        symbol: Symbol,
    },
    /// Every non-flat position.
    Positions,
    /// Cash in the quote asset.
    Cash,
    /// An order by client id, open or finished.
    OrderStatus {
        /// Its symbol.
        symbol: Symbol,
        /// Our id.
        client_id: ClientOrderId,
    },
    /// One page of fills after a cursor.
    FillsSince {
        /// The symbol.
        symbol: Symbol,
        /// Where to resume.
        cursor: FillCursor,
    },
}

/// The answer to one [`Request`], with the venue's time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    /// Venue time when the request was served.
    pub now: Timestamp,
    /// The answer.
    pub result: Result<Answer, WireError>,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Nothing to return (time, cancel).
    Done,
    /// Trading rules.
    Instrument(InstrumentSpec),
    /// The venue id of a received order.
    Placed(OrderId),
    /// How many orders a cancel-all cancelled.
    Count(usize),
    /// Working orders.
    Orders(Vec<OpenOrder>),
    /// One position.
    Position(Position),
    /// Every non-flat position.
    Positions(Vec<(Symbol, Position)>),
    /// Cash.
    Cash(f64),
    /// An order's state; `None`: never received.
    Status(Option<OrderState>),
    /// One page of fills.
    Fills(Vec<Fill>),
}

/// A refusal or failure the venue answers with; the client maps it to
/// [`ExchangeError`](rustrade_core::ExchangeError).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireError {
    /// The venue gave up waiting internally; the request may have been carried out.
    Timeout(String),
    /// The venue does not know whether it carried the request out.
    OutcomeUnknown(String),
    /// Too many requests; retry after the delay.
    RateLimited {
        /// Milliseconds to wait.
        retry_after_ms: u64,
    },
    /// Definitely refused.
    Rejected(String),
    /// The order is not known.
    UnknownOrder(String),
    /// The symbol is not listed.
    UnknownSymbol(String),
}
