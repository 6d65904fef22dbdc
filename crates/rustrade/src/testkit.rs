//! In-memory doubles for tests, examples and benchmarks (feature `testkit`).
//!
//! - [`MockExchange`]: an [`ExchangeClient`] that records every call, fills market orders at a
//!   price the test sets, holds other orders open until the test fills or cancels them, keeps
//!   positions, refuses a repeated client order id (and counts it), and reports executions on a
//!   [`FillSource`] from [`MockExchange::fill_source`].
//! - [`ScriptedBrain`]: a brain whose decisions come from a closure; it records what it saw.
//! - [`ManualClock`]: a clock that moves only when told.
//! - [`ScriptedCandleSource`]: answers each poll with the next scripted batch of bars.
//! - [`ReplaySource`]: a [`MarketSource`] replaying recorded events one settled step at a time,
//!   moving a [`ManualClock`] to each event's time, so a paper bot can be driven over the same
//!   file as a backtest.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustrade_core::{
    Asset, AssetClass, Balance, Brain, BrainError, BrainHealth, Candle, CandleSource, Capability,
    ClientOrderId, Decision, ExchangeClient, ExchangeError, ExecutionReport, Fill, FillId,
    FillSource, InstrumentSpec, Liquidity, MarketEvent, MarketSource, Money, OpenOrder, Order,
    OrderId, OrderKind, OrderStatus, Position, Price, Quantity, Side, Symbol, Timestamp, Venue,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::driver::lock;

/// A clock that moves only when told.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.as_nanos()))
    }
    /// Sets the time.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.as_nanos(), Ordering::SeqCst);
    }
    /// Moves the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let n = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        self.0.fetch_add(n, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

/// The decision function of a [`ScriptedBrain`]: event, position, and the number of events
/// the brain saw before this one.
pub type Script =
    dyn Fn(&MarketEvent, &Position, u64) -> Result<Decision, BrainError> + Send + Sync;

/// A brain driven by a closure; records every event and fill it was given.
pub struct ScriptedBrain {
    name: String,
    owned: Option<Vec<Symbol>>,
    script: Box<Script>,
    seen: Mutex<Vec<MarketEvent>>,
    fills: Mutex<Vec<Fill>>,
    healthy: bool,
}

impl ScriptedBrain {
    /// A brain deciding with `script`.
    pub fn new(
        name: impl Into<String>,
        script: impl Fn(&MarketEvent, &Position, u64) -> Result<Decision, BrainError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            owned: None,
            script: Box::new(script),
            seen: Mutex::new(Vec::new()),
            fills: Mutex::new(Vec::new()),
            healthy: true,
        }
    }

    /// A brain that always holds.
    pub fn holding(name: impl Into<String>) -> Self {
        Self::new(name, |_, _, _| Ok(Decision::hold()))
    }

    /// Claims `symbols` exclusively.
    pub fn owning(mut self, symbols: &[&str]) -> Self {
        self.owned = Some(
            symbols
                .iter()
                .map(|s| Symbol::new(s).unwrap_or_else(|e| panic!("bad test symbol: {e}")))
                .collect(),
        );
        self
    }

    /// Reports itself unhealthy.
    pub fn unhealthy(mut self) -> Self {
        self.healthy = false;
        self
    }

    /// Events seen so far.
    pub fn seen(&self) -> Vec<MarketEvent> {
        lock(&self.seen).clone()
    }

    /// Fills told so far.
    pub fn fills(&self) -> Vec<Fill> {
        lock(&self.fills).clone()
    }
}

#[async_trait::async_trait]
impl Brain for ScriptedBrain {
    fn name(&self) -> &str {
        &self.name
    }
    fn owned_symbols(&self) -> Option<Vec<Symbol>> {
        self.owned.clone()
    }
    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        let n = {
            let mut seen = lock(&self.seen);
            seen.push(*event);
            seen.len() as u64 - 1
        };
        (self.script)(event, position, n)
    }
    fn on_fill(&self, fill: &Fill) {
        lock(&self.fills).push(*fill);
    }
    async fn health(&self) -> BrainHealth {
        if self.healthy {
            BrainHealth::ok()
        } else {
            BrainHealth::unhealthy("scripted unhealthy")
        }
    }
}

/// An order as the [`MockExchange`] holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MockOrder {
    /// The order as placed.
    pub order: Order,
    /// The venue id given to it.
    pub order_id: OrderId,
    /// Its status at the mock venue.
    pub status: OrderStatus,
}

#[derive(Default)]
struct MockState {
    placed: Vec<Order>,
    /// Every client id ever accepted, to refuse a repeat.
    seen: HashSet<ClientOrderId>,
    /// Orders still working at the venue.
    orders: BTreeMap<ClientOrderId, MockOrder>,
    positions: BTreeMap<Symbol, Position>,
    prices: BTreeMap<Symbol, f64>,
    specs: BTreeMap<Symbol, InstrumentSpec>,
    reject_next: VecDeque<String>,
    duplicates: u64,
    close_calls: Vec<Symbol>,
    cancels: Vec<ClientOrderId>,
    fills_tx: Option<mpsc::UnboundedSender<ExecutionReport>>,
    hang_after_place: u64,
    time: i64,
}

/// An in-memory [`ExchangeClient`]. See the [module docs](self).
pub struct MockExchange {
    venue: Venue,
    caps: Vec<Capability>,
    state: Mutex<MockState>,
    next_id: AtomicU64,
    fee_rate: f64,
    auto_fill: bool,
}

impl MockExchange {
    /// A venue with market, limit, stop-market, take-profit, reduce-only and order-tracking
    /// support that fills market orders at once (at price 100 until [`set_price`](Self::set_price)).
    pub fn new() -> Self {
        Self {
            venue: Venue::new("mock").unwrap_or_else(|e| panic!("{e}")),
            caps: vec![
                Capability::MarketOrders,
                Capability::LimitOrders,
                Capability::StopMarket,
                Capability::TakeProfit,
                Capability::ReduceOnly,
                Capability::OrderTracking,
            ],
            state: Mutex::new(MockState::default()),
            next_id: AtomicU64::new(1),
            fee_rate: 0.0,
            auto_fill: true,
        }
    }

    /// Replaces the capability set.
    pub fn with_capabilities(mut self, caps: &[Capability]) -> Self {
        self.caps = caps.to_vec();
        self
    }

    /// Charges `rate × notional` as the fee of every fill.
    pub fn with_fee_rate(mut self, rate: f64) -> Self {
        self.fee_rate = rate;
        self
    }

    /// Leaves market orders open instead of filling them.
    pub fn without_auto_fill(mut self) -> Self {
        self.auto_fill = false;
        self
    }

    /// Sets the instrument rules of `spec.symbol()` (default: crypto perp, tick 0.01, lot 0.001).
    pub fn with_instrument(self, spec: InstrumentSpec) -> Self {
        lock(&self.state).specs.insert(spec.symbol(), spec);
        self
    }

    /// Sets the price market orders of `symbol` fill at.
    pub fn set_price(&self, symbol: &str, price: f64) {
        lock(&self.state).prices.insert(sym(symbol), price);
    }

    /// Sets the venue's position (for reconciliation tests).
    pub fn set_position(&self, symbol: &str, position: Position) {
        lock(&self.state).positions.insert(sym(symbol), position);
    }

    /// Refuses the next placement with `reason`.
    pub fn reject_next(&self, reason: &str) {
        lock(&self.state).reject_next.push_back(reason.to_owned());
    }

    /// The execution report stream of this venue. Each call opens a new stream (as a
    /// reconnect would); reports go to the newest one.
    pub fn fill_source(&self) -> Box<dyn FillSource> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.state).fills_tx = Some(tx);
        Box::new(MockFillSource { rx: Some(rx) })
    }

    /// The next `n` placements are accepted (and filled, for market orders) at the venue, but
    /// the call never returns: the caller is "killed" mid-request.
    pub fn hang_after_place(&self, n: u64) {
        lock(&self.state).hang_after_place = n;
    }

    /// Every order placed (accepted or not), in order.
    pub fn placed(&self) -> Vec<Order> {
        lock(&self.state).placed.clone()
    }

    /// Placements refused because their client id was used before.
    pub fn duplicate_placements(&self) -> u64 {
        lock(&self.state).duplicates
    }

    /// Symbols `close_position` was called for, in order.
    pub fn close_calls(&self) -> Vec<Symbol> {
        lock(&self.state).close_calls.clone()
    }

    /// Client ids cancelled, in order.
    pub fn cancels(&self) -> Vec<ClientOrderId> {
        lock(&self.state).cancels.clone()
    }

    /// The venue's position in `symbol`.
    pub fn venue_position(&self, symbol: &str) -> Position {
        lock(&self.state)
            .positions
            .get(&sym(symbol))
            .copied()
            .unwrap_or(Position::FLAT)
    }

    /// The order with `client_id`, while it is working at the venue (filled and cancelled
    /// orders are gone).
    pub fn order(&self, client_id: &ClientOrderId) -> Option<MockOrder> {
        lock(&self.state).orders.get(client_id).copied()
    }

    /// Drops the working order `client_id` without reporting it (an order lost at the venue,
    /// for reconciliation tests).
    pub fn forget_order(&self, client_id: &ClientOrderId) -> bool {
        lock(&self.state).orders.remove(client_id).is_some()
    }

    /// Fills the open order `client_id` completely at `price` and reports the fill.
    pub fn fill_order(&self, client_id: &ClientOrderId, price: f64) -> Result<(), ExchangeError> {
        let mut st = lock(&self.state);
        let Some(o) = st.orders.get(client_id).copied() else {
            return Err(ExchangeError::UnknownOrder(client_id.to_string()));
        };
        self.fill_locked(&mut st, o, price)
    }

    fn fill_locked(
        &self,
        st: &mut MockState,
        o: MockOrder,
        price: f64,
    ) -> Result<(), ExchangeError> {
        let qty = o.order.quantity.get();
        let signed = qty * o.order.side.sign();
        let pos = st.positions.entry(o.order.symbol).or_insert(Position::FLAT);
        let new_qty = pos.quantity + signed;
        pos.avg_entry = if new_qty.abs() < 1e-12 {
            0.0
        } else if pos.quantity.signum() == signed.signum() || pos.quantity.abs() < 1e-12 {
            (pos.avg_entry * pos.quantity.abs() + price * qty) / new_qty.abs()
        } else if new_qty.signum() == pos.quantity.signum() {
            pos.avg_entry
        } else {
            price
        };
        pos.quantity = if new_qty.abs() < 1e-12 { 0.0 } else { new_qty };
        st.orders.remove(&o.order.client_id);
        st.time += 1;
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let fill = Fill {
            fill_id: FillId::new(&format!("f{n}"))?,
            order_id: o.order_id,
            client_id: Some(o.order.client_id),
            symbol: o.order.symbol,
            side: o.order.side,
            price: Price::new(price)?,
            quantity: o.order.quantity,
            fee: Money::new(self.fee_rate * qty * price)?,
            fee_asset: Asset::new("USDT")?,
            liquidity: Liquidity::Taker,
            time: Timestamp::from_nanos(st.time),
        };
        if let Some(tx) = &st.fills_tx {
            let _ = tx.send(ExecutionReport::Fill(fill));
        }
        Ok(())
    }

    fn place_locked(&self, order: &Order) -> Result<OrderId, ExchangeError> {
        let mut st = lock(&self.state);
        st.placed.push(*order);
        if st.seen.contains(&order.client_id) {
            st.duplicates += 1;
            return Err(ExchangeError::Rejected {
                reason: format!("duplicate client order id {}", order.client_id),
            });
        }
        if let Some(reason) = st.reject_next.pop_front() {
            return Err(ExchangeError::Rejected { reason });
        }
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let order_id = OrderId::new(&format!("m{n}"))?;
        let held = MockOrder {
            order: *order,
            order_id,
            status: OrderStatus::Accepted,
        };
        st.seen.insert(order.client_id);
        st.orders.insert(order.client_id, held);
        if self.auto_fill && order.kind == OrderKind::Market {
            let price = st.prices.get(&order.symbol).copied().unwrap_or(100.0);
            self.fill_locked(&mut st, held, price)?;
        }
        Ok(order_id)
    }

    fn report(st: &MockState, report: ExecutionReport) {
        if let Some(tx) = &st.fills_tx {
            let _ = tx.send(report);
        }
    }
}

impl Default for MockExchange {
    fn default() -> Self {
        Self::new()
    }
}

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap_or_else(|e| panic!("bad test symbol: {e}"))
}

#[async_trait::async_trait]
impl ExchangeClient for MockExchange {
    fn venue(&self) -> Venue {
        self.venue
    }

    fn supports(&self, capability: Capability) -> bool {
        self.caps.contains(&capability)
    }

    async fn instrument(&self, symbol: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        if let Some(s) = lock(&self.state).specs.get(symbol) {
            return Ok(*s);
        }
        Ok(InstrumentSpec::new(
            *symbol,
            AssetClass::CryptoPerp,
            0.01,
            0.001,
        )?)
    }

    async fn place_order(&self, order: &Order) -> Result<OrderId, ExchangeError> {
        let order_id = self.place_locked(order)?;
        let hang = {
            let mut st = lock(&self.state);
            let hang = st.hang_after_place > 0;
            st.hang_after_place = st.hang_after_place.saturating_sub(1);
            hang
        };
        if hang {
            std::future::pending::<()>().await;
        }
        Ok(order_id)
    }

    async fn cancel_order(
        &self,
        _symbol: &Symbol,
        client_id: &ClientOrderId,
        _order_id: Option<&OrderId>,
    ) -> Result<(), ExchangeError> {
        let mut st = lock(&self.state);
        st.cancels.push(*client_id);
        let Some(o) = st.orders.remove(client_id) else {
            return Err(ExchangeError::UnknownOrder(client_id.to_string()));
        };
        let (cid, oid) = (o.order.client_id, o.order_id);
        st.time += 1;
        let time = Timestamp::from_nanos(st.time);
        Self::report(
            &st,
            ExecutionReport::Cancelled {
                client_id: Some(cid),
                order_id: oid,
                time,
            },
        );
        Ok(())
    }

    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, ExchangeError> {
        let ids: Vec<ClientOrderId> = lock(&self.state)
            .orders
            .values()
            .filter(|o| o.order.symbol == *symbol && o.status.is_live())
            .map(|o| o.order.client_id)
            .collect();
        for id in &ids {
            self.cancel_order(symbol, id, None).await?;
        }
        Ok(ids.len())
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
        Ok(lock(&self.state)
            .orders
            .values()
            .filter(|o| o.status.is_live() && symbol.is_none_or(|s| *s == o.order.symbol))
            .map(|o| OpenOrder {
                order_id: o.order_id,
                client_id: Some(o.order.client_id),
                symbol: o.order.symbol,
                side: o.order.side,
                kind: o.order.kind,
                quantity: o.order.quantity,
                filled: Quantity::ZERO,
                limit_price: o.order.limit_price,
                trigger_price: o.order.trigger_price,
                reduce_only: o.order.reduce_only,
                status: o.status,
                created: Timestamp::EPOCH,
            })
            .collect())
    }

    async fn position(&self, symbol: &Symbol) -> Result<Position, ExchangeError> {
        Ok(lock(&self.state)
            .positions
            .get(symbol)
            .copied()
            .unwrap_or(Position::FLAT))
    }

    async fn balance(&self, asset: &Asset) -> Result<Balance, ExchangeError> {
        Ok(Balance {
            asset: *asset,
            free: Money::new(1_000_000.0)?,
            locked: Money::ZERO,
        })
    }

    async fn close_position(&self, symbol: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        let mut st = lock(&self.state);
        st.close_calls.push(*symbol);
        let pos = st.positions.get(symbol).copied().unwrap_or(Position::FLAT);
        if pos.is_flat() {
            return Ok(None);
        }
        st.positions.insert(*symbol, Position::FLAT);
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        Ok(Some(OrderId::new(&format!("close{n}"))?))
    }
}

struct MockFillSource {
    rx: Option<mpsc::UnboundedReceiver<ExecutionReport>>,
}

#[async_trait::async_trait]
impl FillSource for MockFillSource {
    fn name(&self) -> &str {
        "mock"
    }
    async fn connect(&mut self) -> Result<(), ExchangeError> {
        Ok(())
    }
    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        match &mut self.rx {
            Some(rx) => Ok(rx.recv().await),
            None => Ok(None),
        }
    }
}

/// A [`CandleSource`] answering each poll with the next scripted batch (then nothing new).
pub struct ScriptedCandleSource {
    interval: Duration,
    batches: Mutex<VecDeque<Vec<Candle>>>,
    polls: AtomicU64,
}

impl ScriptedCandleSource {
    /// Bars of `interval`, answered batch by batch.
    pub fn new(interval: Duration, batches: Vec<Vec<Candle>>) -> Self {
        Self {
            interval,
            batches: Mutex::new(batches.into()),
            polls: AtomicU64::new(0),
        }
    }

    /// Polls answered so far.
    pub fn polls(&self) -> u64 {
        self.polls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl CandleSource for ScriptedCandleSource {
    fn interval(&self) -> Duration {
        self.interval
    }
    async fn fetch_candles(
        &self,
        _symbol: &Symbol,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        let batch = lock(&self.batches).pop_front().unwrap_or_default();
        Ok(batch.into_iter().rev().take(limit).rev().collect())
    }
}

/// A [`MarketSource`] replaying recorded events in order, then finishing (`Ok(None)`).
///
/// Before yielding an event it waits `pace` of tokio time, then sets the clock (when given) to
/// the event's time. On a runtime with paused time (`start_paused`), tokio advances time only
/// when every task is idle, so each event is fully processed — brains, engine, venue, fill
/// stream — before the next one is published, and the engine is given the time the data was
/// recorded at, as a backtest does. [`ReplaySource::finished`] is cancelled one `pace` after
/// the last event, once that event has been processed too.
pub struct ReplaySource {
    events: std::vec::IntoIter<MarketEvent>,
    clock: Option<Arc<ManualClock>>,
    pace: Duration,
    finished: CancellationToken,
}

impl ReplaySource {
    /// Replays `events` in the given order, one millisecond of tokio time apart.
    pub fn new(events: Vec<MarketEvent>) -> Self {
        Self {
            events: events.into_iter(),
            clock: None,
            pace: Duration::from_millis(1),
            finished: CancellationToken::new(),
        }
    }

    /// Sets `clock` to each event's time before yielding it (give the same clock to the bot).
    pub fn with_clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Tokio time waited before each event (and once after the last).
    pub fn with_pace(mut self, pace: Duration) -> Self {
        self.pace = pace;
        self
    }

    /// Cancelled once every event was yielded and one more `pace` passed.
    pub fn finished(&self) -> CancellationToken {
        self.finished.clone()
    }
}

#[async_trait::async_trait]
impl MarketSource for ReplaySource {
    fn name(&self) -> &str {
        "replay"
    }

    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        Ok(())
    }

    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        tokio::time::sleep(self.pace).await;
        let Some(event) = self.events.next() else {
            self.finished.cancel();
            return Ok(None);
        };
        if let Some(clock) = &self.clock {
            clock.set(event.time);
        }
        Ok(Some(event))
    }
}

/// A candle event for `symbol` at `secs` seconds closing at `close`.
pub fn candle_event(symbol: &str, secs: i64, close: f64) -> MarketEvent {
    let t = Timestamp::from_secs(secs).unwrap_or(Timestamp::EPOCH);
    let c = Candle::new(t, close, close, close, close, 1.0).unwrap_or_else(|e| panic!("{e}"));
    MarketEvent::candle(
        Venue::new("mock").unwrap_or_else(|e| panic!("{e}")),
        sym(symbol),
        t,
        c,
    )
}

/// A side helper for tests: `Buy` when `long`.
pub fn side(long: bool) -> Side {
    if long { Side::Buy } else { Side::Sell }
}
