//! The market-event path of [`SimVenue::on_market`]: the idle-book shortcut, arrivals and
//! matching of the event's book, the mark and the funding schedule.

use rustrade_core::{MarketData, MarketEvent, Side, Timestamp};

use super::SimVenue;
use super::book::sweep;
use super::fill::Ctx;
use crate::FundingPayment;
use crate::matching::View;

impl SimVenue {
    /// [`Self::on_market`] for a book with nothing to match, no `trade_on_close` and no funding
    /// (most events of most runs): it only counts the event and moves the mark, exactly as the
    /// full path does for such a book. For any other event it changes nothing and returns the
    /// index of the event's book (`None` for an unregistered symbol), for [`Self::on_market_in_full`].
    #[inline]
    pub(super) fn mark_idle_book(&mut self, event: &MarketEvent) -> Result<(), Option<usize>> {
        let Some(bi) = self.book_index(&event.symbol) else {
            return Err(None);
        };
        let book = &mut self.books[bi];
        if !book.orders.is_empty() || self.config.trade_on_close || !book.funding.is_none() {
            return Err(Some(bi));
        }
        if event.time > self.now {
            self.now = event.time;
        }
        self.last_book = bi;
        book.events += 1;
        self.held[bi].mark = Some(event.reference_price().get());
        Ok(())
    }

    /// The whole of [`Self::on_market`], for the event's book `bi` (`book_index` of its symbol).
    #[inline(never)]
    pub(super) fn on_market_in_full(&mut self, event: &MarketEvent, bi: Option<usize>) {
        if event.time > self.now {
            self.now = event.time;
        }
        let Some(bi) = bi else {
            return;
        };
        self.last_book = bi;
        let Self {
            books,
            cash,
            held,
            reports,
            funding,
            fill_ids,
            config,
            client_ids,
            ..
        } = self;
        let book = &mut books[bi];
        let held = &mut held[bi];
        book.events += 1;
        // The hold path stops here: prices are only needed by working orders and by
        // `trade_on_close` arrivals.
        if !book.orders.is_empty() || config.trade_on_close {
            let (buy, sell, start) = views(&event.data, event.time);
            book.budget = match config.participation {
                Some(r) => [r * buy.volume, r * sell.volume],
                None => [f64::INFINITY; 2],
            };
            if !book.orders.is_empty() {
                let mut ctx = Ctx {
                    config,
                    cash,
                    held,
                    reports,
                    fill_ids,
                    time: event.time,
                    ended: 0,
                };
                for i in 0..book.orders.len() {
                    let o = &book.orders[i];
                    if !o.live {
                        continue;
                    }
                    let arriving = !o.arrived;
                    if arriving {
                        if book.events <= o.after_event || start < o.not_before {
                            continue;
                        }
                        book.orders[i].arrived = true;
                    } else {
                        // Exact pre-filter: a resting order whose levels the event does not
                        // reach would only `Wait`.
                        let (low, high) = o.behaviour.watch(o.order.side);
                        let v = if o.order.side == Side::Buy {
                            &buy
                        } else {
                            &sell
                        };
                        if v.low > low && v.high < high {
                            continue;
                        }
                    }
                    // A refusal on arrival is reported; nothing else to do here.
                    let _ = ctx.process(book, i, [&buy, &sell], arriving);
                }
                if ctx.ended > 0 {
                    sweep(&mut book.orders, client_ids);
                }
            }
            if config.trade_on_close {
                book.last = Some([
                    View::point(buy.close, buy.volume, buy.bounds),
                    View::point(sell.close, sell.volume, sell.bounds),
                ]);
            }
        }
        let mark = event.reference_price().get();
        held.mark = Some(mark);
        if !book.funding.is_none() {
            let cv = book.spec.contract_value();
            let flat = held.ledger.is_flat(&book.spec);
            let held = held.ledger.quantity;
            let symbol = event.symbol;
            book.funding.advance(event.time, |time, rate| {
                if flat {
                    return;
                }
                let amount = held * mark * cv * rate;
                cash.pay_funding(amount);
                funding.push_back(FundingPayment {
                    symbol,
                    time,
                    rate,
                    position: held,
                    mark,
                    amount,
                });
            });
        }
    }
}

/// The `[buy, sell]` views of an event and the time it starts.
fn views(data: &MarketData, time: Timestamp) -> (View, View, Timestamp) {
    match data {
        MarketData::Candle(c) => {
            let v = View {
                open: c.open().get(),
                high: c.high().get(),
                low: c.low().get(),
                close: c.close().get(),
                volume: c.volume().get(),
                bounds: Some((c.low().get(), c.high().get())),
            };
            (v, v, c.open_time())
        }
        MarketData::Quote(q) => (
            View::point(q.ask().get(), q.ask_size().get(), None),
            View::point(q.bid().get(), q.bid_size().get(), None),
            time,
        ),
        MarketData::Trade(t) => {
            let v = View::point(t.price.get(), t.quantity.get(), None);
            (v, v, time)
        }
    }
}
