//! Market events (marks, emulated stops and trailing stops) and the timer (session rollover,
//! breaker cooldown, TTL of resting entries).
//!
//! # Rules
//!
//! - A market event for a symbol the engine does not trade is ignored: feeds often carry more
//!   symbols than a bot trades.
//! - The mark is the event's reference price (candle close, quote mid, trade price); unrealised
//!   PnL is computed from it on demand.
//! - Halt transitions are journalled once each: `RiskHalted` when entries on a symbol become
//!   blocked (after a trade outcome), `RiskResumed` when a timer tick finds them allowed again.

use rustrade_core::{ClientOrderId, MarketEvent, OrderKind, OrderStatus, Symbol, Timestamp};

use crate::brackets::Fired;
use crate::gate::RefusalRecord;
use crate::{CancelReason, Engine, EngineEvent, OrderRole};

impl Engine {
    /// A market event: marks the symbol, fires emulated stops, take-profits and trailing
    /// stops it crosses, and sends refused protective exits that are due (as
    /// [`handle_timer`](Self::handle_timer) does). Call it before the brains see the event.
    #[inline]
    pub fn handle_market(&mut self, event: &MarketEvent) {
        if !self
            .positions
            .on_market(&event.symbol, event.reference_price())
        {
            return;
        }
        if !self.brackets.is_empty() {
            self.check_protections(event);
        }
        if !self.exit_retries.is_empty() {
            self.retry_exits(event.time);
        }
    }

    /// Fires the emulated protections `event` crosses. Out of line: most events meet no
    /// protection, and its frame would otherwise be set up for every one of them.
    #[inline(never)]
    fn check_protections(&mut self, event: &MarketEvent) {
        let mut fired: Fired = [None; 4];
        let mut more = true;
        while more {
            more = self.brackets.check(event, &mut fired);
            for (entry, reason) in fired.iter_mut().filter_map(Option::take) {
                let Some(b) = self.brackets.get(&entry).copied() else {
                    continue;
                };
                self.out.event(EngineEvent::ProtectionTriggered {
                    entry,
                    brain: b.brain,
                    symbol: b.symbol,
                    reason,
                    time: event.time,
                });
                if let Some(o) = self.orders.get(&entry)
                    && o.is_live()
                {
                    self.request_cancel(entry, CancelReason::ProtectionTriggered, event.time);
                }
                self.exit_position(
                    b.brain,
                    b.symbol,
                    reason,
                    Some(entry),
                    Some(b.filled),
                    event.time,
                );
            }
        }
    }

    /// A timer tick at `now`: rolls risk sessions over, ends breaker cooldowns (journalling
    /// `RiskResumed`), and cancels resting entries older than the configured TTL.
    pub fn handle_timer(&mut self, now: Timestamp) {
        self.risk.tick(now);
        let mut cursor: Option<Symbol> = None;
        while let Some(symbol) = self.positions.next_after(cursor.as_ref()) {
            self.sync_halt(symbol, now);
            cursor = Some(symbol);
        }
        self.retry_cancels(now);
        self.retry_exits(now);
        let Some(ttl) = self.config.order_ttl else {
            return;
        };
        let mut cursor: Option<ClientOrderId> = None;
        loop {
            let next = self
                .orders
                .live()
                .filter(|o| cursor.is_none_or(|c| o.order.client_id > c))
                .find(|o| {
                    o.role == OrderRole::Entry
                        && o.order.kind != OrderKind::Market
                        && matches!(
                            o.status,
                            OrderStatus::Accepted | OrderStatus::PartiallyFilled
                        )
                        && !o.cancel_requested
                        && o.created.saturating_add(ttl) <= now
                })
                .map(|o| o.order.client_id);
            let Some(cid) = next else { break };
            self.request_cancel(cid, CancelReason::Ttl, now);
            cursor = Some(cid);
        }
    }

    /// Sends again every cancel the venue has not confirmed within `cancel_retry` (a cancel is a
    /// persisted intent: it survives a failed request and a restart).
    fn retry_cancels(&mut self, now: Timestamp) {
        let retry = self.config.cancel_retry;
        let due: Vec<ClientOrderId> = self
            .orders
            .live()
            .filter(|o| {
                o.cancel_requested
                    && o.cancel_sent
                        .is_none_or(|sent| sent.saturating_add(retry) <= now)
            })
            .map(|o| o.order.client_id)
            .collect();
        for cid in due {
            self.send_cancel(cid, CancelReason::Retry, now);
        }
    }

    /// Sends again every refused protective exit that is due, while the brain still holds the
    /// position and no exit of its own is working on it (see [`crate::ExitRetry`]). Out of line:
    /// the market path reaches it only while a retry is scheduled.
    #[inline(never)]
    fn retry_exits(&mut self, now: Timestamp) {
        if self.exit_retries.is_empty() {
            return;
        }
        for ((brain, symbol), retry) in self.exit_retries.due(now) {
            let Some(state) = self.positions.get(&symbol) else {
                continue;
            };
            if state.brain(brain).is_flat(state.spec()) {
                continue;
            }
            if !self.orders.exit_working(brain, symbol) {
                self.exit_position(
                    brain,
                    symbol,
                    retry.reason,
                    retry.parent,
                    Some(retry.cap),
                    now,
                );
            }
        }
    }

    /// Journals a change in whether entries on `symbol` are blocked.
    pub(crate) fn sync_halt(&mut self, symbol: Symbol, now: Timestamp) {
        let reason = self.risk.halt_reason(&symbol, now);
        let Some(halted) = self.positions.set_halted(&symbol, reason.is_some()) else {
            return;
        };
        match (halted, reason) {
            (false, Some(r)) => {
                self.out.event(EngineEvent::RiskHalted {
                    symbol,
                    refusal: RefusalRecord::from_risk(&r),
                    time: now,
                });
            }
            (true, None) => {
                self.out
                    .event(EngineEvent::RiskResumed { symbol, time: now });
            }
            _ => {}
        }
    }
}
