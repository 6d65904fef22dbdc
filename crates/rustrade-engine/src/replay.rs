//! [`Engine::replay`]: rebuilding the state from the journal of [`EngineEvent`]s.
//!
//! # Rules
//!
//! - Venue reports in the journal (acknowledgements, rejections, cancels, expiries, fills, venue
//!   position drift, orders missing at the venue) are fed back through the same `handle_*` code
//!   that handled them the first time, so every rule runs once, in one place.
//! - Orders are re-created from their `OrderPlaced` events (with the protective prices of an
//!   entry), never re-derived: while replaying, the engine places nothing itself, and the client
//!   order id sequence moves past every id in the journal.
//! - Manual trade outcomes (`OutcomeRecorded`) are recorded again; outcomes of fills follow from
//!   the fills, and so do the round trips a manual outcome may claim, less the claims
//!   (`OutcomeClaimed`). Halt flags follow the `RiskHalted` / `RiskResumed` events.
//! - Not journalled, so not rebuilt: market marks and the best price an emulated trailing stop
//!   has seen (re-seeded from the entry fill). Both return with the next market events; a
//!   snapshot carries them exactly.

use rustrade_core::Timestamp;

use crate::{Engine, EngineConfig, EngineError, EngineEvent, EntryBlock, TrackedOrder};

impl Engine {
    /// Rebuilds an engine from its journal: `config` and `started` as given to the engine that
    /// wrote it, `journal` its events in order. The result has no pending outputs.
    pub fn replay<'a>(
        config: EngineConfig,
        started: Timestamp,
        journal: impl IntoIterator<Item = &'a EngineEvent>,
        now: Timestamp,
    ) -> Result<Self, EngineError> {
        let mut engine = Self::new(config, started)?;
        engine.replaying = true;
        for event in journal {
            engine.replay_one(event);
            engine.out.replayed(engine.out.journal_seq() + 1);
        }
        engine.replaying = false;
        engine.out.clear();
        engine.risk.tick(now);
        engine.retake_reservations(now);
        Ok(engine)
    }

    pub(crate) fn replay_one(&mut self, event: &EngineEvent) {
        match *event {
            EngineEvent::OrderPlaced {
                brain,
                role,
                order,
                parent,
                bracket,
                time,
            } => {
                if !self.brain_ok(brain) || !self.positions.contains(&order.symbol) {
                    return;
                }
                self.ids.observe(&order.client_id);
                self.brains.placed(brain);
                if let Some(prices) = bracket {
                    let owner = (brain, order.symbol, order.side);
                    self.brackets
                        .open(order.client_id, owner, prices, &self.caps);
                }
                if let Some(p) = parent {
                    self.brackets.leg_placed(&p, role, order.client_id);
                }
                let pending = || TrackedOrder::pending(order, brain, role, parent, time);
                self.orders.place(order.client_id, pending, None);
            }
            EngineEvent::OrderAccepted {
                client_id,
                order_id,
                time,
            } => self.handle_accepted(client_id, order_id, time),
            EngineEvent::OrderRejected {
                client_id,
                reason,
                time,
            } => self.handle_rejected(client_id, reason, time),
            EngineEvent::OrderOutcomeUnknown { client_id, time } => {
                self.handle_place_unknown(client_id, time);
            }
            EngineEvent::CancelRequested {
                client_id, time, ..
            } => {
                self.orders.request_cancel(&client_id);
                self.orders.cancel_sent(&client_id, time);
            }
            EngineEvent::OrderCancelled {
                client_id, time, ..
            } => {
                self.handle_cancelled(Some(client_id), None, time);
            }
            EngineEvent::OrderExpired {
                client_id, time, ..
            } => {
                self.handle_expired(Some(client_id), None, time);
            }
            EngineEvent::FillApplied { ref fill, time, .. } => self.handle_fill(fill, time),
            EngineEvent::OutcomeRecorded {
                symbol,
                gross_pnl,
                fee,
                time,
            } => {
                if let Err(e) = self.record_trade_outcome(&symbol, gross_pnl, fee, time) {
                    tracing::warn!(%symbol, error = %e, "journalled outcome not replayed");
                }
            }
            EngineEvent::OutcomeClaimed { symbol, .. } => {
                self.positions.claim_trade(&symbol);
            }
            EngineEvent::ProtectionTriggered { entry, .. } => {
                self.brackets.mark_triggered(&entry);
            }
            EngineEvent::RiskHalted { symbol, .. } => {
                self.positions.set_halted(&symbol, true);
            }
            EngineEvent::EntriesPaused { paused, .. } => {
                self.risk.set_block(EntryBlock::Operator, paused);
            }
            EngineEvent::EntryBlock { block, raised, .. } => {
                if block.is_persistent() {
                    self.risk.set_block(block, raised);
                }
            }
            EngineEvent::RiskResumed { symbol, .. } => {
                self.positions.set_halted(&symbol, false);
            }
            EngineEvent::PositionDrift {
                symbol,
                venue,
                time,
                ..
            } => {
                self.adopt(symbol, venue.quantity, venue.avg_entry, time, false);
            }
            EngineEvent::OrderMissingAtVenue { client_id, time } => {
                self.mark_missing(client_id, time);
            }
            EngineEvent::DecisionRefused { brain, .. } => {
                if self.brains.contains(brain) {
                    self.brains.refused(brain);
                }
            }
            EngineEvent::TradeClosed { .. }
            | EngineEvent::PositionChanged { .. }
            | EngineEvent::UnknownVenueOrder { .. }
            | EngineEvent::MalformedInput { .. } => {}
        }
    }
}
