//! The account as the engine knows it: cash reported by the driver, moved by every fill the
//! engine applies, and equity from the net ledgers; and [`BrainAccount`], the view a brain reads
//! while deciding.
//!
//! # Where cash comes from, and why
//!
//! Position, average entry, PnL and the value of a holding come from the one [`Ledger`]
//! (`crate::Ledger`) per symbol, but cash is a fact of the venue (deposits, funding, transfers,
//! other bots on the same account), so the engine does not invent it: the driver reports the
//! venue's cash with [`Engine::handle_balance`] — the backtest from its simulated venue's wallet
//! at start and after each batch of fills, a live bot from the adapter's balance. Between two
//! reports the engine moves cash by each fill it applies, with the simulated venue's identity
//! `cash −= s × qty × price × cv + fee`, so sizing between reports sees the cash its own fills
//! left. Until the first report, equity and cash are unknown and equity or cash sizing is
//! refused (`funds_unknown`); margin sizing, the default, needs neither.
//!
//! # Identities
//!
//! - `equity = cash + Σ_symbols net.quantity × mark × cv` (the net ledger's market value, at
//!   its average entry before a first mark).
//! - The funds a reversal sizes its new side from are those after the close fills at the
//!   reference price `p` with the fee rate `r`: `cash + Q × p × cv − r × |Q| × p × cv` and
//!   `equity − (Q × (mark − p) × cv) − r × |Q| × p × cv`, `Q` being the brain's position.
//!
//! The cash is part of the snapshot; it is not journalled: after a restart the driver reports
//! the venue's balance again.

use rustrade_core::{AccountView, Order, Price};
use rustrade_risk::Funds;

use crate::{BrainId, Engine, SymbolSlot};

impl Engine {
    /// The account's cash as the venue reports it, at `now`: replaces what the engine knew.
    /// A non-finite value is ignored (and logged), keeping the last good one.
    #[inline]
    pub fn handle_balance(&mut self, cash: f64, now: rustrade_core::Timestamp) {
        if !cash.is_finite() {
            ignore_balance(cash, now);
            return;
        }
        self.positions.set_cash(cash);
    }

    /// The account's cash: the last balance reported, moved by the fills applied since; `None`
    /// before any report.
    #[inline]
    pub fn cash(&self) -> Option<f64> {
        self.positions.cash()
    }

    /// Cash plus the value of every net position at its mark; `None` before a balance report.
    pub fn equity(&self) -> Option<f64> {
        self.positions.equity()
    }

    /// What `brain` may read about the account while deciding on an event of the symbol at
    /// `slot` (see [`rustrade_core::BrainContext`]). Borrowing it costs nothing; each figure is
    /// computed when read.
    #[inline]
    pub fn account_view(&self, slot: SymbolSlot, brain: BrainId) -> BrainAccount<'_> {
        BrainAccount {
            engine: self,
            slot,
            brain,
        }
    }

    /// Whether `decision` on `symbol` is sized from the account's funds (an equity or cash
    /// hint, or the default hint under an equity or cash basis): only then are they summed.
    #[inline]
    pub(crate) fn sizes_from_funds(
        &self,
        symbol: &rustrade_core::Symbol,
        decision: &rustrade_core::Decision,
    ) -> bool {
        use rustrade_core::SizeHint;
        match decision.size_hint() {
            SizeHint::EquityFraction(_) | SizeHint::CashFraction(_) => true,
            SizeHint::Default => self
                .risk
                .symbol(symbol)
                .is_some_and(|r| !r.sizer.config().basis.is_margin()),
            _ => false,
        }
    }

    /// The funds entries are sized from: the account's, or, for the new side of a reversal of
    /// `held` at `reference`, those left once the close has filled there with the expected fee
    /// rate `fee_rate`.
    pub(crate) fn funds_after_close(
        &self,
        held: f64,
        mark: Option<Price>,
        reference: Price,
        cv: f64,
        fee_rate: f64,
    ) -> Funds {
        let (equity, cash) = (self.equity(), self.cash());
        let p = reference.get();
        let fee = fee_rate * held.abs() * p * cv;
        let mark = mark.map_or(p, Price::get);
        Funds {
            equity: equity.map(|e| e - held * (mark - p) * cv - fee),
            cash: cash.map(|c| c + held * p * cv - fee),
        }
    }
}

/// Logs a non-finite balance report [`Engine::handle_balance`] ignores (out of line: it never
/// happens on a healthy feed).
#[cold]
#[inline(never)]
fn ignore_balance(cash: f64, now: rustrade_core::Timestamp) {
    tracing::warn!(cash, time = %now, "non-finite account balance ignored");
}

/// The account as one brain sees it while deciding on one symbol: equity and cash of the whole
/// account, its own live orders and the candles seen on the symbol. Built by
/// [`Engine::account_view`].
#[derive(Debug, Clone, Copy)]
pub struct BrainAccount<'a> {
    engine: &'a Engine,
    slot: SymbolSlot,
    brain: BrainId,
}

impl BrainAccount<'_> {
    fn mine<'o>(&self, o: &'o crate::TrackedOrder) -> Option<&'o Order> {
        let symbol = self
            .engine
            .positions
            .at(self.slot.0 as usize)?
            .spec()
            .symbol();
        (o.brain == self.brain && o.order.symbol == symbol).then_some(&o.order)
    }
}

impl AccountView for BrainAccount<'_> {
    fn equity(&self) -> Option<f64> {
        self.engine.equity()
    }

    fn cash(&self) -> Option<f64> {
        self.engine.cash()
    }

    fn open_order_count(&self) -> usize {
        self.engine
            .orders
            .live()
            .filter(|o| self.mine(o).is_some())
            .count()
    }

    fn for_each_open_order(&self, visit: &mut dyn FnMut(&Order)) {
        for o in self.engine.orders.live() {
            if let Some(order) = self.mine(o) {
                visit(order);
            }
        }
    }

    fn bars(&self) -> u64 {
        self.engine
            .positions
            .at(self.slot.0 as usize)
            .map_or(0, crate::positions::SymbolState::bars)
    }
}
