//! A scripted venue and a manual clock for driving an [`Engine`] in tests: inputs in, outputs
//! checked.
//!
//! [`Harness`] owns the engine, a [`ManualClock`] and a [`ScriptedVenue`]. Every input drains the
//! engine's outputs into the harness logs; the venue then answers the new commands according to
//! its [`VenueScript`] (acknowledge, fill market orders at the mark, confirm cancels) until no
//! new command appears. With every automatic answer switched off, the test answers by hand with
//! [`Harness::accept`], [`Harness::fill`], [`Harness::reject`], [`Harness::confirm_cancel`].
//!
//! The backtest and the facade can use it too: nothing here reads the wall clock, and ids are
//! deterministic (`v1`, `v2`, ... for orders, `f1`, `f2`, ... for fills).
//!
//! ```
//! use rustrade_core::{AssetClass, Decision, InstrumentSpec, Symbol};
//! use rustrade_engine::testkit::{Harness, VenueScript};
//! use rustrade_engine::{BrainId, EngineConfig};
//! use rustrade_risk::RiskConfig;
//!
//! let x = Symbol::new("X")?;
//! let config = EngineConfig::new("t", RiskConfig::default())
//!     .with_brain("a")
//!     .with_instrument(InstrumentSpec::new(x, AssetClass::CryptoSpot, 0.5, 1.0)?);
//! let mut h = Harness::new(config, VenueScript::instant());
//! h.candle(x, 100.0);
//! h.decide(BrainId(0), x, &Decision::buy(1.0));
//! assert_eq!(h.engine.position(&x).quantity, 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use rustrade_core::{
    Asset, Candle, ClientOrderId, Decision, Fill, FillId, Liquidity, MarketData, MarketEvent,
    Money, OpenOrder, Order, OrderId, OrderKind, OrderStatus, Price, Quantity, Quote, RejectReason,
    Symbol, Timestamp, Trade, Venue,
};

use crate::{BrainId, Command, Engine, EngineConfig, EngineEvent};

/// A clock that moves only when told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManualClock {
    now: Timestamp,
}

impl ManualClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self { now: start }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&mut self, d: Duration) -> Timestamp {
        self.now = self.now.saturating_add(d);
        self.now
    }
}

/// How the scripted venue answers commands on its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VenueScript {
    /// Acknowledge every placed order at once.
    pub auto_accept: bool,
    /// Fill market orders at once, in full, at the symbol's mark.
    pub fill_market: bool,
    /// Confirm every cancel request at once.
    pub auto_cancel: bool,
    /// Fee of an automatic fill as a fraction of its notional.
    pub fee_rate: f64,
}

impl VenueScript {
    /// Acknowledges, fills market orders and confirms cancels at once, without fees.
    pub const fn instant() -> Self {
        Self {
            auto_accept: true,
            fill_market: true,
            auto_cancel: true,
            fee_rate: 0.0,
        }
    }

    /// Answers nothing on its own; the test answers every command by hand.
    pub const fn manual() -> Self {
        Self {
            auto_accept: false,
            fill_market: false,
            auto_cancel: false,
            fee_rate: 0.0,
        }
    }
}

/// What the scripted venue holds for one of our orders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VenueOrder {
    /// The order as received.
    pub order: Order,
    /// The id the venue gave it.
    pub order_id: OrderId,
    /// Filled so far.
    pub filled: f64,
    /// Status at the venue.
    pub status: OrderStatus,
}

/// A venue that records commands and answers them as scripted.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedVenue {
    /// How it answers on its own.
    pub script: VenueScript,
    /// Orders it received, by client id.
    pub orders: BTreeMap<ClientOrderId, VenueOrder>,
    next_order: u64,
    next_fill: u64,
}

impl ScriptedVenue {
    /// An empty venue.
    pub fn new(script: VenueScript) -> Self {
        Self {
            script,
            orders: BTreeMap::new(),
            next_order: 0,
            next_fill: 0,
        }
    }

    /// The venue's view of its working orders, as reported for reconciliation.
    pub fn open_orders(&self, created: Timestamp) -> Vec<OpenOrder> {
        self.orders
            .values()
            .filter(|o| o.status.is_live())
            .map(|o| {
                OpenOrder::of(
                    &o.order,
                    o.order_id,
                    Quantity::new(o.filled).unwrap_or(Quantity::ZERO),
                    o.status,
                    created,
                )
            })
            .collect()
    }

    fn receive(&mut self, order: Order) -> OrderId {
        self.next_order += 1;
        let order_id = numbered_order_id(self.next_order);
        self.orders.insert(
            order.client_id,
            VenueOrder {
                order,
                order_id,
                filled: 0.0,
                status: OrderStatus::Pending,
            },
        );
        order_id
    }

    fn fill_id(&mut self) -> FillId {
        self.next_fill += 1;
        numbered_fill_id(self.next_fill)
    }
}

/// An engine wired to a scripted venue and a manual clock, with logs of every output.
#[derive(Debug)]
pub struct Harness {
    /// The engine under test.
    pub engine: Engine,
    /// The clock every input is stamped with.
    pub clock: ManualClock,
    /// The venue answering the commands.
    pub venue: ScriptedVenue,
    /// Every command the engine emitted, in order.
    pub commands: Vec<Command>,
    /// Every event the engine emitted, in order.
    pub events: Vec<EngineEvent>,
    venue_name: Venue,
}

/// The harness's start time: 2024-01-01T00:00:00Z.
pub const START: Timestamp = Timestamp::from_nanos(1_704_067_200_000_000_000);

impl Harness {
    /// A harness over a fresh engine built from `config` at [`START`].
    ///
    /// # Panics
    ///
    /// If the config is invalid (a test-setup error).
    pub fn new(config: EngineConfig, script: VenueScript) -> Self {
        let engine = Engine::new(config, START).expect("valid engine config in test setup");
        Self::with_engine(engine, START, script)
    }

    /// A harness over an existing engine (for example a restored one).
    pub fn with_engine(engine: Engine, now: Timestamp, script: VenueScript) -> Self {
        Self {
            engine,
            clock: ManualClock::new(now),
            venue: ScriptedVenue::new(script),
            commands: Vec::new(),
            events: Vec::new(),
            venue_name: Venue::new("scripted").expect("valid venue name"),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Moves the clock by `d` and delivers a timer tick.
    pub fn advance(&mut self, d: Duration) {
        let now = self.clock.advance(d);
        self.engine.handle_timer(now);
        self.settle();
    }

    /// A flat candle (open = high = low = close) at `close` for `symbol`, delivered to the engine.
    pub fn candle(&mut self, symbol: Symbol, close: f64) -> MarketEvent {
        self.candle_ohlc(symbol, close, close, close, close)
    }

    /// A candle for `symbol`, delivered to the engine.
    ///
    /// # Panics
    ///
    /// If the prices do not form a valid candle (a test-setup error).
    pub fn candle_ohlc(&mut self, symbol: Symbol, o: f64, h: f64, l: f64, c: f64) -> MarketEvent {
        let candle = Candle::new(self.now(), o, h, l, c, 1.0).expect("valid candle in test setup");
        let event = MarketEvent::candle(self.venue_name, symbol, self.now(), candle);
        self.market(&event);
        event
    }

    /// A trade print at `price` for `symbol`, delivered to the engine.
    pub fn trade(&mut self, symbol: Symbol, price: f64) -> MarketEvent {
        let event = MarketEvent {
            venue: self.venue_name,
            symbol,
            time: self.now(),
            data: MarketData::Trade(Trade {
                price: Price::new(price).expect("finite price in test setup"),
                quantity: Quantity::new(1.0).expect("valid quantity"),
                aggressor: rustrade_core::Side::Buy,
            }),
        };
        self.market(&event);
        event
    }

    /// A quote for `symbol`, delivered to the engine.
    pub fn quote(&mut self, symbol: Symbol, bid: f64, ask: f64) -> MarketEvent {
        let quote = Quote::new(bid, ask, 1.0, 1.0).expect("valid quote in test setup");
        let event = MarketEvent {
            venue: self.venue_name,
            symbol,
            time: self.now(),
            data: MarketData::Quote(quote),
        };
        self.market(&event);
        event
    }

    /// Delivers a market event.
    pub fn market(&mut self, event: &MarketEvent) {
        self.engine.handle_market(event);
        self.settle();
    }

    /// A brain's decision on `symbol` at its current mark.
    pub fn decide(&mut self, brain: BrainId, symbol: Symbol, decision: &Decision) {
        let mark = self.engine.mark(&symbol).unwrap_or(Price::ZERO);
        let now = self.now();
        self.engine
            .handle_decision_at(brain, symbol, mark, decision, now);
        self.settle();
    }

    /// A brain's decision on `event`.
    pub fn decide_on(&mut self, brain: BrainId, event: &MarketEvent, decision: &Decision) {
        let now = self.now();
        self.engine.handle_decision(brain, event, decision, now);
        self.settle();
    }

    /// Acknowledges our order `cid` by hand; returns the venue id.
    pub fn accept(&mut self, cid: ClientOrderId) -> OrderId {
        let id = self.venue_id(cid);
        if let Some(o) = self.venue.orders.get_mut(&cid) {
            o.status = OrderStatus::Accepted;
        }
        let now = self.now();
        self.engine.handle_accepted(cid, id, now);
        self.settle();
        id
    }

    /// Rejects our order `cid` by hand.
    pub fn reject(&mut self, cid: ClientOrderId, reason: RejectReason) {
        if let Some(o) = self.venue.orders.get_mut(&cid) {
            o.status = OrderStatus::Rejected;
        }
        let now = self.now();
        self.engine.handle_rejected(cid, reason, now);
        self.settle();
    }

    /// Confirms a cancel of our order `cid` by hand.
    pub fn confirm_cancel(&mut self, cid: ClientOrderId) {
        let id = self.venue_id(cid);
        if let Some(o) = self.venue.orders.get_mut(&cid) {
            o.status = OrderStatus::Cancelled;
        }
        let now = self.now();
        self.engine.handle_cancelled(Some(cid), Some(id), now);
        self.settle();
    }

    /// Fills `qty` of our order `cid` at `price` with `fee`; returns the fill delivered.
    ///
    /// # Panics
    ///
    /// If the values are not valid prices, quantities or fees (a test-setup error).
    pub fn fill(&mut self, cid: ClientOrderId, qty: f64, price: f64, fee: f64) -> Fill {
        let fill = self.make_fill(cid, qty, price, fee);
        self.deliver_fill(&fill);
        fill
    }

    /// Delivers a fill as given (for duplicates and malformed fills).
    pub fn deliver_fill(&mut self, fill: &Fill) {
        let now = self.now();
        self.engine.handle_fill(fill, now);
        self.settle();
    }

    /// Builds a fill of our order `cid` without delivering it.
    ///
    /// # Panics
    ///
    /// If the values are not valid prices, quantities or fees (a test-setup error).
    pub fn make_fill(&mut self, cid: ClientOrderId, qty: f64, price: f64, fee: f64) -> Fill {
        let order_id = self.venue_id(cid);
        let fill_id = self.venue.fill_id();
        let (symbol, side) = self.venue.orders.get_mut(&cid).map_or_else(
            || {
                let o = self
                    .engine
                    .order(&cid)
                    .expect("fill of an order the test placed");
                (o.order.symbol, o.order.side)
            },
            |o| {
                o.filled += qty;
                if o.filled + 1e-12 >= o.order.quantity.get() {
                    o.status = OrderStatus::Filled;
                }
                (o.order.symbol, o.order.side)
            },
        );
        Fill {
            fill_id,
            order_id,
            client_id: Some(cid),
            symbol,
            side,
            price: Price::new(price).expect("finite fill price in test setup"),
            quantity: Quantity::new(qty).expect("valid fill quantity in test setup"),
            fee: Money::new(fee).expect("finite fee in test setup"),
            fee_asset: Asset::new("USDT").expect("valid asset"),
            liquidity: Liquidity::Taker,
            time: self.now(),
        }
    }

    /// Sends the venue's open orders to the engine for reconciliation.
    pub fn reconcile_orders(&mut self) {
        let now = self.now();
        let open = self.venue.open_orders(now);
        self.engine.handle_venue_open_orders(&open, now);
        self.settle();
    }

    /// Commands emitted since index `from` of the log.
    pub fn commands_since(&self, from: usize) -> &[Command] {
        &self.commands[from.min(self.commands.len())..]
    }

    /// The client id of the most recent `Place` command.
    pub fn last_placed(&self) -> Option<ClientOrderId> {
        self.commands
            .iter()
            .rev()
            .find_map(|c| c.as_place().map(|p| p.order.client_id))
    }

    /// Drains the engine's outputs into the logs and lets the venue answer new commands as
    /// scripted, until nothing new appears. In debug builds it then checks the engine's
    /// invariants ([`Engine::check_invariants`]) and panics with the broken one.
    pub fn settle(&mut self) {
        loop {
            while let Some(e) = self.engine.poll_event() {
                self.events.push(e);
            }
            let Some(cmd) = self.engine.poll_command() else {
                break;
            };
            self.commands.push(cmd);
            self.answer(cmd);
        }
        #[cfg(debug_assertions)]
        if let Err(e) = self.engine.check_invariants() {
            panic!("{e}");
        }
    }

    fn answer(&mut self, cmd: Command) {
        let now = self.now();
        match cmd {
            Command::Place(p) => {
                let order_id = self.venue.receive(p.order);
                if self.venue.script.auto_accept {
                    if let Some(o) = self.venue.orders.get_mut(&p.order.client_id) {
                        o.status = OrderStatus::Accepted;
                    }
                    self.engine
                        .handle_accepted(p.order.client_id, order_id, now);
                }
                if self.venue.script.fill_market && p.order.kind == OrderKind::Market {
                    let price = self.engine.mark(&p.order.symbol).map_or(0.0, Price::get);
                    let qty = p.order.quantity.get();
                    let fee = qty * price * self.venue.script.fee_rate;
                    let fill = self.make_fill(p.order.client_id, qty, price, fee);
                    self.engine.handle_fill(&fill, now);
                }
            }
            Command::Cancel(c) => {
                if self.venue.script.auto_cancel
                    && self
                        .venue
                        .orders
                        .get(&c.client_id)
                        .is_some_and(|o| o.status.is_live())
                {
                    let id = self.venue_id(c.client_id);
                    if let Some(o) = self.venue.orders.get_mut(&c.client_id) {
                        o.status = OrderStatus::Cancelled;
                    }
                    self.engine
                        .handle_cancelled(Some(c.client_id), Some(id), now);
                }
            }
        }
    }

    fn venue_id(&mut self, cid: ClientOrderId) -> OrderId {
        if let Some(o) = self.venue.orders.get(&cid) {
            return o.order_id;
        }
        self.engine
            .order(&cid)
            .and_then(|o| o.venue_id)
            .unwrap_or_else(|| numbered_order_id(0))
    }
}

fn numbered_order_id(n: u64) -> OrderId {
    let mut buf = [0u8; 24];
    OrderId::new(numbered(b'v', n, &mut buf)).expect("ascii id")
}

fn numbered_fill_id(n: u64) -> FillId {
    let mut buf = [0u8; 24];
    FillId::new(numbered(b'f', n, &mut buf)).expect("ascii id")
}

/// `prefix` followed by the decimal digits of `n`, written into `buf`.
fn numbered(prefix: u8, mut n: u64, buf: &mut [u8; 24]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    i -= 1;
    buf[i] = prefix;
    std::str::from_utf8(&buf[i..]).expect("ascii digits")
}
