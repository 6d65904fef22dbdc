//! Protective exits attached to an entry: venue-held legs forming an OCO group, and stops,
//! take-profits and trailing stops the engine emulates from market events.
//!
//! # Rules
//!
//! - Each protective price of an entry is held at the venue when the venue has the capability
//!   (stop-market, take-profit, trailing stop) and emulated by the engine otherwise; never both.
//! - Venue-held legs are placed, reduce-only, for the **filled** quantity of the entry once the
//!   entry stops working (completely filled, or cancelled/expired after a partial fill). Until
//!   they are placed, the engine emulates them, so a partly filled entry is never unprotected.
//!   Emulated protection is armed from the first entry fill and covers the quantity filled so
//!   far.
//! - The venue-held legs of one entry are one OCO group: the first fill of any leg cancels every
//!   other live leg of the group, once. A later fill of a leg whose siblings are already done
//!   cancels nothing.
//! - Emulated triggers, for a long (mirrored for a short): stop when the low (or trade price, or
//!   bid) reaches the stop; take-profit when the high (or trade price, or bid) reaches it; a trailing
//!   stop tracks the best price seen since the entry fill and triggers when the price falls back by
//!   the offset. When a candle could have touched both stop and take-profit, the stop wins (the
//!   conservative reading). A triggered bracket emits one reduce-only market exit and is disarmed.
//! - When the holder's position returns to flat, every bracket of that brain and symbol is dropped
//!   and its live legs cancelled.

use rustrade_core::{ClientOrderId, MarketData, MarketEvent, OrderKind, Price, Side, Symbol};

use crate::{BrainId, ExitReason};

/// The protective prices requested with an entry, as journalled.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BracketPrices {
    /// Protective stop trigger.
    pub stop: Option<Price>,
    /// Take-profit trigger.
    pub take_profit: Option<Price>,
    /// Trailing-stop offset.
    pub trailing: Option<Price>,
}

/// Protection requested with an entry and its state.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bracket {
    /// The entry order this protects.
    pub entry: ClientOrderId,
    /// Owner of the entry.
    pub brain: BrainId,
    /// Instrument.
    pub symbol: Symbol,
    /// Side of the entry (`Buy` protects a long).
    pub side: Side,
    /// Protective stop trigger.
    pub stop: Option<Price>,
    /// Take-profit trigger.
    pub take_profit: Option<Price>,
    /// Trailing-stop offset.
    pub trailing: Option<Price>,
    /// Whether each of stop / take-profit / trailing is held at the venue (`false`: emulated).
    pub venue_held: [bool; 3],
    /// Client ids of the venue-held legs once placed: stop, take-profit, trailing.
    pub legs: [Option<ClientOrderId>; 3],
    /// Quantity of the entry filled so far (what the protection covers).
    pub filled: f64,
    /// Best price seen since the first entry fill, for the trailing stop.
    pub best: f64,
    /// Whether the legs have been placed.
    pub legs_placed: bool,
    /// Whether the emulated part has fired (it fires once).
    pub triggered: bool,
}

impl Bracket {
    /// A bracket for `entry` with nothing filled yet; each price is held at the venue when
    /// `venue_has(kind)` says the venue can hold that kind of order.
    pub(crate) fn new(
        entry: ClientOrderId,
        brain: BrainId,
        symbol: Symbol,
        side: Side,
        prices: BracketPrices,
        venue_has: impl Fn(OrderKind) -> bool,
    ) -> Self {
        Self {
            entry,
            brain,
            symbol,
            side,
            stop: prices.stop,
            take_profit: prices.take_profit,
            trailing: prices.trailing,
            venue_held: [
                venue_has(OrderKind::StopMarket),
                venue_has(OrderKind::TakeProfit),
                venue_has(OrderKind::TrailingStop),
            ],
            legs: [None; 3],
            filled: 0.0,
            best: 0.0,
            legs_placed: false,
            triggered: false,
        }
    }

    /// The protective prices.
    pub fn prices(&self) -> BracketPrices {
        BracketPrices {
            stop: self.stop,
            take_profit: self.take_profit,
            trailing: self.trailing,
        }
    }

    /// Whether any protective price is emulated by the engine.
    pub fn has_emulated(&self) -> bool {
        (0..3).any(|i| self.wants(i) && !self.venue_held[i])
    }

    /// Whether any protective price is held at the venue.
    pub fn has_venue_legs(&self) -> bool {
        (0..3).any(|i| self.wants(i) && self.venue_held[i])
    }

    /// Whether protection slot `i` (0 stop, 1 take-profit, 2 trailing) was requested.
    pub fn wants(&self, i: usize) -> bool {
        match i {
            0 => self.stop.is_some(),
            1 => self.take_profit.is_some(),
            _ => self.trailing.is_some(),
        }
    }

    /// Records an entry fill at `price`: extends the covered quantity and seeds the trailing
    /// watermark.
    pub(crate) fn on_entry_fill(&mut self, qty: f64, price: f64) {
        if self.filled == 0.0 {
            self.best = price;
        }
        self.filled += qty;
    }

    /// Checks the emulated triggers against a market event; updates the trailing watermark.
    /// Returns the exit reason when a trigger fires.
    pub(crate) fn check(&mut self, event: &MarketEvent) -> Option<ExitReason> {
        if self.triggered || self.filled <= 0.0 || !(0..3).any(|i| self.armed(i)) {
            return None;
        }
        let long = self.side == Side::Buy;
        let (adverse, favourable) = extremes(event, long);
        let stop = self.stop.filter(|_| self.armed(0));
        let take = self.take_profit.filter(|_| self.armed(1));
        let trail = self.trailing.filter(|_| self.armed(2));
        let fired = if stop.is_some_and(|s| crossed_adverse(adverse, s.get(), long)) {
            Some(ExitReason::EmulatedStop)
        } else if trail.is_some_and(|o| crossed_adverse(adverse, self.trail_level(o), long)) {
            Some(ExitReason::EmulatedTrailingStop)
        } else if take.is_some_and(|t| crossed_favourable(favourable, t.get(), long)) {
            Some(ExitReason::EmulatedTakeProfit)
        } else {
            None
        };
        if fired.is_none() && trail.is_some() {
            self.best = if long {
                self.best.max(favourable)
            } else {
                self.best.min(favourable)
            };
            let close = event.reference_price().get();
            if let Some(o) = trail
                && crossed_adverse(close, self.trail_level(o), long)
            {
                self.triggered = true;
                return Some(ExitReason::EmulatedTrailingStop);
            }
        }
        if fired.is_some() {
            self.triggered = true;
        }
        fired
    }

    /// Whether the engine watches slot `i` itself: emulated by configuration, or venue-held but
    /// not placed yet.
    fn armed(&self, i: usize) -> bool {
        self.wants(i) && (!self.venue_held[i] || !self.legs_placed)
    }

    fn trail_level(&self, offset: Price) -> f64 {
        if self.side == Side::Buy {
            self.best - offset.get()
        } else {
            self.best + offset.get()
        }
    }
}

/// The most adverse and most favourable prices of an event for a position (long or short).
fn extremes(event: &MarketEvent, long: bool) -> (f64, f64) {
    match &event.data {
        MarketData::Candle(c) => {
            if long {
                (c.low().get(), c.high().get())
            } else {
                (c.high().get(), c.low().get())
            }
        }
        // A long exits at the bid, a short at the ask.
        MarketData::Quote(q) => {
            let p = if long { q.bid().get() } else { q.ask().get() };
            (p, p)
        }
        MarketData::Trade(t) => (t.price.get(), t.price.get()),
    }
}

fn crossed_adverse(price: f64, level: f64, long: bool) -> bool {
    if long { price <= level } else { price >= level }
}

fn crossed_favourable(price: f64, level: f64, long: bool) -> bool {
    if long { price >= level } else { price <= level }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::{Candle, Timestamp, Trade, Venue};

    fn bracket(side: Side) -> Bracket {
        Bracket {
            entry: ClientOrderId::new("b-0-1").unwrap(),
            brain: BrainId(0),
            symbol: Symbol::new("X").unwrap(),
            side,
            stop: None,
            take_profit: None,
            trailing: None,
            venue_held: [false; 3],
            legs: [None; 3],
            filled: 0.0,
            best: 0.0,
            legs_placed: false,
            triggered: false,
        }
    }

    fn trade(p: f64) -> MarketEvent {
        MarketEvent {
            venue: Venue::new("sim").unwrap(),
            symbol: Symbol::new("X").unwrap(),
            time: Timestamp::EPOCH,
            data: MarketData::Trade(Trade {
                price: Price::new(p).unwrap(),
                quantity: rustrade_core::Quantity::new(1.0).unwrap(),
                aggressor: Side::Buy,
            }),
        }
    }

    fn candle(o: f64, h: f64, l: f64, c: f64) -> MarketEvent {
        let candle = Candle::new(Timestamp::EPOCH, o, h, l, c, 1.0).unwrap();
        MarketEvent::candle(
            Venue::new("sim").unwrap(),
            Symbol::new("X").unwrap(),
            Timestamp::EPOCH,
            candle,
        )
    }

    #[test]
    fn stop_wins_when_a_candle_touches_both() {
        let mut b = bracket(Side::Buy);
        b.stop = Some(Price::new(90.0).unwrap());
        b.take_profit = Some(Price::new(110.0).unwrap());
        assert_eq!(b.check(&trade(80.0)), None, "not armed before a fill");
        b.on_entry_fill(1.0, 100.0);
        assert_eq!(
            b.check(&candle(100.0, 111.0, 89.0, 100.0)),
            Some(ExitReason::EmulatedStop)
        );
        assert_eq!(b.check(&trade(80.0)), None, "fires once");
    }

    #[test]
    fn short_take_profit_and_trailing() {
        let mut b = bracket(Side::Sell);
        b.take_profit = Some(Price::new(90.0).unwrap());
        b.on_entry_fill(1.0, 100.0);
        assert_eq!(b.check(&trade(95.0)), None);
        assert_eq!(b.check(&trade(90.0)), Some(ExitReason::EmulatedTakeProfit));
        let mut t = bracket(Side::Sell);
        t.trailing = Some(Price::new(5.0).unwrap());
        t.on_entry_fill(1.0, 100.0);
        assert_eq!(t.check(&trade(92.0)), None);
        assert_eq!(t.best, 92.0);
        assert_eq!(t.check(&trade(96.0)), None);
        assert_eq!(
            t.check(&trade(97.0)),
            Some(ExitReason::EmulatedTrailingStop)
        );
    }

    #[test]
    fn venue_held_prices_are_emulated_only_until_the_legs_are_placed() {
        let mut b = bracket(Side::Buy);
        b.stop = Some(Price::new(90.0).unwrap());
        b.venue_held = [true, false, false];
        b.on_entry_fill(1.0, 100.0);
        assert!(!b.has_emulated() && b.has_venue_legs());
        let mut waiting = b;
        assert_eq!(waiting.check(&trade(50.0)), Some(ExitReason::EmulatedStop));
        b.legs_placed = true;
        assert_eq!(b.check(&trade(50.0)), None);
    }
}
