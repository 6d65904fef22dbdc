//! [`SymbolRisk`]: the per-symbol risk state the gate chain reads and trade outcomes update.

use rustrade_core::Timestamp;

use crate::{
    BreakerSnapshot, CircuitBreaker, PortfolioRisk, PositionSizer, RiskConfig, RiskError,
    SessionPnl, SessionSnapshot, TradeOutcome,
};

/// One symbol's risk state: its loss breaker, its session PnL, and its sizer.
///
/// The fields are public so a host can feed outcomes by hand; [`SymbolRisk::record_close`] and
/// [`record_trade_outcome`] apply one close to every part at once so no part is forgotten.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolRisk {
    /// Blocks entries after a cluster of losses.
    pub circuit_breaker: CircuitBreaker,
    /// Realised PnL of the session; halts entries at the loss cap.
    pub session_pnl: SessionPnl,
    /// Sizes entries.
    pub sizer: PositionSizer,
}

impl SymbolRisk {
    /// Fresh state under `config` at `now`; refuses an invalid configuration.
    pub fn new(config: &RiskConfig, now: Timestamp) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self {
            circuit_breaker: CircuitBreaker::new(config.breaker)?,
            session_pnl: SessionPnl::new(config.session, now)?,
            sizer: PositionSizer::new(config.sizing)?,
        })
    }

    /// Records a closed round trip (gross PnL and the fees of both legs) in the session and,
    /// classified on its net, in the breaker. A non-finite input changes nothing.
    pub fn record_close(
        &mut self,
        gross_pnl: f64,
        fee: f64,
        now: Timestamp,
    ) -> Result<TradeOutcome, RiskError> {
        let outcome = self.session_pnl.record_close(gross_pnl, fee, now)?;
        self.circuit_breaker.record_outcome(outcome, now);
        Ok(outcome)
    }

    /// The serialisable state (the sizer is pure configuration and not part of it).
    pub fn snapshot(&self) -> SymbolRiskSnapshot {
        SymbolRiskSnapshot {
            breaker: self.circuit_breaker.snapshot(),
            session: self.session_pnl.snapshot(),
        }
    }

    /// Rebuilds the state from `snapshot` under `config` at `now`, with the rules of
    /// [`CircuitBreaker::restore`] and [`SessionPnl::restore`].
    pub fn restore(
        snapshot: &SymbolRiskSnapshot,
        config: &RiskConfig,
        now: Timestamp,
    ) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self {
            circuit_breaker: CircuitBreaker::restore(&snapshot.breaker, config.breaker, now)?,
            session_pnl: SessionPnl::restore(&snapshot.session, config.session, now)?,
            sizer: PositionSizer::new(config.sizing)?,
        })
    }
}

/// Serialised state of a [`SymbolRisk`].
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SymbolRiskSnapshot {
    /// The breaker's state.
    #[serde(default)]
    pub breaker: BreakerSnapshot,
    /// The session's state.
    #[serde(default)]
    pub session: SessionSnapshot,
}

/// Applies one closed round trip to a symbol's state *and* the account's daily PnL, all or
/// nothing: a non-finite input, or a total that would overflow, changes none of them.
///
/// This is the one place a realised outcome enters the risk layer; fill handling and a host's
/// manual `record_trade_outcome` both go through it.
pub fn record_trade_outcome(
    symbol: &mut SymbolRisk,
    portfolio: &mut PortfolioRisk,
    gross_pnl: f64,
    fee: f64,
    now: Timestamp,
) -> Result<TradeOutcome, RiskError> {
    // Everything that can fail is checked before anything changes.
    let close = symbol.session_pnl.prepare_close(gross_pnl, fee, now)?;
    portfolio.record_realised(gross_pnl - fee, now)?;
    let outcome = symbol.session_pnl.apply_close(close, now);
    symbol.circuit_breaker.record_outcome(outcome, now);
    Ok(outcome)
}
