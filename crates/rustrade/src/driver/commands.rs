//! Executing the engine's commands at the exchange, journal first, and the outcomes each one
//! feeds back.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustrade_core::{ExchangeError, MetricsSink as _, RejectReason};
use rustrade_engine::{Command, EntryBlock, OrderRole};

use super::{Batch, Driver, FollowUp};
use crate::metrics::names;

impl Driver {
    pub(super) async fn finish(&self, batch: Batch, queue: &mut VecDeque<FollowUp>) {
        let Batch {
            durable_at,
            events,
            commands,
            pnl,
        } = batch;
        self.observe(&events);
        if let Some(feed) = self.event_feed.get().filter(|_| !events.is_empty()) {
            let _ = feed.send(Arc::clone(&events));
        }
        for (symbol, realised) in pnl {
            self.metrics.gauge(
                names::REALISED_PNL,
                &[("symbol", symbol.as_str())],
                realised,
            );
        }
        crate::kill_point("before-journal-commit");
        let journalled = durable_at == 0 || self.persist(durable_at).await;
        crate::kill_point("after-journal-commit");
        if durable_at != 0
            && let Some(raised) = self.note_block(EntryBlock::Store, !journalled)
        {
            queue.push_back(FollowUp::Block(EntryBlock::Store, raised));
        }
        for command in commands {
            match command {
                Command::Place(p) if !journalled && p.role == OrderRole::Entry => {
                    tracing::error!(
                        client_id = %p.order.client_id,
                        "journal not written; entry not sent"
                    );
                    queue.push_back(FollowUp::Rejected(p.order.client_id, RejectReason::Other));
                }
                Command::Place(p) => {
                    if !journalled {
                        tracing::error!(
                            client_id = %p.order.client_id, role = ?p.role,
                            "journal not written; exit sent anyway to keep the position protected"
                        );
                    }
                    let brain = self.brain_name(p.brain.index());
                    let symbol = p.order.symbol;
                    let labels = [("brain", brain), ("symbol", symbol.as_str())];
                    match self.exchange.place_order(&p.order).await {
                        Ok(order_id) => {
                            crate::kill_point("after-send");
                            self.metrics.counter(names::ORDERS_PLACED, &labels, 1);
                            tracing::info!(
                                brain, %symbol, client_id = %p.order.client_id, %order_id,
                                side = ?p.order.side, kind = ?p.order.kind,
                                quantity = p.order.quantity.get(), role = ?p.role,
                                "order placed"
                            );
                            queue.push_back(FollowUp::Accepted(p.order.client_id, order_id));
                        }
                        Err(e) if e.is_outcome_unknown() => {
                            self.metrics.counter(names::ORDERS_UNKNOWN, &labels, 1);
                            tracing::warn!(
                                brain, %symbol, client_id = %p.order.client_id, error = %e,
                                "order outcome unknown; it stays reserved until the venue is asked"
                            );
                            queue.push_back(FollowUp::Unknown(p.order.client_id));
                        }
                        Err(e) => {
                            self.metrics.counter(names::ORDERS_REJECTED, &labels, 1);
                            tracing::warn!(
                                brain, %symbol, client_id = %p.order.client_id, error = %e,
                                "order refused by the exchange"
                            );
                            queue.push_back(FollowUp::Rejected(
                                p.order.client_id,
                                reject_reason(&e),
                            ));
                        }
                    }
                }
                Command::Cancel(c) => {
                    self.metrics.counter(
                        names::ORDERS_CANCELLED,
                        &[("symbol", c.symbol.as_str())],
                        1,
                    );
                    match self
                        .exchange
                        .cancel_order(&c.symbol, &c.client_id, c.order_id.as_ref())
                        .await
                    {
                        Ok(()) if self.confirm_cancels.load(Ordering::Relaxed) => {
                            queue.push_back(FollowUp::Cancelled(c.client_id, c.order_id));
                        }
                        Ok(()) => {}
                        Err(e) => tracing::warn!(
                            symbol = %c.symbol, client_id = %c.client_id, reason = ?c.reason,
                            error = %e, "cancel failed"
                        ),
                    }
                }
            }
        }
    }
}

/// Maps an adapter's refusal to the reject reason the engine records.
fn reject_reason(e: &ExchangeError) -> RejectReason {
    match e {
        ExchangeError::RateLimited { .. } => RejectReason::RateLimited,
        ExchangeError::Unsupported(_) => RejectReason::Unsupported,
        ExchangeError::Rejected { reason }
            if reason.to_ascii_lowercase().contains("insufficient") =>
        {
            RejectReason::InsufficientFunds
        }
        _ => RejectReason::Other,
    }
}
