//! [`Wallet`]: the simulated account — cash and funding, with the positions, PnL and fees of the
//! one [`Ledger`] per symbol.
//!
//! # Invariants
//!
//! The venue keeps cash as if every fill were settled in full (no margin model), so with `cv`
//! each instrument's contract value and `s = +1` for a buy, `-1` for a sell:
//!
//! ```text
//! cash = initial_cash − Σ_fills s × qty × price × cv − Σ fees − Σ funding
//! equity = cash + Σ_symbols ledger.market_value(mark)      (position × mark × cv)
//! ```
//!
//! Everything else — position, average entry, realised PnL net of the fees of both legs,
//! flatness in lots, the value of a holding before the first mark — is the core [`Ledger`]'s,
//! fed the same fills as the engine's, so the venue and the engine agree on every number.
//! Funding is a cash flow of the account: it is in `cash` and [`Wallet::funding_paid`], not in
//! a position's realised PnL (the engine never sees it either).

use rustrade_core::{Asset, InstrumentSpec, Ledger, Position, Price, Side, Symbol};

/// The account as a venue reports it: cash and funding from the venue's cash book, positions
/// and fees from each symbol's ledger at its last mark. Borrowed from
/// [`SimVenue::wallet`](crate::SimVenue::wallet).
#[derive(Debug, Clone, Copy)]
pub struct Wallet<'a> {
    cash: &'a Cash,
    books: &'a [Held],
}

impl<'a> Wallet<'a> {
    pub(crate) fn new(cash: &'a Cash, books: &'a [Held]) -> Self {
        Self { cash, books }
    }

    /// The cash asset (the quote currency of every instrument).
    pub fn asset(&self) -> Asset {
        self.cash.asset
    }

    /// Cash the wallet started with.
    pub fn initial_cash(&self) -> f64 {
        self.cash.initial_cash
    }

    /// Current cash balance.
    pub fn cash(&self) -> f64 {
        self.cash.cash
    }

    /// Total fees paid (net of rebates), summed over the ledgers.
    pub fn fees_paid(&self) -> f64 {
        self.books.iter().map(|h| h.ledger.fees_paid).sum()
    }

    /// Total funding paid (negative when more was received).
    pub fn funding_paid(&self) -> f64 {
        self.cash.funding_paid
    }

    /// The ledger of `symbol`, when registered.
    pub fn ledger(&self, symbol: &Symbol) -> Option<&'a Ledger> {
        self.books
            .iter()
            .find(|h| h.spec.symbol() == *symbol)
            .map(|h| &h.ledger)
    }

    /// The position in `symbol` with unrealised PnL at its last mark (flat when unknown).
    pub fn position(&self, symbol: &Symbol) -> Position {
        self.books
            .iter()
            .find(|h| h.spec.symbol() == *symbol)
            .map_or(Position::FLAT, Held::position)
    }

    /// Every registered symbol's position, in registration order.
    pub fn positions(&self) -> impl Iterator<Item = (Symbol, Position)> + 'a {
        self.books.iter().map(|h| (h.spec.symbol(), h.position()))
    }

    /// Cash plus the value of every position at its last mark (at its average entry before
    /// any), with the contract value.
    pub fn equity(&self) -> f64 {
        equity(self.cash, self.books)
    }
}

/// The venue's cash book: the part of the account the ledgers do not hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cash {
    asset: Asset,
    initial_cash: f64,
    cash: f64,
    funding_paid: f64,
    /// Holdings whose quantity is not zero (kept by [`Cash::track_open`] at every fill):
    /// while there are none, equity is the cash and no holding is read.
    open: usize,
}

impl Cash {
    /// `initial_cash` of `asset` (validated by [`SimConfig::validate`](crate::SimConfig::validate)).
    pub(crate) fn new(asset: Asset, initial_cash: f64) -> Self {
        Self {
            asset,
            initial_cash,
            cash: initial_cash,
            funding_paid: 0.0,
            open: 0,
        }
    }

    /// Current cash balance.
    #[inline]
    pub(crate) fn get(&self) -> f64 {
        self.cash
    }

    /// Settles one fill in full: its notional and its fee.
    #[inline]
    pub(crate) fn settle_fill(&mut self, side: Side, qty: f64, price: f64, cv: f64, fee: f64) {
        self.cash -= side.sign() * qty * price * cv + fee;
    }

    /// Counts a holding that a fill opened (`was_open` false, `is_open` true) or closed.
    #[inline]
    pub(crate) fn track_open(&mut self, was_open: bool, is_open: bool) {
        match (was_open, is_open) {
            (false, true) => self.open += 1,
            (true, false) => self.open -= 1,
            _ => {}
        }
    }

    /// Books one funding payment.
    pub(crate) fn pay_funding(&mut self, amount: f64) {
        self.cash -= amount;
        self.funding_paid += amount;
    }
}

/// One instrument's holding at the venue: its spec, its last mark and its ledger.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) spec: InstrumentSpec,
    pub(crate) mark: Option<f64>,
    pub(crate) ledger: Ledger,
}

impl Held {
    pub(crate) fn new(spec: InstrumentSpec) -> Self {
        Self {
            spec,
            mark: None,
            ledger: Ledger::default(),
        }
    }

    /// The ledger's position with unrealised PnL at the last mark.
    pub(crate) fn position(&self) -> Position {
        self.ledger
            .position(&self.spec, self.mark.and_then(|m| Price::new(m).ok()))
    }
}

/// Cash plus every holding's market value. Flat holdings add exactly zero, so they are skipped:
/// with none open (the common case) no holding is read.
#[inline]
pub(crate) fn equity(cash: &Cash, books: &[Held]) -> f64 {
    if cash.open == 0 {
        return cash.cash;
    }
    let mut held = 0.0;
    for h in books {
        if h.ledger.quantity != 0.0 {
            held += h.ledger.market_value(&h.spec, h.mark);
        }
    }
    cash.cash + held
}
