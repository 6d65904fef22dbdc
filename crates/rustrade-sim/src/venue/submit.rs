//! The submit path: the duplicate client-id check, the static checks an order passes at
//! submit, its place in the book and an immediate `trade_on_close` arrival.

use rustrade_core::{
    Capability, ExecutionReport, Order, OrderId, OrderKind, Price, RejectReason, TimeInForce,
};

use super::book::{WorkingOrder, sweep};
use super::fill::Ctx;
use super::{OcoGroup, SimVenue};
use crate::matching::Behaviour;

impl SimVenue {
    pub(super) fn place(
        &mut self,
        order: &Order,
        oco: Option<OcoGroup>,
    ) -> Result<OrderId, RejectReason> {
        let client_print = order.client_id.fingerprint();
        let vacancy = match self.client_ids.lookup(client_print, &order.client_id) {
            Ok(n) => return Ok(self.order_ids.order_id_of(n)),
            Err(vacancy) => vacancy,
        };
        let Some(bi) = self.book_index(&order.symbol) else {
            return Err(self.reject(order, RejectReason::InvalidOrder, "unknown symbol"));
        };
        let behaviour = match self.check(order, bi) {
            Ok(b) => b,
            Err((reason, why)) => return Err(self.reject(order, reason, why)),
        };
        let id = self.order_ids.next_order_id();
        self.client_ids
            .insert(vacancy, order.client_id, self.order_ids.issued());
        if let Some(h) = self.history.as_deref_mut() {
            h.received(order, id, self.now);
        }
        let (extra, delay) = self.config.latency.sample(&mut self.rng);
        let immediate = self.config.trade_on_close && self.config.latency.is_zero();
        let Self {
            books,
            cash,
            held,
            reports,
            fill_ids,
            config,
            now,
            order_ids,
            client_ids,
            ..
        } = self;
        let book = &mut books[bi];
        let held = &mut held[bi];
        let seq = order_ids.issued();
        let stop_class = behaviour.is_stop();
        let key = (order.reduce_only, !stop_class, seq);
        // Most orders go last (nothing of lower priority rests, or nothing rests at all).
        let at = match book.orders.last() {
            Some(last) if last.priority() > key => {
                book.orders.partition_point(|o| o.priority() < key)
            }
            _ => book.orders.len(),
        };
        let working = WorkingOrder {
            order: *order,
            id,
            seq,
            client_print,
            stop_class,
            behaviour,
            oco,
            filled: 0.0,
            arrived: false,
            after_event: book.events + extra,
            not_before: if delay.is_zero() {
                *now
            } else {
                now.saturating_add(delay)
            },
            live: true,
            created: *now,
        };
        debug_assert_eq!(working.priority(), key);
        // Most orders go last (nothing of lower priority rests): no shift to make room.
        if at == book.orders.len() {
            book.orders.push(working);
        } else {
            book.orders.insert(at, working);
        }
        if immediate && let Some([buy, sell]) = book.last {
            book.orders[at].arrived = true;
            let mut ctx = Ctx {
                config,
                cash,
                held,
                reports,
                fill_ids,
                time: *now,
                ended: 0,
            };
            let refused = ctx.process(book, at, [&buy, &sell], true);
            if ctx.ended > 0 {
                sweep(&mut book.orders, client_ids);
            }
            if let Some(reason) = refused {
                // Refused the moment it arrived: as good as refused at submit, so a retry with
                // the same client id is judged afresh.
                client_ids.forget(client_print, &order.client_id);
                return Err(reason);
            }
        }
        Ok(id)
    }

    /// Static checks at submit; the behaviour on success, the reason and a log note on failure.
    fn check(&self, order: &Order, bi: usize) -> Result<Behaviour, (RejectReason, &'static str)> {
        use RejectReason::{InsufficientFunds, InvalidOrder, Unsupported};
        if let Err(e) = order.validate() {
            tracing::debug!(client_id = %order.client_id, error = %e, "sim: invalid order");
            return Err((InvalidOrder, "order failed validation"));
        }
        let caps = |c| self.caps.contains(c, &self.config.capabilities);
        if !caps(Capability::for_kind(order.kind)) {
            return Err((Unsupported, "order kind not supported"));
        }
        let tif_cap = match order.time_in_force {
            TimeInForce::Gtc => None,
            TimeInForce::Ioc => Some(Capability::Ioc),
            TimeInForce::Fok => Some(Capability::Fok),
            TimeInForce::PostOnly => Some(Capability::PostOnly),
        };
        if tif_cap.is_some_and(|c| !caps(c)) {
            return Err((Unsupported, "time in force not supported"));
        }
        if order.reduce_only && !caps(Capability::ReduceOnly) {
            return Err((Unsupported, "reduce-only not supported"));
        }
        if order.protection.is_some() {
            return Err((
                Unsupported,
                "attached protection is not held by the simulator",
            ));
        }
        let behaviour =
            behaviour_of(order).ok_or((InvalidOrder, "kind and time in force conflict"))?;
        if let Some(lev) = self.config.max_leverage
            && !order.reduce_only
            && self.exceeds_leverage(order, bi, lev)
        {
            return Err((InsufficientFunds, "exposure above max_leverage × equity"));
        }
        Ok(behaviour)
    }

    fn exceeds_leverage(&self, order: &Order, bi: usize, lev: f64) -> bool {
        let book = &self.books[bi];
        let Some(price) = self.held[bi]
            .mark
            .or(order.limit_price.map(Price::get))
            .or(order.trigger_price.map(Price::get))
        else {
            return false;
        };
        let exposure = |i: usize, q: f64| {
            let h = &self.held[i];
            q.abs() * h.mark.unwrap_or(price) * h.spec.contract_value()
        };
        let before: f64 = (0..self.held.len())
            .map(|i| exposure(i, self.held[i].ledger.quantity))
            .sum();
        let held = self.held[bi].ledger.quantity;
        let after_here = held + order.side.sign() * order.quantity.get();
        let after =
            before - exposure(bi, held) + after_here.abs() * price * book.spec.contract_value();
        after > before && after > lev * self.equity()
    }

    fn reject(&mut self, order: &Order, reason: RejectReason, why: &'static str) -> RejectReason {
        tracing::debug!(client_id = %order.client_id, ?reason, why, "sim: order rejected");
        if let Some(h) = self.history.as_deref_mut() {
            h.refused(order, self.now);
        }
        self.reports.push_back(ExecutionReport::Rejected {
            client_id: order.client_id,
            reason,
            time: self.now,
        });
        reason
    }
}

/// A capability set as bits, so the checks at submit test a bit rather than search a
/// `BTreeSet`. Capabilities without a bit (added to core later) are looked up in the set.
#[derive(Debug, Clone, Copy)]
pub(super) struct CapabilityMask(u16);

impl CapabilityMask {
    pub(super) fn new(set: &std::collections::BTreeSet<Capability>) -> Self {
        Self(
            set.iter()
                .filter_map(|&c| capability_bit(c))
                .fold(0, |m, b| m | b),
        )
    }

    /// Whether `c` is in `set`, the set this mask was built from.
    #[inline]
    pub(super) fn contains(
        self,
        c: Capability,
        set: &std::collections::BTreeSet<Capability>,
    ) -> bool {
        match capability_bit(c) {
            Some(bit) => self.0 & bit != 0,
            None => set.contains(&c),
        }
    }
}

#[inline]
const fn capability_bit(c: Capability) -> Option<u16> {
    use Capability as C;
    let i = match c {
        C::MarketOrders => 0,
        C::LimitOrders => 1,
        C::PostOnly => 2,
        C::Ioc => 3,
        C::Fok => 4,
        C::StopMarket => 5,
        C::StopLimit => 6,
        C::TakeProfit => 7,
        C::TrailingStop => 8,
        C::ReduceOnly => 9,
        C::OrderTracking => 10,
        C::Positions => 11,
        _ => return None,
    };
    Some(1 << i)
}

/// Folds kind and time in force into one matching behaviour; `None` when they conflict.
fn behaviour_of(order: &Order) -> Option<Behaviour> {
    use TimeInForce as T;
    let limit = order.limit_price.map(Price::get);
    let trigger = order.trigger_price.map(Price::get);
    let tif = order.time_in_force;
    Some(match (order.kind, tif) {
        (OrderKind::Market, T::Gtc) => Behaviour::Market,
        (OrderKind::Market, T::Ioc) => Behaviour::Ioc { price: None },
        (OrderKind::Market, T::Fok) => Behaviour::Fok { price: None },
        (OrderKind::Limit, T::Gtc) => Behaviour::Limit {
            price: limit?,
            post_only: false,
        },
        (OrderKind::Limit | OrderKind::PostOnly, T::PostOnly) | (OrderKind::PostOnly, T::Gtc) => {
            Behaviour::Limit {
                price: limit?,
                post_only: true,
            }
        }
        (OrderKind::Limit | OrderKind::Ioc, T::Ioc) | (OrderKind::Ioc, T::Gtc) => Behaviour::Ioc {
            price: Some(limit?),
        },
        (OrderKind::Limit | OrderKind::Fok, T::Fok) | (OrderKind::Fok, T::Gtc) => Behaviour::Fok {
            price: Some(limit?),
        },
        (OrderKind::StopMarket, T::Gtc) => Behaviour::Stop { trigger: trigger? },
        (OrderKind::StopLimit, T::Gtc) => Behaviour::StopLimit {
            trigger: trigger?,
            limit: limit?,
        },
        (OrderKind::TakeProfit, T::Gtc) => Behaviour::TakeProfit { trigger: trigger? },
        (OrderKind::TrailingStop, T::Gtc) => Behaviour::Trailing {
            offset: order.trailing_offset?.get(),
            best: None,
        },
        _ => return None,
    })
}
