//! [`Ledger`]: position accounting from fills for one holder (a brain, the whole bot, or a
//! simulated venue's account) on one instrument.
//!
//! This is the only place where position, average entry, realised PnL, fee attribution,
//! flatness and the value of a holding are computed: the engine keeps one ledger per brain and
//! one net ledger per symbol, and the simulated venue keeps one per symbol beside its cash, so a
//! backtest, a paper bot and a live bot fed the same fills report the same numbers.
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
//!   The fees are split by leg: the entry shares (and whatever open fee rounding leaves when the
//!   trade closes) are its entry fees, the exit shares its exit fees. Its quantity is the
//!   largest absolute size held while it was open.
//! - The **value** of the holding at `mark` is `Q · mark · cv` (at the average entry before any
//!   mark): what a cash account adds to its cash to get its equity.
//!
//! Flatness is judged against half a lot of the instrument, so binary floating-point dust never
//! keeps a position open; a position judged flat is set to exactly zero.

use crate::{InstrumentSpec, Position, Price, Side, Timestamp};

/// Signed position with its entry price, open fees and PnL accumulators.
///
/// A ledger saved without the per-leg fields (`trade_entry_fees`, `trade_exit_fees`,
/// `trade_peak`) loads with the trade's peak at its current size and the fees it already
/// accumulated on its entry leg, the split being unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "SavedLedger")]
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
    /// The entry-leg part of `trade_fees`.
    pub trade_entry_fees: f64,
    /// The exit-leg part of `trade_fees`.
    pub trade_exit_fees: f64,
    /// Largest absolute size held during the trade in progress.
    pub trade_peak: f64,
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
    /// Largest absolute size held while the trade was open.
    #[serde(default)]
    pub quantity: f64,
    /// Price of the first entry fill.
    pub entry_price: f64,
    /// Price of the fill that closed it.
    pub exit_price: f64,
    /// Sum of `close qty × (exit − entry) × sign × contract value` over the reducing fills.
    pub gross_pnl: f64,
    /// Fees of both legs charged to the trade (`entry_fees + exit_fees`, up to floating-point
    /// rounding of the sums).
    pub fees: f64,
    /// The entry-leg fees charged to the trade.
    #[serde(default)]
    pub entry_fees: f64,
    /// The exit-leg fees charged to the trade.
    #[serde(default)]
    pub exit_fees: f64,
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
        self.trade_entry_fees += entry_fee;
        self.trade_exit_fees += exit_fee;
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
    #[inline]
    pub fn is_flat(&self, spec: &InstrumentSpec) -> bool {
        spec.is_dust(self.quantity)
    }

    /// Unrealised PnL at `mark`, gross of fees: `Q · (mark − avg) · cv` (zero when flat).
    #[inline]
    pub fn unrealised_at(&self, spec: &InstrumentSpec, mark: f64) -> f64 {
        Position::new(self.quantity, self.avg_entry).unrealised_at(mark, spec.contract_value())
    }

    /// Value of the holding at `mark`, at the average entry when there is no mark yet:
    /// `Q · mark · cv`. A cash account's equity is its cash plus this.
    #[inline]
    pub fn market_value(&self, spec: &InstrumentSpec, mark: Option<f64>) -> f64 {
        self.quantity * mark.unwrap_or(self.avg_entry) * spec.contract_value()
    }

    /// The ledger as a core [`Position`], with unrealised PnL at `mark` (gross of fees; `None`
    /// leaves it zero).
    #[inline]
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
            self.flat_keeping_totals();
            return;
        }
        if self.is_flat(spec) || self.quantity.signum() != quantity.signum() {
            let side = if quantity > 0.0 {
                Side::Buy
            } else {
                Side::Sell
            };
            self.start_trade(side, avg_entry, time);
            self.open_fees = 0.0;
        }
        self.quantity = quantity;
        self.avg_entry = avg_entry;
        self.trade_peak = self.trade_peak.max(quantity.abs());
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
            self.start_trade(side, price, time);
        }
        self.avg_entry = (held * self.avg_entry + qty * price) / (held + qty);
        self.quantity += side.sign() * qty;
        self.open_fees += fee;
        self.trade_peak = self.trade_peak.max(self.quantity.abs());
    }

    fn finish_trade(&mut self, exit_price: f64, time: Timestamp) -> ClosedTrade {
        // Whatever open fee is left (rounding of the pro-rata shares) belongs to this trade.
        self.trade_fees += self.open_fees;
        self.trade_entry_fees += self.open_fees;
        self.realised_pnl -= self.open_fees;
        let trade = ClosedTrade {
            side: self.trade_side.unwrap_or(Side::Buy),
            quantity: self.trade_peak,
            entry_price: self.trade_entry,
            exit_price,
            gross_pnl: self.trade_gross,
            fees: self.trade_fees,
            entry_fees: self.trade_entry_fees,
            exit_fees: self.trade_exit_fees,
            net_pnl: self.trade_gross - self.trade_fees,
            opened_at: self.opened_at.unwrap_or(time),
            closed_at: time,
        };
        self.flat_keeping_totals();
        trade
    }

    /// A new round trip opens at `entry` on `side`: its sums start from zero.
    #[inline]
    fn start_trade(&mut self, side: Side, entry: f64, time: Timestamp) {
        self.opened_at = Some(time);
        self.trade_side = Some(side);
        self.trade_entry = entry;
        self.trade_gross = 0.0;
        self.trade_fees = 0.0;
        self.trade_entry_fees = 0.0;
        self.trade_exit_fees = 0.0;
        self.trade_peak = 0.0;
    }

    /// Flat, with nothing open; the realised PnL and fees paid so far stay.
    #[inline]
    fn flat_keeping_totals(&mut self) {
        *self = Self {
            realised_pnl: self.realised_pnl,
            fees_paid: self.fees_paid,
            ..Self::default()
        };
    }
}

/// The serialised form of a [`Ledger`], with the fields older saves lack as options.
#[derive(serde::Deserialize)]
struct SavedLedger {
    quantity: f64,
    avg_entry: f64,
    open_fees: f64,
    realised_pnl: f64,
    fees_paid: f64,
    trade_gross: f64,
    trade_fees: f64,
    trade_entry_fees: Option<f64>,
    trade_exit_fees: Option<f64>,
    trade_peak: Option<f64>,
    opened_at: Option<Timestamp>,
    trade_side: Option<Side>,
    trade_entry: f64,
}

impl From<SavedLedger> for Ledger {
    fn from(s: SavedLedger) -> Self {
        let (trade_entry_fees, trade_exit_fees) = match (s.trade_entry_fees, s.trade_exit_fees) {
            (Some(entry), Some(exit)) => (entry, exit),
            _ => (s.trade_fees, 0.0),
        };
        Self {
            quantity: s.quantity,
            avg_entry: s.avg_entry,
            open_fees: s.open_fees,
            realised_pnl: s.realised_pnl,
            fees_paid: s.fees_paid,
            trade_gross: s.trade_gross,
            trade_fees: s.trade_fees,
            trade_entry_fees,
            trade_exit_fees,
            trade_peak: s.trade_peak.unwrap_or(s.quantity.abs()),
            opened_at: s.opened_at,
            trade_side: s.trade_side,
            trade_entry: s.trade_entry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetClass, Symbol};

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
    fn closed_trade_carries_its_peak_size_and_fees_by_leg() {
        let s = spec(1.0);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Buy, 1.0, 100.0, 1.0, T);
        l.apply_fill(&s, Side::Buy, 3.0, 100.0, 3.0, T);
        l.apply_fill(&s, Side::Sell, 2.0, 100.0, 0.5, T);
        let t = l
            .apply_fill(&s, Side::Sell, 2.0, 100.0, 0.5, T)
            .trade
            .unwrap();
        assert_eq!(t.quantity, 4.0);
        assert_eq!((t.entry_fees, t.exit_fees, t.fees), (4.0, 1.0, 5.0));
        // A flip closes at the old peak and opens the rest as a new trade.
        l.apply_fill(&s, Side::Buy, 2.0, 100.0, 2.0, T);
        let t = l
            .apply_fill(&s, Side::Sell, 5.0, 100.0, 5.0, T)
            .trade
            .unwrap();
        assert_eq!((t.quantity, t.entry_fees, t.exit_fees), (2.0, 2.0, 2.0));
        assert_eq!((l.trade_peak, l.open_fees), (3.0, 3.0));
    }

    #[test]
    fn adopted_size_counts_towards_the_peak() {
        let s = spec(1.0);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Buy, 1.0, 100.0, 0.0, T);
        l.adopt(&s, 3.0, 100.0, T);
        assert_eq!(l.trade_peak, 3.0);
        l.adopt(&s, -1.0, 100.0, T);
        assert_eq!((l.trade_peak, l.trade_side), (1.0, Some(Side::Sell)));
        l.adopt(&s, 0.0, 0.0, T);
        assert_eq!(l.trade_peak, 0.0);
    }

    #[test]
    fn market_value_applies_the_contract_value_with_or_without_a_mark() {
        let s = spec(0.5);
        let mut l = Ledger::default();
        l.apply_fill(&s, Side::Sell, 4.0, 100.0, 0.0, T);
        assert_eq!(l.market_value(&s, None), -200.0);
        assert_eq!(l.market_value(&s, Some(90.0)), -180.0);
        assert_eq!(l.unrealised_at(&s, 90.0), 20.0);
        assert_eq!(Ledger::default().market_value(&s, Some(90.0)), 0.0);
    }

    #[test]
    fn a_ledger_saved_without_the_leg_fields_loads() {
        let saved = r#"{"quantity":1.0,"avg_entry":100.0,"open_fees":0.5,"realised_pnl":0.0,
            "fees_paid":0.5,"trade_gross":0.0,"trade_fees":0.0,"opened_at":0,
            "trade_side":"buy","trade_entry":100.0}"#;
        let l: Ledger = serde_json::from_str(saved).unwrap();
        assert_eq!(
            (l.quantity, l.trade_peak, l.trade_entry_fees),
            (1.0, 1.0, 0.0)
        );
        let mut full = l;
        full.apply_fill(&spec(1.0), Side::Buy, 1.0, 100.0, 0.5, T);
        full.apply_fill(&spec(1.0), Side::Sell, 0.5, 100.0, 0.5, T);
        assert_eq!(full.trade_peak, 2.0);
        let back: Ledger = serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
        assert_eq!(back, full);
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
