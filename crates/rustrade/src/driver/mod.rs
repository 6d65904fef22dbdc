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
//!
//! # Files
//!
//! - `step.rs`: the step protocol above (marking, steps, fills, the synchronous venue reports,
//!   draining the engine);
//! - `persist.rs`: journal and snapshot writes, pruning of the journal and the fill records;
//! - `commands.rs`: executing the engine's commands at the exchange and the outcomes fed back;
//! - `observe.rs`: metrics and logs of the journalled events, brains told of their fills;
//! - `overrides.rs`: manual position overrides, before and after start;
//! - `late_sink.rs`: the metrics sink wired after the services captured it.

mod account;
mod commands;
mod late_sink;
mod observe;
mod overrides;
mod persist;
mod step;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use rustrade_core::{
    Brain, ClientOrderId, ExchangeClient, MetricsSink, OrderId, Position, RejectReason, StateStore,
    Symbol, Timestamp,
};
use rustrade_engine::{Command, Engine, EngineEvent, EntryBlock};
use rustrade_sim::PaperFills;

pub(crate) use late_sink::LateSink;

use crate::clock::{Clock, SystemClock};
use crate::journal::Journal;
pub(crate) use account::LiveAccount;

/// A function given every market event once, before the engine and the brains see it.
pub(crate) type MarketHook = Box<dyn Fn(&rustrade_core::MarketEvent) + Send + Sync>;

/// Counters the framework keeps per brain (not the brain's own), surfaced in health.
#[derive(Debug, Default)]
pub(crate) struct BrainCounters {
    pub(crate) events: AtomicU64,
    pub(crate) non_hold: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) lagged: AtomicU64,
    /// Events passed over after a restart because the brain was handed them before.
    pub(crate) seen_before: AtomicU64,
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
    /// The asset whose balance is the account's cash (`BotConfigBuilder::cash_asset`).
    pub(crate) cash_asset: Option<rustrade_core::Asset>,
}

impl Driver {
    pub(crate) fn new(
        exchange: Arc<dyn ExchangeClient>,
        brains: Arc<Vec<Arc<dyn Brain>>>,
        snapshot_every: u64,
        cash_asset: Option<rustrade_core::Asset>,
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
            pending_positions: Mutex::new(BTreeMap::new()),
            market_hook: OnceLock::new(),
            venue_reports: OnceLock::new(),
            observed_blocks: AtomicU8::new(0),
            reconciled: Mutex::new((None, None)),
            event_feed: OnceLock::new(),
            closed_trades: crate::trade_log::TradeLog::default(),
            cash_asset,
        }
    }

    /// Wires the state store (before start; the first one given is kept).
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
    /// Records that the engine was marked, before this start, with every event of each symbol
    /// up to its time, so events delivered again are not marked twice.
    pub(crate) fn seed_marks(&self, marked: crate::progress::Through) {
        lock(&self.engine).last_marked = marked;
    }
    /// Whether the engine is installed.
    pub(crate) fn is_started(&self) -> bool {
        lock(&self.engine).engine.is_some()
    }
    /// Reads the engine, if installed.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Engine) -> R) -> Option<R> {
        lock(&self.engine).engine.as_ref().map(f)
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
