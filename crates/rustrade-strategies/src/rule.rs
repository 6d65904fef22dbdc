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

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rustrade_core::{
    Brain, BrainError, BrainHealth, Candle, Decision, MarketEvent, Position, Symbol, async_trait,
};

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
}

/// A [`Brain`] that runs a [`Rule`] per symbol.
pub struct RuleBrain<R: Rule> {
    name: String,
    rule: R,
    params: serde_json::Value,
    states: Mutex<BTreeMap<Symbol, R::State>>,
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
            states: Mutex::new(BTreeMap::new()),
            events: AtomicU64::new(0),
            non_hold: AtomicU64::new(0),
        })
    }

    /// The rule this brain runs.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    fn trigger(&self, symbol: Symbol, candle: &Candle) -> Result<Option<Trigger>, BrainError> {
        // A poisoned lock means an earlier call panicked mid-update; the per-symbol state is
        // still structurally valid (indicators update field by field), so keep going.
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let state = match states.get_mut(&symbol) {
            Some(s) => s,
            None => {
                let fresh = self
                    .rule
                    .start()
                    .map_err(|e| BrainError::Other(e.to_string()))?;
                states.entry(symbol).or_insert(fresh)
            }
        };
        Ok(self.rule.step(state, candle))
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
        let trigger = self.trigger(event.symbol, candle)?;
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
