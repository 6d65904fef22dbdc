//! [`Engine`]: the state, its construction, the output queues and the read-only views.
//!
//! The inputs live in one file per concern: `decide.rs` (brain decisions, order construction),
//! `execution.rs` (acknowledgements, rejections, cancels, fills, OCO), `market.rs` (marks,
//! emulated stops, the timer), `reconcile.rs` (venue reports) and `snapshot.rs`.
//!
//! The state is composed of parts, each a type with private fields in its own file whose
//! methods are the only way to change it: `Positions` (ledgers, marks, cash, the fill-id
//! window), `Working` (the order book and the reservations of working entries), `Brackets`
//! (protection of entries), `RiskDesk` (per-symbol and portfolio risk, entry blocks),
//! `ExitRetries` (refused protective exits), `Brains` (names and statistics),
//! [`ClientIdSequence`] and `Outbox` (the output queues and the journal count). The input
//! files sequence the parts; [`Engine::check_invariants`] asks each part to check its own.
//!
//! # Invariants
//!
//! - For every symbol, the net ledger's quantity equals the sum of the brains' ledgers (both are
//!   fed the same fills; an adopted venue difference is applied to both).
//! - Every `Place` command carries an order whose client id is new to the book, and is journalled
//!   by an `OrderPlaced` event pushed in the same call.
//! - Iteration order never depends on hashing: maps that are iterated are `BTreeMap`s, brains
//!   are a `Vec`; the two fingerprint tables (venue-id index, recent fill ids, see
//!   `rustrade_core::PrintIndex`) serve lookups only.

use std::collections::{BTreeSet, VecDeque};

use rustrade_core::{
    Capability, ClientOrderId, InstrumentSpec, OrderStatus, Position, Price, Symbol, Timestamp,
};

use crate::brackets::Brackets;
use crate::brains::{BrainStats, Brains};
use crate::gate::RiskDesk;
use crate::outbox::Outbox;
use crate::positions::{Positions, SymbolState};
use crate::working::Working;
use crate::{
    Bracket, BrainId, ClientIdSequence, Command, EngineConfig, EngineError, EngineEvent, Ledger,
    SymbolSlot, TrackedOrder,
};

/// The sans-IO trading state machine: one per bot, shared by backtest, paper and live.
///
/// # Call protocol
///
/// The engine never performs I/O and never reads a clock; its driver (the backtest loop, the live
/// bot's services) feeds it inputs and carries out its outputs.
///
/// 1. **Inputs**, each with the time it happened:
///    [`handle_market`](Self::handle_market) for every market event *before* the brains see it
///    (marks prices, fires emulated stops); [`handle_decision`](Self::handle_decision) with each
///    brain's decision on that event; [`handle_accepted`](Self::handle_accepted),
///    [`handle_rejected`](Self::handle_rejected), [`handle_cancelled`](Self::handle_cancelled),
///    [`handle_expired`](Self::handle_expired) and [`handle_fill`](Self::handle_fill) for venue
///    reports (or [`handle_report`](Self::handle_report) for a core `ExecutionReport`);
///    [`handle_timer`](Self::handle_timer) regularly (session rollover, breaker cooldown, order
///    TTL); [`handle_venue_positions`](Self::handle_venue_positions) and
///    [`handle_venue_open_orders`](Self::handle_venue_open_orders) after a (re)connect or
///    periodically, for reconciliation.
/// 2. **Outputs**, after every input: drain [`poll_event`](Self::poll_event) to the journal
///    *first*, then drain [`poll_command`](Self::poll_command) and execute each command in order
///    (place, cancel). Journalling before acting means a crash never loses an intent.
/// 3. Report every command's outcome back as an input. A `Place` whose request failed before
///    reaching the venue is reported as [`handle_rejected`](Self::handle_rejected).
/// 4. To persist, take a [`snapshot`](Self::snapshot) after draining; resume with
///    [`restore`](Self::restore), then reconcile with the venue.
///
/// Identical input sequences produce identical outputs. A [`Decision::hold`] returns without
/// touching the heap.
///
/// [`Decision::hold`]: rustrade_core::Decision::hold
#[derive(Debug)]
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) caps: BTreeSet<Capability>,
    pub(crate) brains: Brains,
    pub(crate) positions: Positions,
    pub(crate) orders: Working,
    pub(crate) brackets: Brackets,
    pub(crate) ids: ClientIdSequence,
    pub(crate) risk: RiskDesk,
    pub(crate) exit_retries: crate::exit_retry::ExitRetries,
    pub(crate) out: Outbox,
    pub(crate) replaying: bool,
}

impl Engine {
    /// Builds an engine from a validated config, with flat positions and no orders.
    ///
    /// `now` starts the risk sessions. Errors name the offending field and value.
    pub fn new(config: EngineConfig, now: Timestamp) -> Result<Self, EngineError> {
        let ids = ClientIdSequence::new(&config.bot_id, config.first_sequence).map_err(|e| {
            EngineError::Config {
                field: "bot_id",
                value: config.bot_id.clone(),
                reason: e.to_string(),
            }
        })?;
        let mut names = BTreeSet::new();
        for name in &config.brains {
            if name.is_empty() || !names.insert(name.as_str()) {
                return Err(EngineError::Config {
                    field: "brains",
                    value: name.clone(),
                    reason: "brain names must be unique and non-empty".to_owned(),
                });
            }
        }
        if config.brains.is_empty() {
            return Err(EngineError::Config {
                field: "brains",
                value: "[]".to_owned(),
                reason: "at least one brain must be registered".to_owned(),
            });
        }
        if u32::try_from(config.brains.len()).is_err() {
            return Err(EngineError::Config {
                field: "brains",
                value: config.brains.len().to_string(),
                reason: "too many brains".to_owned(),
            });
        }
        let positions = Positions::new(&config, now)?;
        if config.remembered_fill_ids == 0 {
            return Err(EngineError::Config {
                field: "remembered_fill_ids",
                value: "0".to_owned(),
                reason: "must be > 0 to drop duplicate fills".to_owned(),
            });
        }
        let risk = RiskDesk::new(&config, now)?;
        Ok(Self {
            caps: config.capabilities.clone(),
            brains: Brains::new(&config.brains),
            positions,
            orders: Working::new(config.retired_orders),
            brackets: Brackets::default(),
            ids,
            risk,
            exit_retries: Default::default(),
            out: Outbox::new(),
            replaying: false,
            config,
        })
    }

    /// The next command for the venue, in the order they must be executed.
    #[inline]
    pub fn poll_command(&mut self) -> Option<Command> {
        self.out.poll_command()
    }

    /// The next journal event, oldest first. Drain events before executing commands.
    #[inline]
    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        self.out.poll_event()
    }

    /// Moves every waiting journal event, oldest first, to the back of `into` and leaves the
    /// engine's queue empty. When `into` is empty the two buffers are swapped, so a driver that
    /// reads the events by reference and clears its buffer keeps both allocations and moves no
    /// event. Same order and content as polling [`Engine::poll_event`] until `None`.
    #[inline]
    pub fn take_events(&mut self, into: &mut VecDeque<EngineEvent>) {
        self.out.take_events(into);
    }

    /// The journal sequence number of the newest event handed out by
    /// [`poll_event`](Self::poll_event) or [`take_events`](Self::take_events): events are
    /// numbered 1, 2, ... over the engine's whole life (a restored engine continues its
    /// snapshot's count), so a driver keys its journal records by it and knows which records
    /// a snapshot covers ([`EngineSnapshot::journal_seq`](crate::EngineSnapshot::journal_seq)).
    #[inline]
    pub fn journal_seq(&self) -> u64 {
        self.out.journal_seq()
    }

    /// Moves every waiting command, in execution order, to the back of `into` and leaves the
    /// engine's queue empty; buffers are swapped when `into` is empty, as in
    /// [`Engine::take_events`]. Same order and content as polling [`Engine::poll_command`] until
    /// `None`.
    #[inline]
    pub fn take_commands(&mut self, into: &mut VecDeque<Command>) {
        self.out.take_commands(into);
    }

    /// Number of commands waiting to be polled.
    #[inline]
    pub fn pending_commands(&self) -> usize {
        self.out.pending_commands()
    }

    /// Number of journal events waiting to be polled (a driver sizes its buffer with it).
    #[inline]
    pub fn pending_events(&self) -> usize {
        self.out.pending_events()
    }

    /// The config the engine was built from.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The id of the brain registered as `name`.
    pub fn brain_id(&self, name: &str) -> Option<BrainId> {
        self.brains.id(name)
    }

    /// The name of a registered brain.
    pub fn brain_name(&self, brain: BrainId) -> Option<&str> {
        self.brains.name(brain)
    }

    /// What a brain's orders and fills did so far.
    pub fn brain_stats(&self, brain: BrainId) -> Option<BrainStats> {
        self.brains.stats(brain)
    }

    /// The bot's net position on `symbol`, with unrealised PnL at the last mark.
    pub fn position(&self, symbol: &Symbol) -> Position {
        self.positions
            .get(symbol)
            .map_or(Position::FLAT, SymbolState::position)
    }

    /// A brain's own position on `symbol`, with unrealised PnL at the last mark. This is the
    /// position to hand the brain with the next event.
    pub fn brain_position(&self, brain: BrainId, symbol: &Symbol) -> Position {
        self.positions
            .get(symbol)
            .and_then(|s| s.brain_position(brain))
            .unwrap_or(Position::FLAT)
    }

    /// The slot of `symbol`, for [`Engine::brain_position_at`]; `None` for a symbol the engine
    /// does not trade.
    pub fn symbol_slot(&self, symbol: &Symbol) -> Option<SymbolSlot> {
        self.positions
            .index_of(symbol)
            .and_then(|i| u32::try_from(i).ok())
            .map(SymbolSlot)
    }

    /// [`Engine::brain_position`] of the symbol at `slot`, without looking the symbol up: what a
    /// driver reads for every brain on every event.
    #[inline]
    pub fn brain_position_at(&self, slot: SymbolSlot, brain: BrainId) -> Position {
        self.positions
            .at(slot.0 as usize)
            .and_then(|s| s.brain_position(brain))
            .unwrap_or(Position::FLAT)
    }

    /// [`Engine::ledger`] of the symbol at `slot` (see [`Engine::symbol_slot`]), without looking
    /// the symbol up.
    #[inline]
    pub fn ledger_at(&self, slot: SymbolSlot) -> Option<&Ledger> {
        self.positions.at(slot.0 as usize).map(SymbolState::net)
    }

    /// The full net ledger (open fees, trade accumulators) of `symbol`.
    pub fn ledger(&self, symbol: &Symbol) -> Option<&Ledger> {
        self.positions.get(symbol).map(SymbolState::net)
    }

    /// A brain's own full ledger of `symbol`.
    pub fn brain_ledger(&self, brain: BrainId, symbol: &Symbol) -> Option<&Ledger> {
        self.positions
            .get(symbol)
            .and_then(|s| s.brain_ledger(brain))
    }

    /// Where a catch-up of `symbol`'s fills resumes: just after the newest fill applied, or
    /// from the time the engine started when none was (see
    /// [`ExchangeClient::fills_since`](rustrade_core::ExchangeClient::fills_since)).
    pub fn fill_cursor(&self, symbol: &Symbol) -> Option<rustrade_core::FillCursor> {
        self.positions
            .get(symbol)
            .and_then(SymbolState::fill_cursor)
    }

    /// The risk state of `symbol` (session PnL, loss breaker, sizer), read-only.
    pub fn symbol_risk(&self, symbol: &Symbol) -> Option<&rustrade_risk::SymbolRisk> {
        self.risk.symbol(symbol)
    }

    /// The last mark price of `symbol`.
    pub fn mark(&self, symbol: &Symbol) -> Option<Price> {
        self.positions.get(symbol).and_then(SymbolState::mark)
    }

    /// The instrument spec of `symbol`.
    pub fn instrument(&self, symbol: &Symbol) -> Option<&InstrumentSpec> {
        self.positions.get(symbol).map(SymbolState::spec)
    }

    /// One of our orders (live or recently retired) by client id.
    pub fn order(&self, client_id: &ClientOrderId) -> Option<&TrackedOrder> {
        self.orders.get(client_id)
    }

    /// Our live orders, in client-id order.
    pub fn open_orders(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.orders.live()
    }

    /// Live orders whose placement the venue has not confirmed: those whose outcome is unknown
    /// (see [`handle_place_unknown`](Self::handle_place_unknown)) and those still pending
    /// acknowledgement. A driver looks them up at the venue by client id.
    pub fn unresolved_orders(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.orders.live().filter(|o| {
            o.outcome_unknown || (o.status == OrderStatus::Pending && o.venue_id.is_none())
        })
    }

    /// Brackets whose entry is live or whose protection is still armed.
    pub fn brackets(&self) -> impl Iterator<Item = &Bracket> {
        self.brackets.values()
    }

    /// Whether the venue offers `cap`.
    pub fn supports(&self, cap: Capability) -> bool {
        self.caps.contains(&cap)
    }

    /// The sequence number the next client order id will carry.
    pub fn next_sequence(&self) -> u64 {
        self.ids.next_sequence()
    }

    /// Whether new entries on `symbol` are currently blocked by the session or the breaker.
    pub fn is_halted(&self, symbol: &Symbol, now: Timestamp) -> bool {
        self.risk.halt_reason(symbol, now).is_some()
    }

    /// Whether every journal event is written ([`crate::JournalDetail::Full`]).
    #[inline(always)]
    pub(crate) fn full_journal(&self) -> bool {
        self.config.journal == crate::JournalDetail::Full
    }

    pub(crate) fn brain_ok(&self, brain: BrainId) -> bool {
        self.brains.contains(brain)
    }
}
