//! What the driver does with journalled events: metrics, the logs the engine does not write,
//! and telling brains about their fills.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustrade_core::MetricsSink as _;
use rustrade_engine::{EngineEvent, EntryBlock};

use super::Driver;
use crate::metrics::names;

impl Driver {
    /// Counts and logs an execution report refused at the boundary.
    pub(crate) fn report_dropped(&self, label: &'static str, why: &dyn std::fmt::Display) {
        self.counters.fills_dropped.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .counter(names::FILLS_DROPPED, &[("reason", label)], 1);
        tracing::warn!(reason = label, error = %why, "execution report dropped");
    }
    /// Counts what the engine journalled and logs what the engine does not (refusals and
    /// malformed inputs the engine logs itself); tells brains about their fills.
    pub(super) fn observe(&self, events: &[EngineEvent]) {
        for event in events {
            match event {
                EngineEvent::DecisionRefused {
                    brain,
                    symbol,
                    refusal,
                    ..
                } => {
                    let name = self.brain_name(brain.index());
                    let label = refusal.label.as_ref();
                    self.metrics.counter(
                        names::REFUSALS,
                        &[
                            ("brain", name),
                            ("symbol", symbol.as_str()),
                            ("reason", label),
                        ],
                        1,
                    );
                }
                EngineEvent::FillApplied { brain, fill, .. } => {
                    self.metrics
                        .counter(names::FILLS, &[("symbol", fill.symbol.as_str())], 1);
                    if let Some(b) = self.brains.get(brain.index()) {
                        let b = Arc::clone(b);
                        let fill = *fill;
                        let told = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            b.on_fill(&fill);
                        }));
                        if told.is_err() {
                            tracing::error!(brain = b.name(), "brain panicked in on_fill");
                        }
                    }
                }
                EngineEvent::TradeClosed {
                    brain,
                    symbol,
                    trade,
                } => {
                    self.closed_trades.push(brain.index(), *symbol, *trade);
                    tracing::info!(%symbol, gross = trade.gross_pnl, "trade closed");
                }
                EngineEvent::RiskHalted {
                    symbol, refusal, ..
                } => {
                    self.metrics
                        .gauge(names::RISK_HALTED, &[("symbol", symbol.as_str())], 1.0);
                    tracing::warn!(%symbol, reason = %refusal.reason, "entries halted");
                }
                EngineEvent::RiskResumed { symbol, .. } => {
                    self.metrics
                        .gauge(names::RISK_HALTED, &[("symbol", symbol.as_str())], 0.0);
                    tracing::info!(%symbol, "entries resumed");
                }
                EngineEvent::PositionDrift {
                    symbol,
                    ours,
                    venue,
                    ..
                } => {
                    self.counters.drifts.fetch_add(1, Ordering::Relaxed);
                    self.metrics
                        .counter(names::POSITION_DRIFT, &[("symbol", symbol.as_str())], 1);
                    tracing::warn!(
                        %symbol, ours = ours.quantity, venue = venue.quantity,
                        "position drift: venue position adopted"
                    );
                }
                EngineEvent::EntriesPaused { paused, .. } => {
                    self.block_changed(EntryBlock::Operator, *paused);
                }
                EngineEvent::EntryBlock { block, raised, .. } => {
                    self.block_changed(*block, *raised);
                }
                EngineEvent::UnknownVenueOrder { order, .. } => tracing::warn!(
                    symbol = %order.symbol, order_id = %order.order_id,
                    "open order at the venue that this bot does not track"
                ),
                EngineEvent::OrderMissingAtVenue { client_id, .. } => {
                    tracing::warn!(%client_id, "our order is missing at the venue");
                }
                _ => {}
            }
        }
    }
    pub(super) fn block_changed(&self, block: EntryBlock, raised: bool) {
        self.metrics.gauge(
            names::ENTRIES_BLOCKED,
            &[("reason", block.label())],
            if raised { 1.0 } else { 0.0 },
        );
        if raised {
            tracing::warn!(
                reason = block.label(),
                "entries blocked: {}",
                block.describe()
            );
        } else {
            tracing::info!(reason = block.label(), "entry block cleared");
        }
    }
    pub(crate) fn brain_name(&self, index: usize) -> &str {
        self.brains.get(index).map_or("?", |b| b.name())
    }
}
