//! [`BotHandle`]: the host's cheap, cloneable view into a running [`Bot`](crate::Bot).
//!
//! A host keeps clones of the handle wherever it needs the bot — an HTTP health route, a metrics
//! endpoint, a shutdown coordinator — to read health and positions, watch signals, feed manual
//! corrections and trigger shutdown. Everything it holds is shared behind `Arc`s; cloning it
//! costs a few reference-count increments.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustrade_core::{Brain, Position, Signal, SignalBus, Symbol, Timestamp};
use rustrade_engine::{EntryBlock, ExitReason};
use rustrade_supervisor::{ServiceLifecycleSnapshot, ServicePhase, Supervisor};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::driver::Driver;
use crate::order_tracker::TrackedOrder;

/// Health of the whole bot, from [`BotHandle::health`].
#[derive(Debug, Clone)]
pub struct BotHealth {
    /// `true` when every brain reports itself healthy and no service has terminated.
    pub healthy: bool,
    /// Whether shutdown has been requested.
    pub shutting_down: bool,
    /// Every supervised service: phase, restarts, last error (with a panic's message) and, once
    /// terminated, why (completed, shutdown, failed, circuit open, aborted).
    pub services: Vec<ServiceLifecycleSnapshot>,
    /// One entry per brain, in the order the brains were given to [`Bot::new`](crate::Bot::new).
    pub brains: Vec<BrainHealthSnapshot>,
    /// Why new entries are refused right now (empty: they are not). Exits always go. A
    /// degraded bot (fill routing or market data down, a store that cannot write) stays
    /// `healthy` while its services run, and clears these by itself when the cause clears;
    /// [`EntryBlock::Drift`] waits for [`BotHandle::acknowledge_drift`].
    pub entry_blocks: Vec<EntryBlock>,
    /// Reconciliation with the venue: when it last ran, what it found.
    pub reconciliation: ReconciliationHealth,
    /// Positions waiting for a protective close the venue refused, or one a refused leg calls
    /// for: the engine sends it (again, with backoff) until it fills or the position is flat.
    /// Empty when every such close went through.
    pub refused_exits: Vec<RefusedExit>,
}

/// A refused protective close in [`BotHealth::refused_exits`].
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedExit {
    /// The brain holding the position.
    pub brain: String,
    /// The position's symbol.
    pub symbol: Symbol,
    /// Refusals in a row so far (0: the close a refused leg calls for, not refused itself;
    /// it waits for another exit already working on the position).
    pub attempts: u32,
    /// When the close is sent again.
    pub next_attempt_at: Timestamp,
}

/// Reconciliation in [`BotHealth::reconciliation`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconciliationHealth {
    /// When the last pass ended (start-up or periodic); `None` before the first.
    pub last_at: Option<Timestamp>,
    /// The error the last pass ended with, if it failed at the venue.
    pub last_error: Option<String>,
    /// Position drifts found since start (each journalled and handled by the drift policy).
    pub drifts: u64,
}

/// One brain's health in [`BotHealth::brains`].
#[derive(Debug, Clone)]
pub struct BrainHealthSnapshot {
    /// The brain's name.
    pub name: String,
    /// What the brain says of itself.
    pub healthy: bool,
    /// Events the framework handed the brain since start.
    pub events_processed: u64,
    /// Non-hold decisions the brain returned since start.
    pub non_hold_decisions: u64,
    /// The brain's own details, with the framework's counters for it under `"framework"`
    /// (`brain_errors`, `bus_lagged`, `events_seen_before`: events a resumed source delivered
    /// again that the brain was handed before a restart) when the brain's details are an object
    /// or empty.
    pub details: serde_json::Value,
}

/// A cheap, cloneable handle into a running bot: health, shutdown, positions, signals.
///
/// A host keeps clones wherever it needs the bot (an HTTP health route, a metrics endpoint, a
/// shutdown coordinator); everything it holds is shared behind `Arc`s.
///
/// # Manual overrides and the fill stream
///
/// Fills reaching the bot (through a fill source) update positions and feed every closed trade's
/// outcome to the symbol's session PnL and loss breaker automatically.
/// [`BotHandle::record_trade_outcome`] and [`BotHandle::set_position`] are manual overrides for
/// what the bot did not see. To keep a host that reports each closed trade from counting it
/// twice, the rule is: **a manual outcome for a symbol first claims one trade the fill stream
/// closed on that symbol and not yet claimed; if there is one, the call changes nothing (the
/// outcome is already counted). Only when there is none is the outcome applied.** The engine
/// keeps the rule ([`Engine::record_manual_outcome`](rustrade_engine::Engine::record_manual_outcome)):
/// the unclaimed trades are in its snapshot and journal, so a restart does not reset them.
///
/// # Example
///
/// ```
/// # use std::sync::Arc;
/// # use rustrade::{Bot, BotConfig, BotHandle};
/// # use rustrade::testkit::{MockExchange, ScriptedBrain};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// # let exchange: Arc<dyn rustrade_core::ExchangeClient> = Arc::new(MockExchange::new());
/// # let brains: Vec<Arc<dyn rustrade_core::Brain>> = vec![Arc::new(ScriptedBrain::holding("hold"))];
/// let config = BotConfig::builder()
///     .name("demo")
///     .symbol("BTCUSDT")
///     .without_signal_handler()
///     .build()?;
/// let bot = Bot::new(config, exchange, brains)?;
/// let handle: BotHandle = bot.handle();
///
/// let mut signals = handle.subscribe_signals();
/// let task = tokio::spawn(async move { bot.run_until_shutdown().await });
///
/// let health = handle.health().await;
/// assert_eq!(health.brains[0].name, "hold");
/// assert!(signals.try_recv().is_err(), "a holding brain signals nothing");
///
/// handle.shutdown();
/// handle.await_shutdown().await;
/// task.await??;
/// # Ok(())
/// # }
/// ```
///
/// A host that drives the bot from one task and watches its signals from another, stopping
/// when the signal stream ends (compiled, not run: it waits for a real venue's signals):
///
/// ```no_run
/// # use std::sync::Arc;
/// # use rustrade::{Bot, BotConfig, BotHandle};
/// # async fn run(
/// #     exchange: Arc<dyn rustrade_core::ExchangeClient>,
/// #     brains: Vec<Arc<dyn rustrade_core::Brain>>,
/// # ) -> anyhow::Result<()> {
/// let config = BotConfig::builder()
///     .name("demo")
///     .symbol("BTCUSDT")
///     .without_signal_handler()
///     .build()?;
/// let bot = Bot::new(config, exchange, brains)?;
/// let handle: BotHandle = bot.handle();
/// let mut signals = handle.subscribe_signals();
///
/// let task = tokio::spawn(async move { bot.run_until_shutdown().await });
/// tokio::spawn({
///     let handle = handle.clone();
///     async move {
///         while let Ok(sig) = signals.recv().await {
///             tracing::info!(?sig, "signal");
///         }
///         handle.shutdown();
///     }
/// });
/// task.await??;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct BotHandle {
    cancel: CancellationToken,
    supervisor: Arc<Supervisor>,
    brains: Arc<Vec<Arc<dyn Brain>>>,
    driver: Arc<Driver>,
    signals: SignalBus,
    order_tracking: bool,
}

impl BotHandle {
    pub(crate) fn new(
        supervisor: Arc<Supervisor>,
        brains: Arc<Vec<Arc<dyn Brain>>>,
        driver: Arc<Driver>,
        signals: SignalBus,
        order_tracking: bool,
    ) -> Self {
        Self {
            cancel: supervisor.cancel_token().clone(),
            supervisor,
            brains,
            driver,
            signals,
            order_tracking,
        }
    }

    /// Our live orders as the engine tracks them, in client-id order.
    ///
    /// Empty unless order tracking was turned on with
    /// [`Bot::with_order_tracking`](crate::Bot::with_order_tracking) and the adapter advertises
    /// [`Capability::OrderTracking`](rustrade_core::Capability::OrderTracking).
    pub async fn tracked_orders(&self) -> Vec<TrackedOrder> {
        if !self.order_tracking {
            return Vec::new();
        }
        self.driver
            .read(|e| e.open_orders().copied().collect())
            .unwrap_or_default()
    }

    /// The risk state of `symbol` now: the session's realised PnL and fees, its round trips,
    /// the loss breaker and whether entries are halted. `None` before the bot started or for a
    /// symbol it does not trade.
    pub async fn risk(&self, symbol: &Symbol) -> Option<RiskView> {
        let now = self.driver.now();
        self.driver
            .read(|e| {
                let r = e.symbol_risk(symbol)?;
                Some(RiskView {
                    session_net_pnl: r.session_pnl.net(),
                    session_fees: r.session_pnl.fees(),
                    session_wins: r.session_pnl.wins(),
                    session_losses: r.session_pnl.losses(),
                    breaker_recent_losses: r.circuit_breaker.recent_losses(),
                    breaker_tripped: r.circuit_breaker.is_tripped(now),
                    entries_halted: e.is_halted(symbol, now),
                })
            })
            .flatten()
    }

    /// Our live orders as the engine tracks them, in client-id order, whether or not venue
    /// reconciliation ([`Bot::with_order_tracking`](crate::Bot::with_order_tracking)) is on.
    /// Empty before the bot has started.
    pub async fn live_orders(&self) -> Vec<TrackedOrder> {
        self.driver
            .read(|e| e.open_orders().copied().collect())
            .unwrap_or_default()
    }

    /// The round trips the engine closed since the bot started, oldest first, at most
    /// [`TRADE_LOG_CAPACITY`](crate::TRADE_LOG_CAPACITY) (the newest kept): per trade the brain,
    /// the symbol and the ledger's outcome (side, quantity, entry and exit time and price, fees,
    /// PnL). The same outcomes the session PnL and the breaker were fed.
    pub async fn closed_trades(&self) -> Vec<crate::ClosedTradeRecord> {
        self.driver
            .closed_trades
            .snapshot(|i| self.driver.brain_name(i))
    }

    /// How many round trips the engine closed since the bot started: every `TradeClosed` event
    /// it emitted, including those [`closed_trades`](Self::closed_trades) no longer keeps.
    pub fn closed_trade_count(&self) -> u64 {
        self.driver.closed_trades.total()
    }

    /// Pauses new entries: every entry decision is refused by the engine with the label
    /// `entries_paused` (journalled and counted like every refusal) until
    /// [`resume_entries`](Self::resume_entries); exits, protective legs and engine-triggered exits
    /// still go out. Returns `false` if the bot has not started.
    pub async fn pause_entries(&self) -> bool {
        self.set_entries_paused(true).await
    }

    /// Allows new entries again after [`pause_entries`](Self::pause_entries). Returns `false` if
    /// the bot has not started.
    pub async fn resume_entries(&self) -> bool {
        self.set_entries_paused(false).await
    }

    /// Whether new entries are paused.
    pub fn entries_paused(&self) -> bool {
        self.driver.read(|e| e.entries_paused()).unwrap_or(false)
    }

    async fn set_entries_paused(&self, paused: bool) -> bool {
        self.driver
            .step(move |e, now| e.set_entries_paused(paused, now))
            .await
            .is_some()
    }

    /// Closes every brain's position on every symbol **through the engine**
    /// ([`Engine::flatten_all`](rustrade_engine::Engine::flatten_all)): one exit per brain and
    /// symbol it holds, never blocked, journalled, counted in the session PnL by its fills.
    /// Returns the number of exit orders sent (0 when flat or not started).
    pub async fn flatten(&self) -> usize {
        self.driver
            .step(|e, now| e.flatten_all(ExitReason::Operator, now))
            .await
            .unwrap_or(0)
    }

    /// Acknowledges a position drift: entries refused as `drift_unacknowledged` (the default
    /// [`DriftPolicy::HaltEntries`](rustrade_engine::DriftPolicy::HaltEntries)) are allowed
    /// again. Journalled. Returns whether entries were waiting for it.
    pub async fn acknowledge_drift(&self) -> bool {
        self.driver
            .step(|e, now| e.acknowledge_drift(now))
            .await
            .unwrap_or(false)
    }

    /// Requests a graceful shutdown. Returns at once; calling it again does nothing more.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Whether shutdown has been requested (by any handle, the external token or a signal).
    pub fn is_shutting_down(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes once shutdown has been requested.
    pub async fn await_shutdown(&self) {
        self.cancel.cancelled().await;
    }

    /// Feeds a realised trade outcome (gross PnL and fee, in quote currency) into `symbol`'s
    /// session PnL and loss breaker, for a trade the fill stream did not carry.
    ///
    /// A non-finite value is refused with an error log and changes nothing; so is a symbol the
    /// bot does not trade. An outcome the fill stream already recorded is not counted again:
    /// see [the rule](BotHandle#manual-overrides-and-the-fill-stream).
    pub async fn record_trade_outcome(&self, symbol: &Symbol, gross_pnl: f64, fee: f64) {
        let symbol = *symbol;
        let result = self
            .driver
            .step(move |e, now| e.record_manual_outcome(&symbol, gross_pnl, fee, now))
            .await;
        match result {
            Some(Ok(true)) => {}
            Some(Ok(false)) => {
                tracing::info!(%symbol, gross_pnl, fee, "record_trade_outcome: already recorded from fills")
            }
            Some(Err(e)) => tracing::error!(%symbol, error = %e, "record_trade_outcome refused"),
            None => tracing::error!(%symbol, "record_trade_outcome: the bot has not started"),
        }
    }

    /// The bot's net position in `symbol` (flat when it holds none or does not trade it).
    pub async fn position(&self, symbol: &Symbol) -> Position {
        self.driver.position(symbol)
    }

    /// Overrides the bot's net position in `symbol` (a manual correction; the engine journals it
    /// as drift). Before the bot has started it is applied right after start-up reconciliation.
    pub async fn set_position(&self, symbol: &Symbol, position: Position) {
        self.driver.set_position(*symbol, position).await;
    }

    /// A receiver of every signal (non-hold decision) published from now on, before the risk
    /// gates ran. The handle keeps the channel open, so a subscriber should also watch
    /// [`await_shutdown`](Self::await_shutdown) to stop; a slow one sees `Lagged`.
    pub fn subscribe_signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }

    /// Number of live signal receivers.
    pub fn signal_subscriber_count(&self) -> usize {
        self.signals.subscriber_count()
    }

    /// Health of every service and brain.
    pub async fn health(&self) -> BotHealth {
        let services = self.supervisor.lifecycle_snapshots().await;
        let mut brains = Vec::with_capacity(self.brains.len());
        for (brain, counters) in self.brains.iter().zip(&self.driver.brain_counters) {
            let own = brain.health().await;
            let framework = serde_json::json!({
                "brain_errors": counters.errors.load(Ordering::Relaxed),
                "bus_lagged": counters.lagged.load(Ordering::Relaxed),
                "events_seen_before": counters.seen_before.load(Ordering::Relaxed),
            });
            let details = match own.details {
                serde_json::Value::Null => serde_json::json!({ "framework": framework }),
                serde_json::Value::Object(mut map) => {
                    map.insert("framework".to_owned(), framework);
                    serde_json::Value::Object(map)
                }
                other => other,
            };
            brains.push(BrainHealthSnapshot {
                name: brain.name().to_owned(),
                healthy: own.healthy,
                events_processed: counters.events.load(Ordering::Relaxed),
                non_hold_decisions: counters.non_hold.load(Ordering::Relaxed),
                details,
            });
        }
        let services_alive = services
            .iter()
            .all(|s| !matches!(s.phase, ServicePhase::Terminated));
        let brains_healthy = brains.iter().all(|b| b.healthy);
        let (last_at, last_error) = crate::driver::lock(&self.driver.reconciled).clone();
        BotHealth {
            healthy: services_alive && brains_healthy,
            shutting_down: self.is_shutting_down(),
            services,
            brains,
            entry_blocks: self
                .driver
                .read(|e| e.entry_blocks().iter().collect())
                .unwrap_or_default(),
            reconciliation: ReconciliationHealth {
                last_at,
                last_error,
                drifts: self.driver.counters.drifts.load(Ordering::Relaxed),
            },
            refused_exits: self
                .driver
                .read(|e| {
                    e.exit_retries()
                        .map(|(brain, symbol, r)| RefusedExit {
                            brain: e.brain_name(brain).unwrap_or_default().to_owned(),
                            symbol,
                            attempts: r.attempts,
                            next_attempt_at: r.due,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl std::fmt::Debug for BotHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotHandle")
            .field("shutting_down", &self.is_shutting_down())
            .field("brains", &self.brains.len())
            .finish_non_exhaustive()
    }
}

/// A symbol's risk state as [`BotHandle::risk`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RiskView {
    /// Realised PnL of the current session, net of fees.
    pub session_net_pnl: f64,
    /// Fees of the session's round trips.
    pub session_fees: f64,
    /// Winning round trips this session.
    pub session_wins: u32,
    /// Losing round trips this session.
    pub session_losses: u32,
    /// Losses inside the breaker's window.
    pub breaker_recent_losses: usize,
    /// Whether the loss breaker blocks entries now.
    pub breaker_tripped: bool,
    /// Whether entries are blocked now (session cap or breaker).
    pub entries_halted: bool,
}
