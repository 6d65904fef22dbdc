//! [`Bot`]: wires an exchange, brains, the engine and the supervisor into one running bot.

use std::path::PathBuf;
use std::sync::Arc;

use rustrade_core::{
    Brain, CandleSource, Capability, ExchangeClient, FillSource, MarketDataBus, MarketSource,
    MetricsSink, SignalBus, StateStore, Symbol,
};
use rustrade_engine::{BrainId, BrainRoster, Engine, EngineConfig, ExitReason};
use rustrade_sim::{PaperExchange, PaperFills};
use rustrade_supervisor::{Supervisor, SupervisorConfig, TradingService};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::driver::Driver;
use crate::services::{
    CandlePollerService, ExecutionService, FillRoutingService, MarketFeedService,
    OrderResolverService, ReconcilerService, TimerService,
};
use crate::{BotConfig, BotError, BotHandle};

/// Batches of engine events a [`Bot::subscribe_events`] receiver may fall behind by before it
/// sees `Lagged`.
const EVENT_FEED_CAPACITY: usize = 1024;

/// Every capability the engine may ask an adapter about.
const CAPABILITIES: [Capability; 12] = Capability::ALL;

/// A trading bot: brains driven by market data, their decisions gated and executed by the
/// engine, under a supervisor. Build it with [`Bot::new`], wire sources with the `with_*`
/// methods, take a [`BotHandle`] and run it with [`Bot::run_until_shutdown`].
pub struct Bot {
    config: BotConfig,
    exchange: Arc<dyn ExchangeClient>,
    brains: Arc<Vec<Arc<dyn Brain>>>,
    roster: Arc<BrainRoster>,
    market_bus: MarketDataBus,
    receivers: Vec<tokio::sync::broadcast::Receiver<rustrade_core::MarketEvent>>,
    signals: SignalBus,
    supervisor: Arc<Supervisor>,
    driver: Arc<Driver>,
    market_sources: Vec<Box<dyn MarketSource>>,
    fill_sources: Vec<Box<dyn FillSource>>,
    candle_poller: Option<Arc<dyn CandleSource>>,
    order_tracking: bool,
    external_cancel: Option<CancellationToken>,
    state_file: Option<PathBuf>,
}

impl Bot {
    /// Builds a bot. Refuses no brains, duplicate or unusable brain names, two brains owning the
    /// same symbol, a brain owning a symbol that is not configured, and a bot name the exchange
    /// would refuse in client order ids (the name prefixes every id;
    /// [`ExchangeClient::check_client_id_prefix`]).
    pub fn new(
        config: BotConfig,
        exchange: Arc<dyn ExchangeClient>,
        brains: Vec<Arc<dyn Brain>>,
    ) -> Result<Self, BotError> {
        exchange
            .check_client_id_prefix(config.name())
            .map_err(|source| BotError::Exchange {
                during: "the check of the bot name against the venue's client order ids",
                source,
            })?;
        let roster = BrainRoster::new(brains.iter().map(|b| b.as_ref()), config.symbols())
            .map_err(BotError::from)?;
        let mut sup_config =
            SupervisorConfig::default().with_shutdown_timeout(config.shutdown_timeout());
        if !config.signal_handler() {
            sup_config = sup_config.without_signal_handler();
        }
        let brains = Arc::new(brains);
        let driver = Arc::new(Driver::new(
            Arc::clone(&exchange),
            Arc::clone(&brains),
            config.snapshot_every(),
            config.cash_asset(),
        ));
        let sink: Arc<dyn MetricsSink> = driver.metrics.clone();
        let supervisor = Arc::new(Supervisor::with_metrics(sup_config, sink)?);
        let market_bus = MarketDataBus::new(config.market_bus_capacity());
        let receivers = brains.iter().map(|_| market_bus.subscribe()).collect();
        Ok(Self {
            signals: SignalBus::new(config.signal_bus_capacity()),
            config,
            exchange,
            brains,
            roster: Arc::new(roster),
            market_bus,
            receivers,
            supervisor,
            driver,
            market_sources: Vec::new(),
            fill_sources: Vec::new(),
            candle_poller: None,
            order_tracking: false,
            external_cancel: None,
            state_file: None,
        })
    }

    /// A paper-trading bot: `paper` (the simulated venue of `rustrade-sim`) is the exchange and
    /// every market event reaches the venue before any brain decides on it, so the venue matches
    /// orders against the same data the brains see.
    ///
    /// The venue's reports (`fills`) are applied to the engine synchronously, in the backtest's
    /// order: the fills a market event caused before the brains decide on that event, the
    /// reports an order call caused right after the call. Given the same brain, instrument,
    /// venue models and events, a paper bot and a `rustrade-backtest` run therefore produce the
    /// same fills (the crate's `tests/parity.rs`).
    pub fn paper(
        config: BotConfig,
        paper: PaperExchange,
        fills: PaperFills,
        brains: Vec<Arc<dyn Brain>>,
    ) -> Result<Self, BotError> {
        let venue = paper.clone();
        let bot = Self::new(config, Arc::new(paper), brains)?;
        bot.driver.set_venue_reports(fills);
        bot.driver.set_market_hook(Box::new(move |event| {
            if let Err(e) = venue.on_market(event) {
                tracing::error!(error = %e, "paper venue refused a market event");
            }
        }));
        Ok(bot)
    }

    /// Adds a market data source; its events are published on the market bus.
    pub fn with_market_source(mut self, source: Box<dyn MarketSource>) -> Self {
        self.market_sources.push(source);
        self
    }

    /// Adds the venue's execution report stream: fills update positions and risk state, and
    /// cancels are confirmed by it (rather than by the cancel call's success).
    pub fn with_fill_source(mut self, source: Box<dyn FillSource>) -> Self {
        self.fill_sources.push(source);
        self.driver.confirm_cancels_by_stream();
        self
    }

    /// Polls closed bars of every configured symbol from `source` and publishes each once.
    pub fn with_candle_poller(mut self, source: Arc<dyn CandleSource>) -> Self {
        self.candle_poller = Some(source);
        self
    }

    /// Persists the engine's journal and snapshot in `store` and restores from it at start.
    pub fn with_state_store(self, store: Arc<dyn StateStore>) -> Self {
        if self.state_file.is_some() || !self.driver.set_store(store) {
            tracing::warn!("a state store was already given; the first one is kept");
        }
        self
    }

    /// Persists state in the [`SqliteStore`](crate::store::SqliteStore) at `path`, opened (and
    /// locked for this bot's lifetime) at start-up: a file another writer holds fails
    /// [`run_until_shutdown`](Self::run_until_shutdown) with
    /// [`StoreError::Locked`](rustrade_core::StoreError::Locked) naming the file and its holder.
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> Self {
        if self.state_file.is_some() || self.driver.store().is_some() {
            tracing::warn!("a state store was already given; the first one is kept");
        } else {
            self.state_file = Some(path.into());
        }
        self
    }

    /// Emits metrics into `sink` (for example [`PrometheusMetrics`](crate::metrics::PrometheusMetrics)).
    pub fn with_metrics(self, sink: Arc<dyn MetricsSink>) -> Self {
        if !self.driver.set_metrics(sink) {
            tracing::warn!("with_metrics called twice; the first sink is kept");
        }
        self
    }

    /// Uses `clock` for the times given to the engine (tests use a manual clock).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        if !self.driver.set_clock(clock) {
            tracing::warn!("with_clock called twice; the first clock is kept");
        }
        self
    }

    /// Reconciles live orders with the venue's open orders every `reconcile_interval` and
    /// reports them through [`BotHandle::tracked_orders`]; needs an adapter advertising
    /// [`Capability::OrderTracking`].
    pub fn with_order_tracking(mut self) -> Self {
        self.order_tracking = true;
        self
    }

    /// Shuts the bot down when `token` is cancelled (a host's own shutdown token).
    pub fn with_external_cancel(mut self, token: CancellationToken) -> Self {
        self.external_cancel = Some(token);
        self
    }

    /// The market data bus: publish events on it directly, or subscribe to watch them.
    ///
    /// Each brain's receiver exists from [`Bot::new`], so events published before
    /// [`run_until_shutdown`](Self::run_until_shutdown) are queued (up to the bus capacity; more
    /// is counted as lag) and processed once the bot runs.
    pub fn market_data_bus(&self) -> MarketDataBus {
        self.market_bus.clone()
    }

    /// The bus of signals (non-hold decisions, published before the gates).
    pub fn signal_bus(&self) -> SignalBus {
        self.signals.clone()
    }

    /// A receiver of every batch of engine events the bot journals from now on, in journal
    /// order (one batch per engine step), for hosts that report what the bot did (notifications,
    /// audit feeds). Published after the batch is observed and before its commands are sent; a
    /// slow receiver sees `Lagged` with the number of batches it missed, and the trading path
    /// never waits for it. Nothing is published, and nothing is cloned, until the first call.
    pub fn subscribe_events(
        &self,
    ) -> tokio::sync::broadcast::Receiver<Arc<Vec<rustrade_engine::EngineEvent>>> {
        self.driver
            .event_feed
            .get_or_init(|| tokio::sync::broadcast::channel(EVENT_FEED_CAPACITY).0)
            .subscribe()
    }

    /// A cheap handle for the host: health, shutdown, positions, signals.
    pub fn handle(&self) -> BotHandle {
        BotHandle::new(
            Arc::clone(&self.supervisor),
            Arc::clone(&self.brains),
            Arc::clone(&self.driver),
            self.signals.clone(),
            self.order_tracking && self.exchange.supports(Capability::OrderTracking),
        )
    }

    /// The configuration.
    pub fn config(&self) -> &BotConfig {
        &self.config
    }

    /// Starts, runs until shutdown, drains, persists:
    ///
    /// 1. **Start-up.** Fetch each symbol's instrument rules and the venue's capabilities; build the
    ///    engine config (risk per symbol: its override, else its asset class's, else the default).
    ///    With a state file ([`Bot::with_state_file`]), open and lock it first: a file another
    ///    writer holds fails start-up with
    ///    [`StoreError::Locked`](rustrade_core::StoreError::Locked).
    ///    With a state store: restore the newest readable snapshot and replay the journal records
    ///    after it; if no snapshot is readable, replay the whole journal; if that cannot be done
    ///    either, fail with [`StoreError::Corrupt`](rustrade_core::StoreError::Corrupt) — never a
    ///    fresh start over state that exists (sessions and cooldowns that ended while stopped are
    ///    honoured by the engine). A state rebuilt without a snapshot, or a fresh one, advances
    ///    the store's epoch and issues client order ids from it
    ///    ([`store::epoch`](crate::store::epoch)), past every id an earlier state issued.
    ///    Journal records older than `journal_retention` that a snapshot makes redundant are
    ///    deleted, and so are the records of applied fills whose order the engine no longer
    ///    tracks ([`store::applied_fills`](crate::store::applied_fills)).
    /// 2. **Catch up and reconcile**, before any brain sees an event: the fills the venue made
    ///    since the engine's last one ([`ExchangeClient::fills_since`]) go through the engine, so
    ///    positions, PnL, the breaker and brackets see them; every order sent without a definite
    ///    answer is looked up by client id ([`ExchangeClient::order_status`]) and settled by the
    ///    venue's answer ("never received" only once older than `unknown_order_grace`, otherwise
    ///    it stays unknown and reserved); our orders missing from the venue's open list are looked
    ///    up too; then the venue's positions are handed to the engine, which journals what still
    ///    differs as drift. **Nothing is sent again.** The fill stream catches up the same way
    ///    after every (re)connect, which covers fills between this step and the stream's start.
    /// 3. **Resume market data.** With a state store, every market source is asked to resume
    ///    after the events the brains were handed before the restart
    ///    ([`MarketSource::resume_after`]), and each brain passes over what it already saw
    ///    (see `progress.rs`: a decision's progress is durable with the decision itself).
    /// 4. **Run.** Spawn the services under the supervisor and wait for shutdown (handle, external
    ///    token, or a signal when enabled).
    /// 5. **Drain.** The supervisor cancels and drains the services within `shutdown_timeout`; then
    ///    the engine snapshot is persisted, open positions are closed if configured (exits
    ///    decided by the engine, journalled and sent, their fills fetched from the venue until
    ///    flat or `shutdown_timeout`), and the store is flushed. Their PnL reaches the session PnL
    ///    and the breaker like any exit's.
    pub async fn run_until_shutdown(self) -> Result<(), BotError> {
        let Self {
            config,
            exchange,
            brains,
            roster,
            market_bus,
            receivers,
            signals,
            supervisor,
            driver,
            mut market_sources,
            fill_sources,
            candle_poller,
            order_tracking,
            external_cancel,
            state_file,
        } = self;
        let started = async {
            if let Some(path) = state_file {
                let store = crate::store::SqliteStore::open(path).await?;
                driver.set_store(Arc::new(store));
            }
            let engine = build_engine(&config, &exchange, &brains, &driver).await?;
            driver.install(engine);
            let pruned = driver.prune_journal(config.journal_retention()).await?;
            if pruned > 0 {
                tracing::info!(pruned, "old journal records deleted");
            }
            let pruned = driver.prune_fill_records().await?;
            if pruned > 0 {
                tracing::info!(pruned, "records of fills no order can take again deleted");
            }
            crate::recovery::reconcile_patiently(
                &driver,
                config.symbols(),
                config.unknown_order_grace(),
                supervisor.cancel_token(),
            )
            .await
            .map_err(|source| BotError::Exchange {
                during: "catch-up and reconciliation",
                source,
            })
        };
        if let Err(e) = started.await {
            tracing::error!(bot = config.name(), error = %e, "start-up failed");
            // Handles waiting for shutdown learn that the bot is not running.
            supervisor.cancel_token().cancel();
            return Err(e);
        }
        driver.apply_pending_positions().await;
        let seen_before = match resume_sources(&config, &roster, &driver, &mut market_sources).await
        {
            Ok(seen) => seen,
            Err(e) => {
                tracing::error!(bot = config.name(), error = %e, "start-up failed");
                supervisor.cancel_token().cancel();
                return Err(e);
            }
        };

        let mut services: Vec<Arc<dyn TradingService>> = Vec::new();
        for (i, (brain, rx)) in brains.iter().zip(receivers).enumerate() {
            let id = BrainId(u32::try_from(i).unwrap_or(u32::MAX));
            services.push(Arc::new(ExecutionService::new(
                id,
                Arc::clone(brain),
                Arc::clone(&roster),
                Arc::clone(&driver),
                market_bus.clone(),
                rx,
                signals.clone(),
                seen_before.get(brain.name()).cloned().unwrap_or_default(),
            )));
        }
        for source in market_sources {
            services.push(Arc::new(MarketFeedService::new(
                source,
                config.symbols().to_vec(),
                market_bus.clone(),
                config.market_silence_timeout(),
                Arc::clone(&driver),
            )));
        }
        for source in fill_sources {
            services.push(Arc::new(FillRoutingService::new(
                source,
                config.symbols().to_vec(),
                Arc::clone(&driver),
            )));
        }
        if let Some(source) = candle_poller {
            services.push(Arc::new(CandlePollerService::new(
                source,
                config.symbols().to_vec(),
                exchange.venue(),
                market_bus.clone(),
                Arc::clone(&driver),
            )));
        }
        if let Some(ttl) = config.order_ttl() {
            let period = (ttl / 4).min(config.timer_interval());
            services.push(Arc::new(TimerService::new(
                "order-reaper",
                period,
                Arc::clone(&driver),
            )));
        }
        services.push(Arc::new(OrderResolverService::new(
            config.unknown_order_grace(),
            Arc::clone(&driver),
        )));
        services.push(Arc::new(TimerService::new(
            "risk-sweep",
            config.timer_interval(),
            Arc::clone(&driver),
        )));
        if config.periodic_reconciliation() {
            services.push(Arc::new(ReconcilerService::new(
                config.reconcile_interval(),
                config.symbols().to_vec(),
                Arc::clone(&driver),
            )));
        } else if order_tracking && exchange.supports(Capability::OrderTracking) {
            services.push(Arc::new(ReconcilerService::open_orders(
                config.reconcile_interval(),
                Arc::clone(&driver),
            )));
        }
        for service in services {
            if supervisor.is_shutting_down() {
                break;
            }
            supervisor.spawn(service)?;
        }
        let watcher = external_cancel.map(|token| {
            let ours = supervisor.cancel_token().clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = token.cancelled() => ours.cancel(),
                    () = ours.cancelled() => {}
                }
            })
        });
        tracing::info!(bot = config.name(), brains = brains.len(), "bot running");
        let report = supervisor.run_until_shutdown().await?;
        if let Some(w) = watcher {
            w.abort();
        }
        tracing::info!(bot = config.name(), cause = %report.cause, clean = report.is_clean(), "services drained");
        driver.persist_final().await;
        if config.close_positions_on_shutdown() {
            close_positions(&config, &driver).await;
            driver.persist_final().await;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("name", &self.config.name())
            .field(
                "brains",
                &self.brains.iter().map(|b| b.name()).collect::<Vec<_>>(),
            )
            .field("symbols", &self.config.symbols())
            .finish_non_exhaustive()
    }
}

async fn build_engine(
    config: &BotConfig,
    exchange: &Arc<dyn ExchangeClient>,
    brains: &[Arc<dyn Brain>],
    driver: &Driver,
) -> Result<Engine, BotError> {
    let mut engine_config = EngineConfig::new(config.name(), *config.default_risk())
        .with_capabilities(CAPABILITIES.into_iter().filter(|c| exchange.supports(*c)))
        .with_portfolio(*config.portfolio())
        .with_leg_rejected(config.leg_rejected())
        .with_drift_policy(config.drift_policy());
    if let Some(age) = config.max_event_age() {
        engine_config = engine_config.with_max_event_age(age);
    }
    if let Some(ttl) = config.order_ttl() {
        engine_config = engine_config.with_order_ttl(ttl);
    }
    for brain in brains {
        engine_config = engine_config.with_brain(brain.name());
    }
    for symbol in config.symbols() {
        let spec = exchange
            .instrument(symbol)
            .await
            .map_err(|source| BotError::Exchange {
                during: "instrument rules",
                source,
            })?;
        let risk = *config.risk_for(symbol, spec.asset_class());
        if &risk != config.default_risk() {
            engine_config = engine_config.with_symbol_risk(*symbol, risk);
        }
        engine_config = engine_config.with_instrument(spec);
    }
    let now = driver.now();
    let Some(store) = driver.store() else {
        return Ok(Engine::new(engine_config, now)?);
    };
    let restored = crate::journal::restore(store.as_ref(), engine_config, now).await?;
    tracing::info!(
        from = restored.source,
        replayed = restored.replayed,
        journal_seq = restored.engine.journal_seq(),
        "engine state restored"
    );
    driver
        .journal
        .seed(restored.engine.journal_seq(), restored.snapshot)
        .await;
    Ok(restored.engine)
}

/// Reads the brains' market progress from the store (see [`progress`](crate::progress)) and
/// asks every market source to resume after it; returns each brain's progress, by name.
async fn resume_sources(
    config: &BotConfig,
    roster: &BrainRoster,
    driver: &Driver,
    sources: &mut [Box<dyn MarketSource>],
) -> Result<std::collections::BTreeMap<Arc<str>, crate::progress::Through>, BotError> {
    use crate::progress;
    let Some(store) = driver.store() else {
        return Ok(Default::default());
    };
    let loaded = progress::load(store.as_ref()).await?;
    let routes: Vec<(Arc<str>, Vec<Symbol>)> = roster
        .names()
        .enumerate()
        .map(|(i, name)| {
            let routed = config
                .symbols()
                .iter()
                .filter(|s| roster.routes(i, s))
                .copied()
                .collect();
            (Arc::from(name), routed)
        })
        .collect();
    let points = progress::resume_points(config.symbols(), &routes, &loaded);
    driver.seed_marks(progress::marked_through(&loaded));
    driver.journal.progress.seed(loaded.clone());
    if !points.is_empty() {
        for source in sources.iter_mut() {
            let resumed = source.resume_after(&points);
            tracing::info!(
                source = source.name(),
                resumed,
                symbols = points.len(),
                "market source asked to resume after the events seen before the restart"
            );
        }
    }
    Ok(loaded)
}

/// Closes every open position through the engine after the drain: exits emitted by
/// [`Engine::flatten_all`] are journalled and sent like any order, then the venue's fills are
/// caught up (the fill stream is stopped by now) until every symbol is flat or `timeout` passes.
async fn close_positions(config: &BotConfig, driver: &Driver) {
    let sent = driver
        .step(|e, now| e.flatten_all(ExitReason::Operator, now))
        .await
        .unwrap_or(0);
    if sent == 0 {
        return;
    }
    tracing::info!(orders = sent, "closing positions on shutdown");
    let flat = async {
        loop {
            if let Err(e) = crate::recovery::catch_up_fills(driver, config.symbols()).await {
                tracing::warn!(error = %e, "fills of the closing orders could not be fetched");
            }
            let open = open_symbols(config, driver);
            if open.is_empty() {
                return;
            }
            tokio::time::sleep(CLOSE_POLL).await;
        }
    };
    match tokio::time::timeout(config.shutdown_timeout(), flat).await {
        Ok(()) => tracing::info!("positions closed on shutdown"),
        Err(_) => tracing::error!(
            symbols = ?open_symbols(config, driver),
            "positions still open after the shutdown timeout; the next start reconciles them"
        ),
    }
}

/// The traded symbols the engine holds a position in.
fn open_symbols(config: &BotConfig, driver: &Driver) -> Vec<Symbol> {
    driver
        .read(|e| {
            config
                .symbols()
                .iter()
                .filter(|s| {
                    let p = e.position(s);
                    e.instrument(s)
                        .map_or(!p.is_flat(), |spec| !p.is_flat_in(spec))
                })
                .copied()
                .collect()
        })
        .unwrap_or_default()
}

/// How often the fills of shutdown's closing orders are asked for.
const CLOSE_POLL: std::time::Duration = std::time::Duration::from_millis(200);
