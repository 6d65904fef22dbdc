//! [`Backtest`]: the engine and the simulated venue driven by historical events in one loop.
//!
//! The per-event loop and its invariants are documented in the `run` module; in short: no
//! look-ahead, `n + 1` equity samples, the accounting identity of [`crate::BacktestResult`],
//! bit-identical reruns, and no allocation per event on the hold path.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustrade_core::{Brain, InstrumentSpec, MarketEvent, Symbol, Timestamp};
use rustrade_engine::{BrainRoster, Engine, EngineConfig, JournalDetail};
use rustrade_risk::RiskConfig;
use rustrade_sim::{FeeModel, LatencyModel, SimConfig, SlippageModel};

use crate::{BacktestError, BacktestResult, DataError, EquitySink, Outputs, RecordSink};

/// A configured backtest; [`Backtest::run`] replays a data source through it.
///
/// ```
/// use std::sync::Arc;
/// use rustrade_backtest::{synthetic, Backtest};
/// use rustrade_core::{async_trait, AssetClass, Brain, BrainError, Decision, InstrumentSpec, MarketEvent, Position};
///
/// struct Hold;
/// #[async_trait]
/// impl Brain for Hold {
///     fn name(&self) -> &str { "hold" }
///     fn on_event(&self, _: &MarketEvent, _: &Position) -> Result<Decision, BrainError> {
///         Ok(Decision::hold())
///     }
/// }
///
/// let spec = InstrumentSpec::new(synthetic::synthetic_symbol(), AssetClass::CryptoSpot, 0.01, 0.001)?;
/// let backtest = Backtest::builder()
///     .instrument(spec)
///     .initial_cash(1_000.0)
///     .brain(Arc::new(Hold))
///     .build()?;
/// let result = backtest.run(synthetic::random_walk(1, 500))?;
/// assert_eq!(result.equity.len(), 501);
/// assert_eq!(result.final_equity, 1_000.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Backtest {
    pub(crate) engine: EngineConfig,
    pub(crate) sim: SimConfig,
    pub(crate) instruments: Vec<InstrumentSpec>,
    pub(crate) brains: Vec<Arc<dyn Brain>>,
    /// Per brain: the symbols it owns, sorted, or `None` for all.
    pub(crate) roster: BrainRoster,
    pub(crate) periods_per_year: Option<f64>,
    pub(crate) equity: Equity,
    pub(crate) record_fills: bool,
    pub(crate) record_trades: bool,
}

/// How [`Backtest::run`] keeps the equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Equity {
    Full,
    Downsampled(usize),
    Off,
}

/// Builds a [`Backtest`]; every setting has a default except the instruments and brains.
#[derive(Clone)]
pub struct BacktestBuilder {
    engine: EngineConfig,
    sim: SimConfig,
    instruments: Vec<InstrumentSpec>,
    brains: Vec<Arc<dyn Brain>>,
    periods_per_year: Option<f64>,
    equity: Equity,
    record_fills: bool,
    record_trades: bool,
    journal: JournalDetail,
}

impl Backtest {
    /// A builder with bot id `backtest`, default risk, the default simulated venue (10 000 cash,
    /// no fees, no slippage, zero latency, fills at the next event's open) and equity recording
    /// on.
    pub fn builder() -> BacktestBuilder {
        BacktestBuilder {
            engine: EngineConfig::new("backtest", RiskConfig::default()),
            sim: SimConfig::default(),
            instruments: Vec::new(),
            brains: Vec::new(),
            periods_per_year: None,
            equity: Equity::Full,
            record_fills: true,
            record_trades: true,
            journal: JournalDetail::Lean,
        }
    }

    /// Replays `data` and returns the result, keeping fills, trades and the equity curve as the
    /// builder chose ([`Backtest::outputs`]). A data error, a brain error or an event for a
    /// symbol without an instrument stops the run with that error.
    ///
    /// Brains are shared, not copied: a second run continues with whatever state they kept.
    /// Build fresh brains (as [`crate::sweep`] does) for independent runs.
    pub fn run<I>(&self, data: I) -> Result<BacktestResult, BacktestError>
    where
        I: IntoIterator<Item = Result<MarketEvent, DataError>>,
    {
        crate::run::replay(self, data, self.outputs())
    }

    /// [`Backtest::run`] with the results sent to `outputs` instead (for example CSV writers,
    /// so that memory does not grow with the history). A sink's write error stops the run with
    /// [`BacktestError::Output`]; a downsampled curve of fewer than 2 points is refused.
    pub fn run_with<I>(
        &self,
        data: I,
        outputs: Outputs<'_>,
    ) -> Result<BacktestResult, BacktestError>
    where
        I: IntoIterator<Item = Result<MarketEvent, DataError>>,
    {
        crate::run::replay(self, data, outputs)
    }

    /// The sinks [`Backtest::run`] uses, from the builder's recording choices: in memory, or
    /// off, or a downsampled equity curve.
    pub fn outputs(&self) -> Outputs<'static> {
        let records = |on| {
            if on {
                RecordSink::Memory
            } else {
                RecordSink::Off
            }
        };
        Outputs {
            fills: records(self.record_fills),
            trades: records(self.record_trades),
            equity: match self.equity {
                Equity::Full => EquitySink::Memory,
                Equity::Downsampled(max) => EquitySink::Downsampled(max),
                Equity::Off => EquitySink::Off,
            },
        }
    }

    /// [`Backtest::run`] over infallible events.
    pub fn run_events<I>(&self, events: I) -> Result<BacktestResult, BacktestError>
    where
        I: IntoIterator<Item = MarketEvent>,
    {
        self.run(events.into_iter().map(Ok))
    }

    /// The engine configuration the run uses (brains and instruments filled in).
    pub fn engine_config(&self) -> &EngineConfig {
        &self.engine
    }

    /// The simulated venue's configuration.
    pub fn sim_config(&self) -> &SimConfig {
        &self.sim
    }
}

impl BacktestBuilder {
    /// Adds an instrument the data may contain.
    pub fn instrument(mut self, spec: InstrumentSpec) -> Self {
        self.instruments.push(spec);
        self
    }

    /// Starting cash of the simulated account (finite, `>= 0`).
    pub fn initial_cash(mut self, cash: f64) -> Self {
        self.sim.initial_cash = cash;
        self
    }

    /// Risk limits for every symbol (breaker, session loss cap, sizing).
    pub fn risk(mut self, risk: RiskConfig) -> Self {
        self.engine.risk = risk;
        self
    }

    /// A full engine configuration (risk, per-symbol overrides, portfolio limits, order TTL, leg
    /// policy). Its brains, instruments and capabilities are replaced by the builder's brains,
    /// instruments and the venue's capabilities, its journal detail by
    /// [`BacktestBuilder::journal`]'s.
    pub fn engine(mut self, config: EngineConfig) -> Self {
        self.engine = config;
        self
    }

    /// A full venue configuration. Later calls to `initial_cash`, `fees`, `slippage`, `latency`
    /// and `trade_on_close` change it.
    pub fn sim(mut self, config: SimConfig) -> Self {
        self.sim = config;
        self
    }

    /// Fee model of the venue.
    pub fn fees(mut self, fees: FeeModel) -> Self {
        self.sim.fees = fees;
        self
    }

    /// Slippage model of taker fills.
    pub fn slippage(mut self, slippage: SlippageModel) -> Self {
        self.sim.slippage = slippage;
        self
    }

    /// When orders reach the venue.
    pub fn latency(mut self, latency: LatencyModel) -> Self {
        self.sim.latency = latency;
        self
    }

    /// Fill model: `true` fills orders decided on a candle at its close (optimistic), `false`
    /// (the default) at the next event's open.
    pub fn trade_on_close(mut self, on: bool) -> Self {
        self.sim.trade_on_close = on;
        self
    }

    /// Adds a brain.
    pub fn brain(mut self, brain: Arc<dyn Brain>) -> Self {
        self.brains.push(brain);
        self
    }

    /// Removes the brains added so far (a sweep reuses one builder as a template).
    pub fn clear_brains(&mut self) {
        self.brains.clear();
    }

    /// Adds several brains.
    pub fn brains(mut self, brains: impl IntoIterator<Item = Arc<dyn Brain>>) -> Self {
        self.brains.extend(brains);
        self
    }

    /// Periods per year for annualised statistics, instead of inferring it from the bar interval.
    pub fn periods_per_year(mut self, periods: f64) -> Self {
        self.periods_per_year = Some(periods);
        self
    }

    /// Whether to keep the equity curve in the result (default on). Off, statistics are still
    /// computed (streaming) and memory stays independent of the history's length.
    pub fn record_equity(mut self, on: bool) -> Self {
        self.equity = if on { Equity::Full } else { Equity::Off };
        self
    }

    /// Keep a downsampled equity curve of at most `max_points` evenly spaced samples (the first
    /// and the last among them; see [`crate::EquitySink::Downsampled`]) instead of every
    /// sample: enough for a report's chart, with memory independent of the history's length.
    /// [`BacktestBuilder::build`] refuses fewer than 2 points.
    pub fn downsample_equity(mut self, max_points: usize) -> Self {
        self.equity = Equity::Downsampled(max_points);
        self
    }

    /// Whether to keep every fill in the result (default on). Trades and statistics are kept
    /// either way; sweeps turn it off.
    pub fn record_fills(mut self, on: bool) -> Self {
        self.record_fills = on;
        self
    }

    /// Whether to keep every closed trade in the result (default on). The trade statistics are
    /// computed as trades close either way, so with fills, trades and the equity curve off a
    /// run's memory does not grow with its length.
    pub fn record_trades(mut self, on: bool) -> Self {
        self.record_trades = on;
        self
    }

    /// How much of the engine's journal the run has the engine write (default
    /// [`JournalDetail::Lean`]: a run reads the journal as it goes and keeps none of it, so the
    /// events that restate others are left out). Results are the same either way.
    pub fn journal(mut self, journal: JournalDetail) -> Self {
        self.journal = journal;
        self
    }

    /// Validates and builds. Refuses: no instrument, two specs for one symbol, no brain, two
    /// brains with one name, two brains owning the same symbol, a non-positive
    /// `periods_per_year`, and whatever the engine or venue refuse in their configurations.
    pub fn build(self) -> Result<Backtest, BacktestError> {
        let config = |field, reason: String| BacktestError::Config { field, reason };
        if self.instruments.is_empty() {
            return Err(config(
                "instruments",
                "at least one instrument is needed".into(),
            ));
        }
        let mut seen = BTreeMap::new();
        for spec in &self.instruments {
            if seen.insert(spec.symbol(), ()).is_some() {
                return Err(config(
                    "instruments",
                    format!("two specs for {}", spec.symbol()),
                ));
            }
        }
        let traded: Vec<Symbol> = self.instruments.iter().map(|s| s.symbol()).collect();
        let roster = BrainRoster::new(self.brains.iter().map(|b| b.as_ref()), &traded)
            .map_err(|e| config("brains", e.to_string()))?;
        if let Equity::Downsampled(max) = self.equity
            && max < 2
        {
            return Err(config(
                "equity",
                format!("a downsampled curve keeps at least 2 points (got {max})"),
            ));
        }
        if let Some(p) = self.periods_per_year
            && !(p.is_finite() && p > 0.0)
        {
            return Err(config(
                "periods_per_year",
                format!("must be finite and > 0 (got {p})"),
            ));
        }
        self.sim
            .validate()
            .map_err(|e| config("sim", e.to_string()))?;
        let mut engine = self.engine;
        engine.brains = self.brains.iter().map(|b| b.name().to_owned()).collect();
        engine.instruments = self.instruments.clone();
        engine.capabilities = self.sim.capabilities.clone();
        engine.journal = self.journal;
        // Build once to surface configuration errors at build time rather than at run time.
        Engine::new(engine.clone(), Timestamp::EPOCH)
            .map_err(|e| BacktestError::Engine(e.to_string()))?;
        Ok(Backtest {
            engine,
            sim: self.sim,
            instruments: self.instruments,
            brains: self.brains,
            roster,
            periods_per_year: self.periods_per_year,
            equity: self.equity,
            record_fills: self.record_fills,
            record_trades: self.record_trades,
        })
    }
}
