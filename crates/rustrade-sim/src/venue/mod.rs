//! [`SimVenue`]: the synchronous, deterministic simulated venue.
//!
//! # Call protocol
//!
//! The venue is a sans-IO state machine: inputs go in through [`SimVenue::submit`],
//! [`SimVenue::submit_oco`], [`SimVenue::cancel`] and [`SimVenue::on_market`]; outputs come out of
//! [`SimVenue::poll_report`] (core [`ExecutionReport`]s) and [`SimVenue::poll_funding`]
//! ([`FundingPayment`]s). Time is the time of the market events fed in; the venue never reads a
//! clock. A backtest drives it, for every event `e` in time order:
//!
//! 1. `venue.on_market(&e)` — orders decided on earlier events arrive and match against `e`;
//! 2. drain `poll_report()` (and `poll_funding()`) into the engine;
//! 3. let the strategy decide on `e` and `submit` the resulting orders; drain `poll_report()`
//!    again (rejections, and fills under `trade_on_close`).
//!
//! Reports come out in the order things happened. `submit` also returns the outcome directly:
//! `Ok(order_id)` means *received* (an `Accepted` report follows when the order arrives and is
//! not refused on arrival), `Err(reason)` means refused now — at submit, or on an immediate
//! `trade_on_close` arrival — and a `Rejected` report is queued too; a refused client id may be
//! submitted again.
//! Submitting a client order id the venue has already received returns the first order's id and
//! changes nothing, so a retried placement never duplicates an order. This holds for every
//! working order and for the last [`ENDED_ID_RETENTION`](crate::ENDED_ID_RETENTION) orders to
//! end; older ended ids are forgotten, so the venue's memory does not grow with the run.
//!
//! # Order life cycle
//!
//! - Refused at submit (`Rejected`): unknown symbol or invalid order (`InvalidOrder`), a kind,
//!   time in force, reduce-only flag or attached protection the venue's capabilities lack
//!   (`Unsupported`), exposure above `max_leverage × equity` (`InsufficientFunds`).
//! - Arrival (see [`LatencyModel`](crate::LatencyModel)): `Rejected` for a post-only that would
//!   take (`WouldTake`) or a fill-or-kill that cannot fill whole (`NotFillable`); otherwise
//!   `Accepted`, then matching by the fill rules documented in [`crate::matching`].
//! - Fills: `Fill` reports; a partly filled order keeps working. `Cancelled` for an IOC
//!   remainder, the other members of an OCO group once one member fills, and cancels by the
//!   user; `Expired` for a reduce-only order with nothing left to reduce (or the part of it that
//!   would reverse the position).
//!
//! # Matching order within one event
//!
//! Orders of the event's symbol are matched one after another in the order
//! `(reduce_only, not a stop, submission sequence)`: entries first, then reduce-only stops
//! (stop-market, stop-limit, trailing), then other reduce-only orders (take-profits and limit
//! exits). Each fill updates the position before the next order is looked at. So when one bar
//! crosses both legs of a bracket, the stop fills first and the take-profit then has nothing to
//! reduce and expires — **the stop wins** — provided the legs are reduce-only. Legs that are not
//! reduce-only must share an [`OcoGroup`] ([`SimVenue::submit_oco`]): the stop is still matched
//! first, and its fill cancels its siblings.
//!
//! # Quantities
//!
//! With a participation cap `r`, each side of an event offers `r × volume` (candle volume, trade
//! size, or the quote's size on that side); fills take from it in matching order, a partial fill
//! is floored to the instrument's lot, and the rest keeps working (`PartiallyFilled`).
//!
//! # Prices and money
//!
//! A taker fill's price is the rule's reference price moved by the slippage model, then bounded
//! by the order's limit price and by the candle's `[low, high]`; a maker fill executes at the
//! reference price. The fee model charges every fill. The venue books cash and funding itself and
//! every fill in the symbol's core [`Ledger`](rustrade_core::Ledger) (position, average entry,
//! realised PnL, fees of both legs), the same accounting the engine keeps; the [`Wallet`] reads
//! both, with the identity `cash = initial − Σ s × qty × price × cv − Σ fees − Σ funding`. Reports carry the time of the
//! event that produced them (a candle event's time, normally its close).
//!
//! # History
//!
//! On request ([`SimVenue::with_history`]) the venue keeps the account history a crash recovery
//! asks a real venue for: every order's final state by client id ([`SimVenue::order_state`]) and
//! every fill per symbol ([`SimVenue::fills_after`]). It is built from the reports above, so it
//! never disagrees with them. Without it, only working orders can be looked up.
//!
//! # Cost
//!
//! `on_market` allocates nothing unless a report or funding queue has to grow (drain them every
//! event and they stop growing). With no working order in the event's symbol and
//! `trade_on_close` off, it only counts the event, updates the mark and walks the funding
//! schedule; the `match` bench measures it.
//!
//! # Files
//!
//! This file holds the API and the report and funding queues; `submit.rs` the submit path,
//! `market_event.rs` the market-event path, `fill.rs` fill processing and `book.rs` the book of
//! working orders they share.

mod book;
mod fill;
mod market_event;
mod submit;

use std::collections::VecDeque;

use rustrade_core::{
    ClientOrderId, ExecutionReport, Fill, FillCursor, InstrumentSpec, MarketEvent, OpenOrder,
    Order, OrderId, OrderState, Position, RejectReason, Symbol, Timestamp,
};

use crate::client_ids::ClientIds;
use crate::error::SimError;
use crate::funding::FundingCursor;
use crate::history::History;
use crate::ids::IdCounter;
use crate::wallet::{Cash, Held};
use crate::{FundingModel, FundingPayment, SimConfig, Wallet};
use book::{SymbolBook, WorkingOrder, sweep};
use submit::CapabilityMask;

pub(crate) use fill::is_complete_fill;

/// A one-cancels-others group chosen by the caller (for example a bracket's id). When any member
/// fills, even partly, the venue cancels the other working members. A group links orders of one
/// symbol.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct OcoGroup(pub u64);

/// The simulated venue: order book of our working orders per symbol, fill rules, models and
/// wallet. See the module documentation for the call protocol and the invariants. `Clone`, so a
/// configured venue can be copied for each run of a sweep.
///
/// ```
/// use rustrade_core::*;
/// use rustrade_sim::{SimConfig, SimVenue};
///
/// let sym = Symbol::new("BTCUSDT")?;
/// let mut venue = SimVenue::new(SimConfig::default())?;
/// venue.add_instrument(InstrumentSpec::new(sym, AssetClass::CryptoSpot, 0.01, 0.001)?)?;
/// let bar = |t: i64, o, h, l, c| {
///     let candle = Candle::new(Timestamp::from_nanos(t), o, h, l, c, 10.0).unwrap();
///     MarketEvent::candle(Venue::new("sim").unwrap(), sym, Timestamp::from_nanos(t + 1), candle)
/// };
/// venue.on_market(&bar(0, 100.0, 101.0, 99.0, 100.0));
/// let order = Order::market(ClientOrderId::new("c-1")?, sym, Side::Buy, Quantity::new(1.0)?);
/// venue.submit(&order).expect("accepted");
/// venue.on_market(&bar(2, 102.0, 103.0, 101.0, 102.5)); // fills at this bar's open
/// assert_eq!(venue.position(&sym).quantity, 1.0);
/// assert_eq!(venue.cash(), 10_000.0 - 102.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SimVenue {
    config: SimConfig,
    books: Vec<SymbolBook>,
    cash: Cash,
    /// Mark and ledger of each symbol, in the order of `books`.
    held: Vec<Held>,
    reports: VecDeque<ExecutionReport>,
    funding: VecDeque<FundingPayment>,
    client_ids: ClientIds,
    order_ids: IdCounter,
    fill_ids: IdCounter,
    now: Timestamp,
    rng: fastrand::Rng,
    last_book: usize,
    /// `config.capabilities` as a bit set, for the per-order checks.
    caps: CapabilityMask,
    /// The account history, when recorded (see [`SimVenue::with_history`]).
    history: Option<Box<History>>,
}

impl SimVenue {
    /// A venue with no instruments; validates `config` (the error names the field).
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        config.validate()?;
        Ok(Self {
            cash: Cash::new(config.quote_asset, config.initial_cash),
            held: Vec::new(),
            rng: fastrand::Rng::with_seed(config.seed),
            caps: CapabilityMask::new(&config.capabilities),
            config,
            books: Vec::new(),
            reports: VecDeque::with_capacity(64),
            funding: VecDeque::new(),
            client_ids: ClientIds::default(),
            order_ids: IdCounter::new("sim-"),
            fill_ids: IdCounter::new("sim-f"),
            now: Timestamp::MIN,
            last_book: 0,
            history: None,
        })
    }

    /// [`SimVenue::record_history`], by value.
    #[must_use]
    pub fn with_history(mut self) -> Self {
        self.record_history();
        self
    }

    /// Starts keeping the account history: every order received from now on, with its final
    /// state once finished, and every fill per symbol in arrival order. What
    /// [`SimVenue::order_state`] and [`SimVenue::fills_after`] answer for finished orders and
    /// past fills comes from it. Off by default, because it grows with the run and a backtest
    /// never asks; the matching path costs the same with it off. Calling it again changes
    /// nothing.
    pub fn record_history(&mut self) {
        if self.history.is_none() {
            let complete = self.order_ids.issued() == 0;
            self.history = Some(Box::new(History::new(complete, self.now)));
        }
    }

    /// Whether the account history is being kept.
    pub fn records_history(&self) -> bool {
        self.history.is_some()
    }

    /// Whether the history holds every order the venue ever received: it was turned on before
    /// the first order arrived. Only then does an unknown client id mean "never received".
    pub fn history_is_complete(&self) -> bool {
        self.history.as_ref().is_some_and(|h| h.is_complete())
    }

    /// Registers an instrument; orders and market events of unregistered symbols are refused and
    /// ignored respectively.
    pub fn add_instrument(&mut self, spec: InstrumentSpec) -> Result<(), SimError> {
        if self.book_index(&spec.symbol()).is_some() {
            return Err(SimError::DuplicateInstrument(spec.symbol()));
        }
        self.held.push(Held::new(spec));
        self.books.push(SymbolBook::new(spec));
        Ok(())
    }

    /// Sets the funding model of a registered symbol (validated).
    pub fn set_funding(&mut self, symbol: &Symbol, model: FundingModel) -> Result<(), SimError> {
        model.validate()?;
        let i = self
            .book_index(symbol)
            .ok_or(SimError::UnknownSymbol(*symbol))?;
        self.books[i].funding = FundingCursor::new(model);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The registered instrument of `symbol`.
    pub fn instrument(&self, symbol: &Symbol) -> Option<&InstrumentSpec> {
        self.book_index(symbol).map(|i| &self.books[i].spec)
    }

    /// Venue time: the latest market event time seen ([`Timestamp::MIN`] before the first).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Submits an order; see the module documentation for what `Ok` and `Err` mean.
    pub fn submit(&mut self, order: &Order) -> Result<OrderId, RejectReason> {
        let from = self.reports.len();
        let outcome = self.place(order, None);
        self.record_reports(from);
        outcome
    }

    /// Submits an order as a member of an OCO group.
    pub fn submit_oco(&mut self, order: &Order, group: OcoGroup) -> Result<OrderId, RejectReason> {
        let from = self.reports.len();
        let outcome = self.place(order, Some(group));
        self.record_reports(from);
        outcome
    }

    /// Cancels the working order with `client_id`; queues a `Cancelled` report.
    pub fn cancel(&mut self, client_id: &ClientOrderId) -> Result<OrderId, SimError> {
        let from = self.reports.len();
        let outcome = self
            .cancel_where(|o| o.order.client_id == *client_id)
            .ok_or(SimError::UnknownClientOrder(*client_id));
        self.record_reports(from);
        outcome
    }

    /// Cancels the working order with venue id `order_id`; queues a `Cancelled` report.
    pub fn cancel_order_id(&mut self, order_id: &OrderId) -> Result<ClientOrderId, SimError> {
        let client = self
            .books
            .iter()
            .flat_map(|b| b.orders.iter())
            .find(|o| o.live && o.id == *order_id)
            .map(|o| o.order.client_id)
            .ok_or(SimError::UnknownOrder(*order_id))?;
        let from = self.reports.len();
        self.cancel_where(|o| o.id == *order_id);
        self.record_reports(from);
        Ok(client)
    }

    /// Cancels every working order in `symbol`; returns how many.
    pub fn cancel_all(&mut self, symbol: &Symbol) -> Result<usize, SimError> {
        let i = self
            .book_index(symbol)
            .ok_or(SimError::UnknownSymbol(*symbol))?;
        let now = self.now;
        let from = self.reports.len();
        let book = &mut self.books[i];
        let mut n = 0;
        for o in book.orders.iter_mut().filter(|o| o.live) {
            o.live = false;
            n += 1;
            self.reports.push_back(ExecutionReport::Cancelled {
                client_id: Some(o.order.client_id),
                order_id: o.id,
                time: now,
            });
        }
        sweep(&mut book.orders, &mut self.client_ids);
        self.record_reports(from);
        Ok(n)
    }

    /// Feeds one market event: working orders of its symbol arrive and match, the symbol's mark
    /// and last prices update, and funding instants it covers are charged. Events of
    /// unregistered symbols are ignored. The event's `venue` field is not checked, so a paper
    /// venue can follow another venue's live feed.
    #[inline]
    pub fn on_market(&mut self, event: &MarketEvent) {
        if let Err(bi) = self.mark_idle_book(event) {
            let from = self.reports.len();
            self.on_market_in_full(event, bi);
            self.record_reports(from);
        }
    }

    /// The next execution report, oldest first.
    #[inline]
    pub fn poll_report(&mut self) -> Option<ExecutionReport> {
        self.reports.pop_front()
    }

    /// Moves every waiting report, oldest first, to the back of `into` and leaves the venue's
    /// queue empty. When `into` is empty the two buffers are swapped, so a driver that reads the
    /// reports by reference and clears its buffer keeps both allocations and copies no report.
    /// Same order and content as polling [`SimVenue::poll_report`] until `None`.
    pub fn take_reports(&mut self, into: &mut VecDeque<ExecutionReport>) {
        if into.is_empty() {
            std::mem::swap(&mut self.reports, into);
        } else {
            into.extend(self.reports.drain(..));
        }
    }

    /// Number of execution reports waiting to be polled; a driver checks it to skip an empty
    /// drain on the common event that produced nothing.
    #[inline]
    pub fn pending_reports(&self) -> usize {
        self.reports.len()
    }

    /// Drains every queued execution report, oldest first, without allocating.
    pub fn drain_reports(&mut self) -> std::collections::vec_deque::Drain<'_, ExecutionReport> {
        self.reports.drain(..)
    }

    /// The next funding payment, oldest first.
    pub fn poll_funding(&mut self) -> Option<FundingPayment> {
        self.funding.pop_front()
    }

    /// The wallet: cash and funding, and each symbol's ledger (positions, PnL, fees).
    pub fn wallet(&self) -> Wallet<'_> {
        Wallet::new(&self.cash, &self.held)
    }

    /// Cash balance in the quote asset.
    #[doc(alias = "balance")]
    pub fn cash(&self) -> f64 {
        self.cash.get()
    }

    /// Position in `symbol`, with unrealised PnL at the last mark (flat when unknown).
    pub fn position(&self, symbol: &Symbol) -> Position {
        self.book_index(symbol)
            .map_or(Position::FLAT, |i| self.held[i].position())
    }

    /// The ledger of `symbol`: the same accounting the engine keeps from the same fills.
    pub fn ledger(&self, symbol: &Symbol) -> Option<&rustrade_core::Ledger> {
        self.book_index(symbol).map(|i| &self.held[i].ledger)
    }

    /// The last mark (reference price) of `symbol`, once an event has been seen.
    pub fn mark(&self, symbol: &Symbol) -> Option<f64> {
        self.book_index(symbol).and_then(|i| self.held[i].mark)
    }

    /// Cash plus every position valued at its last mark (at its entry price before any mark),
    /// with the contract value.
    #[inline]
    pub fn equity(&self) -> f64 {
        crate::wallet::equity(&self.cash, &self.held)
    }

    /// Number of working orders (received, not yet done) across all symbols.
    pub fn working_orders(&self) -> usize {
        self.books.iter().map(|b| b.orders.len()).sum()
    }

    /// Working orders in `symbol`, or in every symbol, as a venue would list them.
    pub fn open_orders(&self, symbol: Option<&Symbol>) -> Vec<OpenOrder> {
        self.books
            .iter()
            .filter(|b| symbol.is_none_or(|s| b.spec.symbol() == *s))
            .flat_map(|b| b.orders.iter())
            .filter(|o| o.live)
            .map(WorkingOrder::to_open_order)
            .collect()
    }

    /// The order last received under `client_id`, working or finished, as a venue would report
    /// it; `None` when the venue does not know it.
    ///
    /// Finished orders are known only while the history is kept ([`SimVenue::with_history`]). A
    /// working order received before the history was turned on is still found, without an
    /// average fill price (its fills predate the history).
    pub fn order_state(&self, client_id: &ClientOrderId) -> Option<OrderState> {
        if let Some(state) = self.history.as_ref().and_then(|h| h.order_state(client_id)) {
            return Some(state);
        }
        self.books
            .iter()
            .flat_map(|b| b.orders.iter())
            .find(|o| o.live && o.order.client_id == *client_id)
            .map(|o| OrderState {
                order: o.to_open_order(),
                avg_fill_price: None,
            })
    }

    /// The fills of `symbol` after `cursor`, in the order the venue made them: strictly after
    /// `cursor.after` when that fill is in the history, else every fill at or after
    /// `cursor.since`. Empty while no history is kept.
    pub fn fills_after<'a>(
        &'a self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> impl Iterator<Item = &'a Fill> + use<'a> {
        let (symbol, cursor) = (*symbol, *cursor);
        self.history
            .as_deref()
            .into_iter()
            .flat_map(move |h| h.fills_after(&symbol, &cursor))
    }

    /// Whether [`SimVenue::fills_after`] lists every fill the venue made after `cursor` on
    /// `symbol`: the history is kept and complete, holds the cursor's fill, or started before
    /// the cursor's time.
    pub fn history_covers(&self, symbol: &Symbol, cursor: &FillCursor) -> bool {
        self.history
            .as_ref()
            .is_some_and(|h| h.covers(symbol, cursor))
    }

    /// Every position that is not flat (within half a lot), in instrument registration order.
    pub fn positions(&self) -> impl Iterator<Item = (Symbol, Position)> + '_ {
        self.held
            .iter()
            .filter(|h| !h.ledger.is_flat(&h.spec))
            .map(|h| (h.spec.symbol(), h.position()))
    }

    /// Feeds the reports queued since index `from` to the history, when one is kept.
    #[inline]
    fn record_reports(&mut self, from: usize) {
        if let Some(h) = self.history.as_deref_mut() {
            for r in self.reports.range(from..) {
                h.apply(r);
            }
        }
    }

    #[inline]
    fn book_index(&self, symbol: &Symbol) -> Option<usize> {
        match self.books.get(self.last_book) {
            Some(b) if b.spec.symbol() == *symbol => Some(self.last_book),
            _ => self.books.iter().position(|b| b.spec.symbol() == *symbol),
        }
    }

    fn cancel_where(&mut self, matches: impl Fn(&WorkingOrder) -> bool) -> Option<OrderId> {
        for book in &mut self.books {
            if let Some(at) = book.orders.iter().position(|o| o.live && matches(o)) {
                let o = book.orders.remove(at);
                self.client_ids.ended(o.client_print, o.seq);
                self.reports.push_back(ExecutionReport::Cancelled {
                    client_id: Some(o.order.client_id),
                    order_id: o.id,
                    time: self.now,
                });
                return Some(o.id);
            }
        }
        None
    }
}
