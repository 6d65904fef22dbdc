//! [`EngineConfig`]: brains, instruments, venue capabilities, risk limits and the engine's own
//! policies. Validated by [`crate::Engine::new`]; every error names the field and the value.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rustrade_core::{Capability, InstrumentSpec, Symbol};
use rustrade_risk::{PortfolioConfig, RiskConfig};

use crate::DriftPolicy;

/// What to do when the venue rejects a protective leg of a bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegRejectedPolicy {
    /// Close the unprotected entry with a reduce-only market order and cancel the other legs.
    #[default]
    CloseEntry,
    /// Keep the entry; the other legs stay.
    Keep,
}

/// How much of the journal the engine writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalDetail {
    /// Every event: the journal is a complete record that [`crate::Engine::replay`] rebuilds
    /// the state from.
    #[default]
    Full,
    /// Every event but three that only restate what the others and the venue's reports carry:
    /// `OrderAccepted`, `CancelRequested` and the `PositionChanged` that follows each
    /// `FillApplied` (the positions after a fill are read from the engine). For a driver that
    /// reads the events and never keeps the journal, as a backtest does: decisions, refusals,
    /// placed orders, fills, trades and order ends are all still journalled, and every order
    /// still passes the risk gates. Such a journal cannot be replayed into the state (venue ids
    /// are missing from it). Fills, positions and ledgers are the same as with [`Self::Full`].
    Lean,
}

impl JournalDetail {
    /// Whether this is [`JournalDetail::Full`] (what serialisation leaves out).
    pub fn is_full(&self) -> bool {
        *self == Self::Full
    }
}

/// Everything the engine is built from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Prefix of every client order id (the bot's id): letters, digits, `-_.:/`, at most 14 bytes.
    pub bot_id: String,
    /// Brain names; a brain's [`crate::BrainId`] is its index here. Names are unique.
    pub brains: Vec<String>,
    /// The instruments the engine trades; one spec per symbol.
    pub instruments: Vec<InstrumentSpec>,
    /// What the venue can do; order kinds and protective legs it lacks are refused or emulated.
    pub capabilities: BTreeSet<Capability>,
    /// Per-symbol risk (breaker, session loss cap, sizing) for every symbol without an override.
    pub risk: RiskConfig,
    /// Per-symbol risk overrides.
    #[serde(default)]
    pub risk_overrides: BTreeMap<Symbol, RiskConfig>,
    /// Account-wide limits (daily loss, positions, exposure).
    #[serde(default)]
    pub portfolio: PortfolioConfig,
    /// Policy when a protective leg is rejected.
    #[serde(default)]
    pub leg_rejected: LegRejectedPolicy,
    /// Resting entry orders older than this are cancelled by [`crate::Engine::handle_timer`].
    #[serde(default)]
    pub order_ttl: Option<Duration>,
    /// Sequence number of the first client order id (see [`crate::ClientIdSequence`]).
    #[serde(default = "one")]
    pub first_sequence: u64,
    /// How many terminal orders are remembered for late reports.
    #[serde(default = "default_retired")]
    pub retired_orders: usize,
    /// How many recent fill ids are remembered to drop duplicates.
    #[serde(default = "default_fill_ids")]
    pub remembered_fill_ids: usize,
    /// A cancel the venue has not confirmed within this time is sent again by
    /// [`crate::Engine::handle_timer`], until the venue confirms it or reports the order gone.
    #[serde(default = "default_cancel_retry")]
    pub cancel_retry: Duration,
    /// A protective exit the venue refused is sent again after this delay, doubled on each
    /// further refusal up to [`exit_retry_max`](Self::exit_retry_max), until the position is
    /// flat (see [`crate::ExitRetry`]).
    #[serde(default = "default_exit_retry")]
    pub exit_retry: Duration,
    /// The longest wait between two attempts of a refused protective exit.
    #[serde(default = "default_exit_retry_max")]
    pub exit_retry_max: Duration,
    /// What to do when the venue's position differs from ours (see [`DriftPolicy`]).
    #[serde(default)]
    pub drift_policy: DriftPolicy,
    /// An entry decided on a market event older than this (event time to decision time) is
    /// refused as `stale_event`: a back-log replayed after a feed reconnect is not traded on.
    /// Exits are never refused for age. Unset: no limit.
    #[serde(default)]
    pub max_event_age: Option<Duration>,
    /// How much of the journal to write (see [`JournalDetail`]); a live bot keeps the default,
    /// [`JournalDetail::Full`].
    #[serde(default, skip_serializing_if = "JournalDetail::is_full")]
    pub journal: JournalDetail,
}

fn one() -> u64 {
    1
}

fn default_retired() -> usize {
    1024
}

fn default_fill_ids() -> usize {
    4096
}

fn default_cancel_retry() -> Duration {
    Duration::from_secs(5)
}

fn default_exit_retry() -> Duration {
    Duration::from_secs(1)
}

fn default_exit_retry_max() -> Duration {
    Duration::from_secs(60)
}

impl EngineConfig {
    /// A config with the given bot id and per-symbol risk, no brains, no instruments, a venue
    /// with market and limit orders and the reduce-only flag, no account-wide limits and the
    /// default policies.
    pub fn new(bot_id: impl Into<String>, risk: RiskConfig) -> Self {
        Self {
            bot_id: bot_id.into(),
            brains: Vec::new(),
            instruments: Vec::new(),
            capabilities: [
                Capability::MarketOrders,
                Capability::LimitOrders,
                Capability::ReduceOnly,
            ]
            .into_iter()
            .collect(),
            risk,
            risk_overrides: BTreeMap::new(),
            portfolio: PortfolioConfig::default(),
            leg_rejected: LegRejectedPolicy::default(),
            order_ttl: None,
            first_sequence: 1,
            retired_orders: default_retired(),
            remembered_fill_ids: default_fill_ids(),
            cancel_retry: default_cancel_retry(),
            exit_retry: default_exit_retry(),
            exit_retry_max: default_exit_retry_max(),
            drift_policy: DriftPolicy::default(),
            max_event_age: None,
            journal: JournalDetail::Full,
        }
    }

    /// Registers a brain by name.
    pub fn with_brain(mut self, name: impl Into<String>) -> Self {
        self.brains.push(name.into());
        self
    }

    /// Adds an instrument.
    pub fn with_instrument(mut self, spec: InstrumentSpec) -> Self {
        self.instruments.push(spec);
        self
    }

    /// Replaces the venue's capability set.
    pub fn with_capabilities(mut self, caps: impl IntoIterator<Item = Capability>) -> Self {
        self.capabilities = caps.into_iter().collect();
        self
    }

    /// Sets the risk configuration of one symbol.
    pub fn with_symbol_risk(mut self, symbol: Symbol, risk: RiskConfig) -> Self {
        self.risk_overrides.insert(symbol, risk);
        self
    }

    /// Sets the account-wide limits.
    pub fn with_portfolio(mut self, portfolio: PortfolioConfig) -> Self {
        self.portfolio = portfolio;
        self
    }

    /// The risk configuration that applies to `symbol`.
    pub fn risk_for(&self, symbol: &Symbol) -> &RiskConfig {
        self.risk_overrides.get(symbol).unwrap_or(&self.risk)
    }

    /// Sets the bracket-leg rejection policy.
    pub fn with_leg_rejected(mut self, policy: LegRejectedPolicy) -> Self {
        self.leg_rejected = policy;
        self
    }

    /// Sets the time to live of resting entry orders.
    pub fn with_order_ttl(mut self, ttl: Duration) -> Self {
        self.order_ttl = Some(ttl);
        self
    }

    /// Sets the drift policy.
    pub fn with_drift_policy(mut self, policy: DriftPolicy) -> Self {
        self.drift_policy = policy;
        self
    }

    /// Sets the maximum age of a market event an entry may be decided on.
    pub fn with_max_event_age(mut self, age: Duration) -> Self {
        self.max_event_age = Some(age);
        self
    }

    /// Sets how much of the journal the engine writes.
    pub fn with_journal(mut self, journal: JournalDetail) -> Self {
        self.journal = journal;
        self
    }

    /// Sets the first client-order-id sequence number.
    pub fn with_first_sequence(mut self, first: u64) -> Self {
        self.first_sequence = first;
        self
    }
}
