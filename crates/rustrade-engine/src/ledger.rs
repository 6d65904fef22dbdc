//! [`Ledger`]: position accounting from fills for one holder (a brain, or the whole bot) on one
//! instrument.
//!
//! # Accounting identities
//!
//! With `cv` the instrument's contract value, a fill of quantity `q` at price `p` with fee `f`:
//!
//! - **Opening** (flat, or same direction as the position): the average entry becomes the
//!   volume-weighted mean `(|Q|·avg + q·p) / (|Q| + q)`, and `f` is added to the *open fees*: the
//!   entry fee stays on the position until the size it paid for is closed.
//! - **Reducing** (opposite direction): `c = min(q, |Q|)` is closed. Gross PnL is
//!   `c · (p − avg) · sign(Q) · cv`; the fees charged to the close are the exit share `f · c / q`
//!   plus the entry share `open_fees · c / |Q|` (both legs of the round trip). Realised PnL grows by
//!   gross minus both fee shares. The average entry of the remaining size is unchanged.
//! - **Flip**: the part `q − c` beyond flat opens a new position in the fill's direction at `p`,
//!   carrying the remaining fee share `f · (q − c) / q` as its open fee.
//! - A **trade** runs from flat to flat (or to a flip). Its gross and fees accumulate over every
//!   reducing fill and are reported once, as a [`ClosedTrade`], when the size returns to flat.
//!
//! Flatness is judged against half a lot of the instrument, so binary floating-point dust never
//! keeps a position open; a position judged flat is set to exactly zero.

use rustrade_core::{InstrumentSpec, Position, Price, Side, Timestamp};

/// Signed position with its entry price, open fees and PnL accumulators.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Ledger {
    /// Signed size (`> 0` long, `< 0` short, `0` flat).
    pub quantity: f64,
    /// Volume-weighted average entry price of the open size (`0` when flat).
    pub avg_entry: f64,
    /// Fees paid to open the current size, not yet charged to a closed trade.
    pub open_fees: f64,
    /// PnL realised so far, net of the fees of both legs.
    pub realised_pnl: f64,
    /// Every fee paid so far (open and closed).
    pub fees_paid: f64,
    /// Gross PnL of the reducing fills of the trade in progress.
    pub trade_gross: f64,
    /// Fees charged to the reducing fills of the trade in progress (both legs).
    pub trade_fees: f64,
    /// When the trade in progress opened.
    pub opened_at: Option<Timestamp>,
    /// Side of the trade in progress.
    pub trade_side: Option<Side>,
    /// Entry price of the trade in progress when it opened.
    pub trade_entry: f64,
}

/// A round trip that returned to flat, as fed to the session PnL and the breaker.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClosedTrade {
    /// Side of the closed position (`Buy` for a long).
    pub side: Side,
    /// Price of the first entry fill.
    pub entry_price: f64,
    /// Price of the fill that closed it.
    pub exit_price: f64,
    /// Sum of `close qty × (exit − entry) × sign × contract value` over the reducing fills.
    pub gross_pnl: f64,
    /// Fees of both legs charged to the trade.
    pub fees: f64,
    /// `gross_pnl − fees`.
    pub net_pnl: f64,
    /// When the trade opened.
    pub opened_at: Timestamp,
    /// When it closed.
    pub closed_at: Timestamp,
}

/// What one fill did to a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FillEffect {
    /// Quantity that reduced an existing position.
    pub closed_qty: f64,
    /// Quantity that opened or increased a position.
    pub opened_qty: f64,
    /// Realised PnL of this fill (gross minus both fee shares).
    pub realised: f64,
    /// The round trip completed by this fill, if it returned the position to flat.
    pub trade: Option<ClosedTrade>,
}

impl Ledger {
    /// Applies a fill of `qty` (`> 0`) at `price` with `fee` on `side`, following the identities
    /// of the module doc.
    pub fn apply_fill(
        &mut self,
        spec: &InstrumentSpec,
        side: Side,
        qty: f64,
        price: f64,
        fee: f64,
        time: Timestamp,
    ) -> FillEffect {
        let cv = spec.contract_value();
        let sign = side.sign();
        let mut effect = FillEffect::default();
        self.fees_paid += fee;
        let reducing = !self.is_flat(spec) && self.quantity.signum() != sign;
        if !reducing {
            self.open(spec, side, qty, price, fee, time);
            effect.opened_qty = qty;
            return effect;
        }
        let held = self.quantity.abs();
        let closed = qty.min(held);
        let exit_fee = fee * closed / qty;
        let entry_fee = self.open_fees * closed / held;
        let gross = closed * (price - self.avg_entry) * self.quantity.signum() * cv;
        self.open_fees -= entry_fee;
        self.trade_gross += gross;
        self.trade_fees += exit_fee + entry_fee;
        self.realised_pnl += gross - exit_fee - entry_fee;
        effect.realised = gross - exit_fee - entry_fee;
        effect.closed_qty = closed;
        self.quantity -= self.quantity.signum() * closed;
        if spec.is_dust(self.quantity) {
            effect.trade = Some(self.finish_trade(price, time));
            let rest = qty - closed;
            if !spec.is_dust(rest) {
                self.open(spec, side, rest, price, fee * rest / qty, time);
                effect.opened_qty = rest;
            }
        }
        effect
    }

    /// Whether the size is within half a lot of zero.
    pub fn is_flat(&self, spec: &InstrumentSpec) -> bool {
        spec.is_dust(self.quantity)
    }

    /// The ledger as a core [`Position`], with unrealised PnL at `mark` (gross of fees; `None`
    /// leaves it zero).
    pub fn position(&self, spec: &InstrumentSpec, mark: Option<Price>) -> Position {
        let mut p = Position::new(self.quantity, self.avg_entry);
        p.realised_pnl = self.realised_pnl;
        p.unrealised_pnl = mark.map_or(0.0, |m| p.unrealised_at(m.get(), spec.contract_value()));
        p
    }

    /// Replaces the open size with `quantity` at `avg_entry`, as when a venue report is adopted.
    /// Realised PnL is kept; a trade in progress loses its link to the previous size.
    pub fn adopt(&mut self, spec: &InstrumentSpec, quantity: f64, avg_entry: f64, time: Timestamp) {
        if spec.is_dust(quantity) {
            *self = Self {
                realised_pnl: self.realised_pnl,
                fees_paid: self.fees_paid,
                ..Self::default()
            };
            return;
        }
        if self.is_flat(spec) || self.quantity.signum() != quantity.signum() {
            self.opened_at = Some(time);
            self.trade_side = Some(if quantity > 0.0 {
                Side::Buy
            } else {
                Side::Sell
            });
            self.trade_entry = avg_entry;
            self.trade_gross = 0.0;
            self.trade_fees = 0.0;
            self.open_fees = 0.0;
        }
        self.quantity = quantity;
        self.avg_entry = avg_entry;
    }

    fn open(
        &mut self,
        spec: &InstrumentSpec,
        side: Side,
        qty: f64,
        price: f64,
        fee: f64,
        time: Timestamp,
    ) {
        let held = if self.is_flat(spec) {
            0.0
        } else {
            self.quantity.abs()
        };
        if held == 0.0 {
            self.quantity = 0.0;
            self.opened_at = Some(time);
            self.trade_side = Some(side);
            self.trade_entry = price;
            self.trade_gross = 0.0;
            self.trade_fees = 0.0;
        }
        self.avg_entry = (held * self.avg_entry + qty * price) / (held + qty);
        self.quantity += side.sign() * qty;
        self.open_fees += fee;
    }

    fn finish_trade(&mut self, exit_price: f64, time: Timestamp) -> ClosedTrade {
        // Whatever open fee is left (rounding of the pro-rata shares) belongs to this trade.
        self.trade_fees += self.open_fees;
        self.realised_pnl -= self.open_fees;
        let trade = ClosedTrade {
            side: self.trade_side.unwrap_or(Side::Buy),
            entry_price: self.trade_entry,
            exit_price,
            gross_pnl: self.trade_gross,
            fees: self.trade_fees,
            net_pnl: self.trade_gross - self.trade_fees,
            opened_at: self.opened_at.unwrap_or(time),
            closed_at: time,
        };
        self.quantity = 0.0;
        self.avg_entry = 0.0;
        self.open_fees = 0.0;
        self.trade_gross = 0.0;
        self.trade_fees = 0.0;
        self.opened_at = None;
        self.trade_side = None;
        self.trade_entry = 0.0;
        trade
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::{AssetClass, Symbol};

    fn spec(cv: f64) -> InstrumentSpec {
        InstrumentSpec::new(
            Symbol::new("X").unwrap(),
            AssetClass::CryptoPerp,
            0.01,
            0.001,
        )
        .unwrap()
        .with_contract_value(cv)
        .unwrap()
    }

    const T: Timestamp = Timestamp::EPOCH;

    #[test]
    fn round_trip_charges_both_fees() {
        let s = spec(1.0);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Buy, 1.0, 100.0, 0.5, T);
        assert_eq!(l.open_fees, 0.5);
        let e = l.apply_fill(&s, Side::Sell, 1.0, 110.0, 0.5, T);
        let t = e.trade.unwrap();
        assert_eq!((t.gross_pnl, t.fees, t.net_pnl), (10.0, 1.0, 9.0));
        assert_eq!(l.realised_pnl, 9.0);
        assert!(l.is_flat(&s) && l.quantity == 0.0);
    }

    #[test]
    fn averaging_and_partial_close_keep_identities() {
        let s = spec(1.0);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Buy, 1.0, 100.0, 1.0, T);
        l.apply_fill(&s, Side::Buy, 1.0, 110.0, 1.0, T);
        assert_eq!(l.avg_entry, 105.0);
        let e = l.apply_fill(&s, Side::Sell, 1.0, 115.0, 1.0, T);
        assert!(e.trade.is_none());
        assert_eq!(e.realised, 10.0 - 1.0 - 1.0);
        assert_eq!(l.open_fees, 1.0);
        let e = l.apply_fill(&s, Side::Sell, 1.0, 105.0, 1.0, T);
        let t = e.trade.unwrap();
        assert_eq!((t.gross_pnl, t.fees), (10.0, 4.0));
        assert_eq!(l.realised_pnl, t.net_pnl);
    }

    #[test]
    fn flip_opens_the_rest_at_the_fill_price() {
        let s = spec(1.0);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Buy, 2.0, 100.0, 0.0, T);
        let e = l.apply_fill(&s, Side::Sell, 3.0, 90.0, 3.0, T);
        let t = e.trade.unwrap();
        assert_eq!(t.gross_pnl, -20.0);
        assert_eq!(t.fees, 2.0);
        assert_eq!((l.quantity, l.avg_entry, l.open_fees), (-1.0, 90.0, 1.0));
        assert_eq!(l.trade_side, Some(Side::Sell));
    }

    #[test]
    fn contract_value_scales_pnl() {
        let s = spec(0.001);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Sell, 2.0, 30_000.0, 0.0, T);
        let t = l
            .apply_fill(&s, Side::Buy, 2.0, 29_000.0, 0.0, T)
            .trade
            .unwrap();
        assert!((t.gross_pnl - 2.0).abs() < 1e-9, "{}", t.gross_pnl);
        let p = Ledger {
            quantity: 1.0,
            avg_entry: 100.0,
            ..Ledger::default()
        }
        .position(&s, Some(Price::new(200.0).unwrap()));
        assert!((p.unrealised_pnl - 0.1).abs() < 1e-12);
    }

    #[test]
    fn dust_is_flat() {
        let s = spec(1.0);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Buy, 0.3, 100.0, 0.0, T);
        l.apply_fill(&s, Side::Sell, 0.1, 100.0, 0.0, T);
        l.apply_fill(&s, Side::Sell, 0.1, 100.0, 0.0, T);
        let e = l.apply_fill(&s, Side::Sell, 0.1, 100.0, 0.0, T);
        assert!(e.trade.is_some());
        assert_eq!(l.quantity, 0.0);
    }
}
