//! [`Wallet`]: the simulated account — cash, positions, fees and funding.
//!
//! # Invariants
//!
//! The wallet keeps cash as if every fill were settled in full (no margin model), so with `cv`
//! each instrument's contract value and `s = +1` for a buy, `-1` for a sell:
//!
//! ```text
//! cash = initial_cash − Σ_fills s × qty × price × cv − Σ fees − Σ funding
//! equity(marks) = cash + Σ_symbols position × mark × cv
//! ```
//!
//! Positions follow the usual average-entry rule: a fill in the direction of the position (or
//! from flat) moves `avg_entry` to the volume-weighted average; a fill against it realises
//! `closed × (price − avg_entry) × sign(position) × cv` and keeps `avg_entry`; a fill that
//! crosses through zero opens the remainder at the fill price. `realised_pnl` is net of the fees
//! and funding booked on that symbol.

use rustrade_core::{Asset, Position, QTY_EPSILON, Side, Symbol};

/// Cash, fees, funding and one position per registered symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct Wallet {
    asset: Asset,
    initial_cash: f64,
    cash: f64,
    fees_paid: f64,
    funding_paid: f64,
    positions: Vec<(Symbol, Position)>,
}

impl Wallet {
    /// A wallet holding `initial_cash` of `asset` and no positions (validated by
    /// [`SimConfig::validate`](crate::SimConfig::validate)).
    pub(crate) fn new(asset: Asset, initial_cash: f64) -> Self {
        Self {
            asset,
            initial_cash,
            cash: initial_cash,
            fees_paid: 0.0,
            funding_paid: 0.0,
            positions: Vec::new(),
        }
    }

    /// The cash asset (the quote currency of every instrument).
    pub fn asset(&self) -> Asset {
        self.asset
    }

    /// Cash the wallet started with.
    pub fn initial_cash(&self) -> f64 {
        self.initial_cash
    }

    /// Current cash balance.
    pub fn cash(&self) -> f64 {
        self.cash
    }

    /// Total fees paid (net of rebates).
    pub fn fees_paid(&self) -> f64 {
        self.fees_paid
    }

    /// Total funding paid (negative when more was received).
    pub fn funding_paid(&self) -> f64 {
        self.funding_paid
    }

    /// The position in `symbol` (flat when the symbol is unknown).
    pub fn position(&self, symbol: &Symbol) -> Position {
        self.positions
            .iter()
            .find(|(s, _)| s == symbol)
            .map_or(Position::FLAT, |(_, p)| *p)
    }

    /// Every registered symbol's position, in registration order.
    pub fn positions(&self) -> impl Iterator<Item = (Symbol, Position)> + '_ {
        self.positions.iter().copied()
    }

    /// Cash plus the value of every position at the given mark (`marks(symbol)` returns the mark
    /// and contract value; a symbol without one counts at its average entry).
    pub fn equity(&self, mut marks: impl FnMut(&Symbol) -> Option<(f64, f64)>) -> f64 {
        self.cash
            + self
                .positions
                .iter()
                .map(|(s, p)| match marks(s) {
                    Some((mark, cv)) => p.quantity * mark * cv,
                    None => p.quantity * p.avg_entry,
                })
                .sum::<f64>()
    }

    pub(crate) fn add_symbol(&mut self, symbol: Symbol) -> usize {
        self.positions.push((symbol, Position::FLAT));
        self.positions.len() - 1
    }

    /// Every position by reference, in the order symbols were added (the venue's book order).
    #[inline]
    pub(crate) fn position_refs(&self) -> impl Iterator<Item = &Position> + '_ {
        self.positions.iter().map(|(_, p)| p)
    }

    /// The position of the symbol at `index`, by reference.
    #[inline]
    pub(crate) fn position_ref(&self, index: usize) -> Option<&Position> {
        self.positions.get(index).map(|(_, p)| p)
    }

    pub(crate) fn position_at(&self, index: usize) -> Position {
        self.positions
            .get(index)
            .map_or(Position::FLAT, |(_, p)| *p)
    }

    /// Books one fill on the symbol at `index`.
    pub(crate) fn apply_fill(
        &mut self,
        index: usize,
        side: Side,
        qty: f64,
        price: f64,
        cv: f64,
        fee: f64,
    ) {
        let s = side.sign();
        self.cash -= s * qty * price * cv + fee;
        self.fees_paid += fee;
        let Some((_, p)) = self.positions.get_mut(index) else {
            return;
        };
        let old = p.quantity;
        let delta = s * qty;
        if old.abs() < QTY_EPSILON || old.signum() == s {
            let new = old + delta;
            p.avg_entry = (old.abs() * p.avg_entry + qty * price) / new.abs();
            p.quantity = new;
        } else {
            let closed = qty.min(old.abs());
            p.realised_pnl += closed * (price - p.avg_entry) * old.signum() * cv;
            let new = old + delta;
            if new.abs() < QTY_EPSILON {
                p.quantity = 0.0;
                p.avg_entry = 0.0;
            } else if new.signum() == old.signum() {
                p.quantity = new;
            } else {
                p.quantity = new;
                p.avg_entry = price;
            }
        }
        p.realised_pnl -= fee;
    }

    /// Books one funding payment on the symbol at `index`.
    pub(crate) fn apply_funding(&mut self, index: usize, amount: f64) {
        self.cash -= amount;
        self.funding_paid += amount;
        if let Some((_, p)) = self.positions.get_mut(index) {
            p.realised_pnl -= amount;
        }
    }

    pub(crate) fn set_unrealised(&mut self, index: usize, mark: f64, cv: f64) {
        if let Some((_, p)) = self.positions.get_mut(index) {
            p.unrealised_pnl = p.unrealised_at(mark, cv);
        }
    }
}
