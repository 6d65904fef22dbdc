//! [`FillBook`]: the harness's own accounting of the venue's fills, written apart from the
//! engine's ledger so the two can disagree.
//!
//! Rules (the documented accounting of a round trip): a fill in the position's direction (or
//! from flat) opens size at a volume-weighted entry and its fee waits as *open fees*; a fill
//! against it closes `c = min(q, |Q|)`, realising `c · (p − entry) · sign(Q)` less the exit fee
//! share `f · c / q` and the entry fee share `open · c / |Q|`; size beyond flat opens the other
//! way with the rest of the fee. A round trip ends when the size is flat within half a lot.

use rustrade_core::{Fill, Side};

/// One closed round trip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrip {
    /// Gross PnL.
    pub gross: f64,
    /// Fees of both legs.
    pub fees: f64,
}

impl RoundTrip {
    /// Net PnL.
    pub fn net(&self) -> f64 {
        self.gross - self.fees
    }
}

/// Position, realised PnL, fees and round trips of one symbol, from its fills.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FillBook {
    /// Signed size.
    pub quantity: f64,
    entry: f64,
    open_fees: f64,
    /// Realised PnL net of both fee legs.
    pub realised: f64,
    /// Every fee paid.
    pub fees_paid: f64,
    trade_gross: f64,
    trade_fees: f64,
    /// Closed round trips, in order.
    pub trips: Vec<RoundTrip>,
}

impl FillBook {
    /// The book of `fills` (in venue order) on an instrument with lot `lot`.
    pub fn of(fills: &[Fill], lot: f64) -> Self {
        let mut book = Self::default();
        for f in fills {
            book.apply(f.side, f.quantity.get(), f.price.get(), f.fee.get(), lot);
        }
        book
    }

    fn apply(&mut self, side: Side, qty: f64, price: f64, fee: f64, lot: f64) {
        let dir = if side == Side::Buy { 1.0 } else { -1.0 };
        self.fees_paid += fee;
        let held = self.quantity.abs();
        if self.quantity == 0.0 || self.quantity.signum() == dir {
            self.entry = (held * self.entry + qty * price) / (held + qty);
            self.quantity += dir * qty;
            self.open_fees += fee;
            return;
        }
        let closed = qty.min(held);
        let gross = closed * (price - self.entry) * self.quantity.signum();
        let fee_share = fee * closed / qty + self.open_fees * closed / held;
        self.open_fees -= self.open_fees * closed / held;
        self.realised += gross - fee_share;
        self.trade_gross += gross;
        self.trade_fees += fee_share;
        self.quantity += dir * closed;
        if self.quantity.abs() < lot / 2.0 {
            self.quantity = 0.0;
            self.open_fees = 0.0;
            self.trips.push(RoundTrip {
                gross: self.trade_gross,
                fees: self.trade_fees,
            });
            self.trade_gross = 0.0;
            self.trade_fees = 0.0;
            let rest = qty - closed;
            if rest >= lot / 2.0 {
                self.entry = price;
                self.quantity = dir * rest;
                self.open_fees = fee * rest / qty;
            } else {
                self.entry = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_trip_charges_both_fee_legs() {
        let mut b = FillBook::default();
        b.apply(Side::Buy, 2.0, 100.0, 0.2, 0.001);
        b.apply(Side::Sell, 1.0, 110.0, 0.1, 0.001);
        assert!((b.realised - (10.0 - 0.1 - 0.1)).abs() < 1e-12);
        b.apply(Side::Sell, 1.0, 90.0, 0.1, 0.001);
        assert_eq!(b.quantity, 0.0);
        assert_eq!(b.trips.len(), 1);
        let t = b.trips[0];
        assert!((t.gross - 0.0).abs() < 1e-12);
        assert!((t.fees - 0.4).abs() < 1e-12);
        assert!((b.fees_paid - 0.4).abs() < 1e-12);
    }

    #[test]
    fn a_flip_opens_the_rest_the_other_way() {
        let mut b = FillBook::default();
        b.apply(Side::Buy, 1.0, 100.0, 0.0, 0.001);
        b.apply(Side::Sell, 3.0, 100.0, 0.3, 0.001);
        assert!((b.quantity + 2.0).abs() < 1e-12);
        assert_eq!(b.trips.len(), 1);
        assert!((b.open_fees - 0.2).abs() < 1e-12);
    }
}
