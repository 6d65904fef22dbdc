//! [`SessionPnl`]: realised PnL of the current trading session and its loss cap.
//!
//! The rules it keeps are listed on the type, under "Invariants".

use rustrade_core::Timestamp;

use crate::error::{finite, optional_negative};
use crate::{RiskError, SessionBoundary};

/// Version written into [`SessionSnapshot::version`] by this crate.
pub const SESSION_SNAPSHOT_VERSION: u32 = 1;

/// Net PnL within this distance of zero counts as a breakeven.
pub const BREAKEVEN_EPSILON: f64 = 1e-9;

/// Limits of a [`SessionPnl`].
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Net session loss that halts new entries, a negative number (`-100.0`); `None` for no cap.
    #[serde(default)]
    pub loss_cap: Option<f64>,
    /// When the session rolls over (default 00:00 UTC).
    #[serde(default)]
    pub boundary: SessionBoundary,
}

impl SessionConfig {
    /// Checks every field; the error names the field and the value.
    pub fn validate(&self) -> Result<(), RiskError> {
        optional_negative("session.loss_cap", self.loss_cap)?;
        self.boundary.validate("session.boundary")
    }
}

/// How a closed trade is classified, on its net PnL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeOutcome {
    /// Net above zero.
    Win,
    /// Net below zero.
    Loss,
    /// Net zero within [`BREAKEVEN_EPSILON`].
    Breakeven,
}

impl TradeOutcome {
    /// Classifies a net PnL.
    pub fn of_net(net: f64) -> Self {
        if net > BREAKEVEN_EPSILON {
            Self::Win
        } else if net < -BREAKEVEN_EPSILON {
            Self::Loss
        } else {
            Self::Breakeven
        }
    }

    /// A lower-case label (`win`, `loss`, `breakeven`) for logs and metrics.
    pub const fn as_label(self) -> &'static str {
        match self {
            Self::Win => "win",
            Self::Loss => "loss",
            Self::Breakeven => "breakeven",
        }
    }
}

/// Realised PnL of one symbol's trading session, with a loss cap that halts new entries.
///
/// # Invariants
///
/// - `net = gross − fees`, where each recorded close carries the fees of *both* legs of the round
///   trip; `wins + losses + breakevens` is the number of closes recorded this session.
/// - A close is a win when its net is above [`BREAKEVEN_EPSILON`], a loss when below its negative,
///   and a breakeven otherwise: a gross profit eaten by fees is a loss.
/// - Once `net <= loss_cap` the session is halted and stays halted until the session rolls over,
///   even if later closes bring the net back above the cap.
/// - The session rolls over (all counters to zero, halt lifted) on the first call stamped at or
///   after the next [`SessionBoundary`], never one nanosecond before. A call stamped earlier than
///   the current session start changes nothing about the session.
/// - A non-finite input is refused with [`RiskError::NotFinite`] and changes nothing.
///
/// ```
/// use rustrade_core::Timestamp;
/// use rustrade_risk::{SessionConfig, SessionPnl, TradeOutcome};
///
/// let config = SessionConfig { loss_cap: Some(-100.0), ..Default::default() };
/// let now = Timestamp::parse_rfc3339("2024-05-01T12:00:00Z")?;
/// let mut session = SessionPnl::new(config, now)?;
/// assert_eq!(session.record_close(1.0, 3.0, now)?, TradeOutcome::Loss);
/// assert_eq!(session.net(), -2.0);
/// assert!(session.record_close(f64::NAN, 0.0, now).is_err());
/// assert_eq!(session.net(), -2.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPnl {
    config: SessionConfig,
    session_start: Timestamp,
    session_end: Timestamp,
    gross: f64,
    fees: f64,
    net: f64,
    wins: u32,
    losses: u32,
    breakevens: u32,
    halted: bool,
}

impl SessionPnl {
    /// An empty session containing `now`; refuses an invalid `config`.
    pub fn new(config: SessionConfig, now: Timestamp) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self::fresh(config, now))
    }

    fn fresh(config: SessionConfig, now: Timestamp) -> Self {
        Self {
            session_start: config.boundary.session_start(now),
            session_end: config.boundary.next_boundary(now),
            config,
            gross: 0.0,
            fees: 0.0,
            net: 0.0,
            wins: 0,
            losses: 0,
            breakevens: 0,
            halted: false,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Advances time: starts a fresh session if `now` is at or past the next boundary.
    pub fn tick(&mut self, now: Timestamp) {
        if now >= self.session_end {
            *self = Self::fresh(self.config, now);
        }
    }

    /// Records a closed round trip: `gross_pnl` before fees and `fee` for both legs (negative for
    /// a net rebate). Returns how the trade is classified on its net.
    ///
    /// A NaN or infinite argument is refused, naming it, and changes nothing (not even the session
    /// rollover).
    pub fn record_close(
        &mut self,
        gross_pnl: f64,
        fee: f64,
        now: Timestamp,
    ) -> Result<TradeOutcome, RiskError> {
        let close = self.prepare_close(gross_pnl, fee, now)?;
        Ok(self.apply_close(close, now))
    }

    /// Whether new entries are halted at `now` (a halt from a session that has ended is not).
    pub fn is_halted(&self, now: Timestamp) -> bool {
        self.halted && now < self.session_end
    }

    /// Start of the session the counters belong to.
    pub fn session_start(&self) -> Timestamp {
        self.session_start
    }

    /// When the current session ends (the next boundary).
    pub fn session_end(&self) -> Timestamp {
        self.session_end
    }

    /// Net realised PnL of the session (gross − fees).
    pub fn net(&self) -> f64 {
        self.net
    }

    /// Gross realised PnL of the session.
    pub fn gross(&self) -> f64 {
        self.gross
    }

    /// Fees paid in the session (both legs of every close).
    pub fn fees(&self) -> f64 {
        self.fees
    }

    /// Winning closes this session.
    pub fn wins(&self) -> u32 {
        self.wins
    }

    /// Losing closes this session.
    pub fn losses(&self) -> u32 {
        self.losses
    }

    /// Breakeven closes this session.
    pub fn breakevens(&self) -> u32 {
        self.breakevens
    }

    /// The serialisable state.
    pub fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            version: SESSION_SNAPSHOT_VERSION,
            session_start: self.session_start,
            gross: self.gross,
            fees: self.fees,
            net: self.net,
            wins: self.wins,
            losses: self.losses,
            breakevens: self.breakevens,
            halted: self.halted,
        }
    }

    /// Rebuilds a session from `snapshot` under `config` at `now`.
    ///
    /// A snapshot from an earlier session restores a fresh session. An unknown version, or totals
    /// that are not finite, restore a fresh session with a warning. Refuses an invalid `config`.
    /// A halt is kept, and re-derived if the restored net is at or below the configured cap.
    pub fn restore(
        snapshot: &SessionSnapshot,
        config: SessionConfig,
        now: Timestamp,
    ) -> Result<Self, RiskError> {
        config.validate()?;
        if snapshot.version != SESSION_SNAPSHOT_VERSION {
            tracing::warn!(
                version = snapshot.version,
                expected = SESSION_SNAPSHOT_VERSION,
                "unknown session snapshot version; starting a fresh session"
            );
            return Ok(Self::fresh(config, now));
        }
        if ![snapshot.gross, snapshot.fees, snapshot.net]
            .iter()
            .all(|v| v.is_finite())
        {
            tracing::warn!("session snapshot holds a non-finite total; starting a fresh session");
            return Ok(Self::fresh(config, now));
        }
        if snapshot.session_start < config.boundary.session_start(now) {
            return Ok(Self::fresh(config, now));
        }
        Ok(Self {
            config,
            session_start: snapshot.session_start,
            session_end: config.boundary.next_boundary(snapshot.session_start),
            gross: snapshot.gross,
            fees: snapshot.fees,
            net: snapshot.net,
            wins: snapshot.wins,
            losses: snapshot.losses,
            breakevens: snapshot.breakevens,
            halted: snapshot.halted || config.loss_cap.is_some_and(|cap| snapshot.net <= cap),
        })
    }
}

/// The session totals a close leaves, computed and checked by [`SessionPnl::prepare_close`]
/// before anything changes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PreparedClose {
    gross: f64,
    fees: f64,
    net: f64,
    trade_net: f64,
}

impl SessionPnl {
    /// Checks a close as [`SessionPnl::record_close`] does and returns the totals it leaves
    /// (after the rollover at `now`), changing nothing; the errors and their order are those of
    /// `record_close`.
    pub(crate) fn prepare_close(
        &self,
        gross_pnl: f64,
        fee: f64,
        now: Timestamp,
    ) -> Result<PreparedClose, RiskError> {
        finite("gross_pnl", gross_pnl)?;
        finite("fee", fee)?;
        let trade_net = finite("net_pnl", gross_pnl - fee)?;
        // A rollover at `now` starts the totals from the zeros of a fresh session.
        let (gross, fees, net) = if now >= self.session_end {
            (0.0, 0.0, 0.0)
        } else {
            (self.gross, self.fees, self.net)
        };
        Ok(PreparedClose {
            gross: finite("session.gross", gross + gross_pnl)?,
            fees: finite("session.fees", fees + fee)?,
            net: finite("session.net", net + trade_net)?,
            trade_net,
        })
    }

    /// Applies a close prepared at the same `now` with no change in between.
    pub(crate) fn apply_close(&mut self, close: PreparedClose, now: Timestamp) -> TradeOutcome {
        self.tick(now);
        self.gross = close.gross;
        self.fees = close.fees;
        self.net = close.net;
        let outcome = TradeOutcome::of_net(close.trade_net);
        match outcome {
            TradeOutcome::Win => self.wins = self.wins.saturating_add(1),
            TradeOutcome::Loss => self.losses = self.losses.saturating_add(1),
            TradeOutcome::Breakeven => self.breakevens = self.breakevens.saturating_add(1),
        }
        if self.config.loss_cap.is_some_and(|cap| self.net <= cap) {
            if !self.halted {
                tracing::warn!(net = self.net, cap = ?self.config.loss_cap, "session loss cap reached; new entries halted");
            }
            self.halted = true;
        }
        outcome
    }
}

/// Serialised state of a [`SessionPnl`].
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SessionSnapshot {
    /// Format version; [`SESSION_SNAPSHOT_VERSION`] when written by this crate.
    #[serde(default)]
    pub version: u32,
    /// Start of the session the totals belong to.
    #[serde(default)]
    pub session_start: Timestamp,
    /// Gross realised PnL.
    #[serde(default)]
    pub gross: f64,
    /// Fees paid.
    #[serde(default)]
    pub fees: f64,
    /// Net realised PnL.
    #[serde(default)]
    pub net: f64,
    /// Winning closes.
    #[serde(default)]
    pub wins: u32,
    /// Losing closes.
    #[serde(default)]
    pub losses: u32,
    /// Breakeven closes.
    #[serde(default)]
    pub breakevens: u32,
    /// Whether the loss cap halted the session.
    #[serde(default)]
    pub halted: bool,
}
