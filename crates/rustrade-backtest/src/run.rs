//! One backtest run: the loop that drives the engine and the simulated venue event by event.
//!
//! # The loop
//!
//! For every event `e`, in the order the source yields them:
//!
//! 1. When `e.time` starts a new time step, the previous step's equity sample is recorded and,
//!    when the timer has work, the engine's timer runs at `e.time`: while a symbol is halted (to
//!    journal its resumption) or, with an order TTL configured, while an order is live. The risk
//!    primitives take the time with every check and record, so a tick with neither changes
//!    nothing and is skipped (it was ~40 % of the hold path).
//! 2. `venue.on_market(e)`: orders decided earlier arrive and match against `e`.
//! 3. The venue's reports go to the engine (`handle_report`): acknowledgements, fills. A fill
//!    the engine refuses as invalid (a price or quantity not `> 0`) stops the run with
//!    [`BacktestError::InvalidFill`]: venue and engine would disagree from there on.
//! 4. `engine.handle_market(e)`: marks the symbol, fires emulated stops.
//! 5. Each brain that sees `e.symbol` decides (`Brain::on_event_in`) with its own position and
//!    account view from the engine; the decision goes to `engine.handle_decision`. The engine
//!    knows the account's cash from the venue: the initial cash before the first event, and the
//!    venue's cash after each batch of reports holding a fill.
//! 6. The engine's events are drained into the result (trades, refusals) and each applied fill
//!    is told to its brain (`Brain::on_fill`, after the position changed); the engine's commands
//!    go to the venue (`submit`, `cancel`) and the venue's reports back to the engine, until all
//!    are quiet.
//!
//! # Invariants
//!
//! - No look-ahead: a decision on `e` can fill at `e`'s close only under `trade_on_close`,
//!   otherwise at the next event at the earliest (the venue's rule).
//! - The equity curve has `n + 1` samples: the initial cash at the first event's time, then one
//!   per time step (events sharing a timestamp form one step), valued by the venue's wallet.
//! - `final_equity = initial_cash + realised_pnl − open_fees + unrealised_pnl − funding_paid`
//!   (see [`crate::BacktestResult`]).
//! - Deterministic: the same inputs give bit-identical results.
//! - The hold path (no order, no fill) allocates nothing per event outside the brain call, once
//!   the equity curve's buffer is reserved (from the source's `size_hint`), or when the curve is
//!   downsampled or off.
//! - Fills, trades and equity samples go to the sinks of [`crate::Outputs`] as they happen; a
//!   sink's write error stops the run with [`BacktestError::Output`].

use std::collections::{BTreeMap, VecDeque};

use rustrade_core::{
    BrainContext, ExecutionReport, Fill, InstrumentSpec, MarketEvent, Position, QTY_EPSILON,
    Symbol, Timestamp,
};
use rustrade_engine::{BrainId, Command, Engine, EngineEvent, InvalidFill, Malformed, SymbolSlot};
use rustrade_sim::SimVenue;

use crate::sink::{Curve, FILL_HEADER, Records, TRADE_HEADER, fill_row, trade_row};
use crate::stats::{EquityStats, TradeOutcome, TradeStats};
use crate::{
    Backtest, BacktestError, BacktestResult, BrainName, EquityPoint, OrderCounts, Outputs,
    TradeRecord,
};

/// Replays `data` through a fresh engine and venue built from `bt`, sending the results to
/// `outputs`.
pub(crate) fn replay<I>(
    bt: &Backtest,
    data: I,
    outputs: Outputs<'_>,
) -> Result<BacktestResult, BacktestError>
where
    I: IntoIterator<Item = Result<MarketEvent, crate::DataError>>,
{
    let data = data.into_iter();
    let mut run = Run::new(bt, outputs, data.size_hint().0.saturating_add(1))?;
    for event in data {
        // Read in place: moving the event out of its `Result` would copy it once more.
        match event {
            Ok(ref e) => run.step(e)?,
            Err(e) => return Err(e.into()),
        }
    }
    run.finish()
}

/// Per-symbol state of a run.
struct Slot {
    symbol: Symbol,
    contract_value: f64,
    /// The symbol's slot in the engine, where each brain's position is read from its ledger.
    engine_slot: SymbolSlot,
    /// Brains that see this symbol: (index into `Backtest::brains`, engine id).
    brains: Vec<(usize, BrainId)>,
    first_price: Option<f64>,
    last_price: f64,
    /// Whether the bot's net position in this symbol is open.
    exposed: bool,
}

/// The mutable state of one run.
struct Run<'a, 'w> {
    bt: &'a Backtest,
    engine: Engine,
    venue: SimVenue,
    slots: Vec<Slot>,
    last_slot: usize,
    stats: EquityStats,
    trade_stats: TradeStats,
    equity: Curve<'w>,
    step_time: Option<Timestamp>,
    fills: Records<'w, Fill>,
    trades: Records<'w, TradeRecord>,
    refused: u64,
    events: u64,
    /// Symbols whose entries the engine reported halted and not yet resumed.
    halted: usize,
    /// Slots whose `exposed` is set.
    exposed: usize,
    /// Whether the engine has an order TTL (its timer then has work while an order is live).
    ttl: bool,
    orders: OrderCounts,
    /// Journal events taken from the engine in one batch and read by reference (empty between
    /// batches; kept to reuse its allocation).
    event_batch: VecDeque<EngineEvent>,
    /// The venue's reports, taken the same way.
    report_batch: VecDeque<ExecutionReport>,
    /// The engine's commands, taken the same way.
    command_batch: VecDeque<Command>,
    /// A fill the engine refused ([`rustrade_engine::check_fill`]): the run stops with it.
    invalid_fill: Option<(Fill, InvalidFill)>,
}

/// Most engine/venue exchanges one event can cause before the loop calls it a livelock.
const MAX_ROUNDS: usize = 1_000;

impl<'a, 'w> Run<'a, 'w> {
    /// A run of `bt` with its results sent to `outputs`; `samples` is the expected length of the
    /// equity curve (reserved when it is kept whole).
    fn new(bt: &'a Backtest, outputs: Outputs<'w>, samples: usize) -> Result<Self, BacktestError> {
        let mut engine = Engine::new(bt.engine.clone(), Timestamp::EPOCH)
            .map_err(|e| BacktestError::Engine(e.to_string()))?;
        // The engine sizes equity and cash entries from the venue's cash (see `exchange`).
        engine.handle_balance(bt.sim.initial_cash, Timestamp::EPOCH);
        let mut venue = SimVenue::new(bt.sim.clone()).map_err(|e| BacktestError::Config {
            field: "sim",
            reason: e.to_string(),
        })?;
        let mut specs = bt.instruments.clone();
        specs.sort_by_key(InstrumentSpec::symbol);
        let mut slots = Vec::with_capacity(specs.len());
        for spec in &specs {
            venue
                .add_instrument(*spec)
                .map_err(|e| BacktestError::Config {
                    field: "instruments",
                    reason: e.to_string(),
                })?;
            let symbol = spec.symbol();
            let brains = bt
                .brains
                .iter()
                .enumerate()
                .filter(|(i, _)| bt.roster.routes(*i, &symbol))
                .map(|(i, b)| {
                    engine.brain_id(b.name()).map(|id| (i, id)).ok_or_else(|| {
                        BacktestError::Engine(format!("brain {:?} not registered", b.name()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let engine_slot = engine.symbol_slot(&symbol).ok_or_else(|| {
                BacktestError::Engine(format!("instrument {symbol} not registered"))
            })?;
            slots.push(Slot {
                symbol,
                contract_value: spec.contract_value(),
                engine_slot,
                brains,
                first_price: None,
                last_price: 0.0,
                exposed: false,
            });
        }
        Ok(Self {
            event_batch: VecDeque::with_capacity(16),
            report_batch: VecDeque::with_capacity(16),
            command_batch: VecDeque::with_capacity(16),
            bt,
            engine,
            venue,
            slots,
            last_slot: 0,
            stats: EquityStats::default(),
            trade_stats: TradeStats::default(),
            equity: Curve::new(outputs.equity, samples)?,
            step_time: None,
            fills: Records::new(outputs.fills, "fills CSV", &FILL_HEADER)?,
            trades: Records::new(outputs.trades, "trades CSV", &TRADE_HEADER)?,
            refused: 0,
            events: 0,
            halted: 0,
            exposed: 0,
            ttl: bt.engine.order_ttl.is_some(),
            orders: OrderCounts::default(),
            invalid_fill: None,
        })
    }

    /// The slot of `event`'s symbol: the last one used (one comparison, the usual case), else a
    /// search; an unknown symbol is an error.
    #[inline]
    fn slot_of(&mut self, event: &MarketEvent) -> Result<usize, BacktestError> {
        if self.slots[self.last_slot].symbol == event.symbol {
            return Ok(self.last_slot);
        }
        let i = self
            .find_slot(&event.symbol)
            .ok_or(BacktestError::UnknownSymbol {
                symbol: event.symbol,
                time: event.time,
            })?;
        self.last_slot = i;
        Ok(i)
    }

    /// The slot of `symbol`: the last one used, else a scan by equality (a byte comparison,
    /// much cheaper than `Symbol`'s string ordering), else a binary search for large universes.
    #[inline]
    fn find_slot(&self, symbol: &Symbol) -> Option<usize> {
        if self.slots[self.last_slot].symbol == *symbol {
            return Some(self.last_slot);
        }
        self.search_slot(symbol)
    }

    /// [`Self::find_slot`] past the last slot used (out of line: a single-symbol run never
    /// gets here).
    #[inline(never)]
    fn search_slot(&self, symbol: &Symbol) -> Option<usize> {
        if self.slots.len() <= 64 {
            self.slots.iter().position(|s| s.symbol == *symbol)
        } else {
            self.slots.binary_search_by(|s| s.symbol.cmp(symbol)).ok()
        }
    }

    #[inline]
    fn step(&mut self, event: &MarketEvent) -> Result<(), BacktestError> {
        let si = self.slot_of(event)?;
        if self.step_time != Some(event.time) {
            self.next_step(event)?;
        }
        self.events += 1;
        let price = event.reference_price().get();
        let slot = &mut self.slots[si];
        slot.first_price.get_or_insert(price);
        slot.last_price = price;

        debug_assert!(self.quiet(), "a step starts with every queue empty");
        // Every queue is empty here (each step ends quiet), so only the venue's reports can be
        // waiting after `on_market`, and only the engine's output after `handle_market`.
        self.venue.on_market(event);
        if self.venue.pending_reports() > 0 {
            self.exchange()?;
        }
        self.engine.handle_market(event);
        if self.engine.pending_events() > 0 || self.engine.pending_commands() > 0 {
            self.exchange()?;
        }
        let bt = self.bt;
        for k in 0..self.slots[si].brains.len() {
            let slot = &self.slots[si];
            let (bi, id) = slot.brains[k];
            let brain = &bt.brains[bi];
            let position = self.engine.brain_position_at(slot.engine_slot, id);
            let account = self.engine.account_view(slot.engine_slot, id);
            let decision = brain.on_event_in(event, &BrainContext::new(&position, &account));
            let decision = match &decision {
                Ok(d) if d.is_hold() => {
                    if d.metadata().is_none() {
                        // A hold without metadata owns no heap memory, so there is nothing to
                        // drop; skipping the drop glue's call is ~4 % of the hold path.
                        std::mem::forget(decision);
                    }
                    continue;
                }
                Ok(d) => d,
                Err(e) => return Err(brain_error(brain.as_ref(), event, e)),
            };
            self.engine.handle_decision(id, event, decision, event.time);
            self.pump()?;
        }
        Ok(())
    }

    /// `event.time` starts a new time step (or is the first event, or goes back in time): the
    /// previous step's equity sample is recorded and the engine's timer runs when it has work.
    #[inline]
    fn next_step(&mut self, event: &MarketEvent) -> Result<(), BacktestError> {
        match self.step_time {
            Some(t) if event.time > t => {
                self.close_step(t)?;
                self.step_time = Some(event.time);
                if self.timer_has_work() {
                    self.engine.handle_timer(event.time);
                    self.pump()?;
                }
                Ok(())
            }
            Some(t) => Err(BacktestError::TimeWentBack {
                symbol: event.symbol,
                time: event.time,
                previous: t,
            }),
            None => {
                let cash = self.venue.equity();
                self.stats.start(event.time, cash);
                self.sample(event.time, cash)?;
                self.step_time = Some(event.time);
                self.engine.handle_timer(event.time);
                self.pump()
            }
        }
    }

    /// Whether a timer tick could change anything (see the module doc).
    #[inline]
    fn timer_has_work(&self) -> bool {
        self.halted > 0 || (self.ttl && self.engine.open_orders().next().is_some())
    }

    /// Moves engine events to the result, engine commands to the venue and venue reports to the
    /// engine until all three queues are empty.
    #[inline]
    fn pump(&mut self) -> Result<(), BacktestError> {
        if self.quiet() {
            return Ok(());
        }
        self.exchange()
    }

    /// The body of [`Self::pump`] once some queue holds something.
    #[inline(never)]
    fn exchange(&mut self) -> Result<(), BacktestError> {
        for _ in 0..MAX_ROUNDS {
            if self.venue.pending_reports() > 0 {
                // The batch is read in place next to the fields it feeds (no buffer moved).
                let Self {
                    venue,
                    engine,
                    fills,
                    report_batch: batch,
                    ..
                } = self;
                venue.take_reports(batch);
                let mut filled = false;
                for report in batch.iter() {
                    if let ExecutionReport::Fill(fill) = report {
                        filled = true;
                        fills.push(*fill, fill_row)?;
                    }
                    engine.handle_report(report);
                }
                if filled {
                    // The engine books fills into cash as the venue does; the venue's figure
                    // also holds the funding paid since, so it is the one sizing reads.
                    engine.handle_balance(venue.cash(), venue.now());
                }
                batch.clear();
            }
            if self.engine.pending_events() > 0 {
                let mut batch = std::mem::take(&mut self.event_batch);
                self.engine.take_events(&mut batch);
                for event in &batch {
                    self.record(event)?;
                }
                batch.clear();
                // What `take` left is an empty queue that never allocated: nothing to drop.
                let empty = std::mem::replace(&mut self.event_batch, batch);
                debug_assert_eq!(empty.capacity(), 0);
                std::mem::forget(empty);
                if let Some((fill, problem)) = self.invalid_fill.take() {
                    return Err(BacktestError::InvalidFill {
                        fill_id: fill.fill_id.to_string(),
                        symbol: fill.symbol,
                        time: fill.time,
                        problem,
                    });
                }
            }
            if self.engine.pending_commands() > 0 {
                let Self {
                    venue,
                    engine,
                    command_batch: batch,
                    ..
                } = self;
                engine.take_commands(batch);
                for command in batch.iter() {
                    match command {
                        Command::Place(place) => {
                            // A refusal is also queued as a `Rejected` report, delivered above.
                            let _ = venue.submit(&place.order);
                        }
                        Command::Cancel(cancel) => {
                            // An order the venue no longer holds has already reported its end
                            // (filled, expired or cancelled) to the engine.
                            let _ = venue.cancel(&cancel.client_id);
                        }
                    }
                }
                batch.clear();
            }
            // Checked by length, so the usual last round costs no empty polls.
            if self.quiet() {
                #[cfg(debug_assertions)]
                if let Err(e) = self.engine.check_invariants() {
                    panic!("{e}");
                }
                return Ok(());
            }
        }
        Err(BacktestError::Engine(format!(
            "engine and venue still exchanging messages after {MAX_ROUNDS} rounds at {}",
            self.venue.now()
        )))
    }

    /// Whether all three queues are empty: the usual state after an event that changed nothing,
    /// checked by length so that case costs no poll.
    #[inline]
    fn quiet(&self) -> bool {
        self.venue.pending_reports() == 0
            && self.engine.pending_events() == 0
            && self.engine.pending_commands() == 0
    }

    fn record(&mut self, event: &EngineEvent) -> Result<(), BacktestError> {
        match event {
            EngineEvent::FillApplied { brain, fill, .. } => {
                // The net position is read from the engine (a lean journal has no
                // `PositionChanged`): after the batch, which is when exposure is next read.
                if let Some(si) = self.find_slot(&fill.symbol) {
                    let slot = self.slots[si].engine_slot;
                    let flat = self
                        .engine
                        .ledger_at(slot)
                        .is_none_or(|l| l.quantity.abs() < QTY_EPSILON);
                    self.set_exposed(si, !flat);
                }
                if let Some(b) = self.bt.brains.get(brain.index()) {
                    b.on_fill(fill);
                }
            }
            EngineEvent::DecisionRefused { .. } => self.refused += 1,
            EngineEvent::OrderPlaced { .. } => self.orders.placed += 1,
            EngineEvent::OrderRejected { .. } => self.orders.rejected += 1,
            EngineEvent::OrderCancelled { .. } => self.orders.cancelled += 1,
            EngineEvent::OrderExpired { .. } => self.orders.expired += 1,
            EngineEvent::RiskHalted { .. } => self.halted += 1,
            EngineEvent::MalformedInput {
                problem: Malformed::InvalidFill { fill, problem },
                ..
            } => self.invalid_fill = Some((*fill, *problem)),
            EngineEvent::RiskResumed { .. } => self.halted = self.halted.saturating_sub(1),
            EngineEvent::PositionChanged { symbol, net, .. } => {
                if let Some(si) = self.find_slot(symbol) {
                    self.set_exposed(si, !net.is_flat());
                }
            }
            EngineEvent::TradeClosed {
                brain,
                symbol,
                trade,
            } => {
                let quantity = trade.quantity;
                let cv = self
                    .find_slot(symbol)
                    .map_or(1.0, |i| self.slots[i].contract_value);
                let notional = trade.entry_price.abs() * quantity * cv;
                let return_fraction = if notional > 0.0 {
                    trade.net_pnl / notional
                } else {
                    0.0
                };
                self.trade_stats.push(TradeOutcome {
                    net_pnl: trade.net_pnl,
                    return_fraction,
                });
                if !self.trades.wanted() {
                    return Ok(());
                }
                let name = self
                    .engine
                    .brain_name(*brain)
                    .map_or_else(|| BrainName::new("?"), BrainName::new);
                let record = TradeRecord {
                    brain: name,
                    symbol: *symbol,
                    side: trade.side,
                    quantity,
                    entry_time: trade.opened_at,
                    exit_time: trade.closed_at,
                    entry_price: trade.entry_price,
                    exit_price: trade.exit_price,
                    gross_pnl: trade.gross_pnl,
                    fees: trade.fees,
                    net_pnl: trade.net_pnl,
                    return_fraction,
                };
                self.trades.push(record, trade_row)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Records whether the bot's net position in slot `si` is open.
    #[inline]
    fn set_exposed(&mut self, si: usize, exposed: bool) {
        let slot = &mut self.slots[si];
        if exposed != slot.exposed {
            slot.exposed = exposed;
            if exposed {
                self.exposed += 1;
            } else {
                self.exposed -= 1;
            }
        }
    }

    #[inline]
    fn sample(&mut self, time: Timestamp, equity: f64) -> Result<(), BacktestError> {
        self.equity.push(EquityPoint { time, equity })
    }

    #[inline]
    fn close_step(&mut self, time: Timestamp) -> Result<(), BacktestError> {
        let equity = self.venue.equity();
        self.stats.push(time, equity, self.exposed > 0);
        self.sample(time, equity)
    }

    fn finish(mut self) -> Result<BacktestResult, BacktestError> {
        if let Some(t) = self.step_time {
            self.close_step(t)?;
        } else {
            let cash = self.venue.equity();
            self.stats.start(Timestamp::EPOCH, cash);
            self.sample(Timestamp::EPOCH, cash)?;
        }
        let mut positions = BTreeMap::new();
        let (mut realised, mut unrealised, mut open_fees, mut open_trade_fees) =
            (0.0, 0.0, 0.0, 0.0);
        for s in &self.slots {
            let p: Position = self.engine.position(&s.symbol);
            if let Some(l) = self.engine.ledger(&s.symbol) {
                realised += l.realised_pnl;
                open_fees += l.open_fees;
                open_trade_fees += l.trade_fees;
            }
            unrealised += p.unrealised_pnl;
            positions.insert(s.symbol, p);
        }
        let wallet = self.venue.wallet();
        let fees_paid = wallet.fees_paid();
        let funding_paid = wallet.funding_paid();
        let bh: Vec<f64> = self
            .slots
            .iter()
            .filter_map(|s| {
                s.first_price
                    .filter(|p| *p > 0.0)
                    .map(|p| s.last_price / p - 1.0)
            })
            .collect();
        let buy_and_hold = (!bh.is_empty()).then(|| bh.iter().sum::<f64>() / bh.len() as f64);
        let statistics = self.stats.finish(
            self.bt.periods_per_year,
            &self.trade_stats,
            fees_paid,
            buy_and_hold,
        );
        Ok(BacktestResult {
            initial_cash: self.bt.sim.initial_cash,
            final_equity: self.venue.equity(),
            realised_pnl: realised,
            unrealised_pnl: unrealised,
            open_fees,
            open_trade_fees,
            fees_paid,
            funding_paid,
            events: self.events,
            refused_decisions: self.refused,
            orders: self.orders,
            fills: self.fills.finish()?,
            trades: self.trades.finish()?,
            equity: self.equity.finish()?,
            positions,
            statistics,
        })
    }
}

/// The run's error for a brain that failed on `event`. Out of line: the per-event path only
/// checks for it.
#[cold]
#[inline(never)]
fn brain_error(
    brain: &dyn rustrade_core::Brain,
    event: &MarketEvent,
    e: &rustrade_core::BrainError,
) -> BacktestError {
    BacktestError::Brain {
        brain: brain.name().to_owned(),
        symbol: event.symbol,
        time: event.time,
        message: e.to_string(),
    }
}
