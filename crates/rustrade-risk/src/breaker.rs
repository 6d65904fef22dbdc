//! [`CircuitBreaker`]: a sliding-window loss breaker with a cooldown.
//!
//! The rules it keeps are listed on the type, under "Invariants".

use std::collections::VecDeque;
use std::time::Duration;

use rustrade_core::Timestamp;

use crate::RiskError;
use crate::error::nonzero_duration;
use crate::session::TradeOutcome;

/// Version written into [`BreakerSnapshot::version`] by this crate.
pub const BREAKER_SNAPSHOT_VERSION: u32 = 1;

/// Limits of a [`CircuitBreaker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Losses within `window` that trip the breaker, `>= 1`.
    pub loss_limit: u32,
    /// Length of the sliding window, `> 0` (seconds in serialised form).
    #[serde(with = "crate::duration_secs")]
    pub window: Duration,
    /// How long a trip blocks new entries, `> 0` (seconds in serialised form).
    #[serde(with = "crate::duration_secs")]
    pub cooldown: Duration,
    /// Whether a loss while tripped restarts the cooldown from that loss.
    #[serde(default)]
    pub extend_on_loss: bool,
}

impl BreakerConfig {
    /// Checks every field; the error names the field and the value.
    pub fn validate(&self) -> Result<(), RiskError> {
        if self.loss_limit == 0 {
            return Err(crate::error::invalid(
                "breaker.loss_limit",
                self.loss_limit,
                "must be >= 1",
            ));
        }
        nonzero_duration("breaker.window", self.window)?;
        nonzero_duration("breaker.cooldown", self.cooldown)
    }
}

impl Default for BreakerConfig {
    /// Three losses within an hour trip the breaker for thirty minutes.
    fn default() -> Self {
        Self {
            loss_limit: 3,
            window: Duration::from_secs(3_600),
            cooldown: Duration::from_secs(1_800),
            extend_on_loss: false,
        }
    }
}

/// Blocks new entries after a cluster of losing trades, for a cooldown.
///
/// # Invariants
///
/// - A loss at `t` is *in the window* at `now` while `now − t < window`; the breaker trips when
///   `loss_limit` losses are in the window at the moment of a loss.
/// - Once tripped it stays tripped until `tripped_at + cooldown`; the first call at or after that
///   instant (a tick, a win, a loss, a gate evaluation) clears the trip *and* the loss history.
/// - Wins never clear a trip and never erase losses: the count is of losses within the window,
///   whatever wins lie between them.
/// - A loss while tripped neither counts towards a new trip nor extends the cooldown, unless
///   [`BreakerConfig::extend_on_loss`] is set, in which case the cooldown restarts from that loss.
/// - Time going backwards is tolerated: a loss stamped before an earlier one is in the window.
///
/// ```
/// use std::time::Duration;
/// use rustrade_core::Timestamp;
/// use rustrade_risk::{BreakerConfig, CircuitBreaker};
///
/// let config = BreakerConfig { loss_limit: 2, cooldown: Duration::from_secs(600), ..Default::default() };
/// let mut breaker = CircuitBreaker::new(config)?;
/// let t0 = Timestamp::from_secs(1_000)?;
/// breaker.record_loss(t0);
/// breaker.record_loss(t0);
/// assert!(breaker.is_tripped(t0));
/// assert_eq!(breaker.remaining_cooldown(Timestamp::from_secs(1_300)?), Some(Duration::from_secs(300)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    losses: VecDeque<Timestamp>,
    tripped_until: Option<Timestamp>,
}

impl CircuitBreaker {
    /// An untripped breaker with no loss history; refuses an invalid `config`.
    pub fn new(config: BreakerConfig) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self::fresh(config))
    }

    fn fresh(config: BreakerConfig) -> Self {
        Self {
            losses: VecDeque::with_capacity(config.loss_limit.min(64) as usize),
            config,
            tripped_until: None,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Advances time: clears an expired trip together with the loss history.
    pub fn tick(&mut self, now: Timestamp) {
        if self.tripped_until.is_some_and(|until| now >= until) {
            self.tripped_until = None;
            self.losses.clear();
        }
    }

    /// Records a losing trade closed at `now`; may trip the breaker.
    pub fn record_loss(&mut self, now: Timestamp) {
        self.tick(now);
        if self.tripped_until.is_some() {
            if self.config.extend_on_loss {
                self.tripped_until = Some(now.saturating_add(self.config.cooldown));
            }
            return;
        }
        let window = self.config.window;
        while let Some(&oldest) = self.losses.front() {
            match now.duration_since(oldest) {
                Some(age) if age >= window => {
                    self.losses.pop_front();
                }
                _ => break,
            }
        }
        self.losses.push_back(now);
        if self.losses.len() >= self.config.loss_limit as usize {
            self.tripped_until = Some(now.saturating_add(self.config.cooldown));
            self.losses.clear();
        }
    }

    /// Records a winning trade closed at `now`. A win never clears a trip.
    pub fn record_win(&mut self, now: Timestamp) {
        self.tick(now);
    }

    /// Records a trade outcome: a loss counts, a win or breakeven only advances time.
    pub fn record_outcome(&mut self, outcome: TradeOutcome, now: Timestamp) {
        match outcome {
            TradeOutcome::Loss => self.record_loss(now),
            TradeOutcome::Win | TradeOutcome::Breakeven => self.record_win(now),
        }
    }

    /// Whether new entries are blocked at `now` (a trip whose cooldown has run out is not).
    pub fn is_tripped(&self, now: Timestamp) -> bool {
        self.tripped_until.is_some_and(|until| now < until)
    }

    /// The instant the current trip ends, if tripped at `now`.
    pub fn tripped_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.tripped_until.filter(|&until| now < until)
    }

    /// Cooldown left at `now`, `None` when not tripped.
    pub fn remaining_cooldown(&self, now: Timestamp) -> Option<Duration> {
        self.tripped_until(now)
            .and_then(|until| until.duration_since(now))
    }

    /// Losses currently remembered (those since the last trip or clearance).
    pub fn recent_losses(&self) -> usize {
        self.losses.len()
    }

    /// The serialisable state.
    pub fn snapshot(&self) -> BreakerSnapshot {
        BreakerSnapshot {
            version: BREAKER_SNAPSHOT_VERSION,
            losses: self.losses.iter().copied().collect(),
            tripped_until: self.tripped_until,
        }
    }

    /// Rebuilds a breaker from `snapshot` under `config` at `now`.
    ///
    /// A cooldown that ran out while stopped restores untripped with no history. A snapshot of an
    /// unknown version restores a fresh breaker and logs a warning. Refuses an invalid `config`.
    pub fn restore(
        snapshot: &BreakerSnapshot,
        config: BreakerConfig,
        now: Timestamp,
    ) -> Result<Self, RiskError> {
        config.validate()?;
        if snapshot.version != BREAKER_SNAPSHOT_VERSION {
            tracing::warn!(
                version = snapshot.version,
                expected = BREAKER_SNAPSHOT_VERSION,
                "unknown circuit-breaker snapshot version; starting fresh"
            );
            return Ok(Self::fresh(config));
        }
        let mut breaker = Self {
            config,
            losses: snapshot.losses.iter().copied().collect(),
            tripped_until: snapshot.tripped_until,
        };
        breaker.tick(now);
        Ok(breaker)
    }
}

/// Serialised state of a [`CircuitBreaker`].
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct BreakerSnapshot {
    /// Format version; [`BREAKER_SNAPSHOT_VERSION`] when written by this crate.
    #[serde(default)]
    pub version: u32,
    /// Close times of the losses since the last trip or clearance, oldest first.
    #[serde(default)]
    pub losses: Vec<Timestamp>,
    /// End of the current trip, if one was in force.
    #[serde(default)]
    pub tripped_until: Option<Timestamp>,
}
