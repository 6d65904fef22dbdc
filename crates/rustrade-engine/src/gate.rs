//! The engine's seat at the risk desk: per-symbol [`SymbolRisk`], the account's
//! [`PortfolioRisk`] (where entries in flight reserve room) and the raised entry blocks. Every entry and every exit the
//! engine sends is an [`Approved`] from [`rustrade_risk::evaluate`]; no risk rule is decided here.
//!
//! # Invariants
//!
//! - The reservations of entries in flight are held, confirmed and released by the engine's
//!   order book part (`working.rs`), which changes them only together with its entries; the
//!   desk reserves (through the gate chain) and hands the portfolio back what it is given.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustrade_core::{ClientOrderId, Decision, InstrumentSpec, Position, Price, Symbol, Timestamp};
use rustrade_risk::{
    Approved, Capabilities, EntryRequest, GateInput, OpenExposure, PortfolioRisk,
    PortfolioSnapshot, Refusal, ReservationId, RiskError, SymbolRisk, SymbolRiskSnapshot, evaluate,
    record_trade_outcome,
};

use crate::symbol_map::SymbolMap;
use crate::{EngineConfig, EngineError, EntryBlock, EntryBlocks};

/// Why a decision produced no order, in a form the journal can store: the risk crate's stable
/// label (or the engine's, for order-construction rules) and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefusalRecord {
    /// Stable snake_case label (`session_halted`, `breaker_tripped`, `unsupported_order_kind`,
    /// `stop_on_wrong_side`, ...), also used as the metrics label.
    pub label: Cow<'static, str>,
    /// What exactly was refused, with the values involved.
    pub reason: RefusalReason,
}

impl RefusalRecord {
    /// Records a refusal of the risk gate chain. The reason keeps the typed refusal and is
    /// rendered to text only when displayed or serialised.
    pub fn from_risk(refusal: &Refusal) -> Self {
        Self {
            label: Cow::Borrowed(refusal.as_label()),
            reason: RefusalReason::Risk(*refusal),
        }
    }

    /// Records a refusal by one of the engine's own order-construction rules.
    pub(crate) fn engine(label: &'static str, reason: String) -> Self {
        Self {
            label: Cow::Borrowed(label),
            reason: RefusalReason::Text(reason),
        }
    }
}

impl std::fmt::Display for RefusalRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.label, self.reason)
    }
}

/// The human-readable reason of a [`RefusalRecord`].
///
/// A risk refusal is kept typed, so refusing costs no formatting and no allocation; the text is
/// produced when the reason is displayed or serialised. The serialised form is the text alone
/// (a journal written before and after reads the same), and a deserialised reason is
/// [`RefusalReason::Text`]. Two reasons are equal when their texts are equal, whatever variants
/// hold them.
#[derive(Debug, Clone)]
pub enum RefusalReason {
    /// A refusal of the risk gate chain, rendered with its `Display`.
    Risk(Refusal),
    /// Reason text: an engine order-construction rule, or a reason read back from a journal.
    Text(String),
}

impl std::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Risk(r) => r.fmt(f),
            Self::Text(t) => f.write_str(t),
        }
    }
}

impl PartialEq for RefusalReason {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Text(a), Self::Text(b)) => a == b,
            _ => self.to_string() == other.to_string(),
        }
    }
}

impl Eq for RefusalReason {}

impl serde::Serialize for RefusalReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for RefusalReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::Text)
    }
}

#[derive(Debug)]
pub(crate) struct RiskDesk {
    symbols: SymbolMap<SymbolRisk>,
    portfolio: PortfolioRisk,
    caps: Capabilities,
    open: Vec<OpenExposure>,
    /// Raised entry blocks: new entries are refused while any is raised; exits are not.
    blocks: EntryBlocks,
}

/// Serialised form of the risk desk (risk crate snapshots; reservations are re-taken on restore).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct RiskDeskSnapshot {
    symbols: BTreeMap<Symbol, SymbolRiskSnapshot>,
    portfolio: PortfolioSnapshot,
    /// Absent from snapshots written before pausing existed: not paused.
    #[serde(default)]
    entries_paused: bool,
    /// Entries wait for the operator's acknowledgement of a position drift. Absent from older
    /// snapshots: not waiting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    drift_unacknowledged: bool,
}

/// What the gate chain needs to know about one decision from the engine.
pub(crate) struct GateRequest<'a> {
    pub(crate) decision: &'a Decision,
    pub(crate) spec: &'a InstrumentSpec,
    pub(crate) reference: Price,
    pub(crate) position: Position,
    pub(crate) funds: rustrade_risk::Funds,
}

impl RiskDesk {
    pub(crate) fn new(config: &EngineConfig, now: Timestamp) -> Result<Self, EngineError> {
        let mut symbols = SymbolMap::new();
        for spec in &config.instruments {
            let s = spec.symbol();
            let risk = SymbolRisk::new(config.risk_for(&s), now).map_err(EngineError::Risk)?;
            symbols.insert(s, risk);
        }
        Ok(Self {
            symbols,
            portfolio: PortfolioRisk::new(config.portfolio, now).map_err(EngineError::Risk)?,
            caps: capabilities(config),
            open: Vec::with_capacity(config.instruments.len()),
            blocks: EntryBlocks::default(),
        })
    }

    /// Runs the gate chain. `open` yields the account's open positions at mark.
    pub(crate) fn evaluate(
        &mut self,
        req: &GateRequest<'_>,
        open: impl Iterator<Item = OpenExposure>,
        now: Timestamp,
    ) -> Result<Approved, Refusal> {
        let symbol = req.spec.symbol();
        let Some(risk) = self.symbols.get_mut(&symbol) else {
            return Err(Refusal::SymbolMismatch {
                symbol,
                spec_symbol: symbol,
            });
        };
        self.open.clear();
        self.open.extend(open);
        let input = GateInput {
            decision: req.decision,
            symbol,
            reference_price: req.reference,
            position: &req.position,
            spec: req.spec,
            capabilities: self.caps,
            open_positions: &self.open,
            funds: req.funds,
        };
        evaluate(&input, risk, &mut self.portfolio, now)
    }

    /// The risk state of `symbol`, read-only.
    #[inline]
    pub(crate) fn symbol(&self, symbol: &Symbol) -> Option<&SymbolRisk> {
        self.symbols.get(symbol)
    }

    /// The raised entry blocks.
    #[inline]
    pub(crate) fn blocks(&self) -> EntryBlocks {
        self.blocks
    }

    /// Raises or clears one entry block; returns whether it changed.
    pub(crate) fn set_block(&mut self, block: EntryBlock, raised: bool) -> bool {
        self.blocks.set(block, raised)
    }

    /// Gives a reservation back to the portfolio (an entry that ended unfilled, or an
    /// approval that is not sent). The engine's `Working` holds the reservations of its entries.
    #[inline]
    pub(crate) fn release(&mut self, reservation: ReservationId) {
        self.portfolio.release(reservation);
    }

    /// Turns a reservation into an open position (its entry's first fill).
    #[inline]
    pub(crate) fn confirm(&mut self, reservation: ReservationId) {
        self.portfolio.confirm(reservation);
    }

    pub(crate) fn record_trade(
        &mut self,
        symbol: &Symbol,
        gross: f64,
        fees: f64,
        now: Timestamp,
    ) -> Result<(), RiskError> {
        let Some(risk) = self.symbols.get_mut(symbol) else {
            return Ok(());
        };
        record_trade_outcome(risk, &mut self.portfolio, gross, fees, now).map(|_| ())
    }

    pub(crate) fn tick(&mut self, now: Timestamp) {
        for risk in self.symbols.values_mut() {
            risk.session_pnl.tick(now);
            risk.circuit_breaker.tick(now);
        }
        self.portfolio.tick(now);
    }

    /// Why entries on `symbol` are blocked at `now`, if they are (session, breaker, daily latch).
    pub(crate) fn halt_reason(&self, symbol: &Symbol, now: Timestamp) -> Option<Refusal> {
        let risk = self.symbols.get(symbol)?;
        let session = &risk.session_pnl;
        if session.is_halted(now) {
            return Some(Refusal::SessionHalted {
                net: session.net(),
                cap: session.config().loss_cap.unwrap_or(0.0),
            });
        }
        if let Some(until) = risk.circuit_breaker.tripped_until(now) {
            return Some(Refusal::BreakerTripped { until });
        }
        if self.portfolio.is_latched(now) {
            return Some(Refusal::Portfolio(
                rustrade_risk::PortfolioRefusal::DailyLoss {
                    pnl: self.portfolio.daily_pnl(),
                    limit: self.portfolio.config().daily_loss_limit.unwrap_or(0.0),
                },
            ));
        }
        None
    }

    pub(crate) fn snapshot(&self) -> RiskDeskSnapshot {
        RiskDeskSnapshot {
            symbols: self
                .symbols
                .iter()
                .map(|(s, r)| (*s, r.snapshot()))
                .collect(),
            portfolio: self.portfolio.snapshot(),
            entries_paused: self.blocks.contains(EntryBlock::Operator),
            drift_unacknowledged: self.blocks.contains(EntryBlock::Drift),
        }
    }

    /// Rebuilds the desk from a snapshot, without reservations (see [`RiskDesk::retake`]).
    pub(crate) fn restore(
        config: &EngineConfig,
        snapshot: &RiskDeskSnapshot,
        now: Timestamp,
    ) -> Result<Self, EngineError> {
        let mut desk = Self::new(config, now)?;
        for (symbol, snap) in &snapshot.symbols {
            if desk.symbols.contains_key(symbol) {
                let risk = SymbolRisk::restore(snap, config.risk_for(symbol), now)
                    .map_err(EngineError::Risk)?;
                desk.symbols.insert(*symbol, risk);
            }
        }
        desk.portfolio = PortfolioRisk::restore(&snapshot.portfolio, config.portfolio, now)
            .map_err(EngineError::Risk)?;
        desk.blocks
            .set(EntryBlock::Operator, snapshot.entries_paused);
        desk.blocks
            .set(EntryBlock::Drift, snapshot.drift_unacknowledged);
        Ok(desk)
    }

    /// Reserves `entries` (live, unfilled entries, oldest first) again against the `open`
    /// positions, handing each reservation taken to `store`; an entry that no longer fits is
    /// logged and left unreserved.
    pub(crate) fn reserve_each(
        &mut self,
        entries: impl Iterator<Item = (ClientOrderId, EntryRequest)>,
        open: impl Iterator<Item = OpenExposure>,
        now: Timestamp,
        mut store: impl FnMut(ClientOrderId, ReservationId),
    ) {
        self.open.clear();
        self.open.extend(open);
        for (cid, request) in entries {
            match self.portfolio.reserve(&request, &self.open, now) {
                Ok(r) => store(cid, r),
                Err(e) => tracing::warn!(client_id = %cid, refusal = %e,
                    "live entry no longer fits the portfolio limits after a restart"),
            }
        }
    }
}

/// The risk crate's capability set for the configured venue capabilities.
fn capabilities(config: &EngineConfig) -> Capabilities {
    Capabilities::from_fn(|c| config.capabilities.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_risk_reason_is_journalled_as_its_text_and_reads_back_equal() {
        let refusal = Refusal::SessionHalted {
            net: -120.5,
            cap: 100.0,
        };
        let record = RefusalRecord::from_risk(&refusal);
        assert!(matches!(record.reason, RefusalReason::Risk(_)));
        assert_eq!(record.reason.to_string(), refusal.to_string());
        assert_eq!(
            record.to_string(),
            format!("session_halted: {refusal}"),
            "label then reason"
        );
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            format!(r#"{{"label":"session_halted","reason":"{refusal}"}}"#)
        );
        let back: RefusalRecord = serde_json::from_str(&json).unwrap();
        assert!(matches!(back.reason, RefusalReason::Text(_)));
        assert_eq!(back, record);
        let other = RefusalRecord::from_risk(&Refusal::SessionHalted {
            net: -130.0,
            cap: 100.0,
        });
        assert_ne!(back, other);
    }
}
