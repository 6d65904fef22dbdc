//! Reconciliation against the venue's reports of positions and open orders, and the manual
//! overrides a host may apply.
//!
//! # Rules
//!
//! - The venue is the truth for positions. A reported position that differs from our net
//!   position by half a lot or more is adopted, journalled as `PositionDrift`, and the difference
//!   is attributed to the brain holding the largest position on the symbol (the lowest index on
//!   a tie; brain 0 when all are flat), so the net position stays the sum of the brains'.
//! - What happens next follows [`DriftPolicy`]: `halt_entries` raises [`EntryBlock::Drift`]
//!   (entries on every symbol wait for [`Engine::acknowledge_drift`]), `adopt` goes on, `flatten`
//!   closes the drifted symbol's positions with exits. A host's manual
//!   [`Engine::set_position`] is the operator's own correction: adopted, no policy.
//! - A report holding a non-finite number is ignored and journalled as malformed.
//! - An open order at the venue that is not one of our live orders is journalled as
//!   `UnknownVenueOrder` and left alone (the host decides). One of our acknowledged live orders
//!   missing from the venue's list is marked cancelled and journalled as `OrderMissingAtVenue`;
//!   orders still pending acknowledgement may be in flight and are not judged, nor are orders
//!   whose fills the venue reported but has not delivered yet (they are on their way).
//! - Fills the venue reported but has not delivered are part of its position already: they
//!   are subtracted before the position is judged, so their arrival does not count twice.

use std::collections::BTreeSet;

use rustrade_core::{ClientOrderId, OpenOrder, OrderStatus, Position, Symbol, Timestamp};

use crate::positions::Adopted;
use crate::{
    DriftPolicy, Engine, EngineError, EngineEvent, EntryBlock, ExitReason, Malformed, PositionField,
};

impl Engine {
    /// The venue's positions, one per symbol (symbols it does not list are not judged).
    pub fn handle_venue_positions(&mut self, positions: &[(Symbol, Position)], now: Timestamp) {
        for (symbol, venue) in positions {
            let field = if !venue.quantity.is_finite() {
                Some(PositionField::Quantity)
            } else if !venue.avg_entry.is_finite() {
                Some(PositionField::AvgEntry)
            } else {
                None
            };
            if let Some(field) = field {
                self.malformed(
                    Malformed::NonFinitePosition {
                        symbol: *symbol,
                        field,
                    },
                    now,
                );
                continue;
            }
            if !self.positions.contains(symbol) {
                self.malformed(Malformed::UnknownSymbol { symbol: *symbol }, now);
                continue;
            }
            // Fills the venue reported for our orders but has not delivered yet are part of
            // its position already; they are applied when they arrive, so they are not drift.
            let awaited = self.fills_awaited_on(*symbol);
            if self.adopt(
                *symbol,
                venue.quantity - awaited,
                venue.avg_entry,
                now,
                true,
            ) {
                match self.config.drift_policy {
                    DriftPolicy::HaltEntries => {
                        self.set_entry_block(EntryBlock::Drift, true, now);
                    }
                    DriftPolicy::Adopt => {}
                    DriftPolicy::Flatten => self.flatten_symbol(*symbol, ExitReason::Drift, now),
                }
            }
        }
    }

    /// The venue's open orders (all symbols the engine trades).
    pub fn handle_venue_open_orders(&mut self, open: &[OpenOrder], now: Timestamp) {
        let mut seen = BTreeSet::new();
        for report in open {
            let ours = report
                .client_id
                .filter(|c| self.orders.live().any(|o| o.order.client_id == *c))
                .or_else(|| self.orders.client_id_of(&report.order_id))
                .filter(|c| self.orders.get(c).is_some_and(|o| o.is_live()));
            match ours {
                Some(cid) => {
                    seen.insert(cid);
                    if self.orders.get(&cid).is_some_and(|o| o.venue_id.is_none()) {
                        self.handle_accepted(cid, report.order_id, now);
                    }
                }
                None => self.out.event(EngineEvent::UnknownVenueOrder {
                    order: *report,
                    time: now,
                }),
            }
        }
        let missing: Vec<ClientOrderId> = self
            .orders
            .live()
            .filter(|o| o.status != OrderStatus::Pending && !seen.contains(&o.order.client_id))
            .filter(|o| o.fills_awaited(self.lot_of(o.symbol())) == 0.0)
            .map(|o| o.order.client_id)
            .collect();
        for cid in missing {
            self.mark_missing(cid, now);
        }
    }

    /// The signed quantity of fills the venue reported for our live orders on `symbol` and has
    /// not delivered yet (see [`TrackedOrder::venue_filled`](crate::TrackedOrder::venue_filled)).
    fn fills_awaited_on(&self, symbol: Symbol) -> f64 {
        let lot = self.lot_of(symbol);
        self.orders
            .live()
            .filter(|o| o.symbol() == symbol)
            .map(|o| o.order.side.sign() * o.fills_awaited(lot))
            .sum()
    }

    pub(crate) fn lot_of(&self, symbol: Symbol) -> f64 {
        self.positions
            .get(&symbol)
            .map_or(0.0, |s| s.spec().lot_size())
    }

    /// Marks one of our live orders cancelled because the venue does not list it.
    pub(crate) fn mark_missing(&mut self, cid: ClientOrderId, now: Timestamp) {
        let ended = self
            .orders
            .end(&cid, OrderStatus::Cancelled, now, &mut self.risk);
        let Some(o) = ended else {
            return;
        };
        self.out.event(EngineEvent::OrderMissingAtVenue {
            client_id: cid,
            time: now,
        });
        self.after_terminal(&o, now);
    }

    /// Overrides the bot's net position on `symbol` (a host's manual correction), journalled as
    /// drift like a venue report.
    pub fn set_position(
        &mut self,
        symbol: &Symbol,
        position: Position,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        if !position.quantity.is_finite() || !position.avg_entry.is_finite() {
            return Err(EngineError::NonFinite {
                field: if position.quantity.is_finite() {
                    "avg_entry"
                } else {
                    "quantity"
                },
                value: if position.quantity.is_finite() {
                    position.avg_entry
                } else {
                    position.quantity
                },
            });
        }
        if !self.positions.contains(symbol) {
            return Err(EngineError::UnknownSymbol(*symbol));
        }
        self.adopt(*symbol, position.quantity, position.avg_entry, now, false);
        Ok(())
    }

    /// Feeds a realised trade outcome to the symbol's risk state by hand (for outcomes the fill
    /// stream did not carry). Fills already feed outcomes; do not record them twice.
    pub fn record_trade_outcome(
        &mut self,
        symbol: &Symbol,
        gross_pnl: f64,
        fee: f64,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        if !self.positions.contains(symbol) {
            return Err(EngineError::UnknownSymbol(*symbol));
        }
        self.risk
            .record_trade(symbol, gross_pnl, fee, now)
            .map_err(EngineError::Risk)?;
        self.out.event(EngineEvent::OutcomeRecorded {
            symbol: *symbol,
            gross_pnl,
            fee,
            time: now,
        });
        self.sync_halt(*symbol, now);
        Ok(())
    }

    /// A trade outcome reported by hand (an operator or a host that reports every closed
    /// trade), counted once: it first claims one round trip the fills closed on `symbol` and no
    /// manual outcome has claimed yet — those outcomes are already counted, so nothing is
    /// recorded again and `Ok(false)` is returned (journalled as
    /// [`EngineEvent::OutcomeClaimed`]). Only when there is none is the outcome recorded
    /// ([`record_trade_outcome`](Self::record_trade_outcome)) and `Ok(true)` returned.
    ///
    /// The unclaimed count is part of the snapshot and rebuilt by replay, so the rule holds
    /// across restarts. A non-finite value or an unknown symbol is refused and claims nothing.
    pub fn record_manual_outcome(
        &mut self,
        symbol: &Symbol,
        gross_pnl: f64,
        fee: f64,
        now: Timestamp,
    ) -> Result<bool, EngineError> {
        for (field, value) in [("gross_pnl", gross_pnl), ("fee", fee)] {
            if !value.is_finite() {
                return Err(EngineError::NonFinite { field, value });
            }
        }
        let claimed = self
            .positions
            .claim_trade(symbol)
            .ok_or(EngineError::UnknownSymbol(*symbol))?;
        if claimed {
            self.out.event(EngineEvent::OutcomeClaimed {
                symbol: *symbol,
                time: now,
            });
            return Ok(false);
        }
        self.record_trade_outcome(symbol, gross_pnl, fee, now)
            .map(|()| true)
    }

    /// Round trips the fills closed on `symbol` that no manual outcome has claimed yet.
    pub fn unclaimed_trades(&self, symbol: &Symbol) -> u64 {
        self.positions
            .get(symbol)
            .map_or(0, crate::positions::SymbolState::unclaimed_trades)
    }

    pub(crate) fn adopt(
        &mut self,
        symbol: Symbol,
        quantity: f64,
        avg_entry: f64,
        now: Timestamp,
        from_venue: bool,
    ) -> bool {
        let Some(adopted) = self
            .positions
            .adopt(&symbol, quantity, avg_entry, now, from_venue)
        else {
            return false;
        };
        let Adopted {
            ours,
            owner: brain,
            position,
            net,
            flat,
        } = adopted;
        self.out.event(EngineEvent::PositionDrift {
            symbol,
            ours,
            venue: net,
            attributed_to: brain,
            time: now,
        });
        self.out.event(EngineEvent::PositionChanged {
            brain,
            symbol,
            position,
            net,
            time: now,
        });
        if flat {
            self.drop_protection(brain, symbol, now);
        }
        true
    }
}
