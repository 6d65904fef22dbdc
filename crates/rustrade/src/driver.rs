//! [`Driver`]: the async shell around the one [`Engine`] every service drives.
//!
//! Every input reaches the engine through [`Driver::step`], which follows the engine's call
//! protocol:
//!
//! 1. Under the engine lock (a `std` mutex, never held across an `.await`): give the input,
//!    drain the journal events and the commands, and — when there were events and a store is
//!    wired — queue them as numbered journal records (with a snapshot when one is due, see
//!    `journal.rs`).
//! 2. Make the journal durable through the step's last record, *before* any command is
//!    executed (journal before acting: a crash never loses an intent). Steps reach the store in
//!    the order the engine numbered them, so it always holds a gap-free prefix of the journal.
//! 3. Execute the commands in order at the exchange and feed each outcome back as a new step
//!    (accepted, rejected), until no command is left.
//!
//! If the journal cannot be written, the step's entries are not sent: they are fed back to the
//! engine as rejected, so the engine's view and the venue's stay the same, and the engine's
//! `store` entry block is raised until a write succeeds. Exits and protective orders are sent
//! anyway: leaving a position unprotected costs more than an order a restart must rediscover
//! (reconciliation lists it as an unknown venue order and adopts its fills as drift).
//!
//! With a simulated venue wired by [`Bot::paper`](crate::Bot::paper), the venue's reports are
//! applied synchronously, in the order the venue produced them: those a market event caused
//! (fills of resting orders) after the market hook and **before** the engine is marked and any
//! brain decides, and those an order call caused right after the call's outcome. That is the
//! backtest's order of operations, so a brain sees the same position in both drivers.
//!
//! The driver keeps no trading rule: sizing, gates, brackets and accounting are the engine's.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use rustrade_core::{
    Brain, ClientOrderId, ExchangeClient, ExchangeError, MetricsSink, OrderId, Position,
    RejectReason, StateStore, Symbol, Timestamp,
};
use rustrade_engine::{Command, Engine, EngineEvent, EntryBlock, OrderRole};
use rustrade_sim::PaperFills;

use crate::clock::{Clock, SystemClock};
use crate::journal::Journal;
use crate::metrics::names;
use crate::services::validate_report;

/// A function given every market event once, before the engine and the brains see it.
pub(crate) type MarketHook = Box<dyn Fn(&rustrade_core::MarketEvent) + Send + Sync>;

/// Counters the framework keeps per brain (not the brain's own), surfaced in health.
#[derive(Debug, Default)]
pub(crate) struct BrainCounters {
    pub(crate) events: AtomicU64,
    pub(crate) non_hold: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) lagged: AtomicU64,
}

/// Counters of the bot as a whole.
#[derive(Debug, Default)]
pub(crate) struct BotCounters {
    pub(crate) fills_dropped: AtomicU64,
    pub(crate) store_errors: AtomicU64,
    pub(crate) candles_published: AtomicU64,
    pub(crate) drifts: AtomicU64,
}

/// An input to hand the engine after a command's outcome is known.
#[derive(Debug, Clone, Copy)]
enum FollowUp {
    Accepted(ClientOrderId, OrderId),
    Unknown(ClientOrderId),
    Rejected(ClientOrderId, RejectReason),
    Cancelled(ClientOrderId, Option<OrderId>),
    Block(EntryBlock, bool),
}

/// The engine (once installed) and, per symbol, the time of the newest market event it was
/// marked with: one lock for both, taken once per market event.
struct EngineSlot {
    engine: Option<Engine>,
    last_marked: BTreeMap<Symbol, Timestamp>,
}

/// The engine, its I/O and what the services share.
pub(crate) struct Driver {
    engine: Mutex<EngineSlot>,
    pub(crate) journal: Journal,
    pub(crate) exchange: Arc<dyn ExchangeClient>,
    store: OnceLock<Arc<dyn StateStore>>,
    pub(crate) metrics: Arc<LateSink>,
    clock: OnceLock<Arc<dyn Clock>>,
    pub(crate) brains: Arc<Vec<Arc<dyn Brain>>>,
    pub(crate) brain_counters: Vec<Arc<BrainCounters>>,
    pub(crate) counters: BotCounters,
    /// Cancels confirmed by `cancel_order` are fed back only when no fill stream reports them.
    confirm_cancels: AtomicBool,
    /// Trades the fill stream closed per symbol that no manual outcome has claimed yet.
    unclaimed_trades: Mutex<BTreeMap<Symbol, u64>>,
    /// Called with every market event the first time a service sees it, before the engine and
    /// any brain (a paper venue is fed here, so it has seen an event before orders on it arrive).
    market_hook: OnceLock<MarketHook>,
    /// Manual position overrides given before the engine started.
    pending_positions: Mutex<BTreeMap<Symbol, Position>>,
    /// The simulated venue's report queue, applied synchronously (see the module doc).
    venue_reports: OnceLock<Mutex<PaperFills>>,
    /// The entry blocks this driver raised from what it observed (one bit per
    /// [`EntryBlock`], see `degraded.rs`), so a step is taken only when one changes.
    pub(crate) observed_blocks: AtomicU8,
    /// The last reconciliation pass: when it ended and the error it ended with, if any.
    pub(crate) reconciled: Mutex<(Option<Timestamp>, Option<String>)>,
    /// Every journalled batch of engine events, once a subscriber asked (`Bot::subscribe_events`).
    pub(crate) event_feed: OnceLock<tokio::sync::broadcast::Sender<Arc<Vec<EngineEvent>>>>,
    /// The newest trades the engine closed (`BotHandle::closed_trades`).
    pub(crate) closed_trades: crate::trade_log::TradeLog,
}

impl Driver {
    pub(crate) fn new(
        exchange: Arc<dyn ExchangeClient>,
        brains: Arc<Vec<Arc<dyn Brain>>>,
        snapshot_every: u64,
    ) -> Self {
        let brain_counters = brains.iter().map(|_| Arc::default()).collect();
        Self {
            engine: Mutex::new(EngineSlot {
                engine: None,
                last_marked: BTreeMap::new(),
            }),
            journal: Journal::new(snapshot_every),
            exchange,
            store: OnceLock::new(),
            metrics: Arc::new(LateSink(OnceLock::new())),
            clock: OnceLock::new(),
            brains,
            brain_counters,
            counters: BotCounters::default(),
            confirm_cancels: AtomicBool::new(true),
            unclaimed_trades: Mutex::new(BTreeMap::new()),
            pending_positions: Mutex::new(BTreeMap::new()),
            market_hook: OnceLock::new(),
            venue_reports: OnceLock::new(),
            observed_blocks: AtomicU8::new(0),
            reconciled: Mutex::new((None, None)),
            event_feed: OnceLock::new(),
            closed_trades: crate::trade_log::TradeLog::default(),
        }
    }

    /// Wires the state store (before start; the first one given is kept).
    pub(crate) fn set_store(&self, store: Arc<dyn StateStore>) -> bool {
        self.store.set(store).is_ok()
    }

    /// Wires the metrics sink (before start; the first one given is kept).
    pub(crate) fn set_metrics(&self, sink: Arc<dyn MetricsSink>) -> bool {
        self.metrics.0.set(sink).is_ok()
    }

    /// Wires the clock (before start; the first one given is kept).
    pub(crate) fn set_clock(&self, clock: Arc<dyn Clock>) -> bool {
        self.clock.set(clock).is_ok()
    }

    /// Wires the market hook (before start; the first one given is kept).
    pub(crate) fn set_market_hook(&self, hook: MarketHook) -> bool {
        self.market_hook.set(hook).is_ok()
    }

    /// Applies `reports` synchronously after every venue call (before start; the first queue
    /// given is kept). Cancels are then confirmed by the reports.
    pub(crate) fn set_venue_reports(&self, reports: PaperFills) -> bool {
        self.confirm_cancels_by_stream();
        self.venue_reports.set(Mutex::new(reports)).is_ok()
    }

    /// Cancels are confirmed by the fill stream rather than by the cancel call.
    pub(crate) fn confirm_cancels_by_stream(&self) {
        self.confirm_cancels.store(false, Ordering::Relaxed);
    }

    /// The wired store.
    pub(crate) fn store(&self) -> Option<&Arc<dyn StateStore>> {
        self.store.get()
    }

    /// The current time from the wired clock (the system clock by default).
    pub(crate) fn now(&self) -> Timestamp {
        match self.clock.get() {
            Some(c) => c.now(),
            None => SystemClock.now(),
        }
    }

    /// Installs the engine built or restored at start-up.
    pub(crate) fn install(&self, engine: Engine) {
        lock(&self.engine).engine = Some(engine);
    }

    /// Whether the engine is installed.
    pub(crate) fn is_started(&self) -> bool {
        lock(&self.engine).engine.is_some()
    }

    /// Reads the engine, if installed.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Engine) -> R) -> Option<R> {
        lock(&self.engine).engine.as_ref().map(f)
    }

    /// Marks the engine with `event` unless an earlier service already did (first sight of a
    /// newer event per symbol), after handing it to the market hook, and returns `brain`'s
    /// position for the brain call. Journals and executes only when marking produced outputs
    /// (an emulated stop fired).
    ///
    /// Lock order: the engine lock (which also guards the per-symbol marks), then whatever the
    /// hook locks (a paper venue); nothing locks them the other way round.
    pub(crate) async fn mark_and_position(
        &self,
        event: &rustrade_core::MarketEvent,
        brain: rustrade_engine::BrainId,
    ) -> Position {
        let batch = {
            let mut guard = lock(&self.engine);
            let EngineSlot {
                engine,
                last_marked,
            } = &mut *guard;
            let Some(engine) = engine.as_mut() else {
                return Position::FLAT;
            };
            // Checked and marked under the engine lock, so no brain decides on an event before
            // the hook and the engine have seen it.
            match last_marked.get_mut(&event.symbol) {
                Some(t) if event.time <= *t => {
                    return engine.brain_position(brain, &event.symbol);
                }
                Some(t) => *t = event.time,
                None => {
                    last_marked.insert(event.symbol, event.time);
                }
            }
            if let Some(hook) = self.market_hook.get() {
                hook(event);
            }
            self.apply_venue_reports(engine);
            engine.handle_market(event);
            if engine.pending_events() == 0 && engine.pending_commands() == 0 {
                // Nothing to journal or execute: no time is needed.
                return engine.brain_position(brain, &event.symbol);
            }
            let now = self.now();
            self.drain(engine, now)
        };
        self.complete(batch).await;
        self.read(|e| e.brain_position(brain, &event.symbol))
            .unwrap_or(Position::FLAT)
    }

    /// One engine step: `input`, then journal, then execute, then feed outcomes back.
    pub(crate) async fn step<R>(
        &self,
        input: impl FnOnce(&mut Engine, Timestamp) -> R,
    ) -> Option<R> {
        let now = self.now();
        let (out, batch) = {
            let mut guard = lock(&self.engine);
            let engine = guard.engine.as_mut()?;
            self.apply_venue_reports(engine);
            let out = input(engine, now);
            (out, self.drain(engine, now))
        };
        self.complete(batch).await;
        Some(out)
    }

    /// Applies fills from the venue (its stream or a catch-up), each exactly once, in one step.
    ///
    /// This is the one place the rule "has this fill been applied?" is decided (see
    /// [`store::applied_fills`](crate::store::applied_fills)): a fill the engine's window
    /// recalls is a duplicate (the engine reports it); one it does not recall is looked up in
    /// the store's durable record first, and one found there is reported to the engine as
    /// applied before. Only the rest are applied, and their records are written with the
    /// step's journal records, in one batch. The window is checked again inside the step, so a
    /// copy applied by a concurrent step while the store was asked is still caught.
    ///
    /// If the store cannot be read, nothing is applied and the error is returned: the fills
    /// stay behind the engine's fill cursor, where the next catch-up lists them again.
    pub(crate) async fn apply_fills(
        &self,
        fills: Vec<rustrade_core::Fill>,
    ) -> Result<(), rustrade_core::StoreError> {
        let mut before = std::collections::BTreeSet::new();
        if let Some(store) = self.store() {
            let missed: Vec<rustrade_core::FillId> = self
                .read(|e| {
                    fills
                        .iter()
                        .filter(|f| !e.recalls_fill(&f.fill_id))
                        .map(|f| f.fill_id)
                        .collect()
                })
                .unwrap_or_default();
            for id in missed {
                match crate::store::applied_fills::is_recorded(store.as_ref(), &id).await {
                    Ok(true) => {
                        before.insert(id);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
                        self.metrics.counter(names::STORE_ERRORS, &[], 1);
                        tracing::error!(fill_id = %id, error = %e, "applied-fill record unreadable; fills left for the next catch-up");
                        return Err(e);
                    }
                }
            }
        }
        self.step(move |engine, now| {
            for fill in &fills {
                if before.contains(&fill.fill_id) {
                    engine.handle_fill_applied_before(fill, now);
                } else {
                    engine.handle_fill(fill, fill.time);
                }
            }
        })
        .await;
        Ok(())
    }

    /// Deletes the applied-fill records no fill can need again: those of fills whose order the
    /// engine's book no longer tracks (see
    /// [`store::applied_fills`](crate::store::applied_fills)); returns how many.
    pub(crate) async fn prune_fill_records(&self) -> Result<usize, rustrade_core::StoreError> {
        use crate::store::applied_fills;
        let Some(store) = self.store() else {
            return Ok(0);
        };
        let records = applied_fills::records(store.as_ref()).await?;
        let gone: Vec<String> = self
            .read(|e| {
                records
                    .into_iter()
                    .filter(|(_, r)| r.is_some_and(|r| !applied_fills::still_needed(e, r)))
                    .map(|(key, _)| key)
                    .collect()
            })
            .unwrap_or_default();
        applied_fills::delete(store.as_ref(), gone).await
    }

    /// Journals and executes `batch`, then feeds every command's outcome back until none is left.
    async fn complete(&self, batch: Batch) {
        let mut queue = VecDeque::new();
        self.finish(batch, &mut queue).await;
        let synchronous_reports = self.venue_reports.get().is_some();
        loop {
            let follow = queue.pop_front();
            if follow.is_none() && !synchronous_reports {
                break;
            }
            let now = self.now();
            let batch = {
                let mut guard = lock(&self.engine);
                let Some(engine) = guard.engine.as_mut() else {
                    break;
                };
                match follow {
                    Some(FollowUp::Accepted(c, o)) => engine.handle_accepted(c, o, now),
                    Some(FollowUp::Unknown(c)) => engine.handle_place_unknown(c, now),
                    Some(FollowUp::Rejected(c, r)) => engine.handle_rejected(c, r, now),
                    Some(FollowUp::Cancelled(c, o)) => engine.handle_cancelled(Some(c), o, now),
                    Some(FollowUp::Block(b, raised)) => {
                        engine.set_entry_block(b, raised, now);
                    }
                    None => {}
                }
                let applied = self.apply_venue_reports(engine);
                if follow.is_none() && applied == 0 {
                    break;
                }
                self.drain(engine, now)
            };
            self.finish(batch, &mut queue).await;
        }
    }

    /// Hands the simulated venue's queued reports to the engine, in order; returns how many.
    /// Does nothing unless [`set_venue_reports`](Self::set_venue_reports) was called.
    fn apply_venue_reports(&self, engine: &mut Engine) -> usize {
        let Some(queue) = self.venue_reports.get() else {
            return 0;
        };
        let mut queue = lock(queue);
        let mut applied = 0;
        while let Some(report) = queue.try_next_report() {
            applied += 1;
            match validate_report(&report) {
                Ok(()) => engine.handle_report(&report),
                Err(e) => self.report_dropped(e.label(), &e),
            }
        }
        applied
    }

    /// Counts and logs an execution report refused at the boundary.
    pub(crate) fn report_dropped(&self, label: &'static str, why: &dyn std::fmt::Display) {
        self.counters.fills_dropped.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .counter(names::FILLS_DROPPED, &[("reason", label)], 1);
        tracing::warn!(reason = label, error = %why, "execution report dropped");
    }

    /// Persists the final snapshot and flushes the store.
    pub(crate) async fn persist_final(&self) {
        let Some(store) = self.store() else { return };
        let now = self.now();
        let queued = {
            let guard = lock(&self.engine);
            guard.engine.as_ref().map(|e| {
                let snapshot = Box::new(e.snapshot(now));
                self.journal
                    .enqueue(e.journal_seq() + 1, Arc::default(), Some(snapshot), now)
            })
        };
        if let Some(seq) = queued {
            self.persist(seq).await;
        }
        if let Err(e) = store.flush().await {
            self.store_failed("flush", &e);
        }
    }

    /// Deletes journal records older than `retention` before now that a snapshot makes
    /// redundant; returns how many.
    pub(crate) async fn prune_journal(
        &self,
        retention: std::time::Duration,
    ) -> Result<usize, rustrade_core::StoreError> {
        let Some(store) = self.store() else {
            return Ok(0);
        };
        self.journal
            .prune(store.as_ref(), self.now().saturating_sub(retention))
            .await
    }

    /// A manual position override, applied now or, before start, once the engine is installed.
    pub(crate) async fn set_position(&self, symbol: Symbol, position: Position) {
        if !self.is_started() {
            lock(&self.pending_positions).insert(symbol, position);
            return;
        }
        let result = self
            .step(|e, now| e.set_position(&symbol, position, now))
            .await;
        if let Some(Err(e)) = result {
            tracing::error!(%symbol, error = %e, "set_position refused");
        }
    }

    /// Applies the overrides given before start.
    pub(crate) async fn apply_pending_positions(&self) {
        let pending = std::mem::take(&mut *lock(&self.pending_positions));
        for (symbol, position) in pending {
            self.set_position(symbol, position).await;
        }
    }

    /// The bot's net position: the engine's, or a pending override before start.
    pub(crate) fn position(&self, symbol: &Symbol) -> Position {
        self.read(|e| e.position(symbol)).unwrap_or_else(|| {
            lock(&self.pending_positions)
                .get(symbol)
                .copied()
                .unwrap_or(Position::FLAT)
        })
    }

    /// Claims one trade the fill stream closed on `symbol`; `true` if there was one.
    pub(crate) fn claim_trade(&self, symbol: &Symbol) -> bool {
        let mut map = lock(&self.unclaimed_trades);
        match map.get_mut(symbol) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    fn drain(&self, engine: &mut Engine, now: Timestamp) -> Batch {
        let first_seq = engine.journal_seq() + 1;
        // Sized up front: events are large, and growing the buffer would move them again.
        let mut events = Vec::with_capacity(engine.pending_events());
        while let Some(e) = engine.poll_event() {
            events.push(e);
        }
        let mut commands = Vec::with_capacity(engine.pending_commands());
        while let Some(c) = engine.poll_command() {
            commands.push(c);
        }
        let mut pnl = Vec::new();
        for e in &events {
            if let EngineEvent::TradeClosed { symbol, .. } = e {
                pnl.push((*symbol, engine.position(symbol).realised_pnl));
            }
        }
        let events = Arc::new(events);
        let durable_at = if self.store().is_some() && !events.is_empty() {
            let snapshot = self
                .journal
                .snapshot_due(engine.journal_seq())
                .then(|| Box::new(engine.snapshot(now)));
            // Queued under the engine lock: steps reach the store in the engine's order.
            self.journal
                .enqueue(first_seq, Arc::clone(&events), snapshot, now)
        } else {
            0
        };
        Batch {
            durable_at,
            events,
            commands,
            pnl,
        }
    }

    async fn finish(&self, batch: Batch, queue: &mut VecDeque<FollowUp>) {
        let Batch {
            durable_at,
            events,
            commands,
            pnl,
        } = batch;
        self.observe(&events);
        if let Some(feed) = self.event_feed.get().filter(|_| !events.is_empty()) {
            let _ = feed.send(Arc::clone(&events));
        }
        for (symbol, realised) in pnl {
            self.metrics.gauge(
                names::REALISED_PNL,
                &[("symbol", symbol.as_str())],
                realised,
            );
        }
        crate::kill_point("before-journal-commit");
        let journalled = durable_at == 0 || self.persist(durable_at).await;
        crate::kill_point("after-journal-commit");
        if durable_at != 0
            && let Some(raised) = self.note_block(EntryBlock::Store, !journalled)
        {
            queue.push_back(FollowUp::Block(EntryBlock::Store, raised));
        }
        for command in commands {
            match command {
                Command::Place(p) if !journalled && p.role == OrderRole::Entry => {
                    tracing::error!(
                        client_id = %p.order.client_id,
                        "journal not written; entry not sent"
                    );
                    queue.push_back(FollowUp::Rejected(p.order.client_id, RejectReason::Other));
                }
                Command::Place(p) => {
                    if !journalled {
                        tracing::error!(
                            client_id = %p.order.client_id, role = ?p.role,
                            "journal not written; exit sent anyway to keep the position protected"
                        );
                    }
                    let brain = self.brain_name(p.brain.index());
                    let symbol = p.order.symbol;
                    let labels = [("brain", brain), ("symbol", symbol.as_str())];
                    match self.exchange.place_order(&p.order).await {
                        Ok(order_id) => {
                            crate::kill_point("after-send");
                            self.metrics.counter(names::ORDERS_PLACED, &labels, 1);
                            tracing::info!(
                                brain, %symbol, client_id = %p.order.client_id, %order_id,
                                side = ?p.order.side, kind = ?p.order.kind,
                                quantity = p.order.quantity.get(), role = ?p.role,
                                "order placed"
                            );
                            queue.push_back(FollowUp::Accepted(p.order.client_id, order_id));
                        }
                        Err(e) if e.is_outcome_unknown() => {
                            self.metrics.counter(names::ORDERS_UNKNOWN, &labels, 1);
                            tracing::warn!(
                                brain, %symbol, client_id = %p.order.client_id, error = %e,
                                "order outcome unknown; it stays reserved until the venue is asked"
                            );
                            queue.push_back(FollowUp::Unknown(p.order.client_id));
                        }
                        Err(e) => {
                            self.metrics.counter(names::ORDERS_REJECTED, &labels, 1);
                            tracing::warn!(
                                brain, %symbol, client_id = %p.order.client_id, error = %e,
                                "order refused by the exchange"
                            );
                            queue.push_back(FollowUp::Rejected(
                                p.order.client_id,
                                reject_reason(&e),
                            ));
                        }
                    }
                }
                Command::Cancel(c) => {
                    self.metrics.counter(
                        names::ORDERS_CANCELLED,
                        &[("symbol", c.symbol.as_str())],
                        1,
                    );
                    match self
                        .exchange
                        .cancel_order(&c.symbol, &c.client_id, c.order_id.as_ref())
                        .await
                    {
                        Ok(()) if self.confirm_cancels.load(Ordering::Relaxed) => {
                            queue.push_back(FollowUp::Cancelled(c.client_id, c.order_id));
                        }
                        Ok(()) => {}
                        Err(e) => tracing::warn!(
                            symbol = %c.symbol, client_id = %c.client_id, reason = ?c.reason,
                            error = %e, "cancel failed"
                        ),
                    }
                }
            }
        }
    }

    /// Makes the journal durable through record `seq` (writing whatever is queued); `false` if
    /// the store refused.
    async fn persist(&self, seq: u64) -> bool {
        let Some(store) = self.store() else {
            return true;
        };
        match self.journal.write_through(store.as_ref(), seq).await {
            Ok(()) => true,
            Err(e) => {
                self.store_failed("journal", &e);
                false
            }
        }
    }

    fn store_failed(&self, what: &str, e: &rustrade_core::StoreError) {
        self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
        self.metrics.counter(names::STORE_ERRORS, &[], 1);
        tracing::error!(what, error = %e, "state store write failed");
    }

    /// Counts what the engine journalled and logs what the engine does not (refusals and
    /// malformed inputs the engine logs itself); tells brains about their fills.
    fn observe(&self, events: &[EngineEvent]) {
        for event in events {
            match event {
                EngineEvent::DecisionRefused {
                    brain,
                    symbol,
                    refusal,
                    ..
                } => {
                    let name = self.brain_name(brain.index());
                    let label = refusal.label.as_ref();
                    self.metrics.counter(
                        names::REFUSALS,
                        &[
                            ("brain", name),
                            ("symbol", symbol.as_str()),
                            ("reason", label),
                        ],
                        1,
                    );
                }
                EngineEvent::FillApplied { brain, fill, .. } => {
                    self.metrics
                        .counter(names::FILLS, &[("symbol", fill.symbol.as_str())], 1);
                    if let Some(b) = self.brains.get(brain.index()) {
                        let b = Arc::clone(b);
                        let fill = *fill;
                        let told = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            b.on_fill(&fill);
                        }));
                        if told.is_err() {
                            tracing::error!(brain = b.name(), "brain panicked in on_fill");
                        }
                    }
                }
                EngineEvent::TradeClosed {
                    brain,
                    symbol,
                    trade,
                } => {
                    *lock(&self.unclaimed_trades).entry(*symbol).or_default() += 1;
                    self.closed_trades.push(brain.index(), *symbol, *trade);
                    tracing::info!(%symbol, gross = trade.gross_pnl, "trade closed");
                }
                EngineEvent::RiskHalted {
                    symbol, refusal, ..
                } => {
                    self.metrics
                        .gauge(names::RISK_HALTED, &[("symbol", symbol.as_str())], 1.0);
                    tracing::warn!(%symbol, reason = %refusal.reason, "entries halted");
                }
                EngineEvent::RiskResumed { symbol, .. } => {
                    self.metrics
                        .gauge(names::RISK_HALTED, &[("symbol", symbol.as_str())], 0.0);
                    tracing::info!(%symbol, "entries resumed");
                }
                EngineEvent::PositionDrift {
                    symbol,
                    ours,
                    venue,
                    ..
                } => {
                    self.counters.drifts.fetch_add(1, Ordering::Relaxed);
                    self.metrics
                        .counter(names::POSITION_DRIFT, &[("symbol", symbol.as_str())], 1);
                    tracing::warn!(
                        %symbol, ours = ours.quantity, venue = venue.quantity,
                        "position drift: venue position adopted"
                    );
                }
                EngineEvent::EntriesPaused { paused, .. } => {
                    self.block_changed(EntryBlock::Operator, *paused);
                }
                EngineEvent::EntryBlock { block, raised, .. } => {
                    self.block_changed(*block, *raised);
                }
                EngineEvent::UnknownVenueOrder { order, .. } => tracing::warn!(
                    symbol = %order.symbol, order_id = %order.order_id,
                    "open order at the venue that this bot does not track"
                ),
                EngineEvent::OrderMissingAtVenue { client_id, .. } => {
                    tracing::warn!(%client_id, "our order is missing at the venue");
                }
                _ => {}
            }
        }
    }

    fn block_changed(&self, block: EntryBlock, raised: bool) {
        self.metrics.gauge(
            names::ENTRIES_BLOCKED,
            &[("reason", block.label())],
            if raised { 1.0 } else { 0.0 },
        );
        if raised {
            tracing::warn!(
                reason = block.label(),
                "entries blocked: {}",
                block.describe()
            );
        } else {
            tracing::info!(reason = block.label(), "entry block cleared");
        }
    }

    pub(crate) fn brain_name(&self, index: usize) -> &str {
        self.brains.get(index).map_or("?", |b| b.name())
    }
}

/// A metrics sink wired after the supervisor and services captured it: forwards to the sink
/// given by [`Bot::with_metrics`](crate::Bot::with_metrics), or drops everything.
pub(crate) struct LateSink(OnceLock<Arc<dyn MetricsSink>>);

impl MetricsSink for LateSink {
    fn counter(&self, name: &'static str, labels: &[rustrade_core::Label<'_>], delta: u64) {
        if let Some(s) = self.0.get() {
            s.counter(name, labels, delta);
        }
    }
    fn gauge(&self, name: &'static str, labels: &[rustrade_core::Label<'_>], value: f64) {
        if let Some(s) = self.0.get() {
            s.gauge(name, labels, value);
        }
    }
    fn histogram(&self, name: &'static str, labels: &[rustrade_core::Label<'_>], value: f64) {
        if let Some(s) = self.0.get() {
            s.histogram(name, labels, value);
        }
    }
}

struct Batch {
    /// The journal position the store must reach before the commands go out (0: nothing to
    /// journal).
    durable_at: u64,
    events: Arc<Vec<EngineEvent>>,
    commands: Vec<Command>,
    pnl: Vec<(Symbol, f64)>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Maps an adapter's refusal to the reject reason the engine records.
fn reject_reason(e: &ExchangeError) -> RejectReason {
    match e {
        ExchangeError::RateLimited { .. } => RejectReason::RateLimited,
        ExchangeError::Unsupported(_) => RejectReason::Unsupported,
        ExchangeError::Rejected { reason }
            if reason.to_ascii_lowercase().contains("insufficient") =>
        {
            RejectReason::InsufficientFunds
        }
        _ => RejectReason::Other,
    }
}
