//! Venue reports: acknowledgements, rejections, cancels, expiries and fills; OCO handling and the
//! bookkeeping that follows a fill (positions, trades, risk outcomes, protective legs).

use rustrade_core::{
    ClientOrderId, ExecutionReport, Fill, FillId, OrderId, OrderState, OrderStatus, RejectReason,
    Symbol, Timestamp,
};

use crate::positions::{Booked, NotBooked};
use crate::{
    BrainId, CancelReason, Engine, EngineEvent, ExitReason, FillField, LegRejectedPolicy,
    Malformed, OrderRole,
};

impl Engine {
    /// The venue acknowledged our order `client_id` under its id `order_id`.
    ///
    /// A repeated acknowledgement changes nothing; one for an unknown id is reported as
    /// [`Malformed::UnknownOrder`].
    pub fn handle_accepted(&mut self, client_id: ClientOrderId, order_id: OrderId, now: Timestamp) {
        match self.orders.acknowledge(client_id, order_id, now) {
            None => {
                self.malformed_unknown(Some(client_id), Some(order_id), now);
                return;
            }
            Some(false) => return,
            Some(true) => {}
        }
        if self.full_journal() {
            self.out.event(EngineEvent::OrderAccepted {
                client_id,
                order_id,
                time: now,
            });
        }
    }

    /// The venue (or the driver, before reaching it) refused our order `client_id`.
    ///
    /// An entry's risk reservation is released and its bracket dropped; a rejected protective
    /// leg is handled by [`LegRejectedPolicy`]; a close that policy sent and the venue never
    /// received is sent again.
    pub fn handle_rejected(
        &mut self,
        client_id: ClientOrderId,
        reason: RejectReason,
        now: Timestamp,
    ) {
        let ended = self
            .orders
            .end(&client_id, OrderStatus::Rejected, now, &mut self.risk);
        let Some(o) = ended else {
            if self.orders.get(&client_id).is_none() {
                self.malformed_unknown(Some(client_id), None, now);
            }
            return;
        };
        self.out.event(EngineEvent::OrderRejected {
            client_id,
            reason,
            time: now,
        });
        match o.role {
            OrderRole::Entry => {
                if o.filled.is_zero() {
                    self.brackets.remove(&client_id);
                } else {
                    self.place_legs(client_id, now);
                }
            }
            role if role.is_leg() => {
                self.leg_rejected(o.parent, client_id, o.brain, o.symbol(), now)
            }
            // A protective close that never reached the venue (a definite answer, so a new one
            // cannot double it): the position is still bare, ask again at once.
            OrderRole::Exit(exit)
                if exit.is_protective() && reason == RejectReason::NeverReceived =>
            {
                let cap = Some(o.order.quantity.get());
                self.exit_position(o.brain, o.symbol(), exit, o.parent, cap, now);
            }
            // One the venue refused: ask again later, less and less often.
            OrderRole::Exit(exit) if exit.is_protective() => {
                let retry = self.exit_retries.refused(
                    (o.brain, o.symbol()),
                    (exit, o.parent, o.order.quantity.get()),
                    (self.config.exit_retry, self.config.exit_retry_max),
                    now,
                );
                if !self.replaying {
                    tracing::warn!(
                        symbol = %o.symbol(),
                        %client_id,
                        ?reason,
                        attempts = retry.attempts,
                        "protective exit refused by the venue; sending it again later"
                    );
                }
            }
            _ => {}
        }
    }

    /// A placement of `client_id` got no definite answer (it timed out, or the transport failed
    /// after the request may have left): the order may be working at the venue. It stays live,
    /// pending, with its risk reservation held, and is listed by
    /// [`unresolved_orders`](Self::unresolved_orders) until a lookup settles it
    /// ([`handle_order_state`](Self::handle_order_state),
    /// [`handle_order_not_found`](Self::handle_order_not_found)) or a report about it arrives.
    pub fn handle_place_unknown(&mut self, client_id: ClientOrderId, now: Timestamp) {
        match self.orders.mark_unknown(&client_id, now) {
            None => {
                if self.orders.get(&client_id).is_none() {
                    self.malformed_unknown(Some(client_id), None, now);
                }
                return;
            }
            Some(false) => return,
            Some(true) => {}
        }
        self.out.event(EngineEvent::OrderOutcomeUnknown {
            client_id,
            time: now,
        });
    }

    /// The venue's answer to a lookup of one of our orders (a definite answer: the venue knows
    /// it). Acknowledges it if we had no venue id, and applies a final status the venue reports
    /// (cancelled, expired, rejected). A filled quantity is not applied here: fills carry the
    /// price, fee and trade id, and arrive through [`handle_fill`](Self::handle_fill) (the fill
    /// stream or a catch-up), which the caller should feed first.
    ///
    /// When the venue reports more filled than the fills applied (its status ran ahead of its
    /// fill history), the order stays live with [`TrackedOrder::venue_filled`] set and its
    /// final status waits for a later lookup: retired now, its late fills would land on an
    /// order whose bracket is gone. The fills complete it, or the next lookup finds nothing
    /// more awaited and settles it.
    ///
    /// [`TrackedOrder::venue_filled`]: crate::TrackedOrder::venue_filled
    pub fn handle_order_state(&mut self, state: &OrderState, now: Timestamp) {
        let report = state.order;
        let Some(cid) = self
            .orders
            .resolve(report.client_id, Some(&report.order_id))
        else {
            self.malformed_unknown(report.client_id, Some(report.order_id), now);
            return;
        };
        if self.orders.get(&cid).is_some_and(|o| o.venue_id.is_none()) {
            self.handle_accepted(cid, report.order_id, now);
        }
        let lot = self.lot_of(report.symbol);
        if self.orders.looked_up(&cid, report.filled, lot) {
            return;
        }
        match report.status {
            OrderStatus::Cancelled => self.handle_cancelled(Some(cid), Some(report.order_id), now),
            OrderStatus::Expired => self.handle_expired(Some(cid), Some(report.order_id), now),
            OrderStatus::Rejected => self.handle_rejected(cid, RejectReason::Other, now),
            OrderStatus::Pending
            | OrderStatus::Accepted
            | OrderStatus::PartiallyFilled
            | OrderStatus::Filled => {}
        }
    }

    /// The venue answered a lookup that it never received `client_id` (a definite answer,
    /// given once the venue could no longer accept the request): the order is rejected as
    /// [`RejectReason::NeverReceived`], its reservation released.
    pub fn handle_order_not_found(&mut self, client_id: ClientOrderId, now: Timestamp) {
        if self
            .orders
            .get(&client_id)
            .is_some_and(|o| o.is_live() && o.venue_id.is_none())
        {
            self.handle_rejected(client_id, RejectReason::NeverReceived, now);
        }
    }

    /// The venue confirmed an order is cancelled. The order is found by our id or, failing that,
    /// by the venue's id.
    pub fn handle_cancelled(
        &mut self,
        client_id: Option<ClientOrderId>,
        order_id: Option<OrderId>,
        now: Timestamp,
    ) {
        self.finish(client_id, order_id, OrderStatus::Cancelled, now);
    }

    /// An order expired at the venue (its time in force ran out).
    pub fn handle_expired(
        &mut self,
        client_id: Option<ClientOrderId>,
        order_id: Option<OrderId>,
        now: Timestamp,
    ) {
        self.finish(client_id, order_id, OrderStatus::Expired, now);
    }

    /// Dispatches a core [`ExecutionReport`] to the matching `handle_*` input, at the report's
    /// time.
    pub fn handle_report(&mut self, report: &ExecutionReport) {
        match *report {
            ExecutionReport::Accepted {
                client_id,
                order_id,
                time,
            } => self.handle_accepted(client_id, order_id, time),
            ExecutionReport::Rejected {
                client_id,
                reason,
                time,
            } => self.handle_rejected(client_id, reason, time),
            ExecutionReport::Cancelled {
                client_id,
                order_id,
                time,
            } => self.handle_cancelled(client_id, Some(order_id), time),
            ExecutionReport::Expired {
                client_id,
                order_id,
                time,
            } => self.handle_expired(client_id, Some(order_id), time),
            ExecutionReport::Fill(ref fill) => self.handle_fill(fill, fill.time),
        }
    }

    /// A fill of one of our orders.
    ///
    /// Applied once per fill id to the order, the brain's and the net position, the brain's
    /// statistics, and — when a round trip closes — to the symbol's session PnL and breaker.
    /// A fill with a price or quantity not `> 0` or a fee not finite ([`crate::check_fill`]),
    /// a fill for an unknown order, a repeated fill id, a fill of an order already completely
    /// filled, or a fill whose symbol or side disagree with its order changes nothing and is
    /// reported as [`Malformed`]. The newest fill applied on a symbol is its
    /// [`fill_cursor`](Self::fill_cursor).
    pub fn handle_fill(&mut self, fill: &Fill, now: Timestamp) {
        if let Err(problem) = crate::check_fill(fill) {
            self.malformed(
                Malformed::InvalidFill {
                    fill: *fill,
                    problem,
                },
                now,
            );
            return;
        }
        let Some(slot) = self.fill_slot(fill.client_id, &fill.order_id) else {
            self.malformed_unknown(fill.client_id, Some(fill.order_id), now);
            return;
        };
        // The few fields used below, rather than a copy of the whole order.
        let o = self.orders.at(slot);
        let (cid, brain, role, parent) = (o.order.client_id, o.brain, o.role, o.parent);
        // A completely filled order cannot fill again: a fill for one is a replay the fill-id
        // memory has already forgotten (it keeps a bounded window), never new quantity.
        let completed = o.status == OrderStatus::Filled;
        let mismatch = if fill.symbol != o.symbol() {
            Some(FillField::Symbol)
        } else if fill.side != o.order.side {
            Some(FillField::Side)
        } else {
            None
        };
        if let Some(field) = mismatch {
            self.malformed(Malformed::FillMismatch { fill: *fill, field }, now);
            return;
        }
        let booked = match self.positions.apply_fill(fill, brain, completed) {
            Ok(booked) => booked,
            Err(NotBooked::UnknownSymbol) => {
                self.malformed(
                    Malformed::UnknownSymbol {
                        symbol: fill.symbol,
                    },
                    now,
                );
                return;
            }
            Err(NotBooked::Duplicate) => {
                self.malformed(Malformed::DuplicateFill { fill: *fill }, now);
                return;
            }
        };
        let Booked {
            effect,
            position,
            net,
            brain_flat,
            lot,
        } = booked;
        let (qty, price) = (fill.quantity.get(), fill.price.get());

        let (terminal, overfill) = self
            .orders
            .record_fill(slot, fill, lot, now, &mut self.risk);
        if let Some((filled, quantity)) = overfill {
            self.malformed(
                Malformed::Overfill {
                    client_id: cid,
                    filled,
                    quantity,
                },
                now,
            );
        }
        self.journal_fill(brain, role, fill, &effect, [position, net], now);
        if let Some(trade) = effect.trade {
            self.record_outcome(fill.symbol, trade.gross_pnl, trade.fees, now);
        }

        match role {
            OrderRole::Entry => {
                self.brackets.entry_filled(&cid, qty, price);
                if terminal {
                    self.place_legs(cid, now);
                }
            }
            role if role.is_leg() => self.oco_fill(parent, cid, now),
            OrderRole::Exit(_) => {
                self.exit_retries
                    .exit_filled(&(brain, fill.symbol), qty, lot / 2.0);
            }
            _ => {}
        }
        if terminal {
            self.orders.retire_filled(&cid);
        }
        if brain_flat {
            self.drop_protection(brain, fill.symbol, now);
        }
    }

    /// Whether the window of recent fill ids holds `id`: the fast half of "has this fill been
    /// applied?". A miss proves nothing once the window has forgotten ids (it keeps
    /// [`EngineConfig::remembered_fill_ids`](crate::EngineConfig::remembered_fill_ids)); a
    /// driver with a durable record of applied fills asks it next, and reports a hit there with
    /// [`handle_fill_applied_before`](Self::handle_fill_applied_before).
    #[inline]
    pub fn recalls_fill(&self, id: &FillId) -> bool {
        self.positions.recalls_fill(id)
    }

    /// The fill ids the window holds, oldest first.
    pub fn recalled_fills(&self) -> impl Iterator<Item = &FillId> {
        self.positions.recalled_fills()
    }

    /// A fill the driver's durable record says was applied before (its id had left the
    /// window): changes nothing but the window, which remembers it again, and is reported as
    /// [`Malformed::DuplicateFill`] like a duplicate the window caught.
    pub fn handle_fill_applied_before(&mut self, fill: &Fill, now: Timestamp) {
        self.positions.remember_fill(fill.fill_id);
        self.malformed(Malformed::DuplicateFill { fill: *fill }, now);
    }

    /// Whether a fill naming `client_id` and `order_id` would find an order in the book (live,
    /// or among the recently retired). Only such a fill can ever be applied, so a durable
    /// record of a fill whose order the book no longer tracks can be forgotten: the book
    /// forgets an order for good (client ids are never reused).
    pub fn tracks_fill_order(&self, client_id: Option<ClientOrderId>, order_id: &OrderId) -> bool {
        self.fill_slot(client_id, order_id).is_some()
    }

    /// The earliest creation time of an order in the book (live or retired); `None` when the
    /// book is empty.
    pub fn oldest_tracked_order(&self) -> Option<Timestamp> {
        self.orders
            .live()
            .chain(self.orders.retired())
            .map(|o| o.created)
            .min()
    }

    /// The book slot of the order a fill belongs to: by our client id, else by the venue's id.
    fn fill_slot(&self, client_id: Option<ClientOrderId>, order_id: &OrderId) -> Option<usize> {
        self.orders.fill_slot(client_id, order_id)
    }

    /// The brain's statistics and the journal events of an applied fill: `FillApplied`,
    /// `PositionChanged` with the brain's and the net position after it (not in a lean journal,
    /// see [`crate::JournalDetail`]), and `TradeClosed` when it closed a round trip.
    ///
    /// Kept out of `handle_fill` on purpose: in a function this small the event queue's push is
    /// inlined and writes each event once; inside `handle_fill` the compiler leaves it an
    /// out-of-line call that copies every event a second time.
    #[inline(never)]
    fn journal_fill(
        &mut self,
        brain: BrainId,
        role: OrderRole,
        fill: &Fill,
        effect: &crate::FillEffect,
        [position, net]: [rustrade_core::Position; 2],
        now: Timestamp,
    ) {
        self.brains.filled(brain, fill.fee.get(), effect.realised);
        self.out.event(EngineEvent::FillApplied {
            brain,
            role,
            fill: *fill,
            realised_pnl: effect.realised,
            time: now,
        });
        if self.full_journal() {
            self.out.event(EngineEvent::PositionChanged {
                brain,
                symbol: fill.symbol,
                position,
                net,
                time: now,
            });
        }
        if let Some(trade) = effect.trade {
            self.brains.closed_trade(brain, trade.net_pnl);
            self.out.event(EngineEvent::TradeClosed {
                brain,
                symbol: fill.symbol,
                trade,
            });
        }
    }

    /// Feeds a closed round trip to the symbol's risk state and journals halt transitions.
    pub(crate) fn record_outcome(&mut self, symbol: Symbol, gross: f64, fees: f64, now: Timestamp) {
        if let Err(e) = self.risk.record_trade(&symbol, gross, fees, now) {
            tracing::warn!(%symbol, error = %e, "trade outcome refused by the risk state");
        }
        self.sync_halt(symbol, now);
    }

    /// Cancels every live sibling leg of a filled leg, once, and disarms the bracket.
    fn oco_fill(&mut self, parent: Option<ClientOrderId>, leg: ClientOrderId, now: Timestamp) {
        let Some(legs) = parent.and_then(|p| self.brackets.leg_filled(&p)) else {
            return;
        };
        for sibling in legs.into_iter().flatten().filter(|l| *l != leg) {
            self.request_cancel(sibling, CancelReason::OcoSibling, now);
        }
    }

    /// A protective leg was rejected: apply the configured policy.
    fn leg_rejected(
        &mut self,
        parent: Option<ClientOrderId>,
        leg: ClientOrderId,
        brain: BrainId,
        symbol: Symbol,
        now: Timestamp,
    ) {
        let Some(p) = parent else { return };
        match self.config.leg_rejected {
            LegRejectedPolicy::Keep => {
                self.brackets.forget_leg(&p, leg);
            }
            LegRejectedPolicy::CloseEntry => {
                let Some(b) = self.brackets.remove(&p) else {
                    return;
                };
                for sibling in b.legs.into_iter().flatten().filter(|l| *l != leg) {
                    self.request_cancel(sibling, CancelReason::LegRejected, now);
                }
                self.exit_retries.owe(
                    (brain, symbol),
                    (ExitReason::LegRejected, Some(p), b.filled),
                    now,
                );
                self.exit_position(
                    brain,
                    symbol,
                    ExitReason::LegRejected,
                    Some(p),
                    Some(b.filled),
                    now,
                );
            }
        }
    }

    /// Marks an order terminal after a cancel or expiry report and does what follows.
    fn finish(
        &mut self,
        client_id: Option<ClientOrderId>,
        order_id: Option<OrderId>,
        status: OrderStatus,
        now: Timestamp,
    ) {
        let Some(cid) = self.orders.resolve(client_id, order_id.as_ref()) else {
            self.malformed_unknown(client_id, order_id, now);
            return;
        };
        let Some(o) = self.orders.end(&cid, status, now, &mut self.risk) else {
            return;
        };
        let filled = o.filled.get();
        self.out.event(if status == OrderStatus::Expired {
            EngineEvent::OrderExpired {
                client_id: cid,
                filled,
                time: now,
            }
        } else {
            EngineEvent::OrderCancelled {
                client_id: cid,
                filled,
                time: now,
            }
        });
        self.after_terminal(&o, now);
    }

    /// What follows an order's end without a complete fill (its reservation is released by
    /// [`Working::end`](crate::working::Working::end)): an entry either arms its legs for what
    /// filled or drops its bracket.
    pub(crate) fn after_terminal(&mut self, o: &crate::TrackedOrder, now: Timestamp) {
        if o.role != OrderRole::Entry {
            return;
        }
        let cid = o.order.client_id;
        if o.filled.is_zero() {
            self.brackets.remove(&cid);
        } else {
            self.place_legs(cid, now);
        }
    }

    /// Asks the venue to cancel a live order once.
    pub(crate) fn request_cancel(
        &mut self,
        cid: ClientOrderId,
        reason: CancelReason,
        now: Timestamp,
    ) {
        if self.orders.request_cancel(&cid) {
            self.send_cancel(cid, reason, now);
        }
    }

    /// Journals and emits a cancel of the live order `cid`, and notes when it was sent (the
    /// first request and every retry go through here).
    pub(crate) fn send_cancel(&mut self, cid: ClientOrderId, reason: CancelReason, now: Timestamp) {
        let Some((symbol, order_id)) = self.orders.cancel_sent(&cid, now) else {
            return;
        };
        let cancel = crate::CancelOrder {
            symbol,
            client_id: cid,
            order_id,
            reason,
        };
        if self.full_journal() {
            self.out.event(EngineEvent::CancelRequested {
                client_id: cid,
                reason,
                time: now,
            });
        }
        self.out.command(crate::Command::Cancel(cancel));
    }

    /// The brain's position on `symbol` is flat: drop its brackets and cancel their live legs.
    pub(crate) fn drop_protection(&mut self, brain: BrainId, symbol: Symbol, now: Timestamp) {
        self.exit_retries.clear(&(brain, symbol));
        if self.brackets.is_empty() {
            return;
        }
        loop {
            let orders = &self.orders;
            let entry_live = |e: &ClientOrderId| orders.get(e).is_some_and(|o| o.is_live());
            let Some(legs) = self.brackets.take_unguarded(brain, symbol, entry_live) else {
                break;
            };
            for leg in legs.into_iter().flatten() {
                self.request_cancel(leg, CancelReason::PositionFlat, now);
            }
        }
    }

    pub(crate) fn malformed(&mut self, problem: Malformed, now: Timestamp) {
        tracing::warn!(?problem, "malformed input ignored");
        self.out
            .event(EngineEvent::MalformedInput { problem, time: now });
    }

    fn malformed_unknown(
        &mut self,
        client_id: Option<ClientOrderId>,
        order_id: Option<OrderId>,
        now: Timestamp,
    ) {
        self.malformed(
            Malformed::UnknownOrder {
                client_id,
                order_id,
            },
            now,
        );
    }
}
