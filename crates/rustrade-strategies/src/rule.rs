//! [`Rule`] and [`RuleBrain`]: a per-symbol entry/exit rule and the [`Brain`] that runs it.
//!
//! A rule sees one candle at a time for one symbol and says whether it wants to be in the market
//! ([`Trigger::Enter`]) or out of it ([`Trigger::Exit`]). The brain keeps one rule state per
//! symbol and turns triggers into decisions against the current position:
//!
//! | trigger | position | decision |
//! | --- | --- | --- |
//! | `Enter` | flat | [`Decision::buy`] with confidence 1 (sized by the risk layer) |
//! | `Exit` | long | [`Decision::close`] |
//! | anything else | | [`Decision::hold`] |
//!
//! That is the default direction, long only; a rule's [`Rule::direction`] (the `direction`
//! parameter of every ready strategy) can make it short only or long and short, reversing on
//! each signal (the table on [`Direction`]). Events that are not candles (quotes, trades) are
//! held: the rules are defined on bars.
//!
//! # Invariants
//!
//! - State is per symbol and created on that symbol's first candle, so one brain can trade many
//!   symbols and their histories never mix.
//! - A rule never sees the same candle twice and never sees a later candle before an earlier one
//!   of the same symbol (the host's contract); the brain itself is stateless across symbols.
//! - The per-event path takes one uncontended mutex and allocates only when a symbol is seen for
//!   the first time.
//! - A brain built with [`RuleBrain::shared`] reads the indicator series its rule names in
//!   [`Rule::shared_series`] from a [`SeriesCache`] where the cache holds them, and decides
//!   exactly as one built with [`RuleBrain::new`] over the data the cache was built from; a
//!   candle whose time is not the cache's next one for its symbol is an error.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustrade_core::{
    Brain, BrainError, BrainHealth, Candle, Decision, MarketEvent, Position, Symbol, Timestamp,
    async_trait,
};

use crate::shared::{SeriesCache, SeriesKey, SymbolSeries};
use crate::{Direction, StrategyError};

/// What a rule wants after one candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The bullish signal: be long (enter if flat, or close a short).
    Enter,
    /// The bearish signal: be out of a long (or short, see [`Direction`]).
    Exit,
}

/// An entry/exit rule over candles, evaluated independently per symbol.
///
/// The rule value holds its (validated) parameters; [`Rule::State`] holds the indicators of one
/// symbol. Implement it to get a complete [`Brain`] from [`RuleBrain`].
pub trait Rule: Send + Sync + 'static {
    /// Indicator state of one symbol.
    type State: Send;

    /// Fresh state for a symbol; its first candle is passed to [`Rule::step`] next.
    fn start(&self) -> Result<Self::State, StrategyError>;

    /// Feeds one candle and answers the rule's wish, or `None` while warming up or undecided.
    fn step(&self, state: &mut Self::State, candle: &Candle) -> Option<Trigger>;

    /// Which side the brain trades on the rule's triggers ([`Direction::LongOnly`] unless the
    /// rule says otherwise).
    fn direction(&self) -> Direction {
        Direction::LongOnly
    }

    /// The indicator series the rule can read from a [`SeriesCache`] instead of computing them
    /// (none unless overridden).
    fn shared_series(&self) -> Vec<SeriesKey> {
        Vec::new()
    }

    /// Fresh state for a symbol that reads from `shared` the series of
    /// [`Rule::shared_series`] it holds and computes the others; [`Rule::start`] unless
    /// overridden. [`Rule::step`] then answers exactly what it answers on [`Rule::start`]'s
    /// state over the candles the series were computed from.
    fn start_shared(&self, shared: &SymbolSeries<'_>) -> Result<Self::State, StrategyError> {
        let _ = shared;
        self.start()
    }
}

/// A [`Brain`] that runs a [`Rule`] per symbol.
pub struct RuleBrain<R: Rule> {
    name: String,
    rule: R,
    params: serde_json::Value,
    shared: Option<Arc<SeriesCache>>,
    states: Mutex<BTreeMap<Symbol, SymbolState<R::State>>>,
    events: AtomicU64,
    non_hold: AtomicU64,
}

impl<R: Rule> RuleBrain<R> {
    /// A brain called `name` running `rule`. `params` is reported in the health details.
    ///
    /// Fails if the rule cannot build its indicator state (it is tried once here, so a running
    /// brain never meets that error).
    pub fn new(
        name: impl Into<String>,
        rule: R,
        params: serde_json::Value,
    ) -> Result<Self, StrategyError> {
        rule.start()?;
        Ok(Self {
            name: name.into(),
            rule,
            params,
            shared: None,
            states: Mutex::new(BTreeMap::new()),
            events: AtomicU64::new(0),
            non_hold: AtomicU64::new(0),
        })
    }

    /// Like [`RuleBrain::new`], reading the series of [`Rule::shared_series`] that `cache`
    /// holds instead of computing them: for runs over the very data `cache` was built from
    /// (a parameter sweep builds one cache and many brains over it).
    pub fn shared(
        name: impl Into<String>,
        rule: R,
        params: serde_json::Value,
        cache: Arc<SeriesCache>,
    ) -> Result<Self, StrategyError> {
        let mut brain = Self::new(name, rule, params)?;
        brain.shared = Some(cache);
        Ok(brain)
    }

    /// The rule this brain runs.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    fn trigger(
        &self,
        symbol: Symbol,
        time: Timestamp,
        candle: &Candle,
    ) -> Result<Option<Trigger>, BrainError> {
        // A poisoned lock means an earlier call panicked mid-update; the per-symbol state is
        // still structurally valid (indicators update field by field), so keep going.
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let state = match states.get_mut(&symbol) {
            Some(s) => s,
            None => {
                let fresh = self
                    .start(symbol)
                    .map_err(|e| BrainError::Other(e.to_string()))?;
                states.entry(symbol).or_insert(fresh)
            }
        };
        if let Some(g) = &mut state.guard {
            if g.times.get(g.next) != Some(&time) {
                return Err(BrainError::Other(format!(
                    "{symbol}: the candle at {time} is not candle {} of the shared indicator series ({} candles{}): the brain runs over other data than its series cache",
                    g.next,
                    g.times.len(),
                    g.times
                        .get(g.next)
                        .map(|t| format!(", that one at {t}"))
                        .unwrap_or_default()
                )));
            }
            g.next += 1;
        }
        Ok(self.rule.step(&mut state.state, candle))
    }

    /// A symbol's fresh state: over the shared series when the cache has this symbol's candles.
    fn start(&self, symbol: Symbol) -> Result<SymbolState<R::State>, StrategyError> {
        let times = self.shared.as_ref().and_then(|c| c.times(symbol));
        match (self.shared.as_ref(), times) {
            (Some(cache), Some(times)) => Ok(SymbolState {
                state: self.rule.start_shared(&cache.view(symbol))?,
                guard: Some(Guard {
                    times: Arc::clone(times),
                    next: 0,
                }),
            }),
            _ => Ok(SymbolState {
                state: self.rule.start()?,
                guard: None,
            }),
        }
    }
}

#[async_trait]
impl<R: Rule> Brain for RuleBrain<R> {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        self.events.fetch_add(1, Ordering::Relaxed);
        let Some(candle) = event.as_candle() else {
            return Ok(Decision::hold());
        };
        let trigger = self.trigger(event.symbol, event.time, candle)?;
        let decision = self.rule.direction().decide(trigger, position);
        if !decision.is_hold() {
            self.non_hold.fetch_add(1, Ordering::Relaxed);
        }
        Ok(decision)
    }

    async fn health(&self) -> BrainHealth {
        let symbols = self.states.lock().map(|s| s.len()).unwrap_or(0);
        BrainHealth::ok()
            .with_events(
                self.events.load(Ordering::Relaxed),
                self.non_hold.load(Ordering::Relaxed),
            )
            .with_details(serde_json::json!({ "params": self.params, "symbols": symbols }))
    }
}

/// A symbol's rule state, and where it stands in the shared series when it reads them.
struct SymbolState<S> {
    state: S,
    guard: Option<Guard>,
}

/// The times of a symbol's candles in the series cache, and the index of the next one.
struct Guard {
    times: Arc<[Timestamp]>,
    next: usize,
}

impl<R: Rule + std::fmt::Debug> std::fmt::Debug for RuleBrain<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleBrain")
            .field("name", &self.name)
            .field("rule", &self.rule)
            .finish_non_exhaustive()
    }
}

/// Tracks the sign of a difference between two series and reports when it changes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CrossTracker {
    prev: Option<f64>,
}

impl CrossTracker {
    /// Feeds `diff = a − b`: `Enter` when `a` crosses above `b`, `Exit` when it crosses below.
    pub(crate) fn update(&mut self, diff: f64) -> Option<Trigger> {
        let prev = self.prev.replace(diff)?;
        if prev <= 0.0 && diff > 0.0 {
            Some(Trigger::Enter)
        } else if prev >= 0.0 && diff < 0.0 {
            Some(Trigger::Exit)
        } else {
            None
        }
    }
}
