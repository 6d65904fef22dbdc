//! In-memory doubles for tests, examples and benchmarks (feature `testkit`).
//!
//! - [`MockExchange`]: an [`ExchangeClient`] that records every call, fills market orders at a
//!   price the test sets, holds other orders open until the test fills or cancels them, keeps
//!   positions, refuses a repeated client order id (and counts it), and reports executions on a
//!   [`FillSource`] from [`MockExchange::fill_source`]. It remembers finished orders and every
//!   fill, so recovery lookups answer as a real venue's do, and injects the faults recovery
//!   must survive (timeouts, failing cancels and lookups, trades behind the bot's back, fills
//!   while the bot is down).
//! - [`ScriptedBrain`]: a brain whose decisions come from a closure; it records what it saw.
//! - [`ManualClock`]: a clock that moves only when told.
//! - [`ScriptedCandleSource`]: answers each poll with the next scripted batch of bars.
//! - [`ReplaySource`]: a [`MarketSource`] replaying recorded events one settled step at a time,
//!   moving a [`ManualClock`] to each event's time, so a paper bot can be driven over the same
//!   file as a backtest.
//! - [`wait_until`] and [`settle`]: bounded polling and letting tasks run, for paused-time tests.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustrade_core::{
    Asset, AssetClass, Balance, Brain, BrainError, BrainHealth, Candle, CandleSource, Capability,
    ClientOrderId, Decision, ExchangeClient, ExchangeError, ExecutionReport, Fill, FillCursor,
    FillId, FillSource, InstrumentSpec, Liquidity, MarketEvent, MarketSource, Money, OpenOrder,
    Order, OrderId, OrderKind, OrderState, OrderStatus, Position, Price, Quantity, Side, Symbol,
    Timestamp, Venue,
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

/// What the mock venue remembers of an order it accepted, working or finished.
#[derive(Debug, Clone, Copy)]
struct Known {
    order: Order,
    order_id: OrderId,
    status: OrderStatus,
    filled: f64,
    /// `Σ qty × price` of its fills, for the average fill price.
    notional: f64,
    created: Timestamp,
}

impl Known {
    fn open_order(&self) -> OpenOrder {
        OpenOrder::of(
            &self.order,
            self.order_id,
            Quantity::new(self.filled).unwrap_or(Quantity::ZERO),
            self.status,
            self.created,
        )
    }

    fn state(&self) -> OrderState {
        let avg_fill_price = (self.filled > 0.0)
            .then(|| Price::new(self.notional / self.filled).ok())
            .flatten();
        OrderState {
            order: self.open_order(),
            avg_fill_price,
        }
    }

    fn remaining(&self) -> f64 {
        self.order.quantity.get() - self.filled
    }
}

#[derive(Default)]
struct MockState {
    placed: Vec<Order>,
    /// Every client id ever accepted, to refuse a repeat.
    seen: HashSet<ClientOrderId>,
    /// Orders still working at the venue.
    orders: BTreeMap<ClientOrderId, MockOrder>,
    /// Every order accepted and not forgotten, working or finished, by client id.
    known: BTreeMap<ClientOrderId, Known>,
    /// Every fill the venue made, per symbol, in the order it made them.
    fills: BTreeMap<Symbol, Vec<Fill>>,
    positions: BTreeMap<Symbol, Position>,
    prices: BTreeMap<Symbol, f64>,
    specs: BTreeMap<Symbol, InstrumentSpec>,
    reject_next: VecDeque<String>,
    /// Pending `time_out_next_place` faults: whether each timed-out placement landed.
    time_outs: VecDeque<bool>,
    failing_cancels: u64,
    failing_status: u64,
    rate_limited_history: u64,
    /// Reports are lost instead of reaching the fill source (the bot is "down").
    reports_lost: bool,
    duplicates: u64,
    close_calls: Vec<Symbol>,
    cancels: Vec<ClientOrderId>,
    fills_tx: Option<mpsc::UnboundedSender<ExecutionReport>>,
    /// The stream link the newest fill source shares, so it can reconnect.
    link: Option<Arc<Mutex<StreamLink>>>,
    hang_after_place: u64,
    hang_before_cancel: u64,
    /// While true, new fills are kept out of `fills_since` (the venue's history lags).
    history_lags: bool,
    /// Fills `fills_since` does not list yet.
    unlisted: HashSet<FillId>,
    time: i64,
    /// What `balance` answers as free for every asset; 1 000 000 until set.
    balance: Option<f64>,
}

impl MockState {
    /// The next venue time: every event at the mock venue is one nanosecond after the last.
    fn tick(&mut self) -> Timestamp {
        self.time += 1;
        Timestamp::from_nanos(self.time)
    }

    /// Sends `report` to the newest fill source, unless reports are being lost.
    fn report(&self, report: ExecutionReport) {
        if self.reports_lost {
            return;
        }
        match &self.link {
            Some(link) => {
                if let Some(tx) = &lock(link).tx {
                    let _ = tx.send(report);
                }
            }
            None => {
                if let Some(tx) = &self.fills_tx {
                    let _ = tx.send(report);
                }
            }
        }
    }

    fn spec(&self, symbol: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        match self.specs.get(symbol) {
            Some(s) => Ok(*s),
            None => Ok(default_spec(*symbol)?),
        }
    }
}

/// The instrument rules of a symbol the test did not configure.
fn default_spec(symbol: Symbol) -> Result<InstrumentSpec, rustrade_core::ValueError> {
    InstrumentSpec::new(symbol, AssetClass::CryptoPerp, 0.01, 0.001)
}

/// What one execution at the mock venue is: the order it belongs to, if any, and its terms.
struct Execution {
    symbol: Symbol,
    side: Side,
    qty: f64,
    price: f64,
    order_id: OrderId,
    client_id: Option<ClientOrderId>,
}

/// An in-memory [`ExchangeClient`]. See the [module docs](self).
///
/// # Venue records
///
/// Besides its working orders, the mock remembers every order it accepted (until
/// [`forget_order`](Self::forget_order)) with its final status, filled quantity and average
/// fill price, and every fill it made per symbol, so [`order_status`](ExchangeClient::order_status)
/// and [`fills_since`](ExchangeClient::fills_since) answer as a real venue does after a crash.
/// Fill ids are `f<n>` with `n` increasing; fill times are the mock's own clock, one
/// nanosecond per venue event. A placement refused by [`reject_next`](Self::reject_next) or
/// as a duplicate is not an order the venue holds: its status is `Ok(None)`.
///
/// # Faults
///
/// [`time_out_next_place`](Self::time_out_next_place), [`fail_next_cancels`](Self::fail_next_cancels),
/// [`fail_next_status`](Self::fail_next_status), [`hang_after_place`](Self::hang_after_place) and
/// [`lose_reports`](Self::lose_reports) inject the failures recovery must survive;
/// [`manual_trade`](Self::manual_trade), [`partial_fill`](Self::partial_fill),
/// [`expire_order`](Self::expire_order) and [`fill_order_silently`](Self::fill_order_silently)
/// make the venue act on its own.
pub struct MockExchange {
    venue: Venue,
    caps: Vec<Capability>,
    state: Mutex<MockState>,
    next_id: AtomicU64,
    fee_rate: f64,
    auto_fill: bool,
    fill_page: usize,
    refused_id_chars: &'static str,
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
            fill_page: usize::MAX,
            refused_id_chars: "",
        }
    }

    /// Starts the venue's own clock at `start` (by default it starts at the Unix epoch): every
    /// event at the venue is one nanosecond after the last. Real venues stamp fills with the
    /// real time, after the bot started; recovery tests need that ordering.
    pub fn starting_at(self, start: Timestamp) -> Self {
        lock(&self.state).time = start.as_nanos();
        self
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

    /// Returns at most `n` fills per [`fills_since`](ExchangeClient::fills_since) call (no limit
    /// by default), so a test can make a catch-up page through the history. `n` is at least 1.
    pub fn with_fill_page(mut self, n: usize) -> Self {
        self.fill_page = n.max(1);
        self
    }

    /// Refuses client id prefixes holding any of `chars`
    /// ([`check_client_id_prefix`](ExchangeClient::check_client_id_prefix)), as a venue with a
    /// narrower client id alphabet than core's does.
    pub fn refusing_client_id_chars(mut self, chars: &'static str) -> Self {
        self.refused_id_chars = chars;
        self
    }

    /// Sets the instrument rules of `spec.symbol()` (default: crypto perp, tick 0.01, lot 0.001).
    pub fn with_instrument(self, spec: InstrumentSpec) -> Self {
        lock(&self.state).specs.insert(spec.symbol(), spec);
        self
    }

    /// Sets what `balance` answers as free, for every asset (default 1 000 000).
    pub fn set_balance(&self, free: f64) {
        lock(&self.state).balance = Some(free);
    }

    /// Sets the price market orders of `symbol` fill at.
    pub fn set_price(&self, symbol: &str, price: f64) {
        lock(&self.state).prices.insert(sym(symbol), price);
    }

    /// Sets the venue's position (for reconciliation tests). No fill stands behind it, so
    /// `fills_since` does not explain it.
    pub fn set_position(&self, symbol: &str, position: Position) {
        lock(&self.state).positions.insert(sym(symbol), position);
    }

    /// Refuses the next placement with `reason`.
    pub fn reject_next(&self, reason: &str) {
        lock(&self.state).reject_next.push_back(reason.to_owned());
    }

    /// The next placement fails with [`ExchangeError::Timeout`], as when the answer never came.
    /// With `landed`, the venue nevertheless received it: the order is accepted (and filled at
    /// once, for a market order with auto fill on) and its reports reach the fill source, so
    /// only a lookup tells the caller it exists. Without, the venue never saw it. Calls queue:
    /// each applies to one placement, in order.
    pub fn time_out_next_place(&self, landed: bool) {
        lock(&self.state).time_outs.push_back(landed);
    }

    /// The next `n` `cancel_order` calls (also those `cancel_all` makes) fail with a retryable
    /// [`ExchangeError::Transport`] error and cancel nothing.
    pub fn fail_next_cancels(&self, n: u64) {
        lock(&self.state).failing_cancels = n;
    }

    /// The next `n` `order_status` calls (also those `find_order` makes) fail with
    /// [`ExchangeError::Transport`].
    pub fn fail_next_status(&self, n: u64) {
        lock(&self.state).failing_status = n;
    }

    /// The next `n` `fills_since` calls are refused with [`ExchangeError::RateLimited`] asking
    /// for a 2 s wait, as a venue whose request weight is spent does.
    pub fn rate_limit_fill_history(&self, n: u64) {
        lock(&self.state).rate_limited_history = n;
    }

    /// While `lost` is true, execution reports never reach a fill source, as while the bot is
    /// down or its stream disconnected; the venue's records still change, so a catch-up through
    /// `order_status` and `fills_since` finds what happened.
    pub fn lose_reports(&self, lost: bool) {
        lock(&self.state).reports_lost = lost;
    }

    /// While `lags` is true, the fills the venue makes are recorded (positions, order status)
    /// but not yet listed by [`fills_since`](ExchangeClient::fills_since), as a venue whose
    /// trade history trails its order status; turning it off lists them all.
    pub fn lag_fill_history(&self, lags: bool) {
        let mut st = lock(&self.state);
        st.history_lags = lags;
        if !lags {
            st.unlisted.clear();
        }
    }

    /// The execution report stream of this venue. Each call opens a new stream (as a
    /// reconnect would); reports go to the newest one.
    pub fn fill_source(&self) -> Box<dyn FillSource> {
        let (tx, rx) = mpsc::unbounded_channel();
        let link = Arc::new(Mutex::new(StreamLink {
            tx: Some(tx.clone()),
            dropped: false,
            refused_connects: 0,
        }));
        let mut st = lock(&self.state);
        st.fills_tx = Some(tx);
        st.link = Some(Arc::clone(&link));
        Box::new(MockFillSource { rx: Some(rx), link })
    }

    /// The venue sends `fill`'s report again on the fill stream (a venue replaying its stream
    /// after a reconnect, say); its records do not change.
    pub fn replay_fill(&self, fill: &Fill) {
        lock(&self.state).report(ExecutionReport::Fill(*fill));
    }

    /// The venue drops the fill stream: reports from now on are lost to it (the venue still
    /// records them), and the source's next read fails with a transport error, as a closed
    /// socket does. Its next `connect` subscribes again and receives later reports.
    pub fn disconnect_stream(&self) {
        let mut st = lock(&self.state);
        st.fills_tx = None;
        if let Some(link) = &st.link {
            let mut l = lock(link);
            l.tx = None;
            l.dropped = true;
        }
    }

    /// Drops the fill stream (as [`disconnect_stream`](Self::disconnect_stream)) and refuses its
    /// next `n` connects with a transport error, as a venue whose stream endpoint is down does.
    pub fn refuse_stream_connects(&self, n: u64) {
        self.disconnect_stream();
        if let Some(link) = &lock(&self.state).link {
            lock(link).refused_connects = n;
        }
    }

    /// The next `n` placements are accepted (and filled, for market orders) at the venue, but
    /// the call never returns: the caller is "killed" mid-request.
    pub fn hang_after_place(&self, n: u64) {
        lock(&self.state).hang_after_place = n;
    }

    /// The next `n` `cancel_order` calls never return and never reach the venue: the caller
    /// is "killed" after deciding the cancel, before it is sent. They are not in
    /// [`cancels`](Self::cancels).
    pub fn hang_before_cancel(&self, n: u64) {
        lock(&self.state).hang_before_cancel = n;
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

    /// Client ids of every cancel request, in order, including those that failed.
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

    /// Every fill the venue made in `symbol`, oldest first (auto fills, test fills, manual
    /// trades and closes).
    pub fn venue_fills(&self, symbol: &str) -> Vec<Fill> {
        lock(&self.state)
            .fills
            .get(&sym(symbol))
            .cloned()
            .unwrap_or_default()
    }

    /// The order with `client_id`, while it is working at the venue (filled and cancelled
    /// orders are gone).
    pub fn order(&self, client_id: &ClientOrderId) -> Option<MockOrder> {
        lock(&self.state).orders.get(client_id).copied()
    }

    /// Drops the order `client_id` without reporting it (an order lost at the venue, for
    /// reconciliation tests): it is no longer working, and `order_status` answers `Ok(None)`.
    /// Returns whether it was working.
    pub fn forget_order(&self, client_id: &ClientOrderId) -> bool {
        let mut st = lock(&self.state);
        st.known.remove(client_id);
        st.orders.remove(client_id).is_some()
    }

    /// Fills the rest of the open order `client_id` at `price` and reports the fill.
    pub fn fill_order(&self, client_id: &ClientOrderId, price: f64) -> Result<(), ExchangeError> {
        let mut st = lock(&self.state);
        let remaining = Self::working(&st, client_id)?.remaining();
        self.fill_working(&mut st, client_id, remaining, price)
            .map(|_| ())
    }

    /// [`fill_order`](Self::fill_order) while the bot is down: the fill is made and recorded at
    /// the venue, but its report reaches no fill source.
    pub fn fill_order_silently(
        &self,
        client_id: &ClientOrderId,
        price: f64,
    ) -> Result<(), ExchangeError> {
        let mut st = lock(&self.state);
        let was_lost = std::mem::replace(&mut st.reports_lost, true);
        let remaining = Self::working(&st, client_id).map(Known::remaining);
        let outcome = remaining.and_then(|q| self.fill_working(&mut st, client_id, q, price));
        st.reports_lost = was_lost;
        outcome.map(|_| ())
    }

    /// Fills `qty` of the working order `client_id` at `price` and reports the fill; the order
    /// keeps working (`PartiallyFilled`) unless `qty` is all that was left. Refuses a `qty` that
    /// is not positive or exceeds what is left, and a price that is not positive.
    pub fn partial_fill(
        &self,
        client_id: &ClientOrderId,
        qty: f64,
        price: f64,
    ) -> Result<Fill, ExchangeError> {
        let mut st = lock(&self.state);
        let remaining = Self::working(&st, client_id)?.remaining();
        let qty = positive_qty(qty)?.get();
        if qty > remaining * (1.0 + 1e-12) {
            return Err(ExchangeError::Value(
                rustrade_core::ValueError::OutOfRange {
                    field: "qty",
                    value: qty,
                    min: 0.0,
                    max: remaining,
                },
            ));
        }
        self.fill_working(&mut st, client_id, qty, price)
    }

    /// The venue expires the working order `client_id` (its time in force ran out, say): it
    /// stops working, its status becomes `Expired`, and an `Expired` report goes to the fill
    /// source.
    pub fn expire_order(&self, client_id: &ClientOrderId) -> Result<(), ExchangeError> {
        let mut st = lock(&self.state);
        let order_id = Self::working(&st, client_id)?.order_id;
        st.orders.remove(client_id);
        if let Some(k) = st.known.get_mut(client_id) {
            k.status = OrderStatus::Expired;
        }
        let time = st.tick();
        st.report(ExecutionReport::Expired {
            client_id: Some(*client_id),
            order_id,
            time,
        });
        Ok(())
    }

    /// A trade on the account that the bot did not place (a human in the venue's app): it moves
    /// the venue's position, is reported on the fill stream, and is listed by `fills_since`,
    /// all with `client_id: None`. Refuses a `qty` or `price` that is not positive and finite.
    pub fn manual_trade(
        &self,
        symbol: &str,
        side: Side,
        qty: f64,
        price: f64,
    ) -> Result<Fill, ExchangeError> {
        let qty = positive_qty(qty)?.get();
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut st = lock(&self.state);
        let execution = Execution {
            symbol: sym(symbol),
            side,
            qty,
            price,
            order_id: OrderId::new(&format!("manual{n}"))?,
            client_id: None,
        };
        self.execute(&mut st, &execution)
    }

    fn working<'a>(
        st: &'a MockState,
        client_id: &ClientOrderId,
    ) -> Result<&'a Known, ExchangeError> {
        st.orders
            .get(client_id)
            .and_then(|_| st.known.get(client_id))
            .ok_or_else(|| ExchangeError::UnknownOrder(client_id.to_string()))
    }

    /// Fills `qty` of the working order `client_id` at `price`: books it, reports it, and ends
    /// the order once nothing is left.
    fn fill_working(
        &self,
        st: &mut MockState,
        client_id: &ClientOrderId,
        qty: f64,
        price: f64,
    ) -> Result<Fill, ExchangeError> {
        let k = *Self::working(st, client_id)?;
        let fill = self.execute(
            st,
            &Execution {
                symbol: k.order.symbol,
                side: k.order.side,
                qty,
                price,
                order_id: k.order_id,
                client_id: Some(*client_id),
            },
        )?;
        let total = k.order.quantity.get();
        let known = st.known.get_mut(client_id).expect("checked working above");
        known.filled += qty;
        known.notional += qty * price;
        let done = known.filled >= total * (1.0 - 1e-12);
        known.status = if done {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        let status = known.status;
        if done {
            st.orders.remove(client_id);
        } else if let Some(o) = st.orders.get_mut(client_id) {
            o.status = status;
        }
        Ok(fill)
    }

    /// Books one execution: moves the position, records the fill in the symbol's history and
    /// reports it. Validates the price and quantity before changing anything.
    fn execute(&self, st: &mut MockState, e: &Execution) -> Result<Fill, ExchangeError> {
        let price = Price::positive("price", e.price)?;
        let quantity = positive_qty(e.qty)?;
        let fee = Money::new(self.fee_rate * e.qty * e.price)?;
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let fill_id = FillId::new(&format!("f{n}"))?;
        let fee_asset = Asset::new("USDT")?;
        apply_to_position(
            st.positions.entry(e.symbol).or_insert(Position::FLAT),
            e.side,
            e.qty,
            e.price,
        );
        let time = st.tick();
        let fill = Fill {
            fill_id,
            order_id: e.order_id,
            client_id: e.client_id,
            symbol: e.symbol,
            side: e.side,
            price,
            quantity,
            fee,
            fee_asset,
            liquidity: Liquidity::Taker,
            time,
        };
        st.fills.entry(e.symbol).or_default().push(fill);
        if st.history_lags {
            st.unlisted.insert(fill.fill_id);
        }
        st.report(ExecutionReport::Fill(fill));
        Ok(fill)
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
        let created = Timestamp::from_nanos(st.time);
        st.known.insert(
            order.client_id,
            Known {
                order: *order,
                order_id,
                status: OrderStatus::Accepted,
                filled: 0.0,
                notional: 0.0,
                created,
            },
        );
        if self.auto_fill && order.kind == OrderKind::Market {
            let price = st.prices.get(&order.symbol).copied().unwrap_or(100.0);
            self.fill_working(&mut st, &order.client_id, order.quantity.get(), price)?;
        }
        Ok(order_id)
    }
}

/// Validates a fill quantity given to a test knob: finite and `> 0`, the error naming `qty`.
fn positive_qty(qty: f64) -> Result<Quantity, rustrade_core::ValueError> {
    let q = Quantity::named("qty", qty)?;
    if qty > 0.0 {
        Ok(q)
    } else {
        Err(rustrade_core::ValueError::NotPositive {
            field: "qty",
            value: qty,
        })
    }
}

/// Moves `pos` by a fill of `qty` on `side` at `price`: the average entry follows the fills
/// that add to the position and resets when it crosses through flat.
fn apply_to_position(pos: &mut Position, side: Side, qty: f64, price: f64) {
    let signed = qty * side.sign();
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
        lock(&self.state).spec(symbol)
    }

    async fn place_order(&self, order: &Order) -> Result<OrderId, ExchangeError> {
        let time_out = lock(&self.state).time_outs.pop_front();
        if let Some(landed) = time_out {
            if landed {
                // The venue's answer is lost, whatever it was.
                let _ = self.place_locked(order);
            } else {
                lock(&self.state).placed.push(*order);
            }
            return Err(ExchangeError::Timeout(format!(
                "placing {}: no answer from the mock venue",
                order.client_id
            )));
        }
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
        let hang = {
            let mut st = lock(&self.state);
            let hang = st.hang_before_cancel > 0;
            st.hang_before_cancel = st.hang_before_cancel.saturating_sub(1);
            hang
        };
        if hang {
            std::future::pending::<()>().await;
        }
        let mut st = lock(&self.state);
        st.cancels.push(*client_id);
        if st.failing_cancels > 0 {
            st.failing_cancels -= 1;
            return Err(ExchangeError::Transport(format!(
                "cancelling {client_id}: connection reset by the mock venue"
            )));
        }
        let Some(o) = st.orders.remove(client_id) else {
            return Err(ExchangeError::UnknownOrder(client_id.to_string()));
        };
        if let Some(k) = st.known.get_mut(client_id) {
            k.status = OrderStatus::Cancelled;
        }
        let (cid, oid) = (o.order.client_id, o.order_id);
        let time = st.tick();
        st.report(ExecutionReport::Cancelled {
            client_id: Some(cid),
            order_id: oid,
            time,
        });
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
        let st = lock(&self.state);
        Ok(st
            .orders
            .values()
            .filter(|o| o.status.is_live() && symbol.is_none_or(|s| *s == o.order.symbol))
            .map(|o| {
                let filled = st.known.get(&o.order.client_id).map_or(0.0, |k| k.filled);
                OpenOrder::of(
                    &o.order,
                    o.order_id,
                    Quantity::new(filled).unwrap_or(Quantity::ZERO),
                    o.status,
                    Timestamp::EPOCH,
                )
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
        let free = lock(&self.state).balance.unwrap_or(1_000_000.0);
        Ok(Balance {
            asset: *asset,
            free: Money::new(free)?,
            locked: Money::ZERO,
        })
    }

    /// Flattens the position at once. The closing trade is recorded in the venue's fills
    /// (`client_id: None`, at the symbol's set price) so `fills_since` explains the position,
    /// but, as before, no report is sent.
    async fn close_position(&self, symbol: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        let mut st = lock(&self.state);
        st.close_calls.push(*symbol);
        let pos = st.positions.get(symbol).copied().unwrap_or(Position::FLAT);
        let Some(side) = pos.close_side() else {
            return Ok(None);
        };
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let order_id = OrderId::new(&format!("close{n}"))?;
        let price = st.prices.get(symbol).copied().unwrap_or(100.0);
        let was_lost = std::mem::replace(&mut st.reports_lost, true);
        let closed = self.execute(
            &mut st,
            &Execution {
                symbol: *symbol,
                side,
                qty: pos.abs_quantity(),
                price,
                order_id,
                client_id: None,
            },
        );
        st.reports_lost = was_lost;
        closed?;
        st.positions.insert(*symbol, Position::FLAT);
        Ok(Some(order_id))
    }

    /// Any order the mock accepted and did not forget, working or finished. Fails while
    /// [`fail_next_status`](MockExchange::fail_next_status) faults are pending.
    async fn order_status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, ExchangeError> {
        let mut st = lock(&self.state);
        if st.failing_status > 0 {
            st.failing_status -= 1;
            return Err(ExchangeError::Transport(format!(
                "status of {client_id}: connection reset by the mock venue"
            )));
        }
        Ok(st
            .known
            .get(client_id)
            .filter(|k| k.order.symbol == *symbol)
            .map(Known::state))
    }

    /// The fills of `symbol` strictly after `cursor.after` when the mock made that fill, else
    /// those at or after `cursor.since`; at most the page set by
    /// [`with_fill_page`](MockExchange::with_fill_page).
    async fn fills_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let mut st = lock(&self.state);
        if st.rate_limited_history > 0 {
            st.rate_limited_history -= 1;
            return Err(ExchangeError::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
            });
        }
        let fills = st.fills.get(symbol).map_or(&[][..], Vec::as_slice);
        let resume = cursor
            .after
            .and_then(|id| fills.iter().position(|f| f.fill_id == id));
        let listed = |f: &&Fill| !st.unlisted.contains(&f.fill_id);
        let page = match resume {
            Some(k) => fills[k + 1..]
                .iter()
                .filter(listed)
                .take(self.fill_page)
                .copied()
                .collect(),
            None => fills
                .iter()
                .filter(|f| f.time >= cursor.since)
                .filter(listed)
                .take(self.fill_page)
                .copied()
                .collect(),
        };
        Ok(page)
    }

    /// Every symbol whose position is not flat within half a lot.
    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError> {
        let st = lock(&self.state);
        let mut held = Vec::new();
        for (symbol, p) in &st.positions {
            if !p.is_flat_in(&st.spec(symbol)?) {
                held.push((*symbol, *p));
            }
        }
        Ok(held)
    }

    fn check_client_id_prefix(&self, prefix: &str) -> Result<(), ExchangeError> {
        match prefix.chars().find(|c| self.refused_id_chars.contains(*c)) {
            None => Ok(()),
            Some(c) => Err(ExchangeError::Rejected {
                reason: format!("client id prefix {prefix:?} holds {c:?}"),
            }),
        }
    }
}

struct MockFillSource {
    rx: Option<mpsc::UnboundedReceiver<ExecutionReport>>,
    link: Arc<Mutex<StreamLink>>,
}

/// What a mock fill source shares with its venue: the sender of its current subscription and
/// whether the venue dropped it.
struct StreamLink {
    tx: Option<mpsc::UnboundedSender<ExecutionReport>>,
    dropped: bool,
    /// Connects still to refuse (see [`MockExchange::refuse_stream_connects`]).
    refused_connects: u64,
}

#[async_trait::async_trait]
impl FillSource for MockFillSource {
    fn name(&self) -> &str {
        "mock"
    }
    async fn connect(&mut self) -> Result<(), ExchangeError> {
        let mut link = lock(&self.link);
        if link.refused_connects > 0 {
            link.refused_connects -= 1;
            return Err(ExchangeError::Transport(
                "fill stream endpoint unavailable".into(),
            ));
        }
        if link.dropped {
            // Subscribe again: a fresh channel the venue's next reports go to.
            let (tx, rx) = mpsc::unbounded_channel();
            link.tx = Some(tx);
            link.dropped = false;
            self.rx = Some(rx);
        }
        Ok(())
    }
    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        let Some(rx) = &mut self.rx else {
            return Ok(None);
        };
        match rx.recv().await {
            Some(report) => Ok(Some(report)),
            None if lock(&self.link).dropped => Err(ExchangeError::Transport(
                "fill stream dropped by the venue".into(),
            )),
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

/// Polls `cond`, sleeping a millisecond between polls (on a paused clock each sleep lets every
/// task run), until it holds; panics naming `what` after 10 000 polls, so a hang is a failure.
pub async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..10_000 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Lets every runnable task run for 50 one-millisecond sleeps (of paused time, in a paused test).
pub async fn settle() {
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A side helper for tests: `Buy` when `long`.
pub fn side(long: bool) -> Side {
    if long { Side::Buy } else { Side::Sell }
}
