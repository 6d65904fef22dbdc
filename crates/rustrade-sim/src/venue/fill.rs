//! Fill processing: one order matched against one event, its fill price, fee and quantity,
//! the booking of the fill, and the ends it causes (complete, OCO siblings, expired rests).

use std::collections::VecDeque;

use rustrade_core::{
    ExecutionReport, Fill, Liquidity, Money, Price, Quantity, RejectReason, Side, Timestamp,
};

use super::book::SymbolBook;
use crate::SimConfig;
use crate::ids::IdCounter;
use crate::matching::{Step, View, evaluate};
use crate::wallet::{Cash, Held};

/// The parts of the venue one matching pass writes to.
pub(super) struct Ctx<'a> {
    pub(super) config: &'a SimConfig,
    pub(super) cash: &'a mut Cash,
    /// The ledger and mark of the book being matched.
    pub(super) held: &'a mut Held,
    pub(super) reports: &'a mut VecDeque<ExecutionReport>,
    pub(super) fill_ids: &'a mut IdCounter,
    pub(super) time: Timestamp,
    /// Orders this pass finished (filled, refused, cancelled, expired).
    pub(super) ended: usize,
}

impl Ctx<'_> {
    /// Matches order `i` of `book` against the views `[buy, sell]` of one event.
    /// Returns the reason when the order is refused on arrival.
    pub(super) fn process(
        &mut self,
        book: &mut SymbolBook,
        i: usize,
        views: [&View; 2],
        arriving: bool,
    ) -> Option<RejectReason> {
        let o = &mut book.orders[i];
        let side = side_index(o.order.side);
        let view = views[side];
        let remaining = o.order.quantity.get() - o.filled;
        // What could fill now: the participation budget, and for reduce-only the position.
        let mut available = book.budget[side];
        if o.order.reduce_only {
            let held = self.held.ledger.quantity;
            available = available.min(reducible(held, o.order.side));
        }
        let step = evaluate(
            &mut o.behaviour,
            o.order.side,
            view,
            arriving,
            remaining,
            available,
        );
        if arriving {
            if let Step::Reject(reason) = step {
                o.live = false;
                self.ended += 1;
                self.reports.push_back(ExecutionReport::Rejected {
                    client_id: o.order.client_id,
                    reason,
                    time: self.time,
                });
                return Some(reason);
            }
            self.reports.push_back(ExecutionReport::Accepted {
                client_id: o.order.client_id,
                order_id: o.id,
                time: self.time,
            });
        }
        match step {
            Step::Wait => {}
            Step::Reject(_) | Step::Cancel => self.end(book, i, Ending::Cancelled),
            Step::Fill {
                price,
                liquidity,
                cancel_rest,
            } => {
                self.fill(book, i, view, price, liquidity);
                if cancel_rest && book.orders[i].live {
                    self.end(book, i, Ending::Cancelled);
                }
            }
        }
        None
    }

    /// Fills as much of order `i` as the cap and reduce-only allow at `reference`.
    fn fill(
        &mut self,
        book: &mut SymbolBook,
        i: usize,
        view: &View,
        reference: f64,
        liq: Liquidity,
    ) {
        let o = &book.orders[i];
        let side = o.order.side;
        let si = side_index(side);
        let remaining = o.order.quantity.get() - o.filled;
        let mut qty = remaining;
        if book.budget[si] < qty {
            qty = book.spec.round_qty_down(book.budget[si]).get();
        }
        let mut expire_rest = false;
        if o.order.reduce_only {
            let held = self.held.ledger.quantity;
            let reducible = reducible(held, side);
            if book.spec.is_dust(reducible) {
                self.end(book, i, Ending::Expired);
                return;
            }
            if reducible < qty {
                qty = reducible;
                expire_rest = true;
            }
        }
        if qty <= 0.0 {
            return;
        }
        let price = match liq {
            Liquidity::Maker => reference,
            Liquidity::Taker => {
                let mut p = self
                    .config
                    .slippage
                    .apply(reference, side.sign(), qty, view.volume);
                if let Some(limit) = o.order.limit_price.map(Price::get) {
                    p = if side == Side::Buy {
                        p.min(limit)
                    } else {
                        p.max(limit)
                    };
                }
                if let Some((low, high)) = view.bounds {
                    p = p.clamp(low, high);
                }
                p
            }
        };
        let cv = book.spec.contract_value();
        let fee = self.config.fees.fee(qty * price * cv, liq);
        let (Ok(px), Ok(q), Ok(fee_money)) =
            (Price::new(price), Quantity::new(qty), Money::new(fee))
        else {
            tracing::warn!(price, qty, fee, "sim: fill skipped, non-finite value");
            return;
        };
        let was_open = self.held.ledger.quantity != 0.0;
        self.cash.settle_fill(side, qty, price, cv, fee);
        self.held
            .ledger
            .apply_fill(&book.spec, side, qty, price, fee, self.time);
        self.cash
            .track_open(was_open, self.held.ledger.quantity != 0.0);
        book.budget[si] -= qty;
        let o = &mut book.orders[i];
        o.filled += qty;
        self.reports.push_back(ExecutionReport::Fill(Fill {
            fill_id: self.fill_ids.next_fill_id(),
            order_id: o.id,
            client_id: Some(o.order.client_id),
            symbol: o.order.symbol,
            side,
            price: px,
            quantity: q,
            fee: fee_money,
            fee_asset: self.config.quote_asset,
            liquidity: liq,
            time: self.time,
        }));
        if is_complete_fill(o.filled, o.order.quantity.get()) {
            o.live = false;
            self.ended += 1;
        }
        if let Some(group) = o.oco {
            for j in 0..book.orders.len() {
                let sib = &book.orders[j];
                if j != i && sib.live && sib.oco == Some(group) {
                    self.end(book, j, Ending::Cancelled);
                }
            }
        }
        if expire_rest && book.orders[i].live {
            self.end(book, i, Ending::Expired);
        }
    }

    fn end(&mut self, book: &mut SymbolBook, i: usize, how: Ending) {
        let o = &mut book.orders[i];
        o.live = false;
        self.ended += 1;
        let (client_id, order_id, time) = (Some(o.order.client_id), o.id, self.time);
        self.reports.push_back(match how {
            Ending::Cancelled => ExecutionReport::Cancelled {
                client_id,
                order_id,
                time,
            },
            Ending::Expired => ExecutionReport::Expired {
                client_id,
                order_id,
                time,
            },
        });
    }
}

#[derive(Debug, Clone, Copy)]
enum Ending {
    Cancelled,
    Expired,
}

/// Whether `filled` completes an order of `total`: equal up to the rounding of summing its
/// partial fills.
#[inline]
pub(crate) fn is_complete_fill(filled: f64, total: f64) -> bool {
    filled >= total - total * 1e-12
}

/// How much an order of `side` can reduce a position of signed size `held`.
pub(super) fn reducible(held: f64, side: Side) -> f64 {
    if held * side.sign() < 0.0 {
        held.abs()
    } else {
        0.0
    }
}

pub(super) const fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}
