//! The bot's side of the venue server: [`ChaosExchange`] (an [`ExchangeClient`]),
//! [`ChaosFills`] (a [`FillSource`]), [`ChaosMarket`] (a [`MarketSource`]) and
//! [`VenueClock`], the simulated time they observe.
//!
//! # Ambiguity
//!
//! A request whose answer does not arrive — the connection closes first, or the deadline
//! passes — is [`ExchangeError::Transport`] or [`ExchangeError::Timeout`]: the request may
//! have been carried out, and the bot must look it up. Only an answer the venue sent is a
//! definite outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rustrade_core::{
    Asset, Balance, Capability, ClientOrderId, ExchangeClient, ExchangeError, ExecutionReport,
    Fill, FillCursor, FillSource, InstrumentSpec, MarketEvent, MarketSource, Money, OpenOrder,
    Order, OrderId, OrderState, Position, Symbol, Timestamp, Venue,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::wire::{Answer, Hello, Reply, Request, Role, WireError};

/// How long a request waits for its answer before it is a timeout.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// A deliberately broken client or bot, to show the kit catches what it is meant to catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Broken {
    /// `fills_since` answers nothing: fills made while the bot was down are never caught up.
    SkipCatchUp,
    /// A placement without an answer (timeout, lost connection) is reported as rejected: the
    /// order may have landed, and the bot forgets it.
    TimeoutIsRejection,
    /// The bot restarts with its loss breaker's stored history emptied: the losses (and a trip)
    /// recorded before the newest snapshot are forgotten; everything else is restored.
    ForgetBreaker,
}

impl Broken {
    /// The variant's command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SkipCatchUp => "skip-catch-up",
            Self::TimeoutIsRejection => "timeout-is-rejection",
            Self::ForgetBreaker => "forget-breaker",
        }
    }
}

impl std::str::FromStr for Broken {
    type Err = crate::ChaosError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "skip-catch-up" => Ok(Self::SkipCatchUp),
            "timeout-is-rejection" => Ok(Self::TimeoutIsRejection),
            "forget-breaker" => Ok(Self::ForgetBreaker),
            _ => Err(crate::ChaosError::Invalid {
                field: "broken",
                value: s.to_owned(),
                reason: "unknown variant (skip-catch-up, timeout-is-rejection, forget-breaker)",
            }),
        }
    }
}

/// The venue's simulated time as last reported by any answer or market event; the bot's clock.
#[derive(Debug, Default)]
pub struct VenueClock(AtomicI64);

impl VenueClock {
    /// Moves the clock to `t` if that is later.
    pub fn observe(&self, t: Timestamp) {
        self.0.fetch_max(t.as_nanos(), Ordering::Relaxed);
    }

    /// Follows the venue server's clock stream at `addr` (its time after every bar) until the
    /// server goes away: the clock of a bot whose adapter learns no venue time of its own.
    /// Returns once the first time has been read.
    pub async fn follow(
        self: &Arc<Self>,
        addr: std::net::SocketAddr,
    ) -> Result<tokio::task::JoinHandle<()>, ExchangeError> {
        let mut conn = Some(connect(addr, Role::Clock).await?);
        self.observe(next_time(&mut conn).await?);
        let clock = Arc::clone(self);
        Ok(tokio::spawn(async move {
            while let Ok(t) = next_time(&mut conn).await {
                clock.observe(t);
            }
        }))
    }
}

async fn next_time(conn: &mut Option<Conn>) -> Result<Timestamp, ExchangeError> {
    let line = next_line(conn, "clock stream").await?;
    serde_json::from_str(&line).map_err(|e| ExchangeError::Malformed {
        reason: e.to_string(),
        payload: line.chars().take(200).collect(),
    })
}

impl rustrade::clock::Clock for VenueClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// Order entry and account queries over one request/reply connection, reopened after a
/// failure.
#[derive(Debug)]
pub struct ChaosExchange {
    addr: std::net::SocketAddr,
    conn: tokio::sync::Mutex<Option<Conn>>,
    clock: Arc<VenueClock>,
    venue: Venue,
    broken: Option<Broken>,
}

#[derive(Debug)]
struct Conn {
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl ChaosExchange {
    /// A client of the venue server at `addr`, reporting venue time to `clock`.
    pub fn new(addr: std::net::SocketAddr, clock: Arc<VenueClock>, broken: Option<Broken>) -> Self {
        Self {
            addr,
            conn: tokio::sync::Mutex::new(None),
            clock,
            venue: Venue::new("chaos").unwrap_or_else(|_| unreachable!("a valid venue name")),
            broken,
        }
    }

    /// Sends `request` and waits for its answer (see the module doc for what a missing answer
    /// is).
    pub async fn call(&self, request: &Request) -> Result<Answer, ExchangeError> {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            *guard = Some(connect(self.addr, Role::Rpc).await?);
        }
        let Some(conn) = guard.as_mut() else {
            return Err(ExchangeError::Transport("no connection".into()));
        };
        let mut line = serde_json::to_string(request).map_err(|e| malformed("request", &e))?;
        line.push('\n');
        if let Err(e) = conn.write.write_all(line.as_bytes()).await {
            *guard = None;
            return Err(ExchangeError::Transport(format!("send: {e}")));
        }
        let answer = match tokio::time::timeout(DEADLINE, conn.lines.next_line()).await {
            Ok(Ok(Some(text))) => text,
            Ok(Ok(None)) => {
                *guard = None;
                return Err(ExchangeError::Transport(
                    "connection closed before the answer".into(),
                ));
            }
            Ok(Err(e)) => {
                *guard = None;
                return Err(ExchangeError::Transport(format!("receive: {e}")));
            }
            Err(_) => {
                *guard = None;
                return Err(ExchangeError::Timeout(format!(
                    "no answer within {DEADLINE:?}"
                )));
            }
        };
        drop(guard);
        let reply: Reply = serde_json::from_str(&answer).map_err(|e| ExchangeError::Malformed {
            reason: e.to_string(),
            payload: answer.chars().take(200).collect(),
        })?;
        self.clock.observe(reply.now);
        reply.result.map_err(from_wire)
    }
}

#[async_trait::async_trait]
impl ExchangeClient for ChaosExchange {
    fn venue(&self) -> Venue {
        self.venue
    }

    fn supports(&self, capability: Capability) -> bool {
        rustrade_sim::SimConfig::all_capabilities().contains(&capability)
    }

    async fn instrument(&self, symbol: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        match self.call(&Request::Instrument { symbol: *symbol }).await? {
            Answer::Instrument(spec) => Ok(spec),
            other => Err(unexpected("instrument", &other)),
        }
    }

    async fn place_order(&self, order: &Order) -> Result<OrderId, ExchangeError> {
        match self.call(&Request::Place { order: *order }).await {
            Ok(Answer::Placed(id)) => Ok(id),
            Ok(other) => Err(unexpected("place", &other)),
            Err(e) if self.broken == Some(Broken::TimeoutIsRejection) && e.is_outcome_unknown() => {
                Err(ExchangeError::Rejected {
                    reason: format!("broken client: {e}"),
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Result<(), ExchangeError> {
        let request = Request::Cancel {
            symbol: *symbol,
            client_id: *client_id,
            order_id: order_id.copied(),
        };
        self.call(&request).await.map(|_| ())
    }

    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, ExchangeError> {
        match self.call(&Request::CancelAll { symbol: *symbol }).await? {
            Answer::Count(n) => Ok(n),
            other => Err(unexpected("cancel all", &other)),
        }
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
        match self
            .call(&Request::OpenOrders {
                symbol: symbol.copied(),
            })
            .await?
        {
            Answer::Orders(orders) => Ok(orders),
            other => Err(unexpected("open orders", &other)),
        }
    }

    async fn position(&self, symbol: &Symbol) -> Result<Position, ExchangeError> {
        match self.call(&Request::Position { symbol: *symbol }).await? {
            Answer::Position(p) => Ok(p),
            other => Err(unexpected("position", &other)),
        }
    }

    async fn balance(&self, asset: &Asset) -> Result<Balance, ExchangeError> {
        match self.call(&Request::Cash).await? {
            Answer::Cash(cash) => Ok(Balance {
                asset: *asset,
                free: Money::named("cash", cash)?,
                locked: Money::ZERO,
            }),
            other => Err(unexpected("balance", &other)),
        }
    }

    /// Not offered: every close goes through the engine.
    async fn close_position(&self, symbol: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        Err(ExchangeError::Unsupported(format!(
            "close_position on {symbol}: the chaos venue takes engine orders only"
        )))
    }

    async fn order_status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, ExchangeError> {
        let request = Request::OrderStatus {
            symbol: *symbol,
            client_id: *client_id,
        };
        match self.call(&request).await? {
            Answer::Status(state) => Ok(state),
            other => Err(unexpected("order status", &other)),
        }
    }

    async fn fills_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, ExchangeError> {
        if self.broken == Some(Broken::SkipCatchUp) {
            return Ok(Vec::new());
        }
        let request = Request::FillsSince {
            symbol: *symbol,
            cursor: *cursor,
        };
        match self.call(&request).await? {
            Answer::Fills(fills) => Ok(fills),
            other => Err(unexpected("fills since", &other)),
        }
    }

    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError> {
        match self.call(&Request::Positions).await? {
            Answer::Positions(p) => Ok(p),
            other => Err(unexpected("positions", &other)),
        }
    }
}

/// The account's execution reports from the venue server.
#[derive(Debug)]
pub struct ChaosFills {
    addr: std::net::SocketAddr,
    conn: Option<Conn>,
}

impl ChaosFills {
    /// A fill stream from the venue server at `addr`.
    pub fn new(addr: std::net::SocketAddr) -> Self {
        Self { addr, conn: None }
    }
}

#[async_trait::async_trait]
impl FillSource for ChaosFills {
    fn name(&self) -> &str {
        "chaos-fills"
    }

    async fn connect(&mut self) -> Result<(), ExchangeError> {
        self.conn = Some(connect(self.addr, Role::Fills).await?);
        Ok(())
    }

    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        let line = next_line(&mut self.conn, "fill stream").await?;
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|e| ExchangeError::Malformed {
                reason: e.to_string(),
                payload: line.chars().take(200).collect(),
            })
    }
}

/// Market events from the venue server; they move the [`VenueClock`] too.
#[derive(Debug)]
pub struct ChaosMarket {
    addr: std::net::SocketAddr,
    conn: Option<Conn>,
    clock: Arc<VenueClock>,
}

impl ChaosMarket {
    /// A market stream from the venue server at `addr`.
    pub fn new(addr: std::net::SocketAddr, clock: Arc<VenueClock>) -> Self {
        Self {
            addr,
            conn: None,
            clock,
        }
    }
}

#[async_trait::async_trait]
impl MarketSource for ChaosMarket {
    fn name(&self) -> &str {
        "chaos-market"
    }

    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        self.conn = Some(connect(self.addr, Role::Market).await?);
        Ok(())
    }

    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        let line = next_line(&mut self.conn, "market stream").await?;
        let event: MarketEvent =
            serde_json::from_str(&line).map_err(|e| ExchangeError::Malformed {
                reason: e.to_string(),
                payload: line.chars().take(200).collect(),
            })?;
        self.clock.observe(event.time);
        Ok(Some(event))
    }
}

async fn connect(addr: std::net::SocketAddr, role: Role) -> Result<Conn, ExchangeError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| ExchangeError::Transport(format!("connect {addr}: {e}")))?;
    stream
        .set_nodelay(true)
        .map_err(|e| ExchangeError::Transport(format!("nodelay: {e}")))?;
    let (read, mut write) = stream.into_split();
    let hello = Hello {
        role,
        pid: std::process::id(),
    };
    let mut line = serde_json::to_string(&hello).map_err(|e| malformed("hello", &e))?;
    line.push('\n');
    write
        .write_all(line.as_bytes())
        .await
        .map_err(|e| ExchangeError::Transport(format!("hello: {e}")))?;
    Ok(Conn {
        lines: BufReader::new(read).lines(),
        write,
    })
}

async fn next_line(conn: &mut Option<Conn>, what: &str) -> Result<String, ExchangeError> {
    let Some(c) = conn.as_mut() else {
        return Err(ExchangeError::Closed(format!("{what} not connected")));
    };
    match c.lines.next_line().await {
        Ok(Some(line)) => Ok(line),
        Ok(None) => {
            *conn = None;
            Err(ExchangeError::Closed(format!("{what} closed by the venue")))
        }
        Err(e) => {
            *conn = None;
            Err(ExchangeError::Transport(format!("{what}: {e}")))
        }
    }
}

fn from_wire(e: WireError) -> ExchangeError {
    match e {
        WireError::Timeout(m) => ExchangeError::Timeout(m),
        WireError::OutcomeUnknown(m) => ExchangeError::OutcomeUnknown(m),
        WireError::RateLimited { retry_after_ms } => ExchangeError::RateLimited {
            retry_after: Some(Duration::from_millis(retry_after_ms)),
        },
        WireError::Rejected(reason) => ExchangeError::Rejected { reason },
        WireError::UnknownOrder(id) => ExchangeError::UnknownOrder(id),
        WireError::UnknownSymbol(s) => ExchangeError::Rejected {
            reason: format!("unknown symbol {s}"),
        },
    }
}

fn malformed(what: &str, e: &serde_json::Error) -> ExchangeError {
    ExchangeError::Malformed {
        reason: format!("{what} not encodable: {e}"),
        payload: String::new(),
    }
}

fn unexpected(call: &str, answer: &Answer) -> ExchangeError {
    ExchangeError::Malformed {
        reason: format!("unexpected answer to {call}"),
        payload: format!("{answer:?}"),
    }
}
