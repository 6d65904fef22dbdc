//! [`BrainContext`]: what a brain can read about its account while it decides, and the
//! [`AccountView`] a driver lends it.
//!
//! # Why a context passed to a default method
//!
//! [`Brain::on_event`](crate::Brain::on_event) keeps its signature, so every brain written
//! against it compiles and behaves as before. Drivers call
//! [`Brain::on_event_in`](crate::Brain::on_event_in) instead, whose default forwards to
//! `on_event` with the context's position; a brain that wants its equity, cash, open orders or
//! the bar count overrides `on_event_in`. A context argument (rather than a second trait or a
//! method the brain calls back into its host) keeps the brain free of any handle to the engine
//! and lets one brain object run under every driver.
//!
//! The context borrows the driver's state through `&dyn AccountView` and reads it only when the
//! brain asks: building one costs two pointers on the stack, and nothing is allocated or summed
//! on the hold path of a brain that never looks.

use crate::{Order, Position};

/// The account as the driver's engine sees it, read lazily by a [`BrainContext`].
///
/// Equity and cash are `None` until the driver has told the engine the account's cash (the
/// backtest does so from its simulated venue at start; a live bot from the venue's balance).
pub trait AccountView {
    /// Cash plus the value of every open position at its mark, in the quote currency.
    fn equity(&self) -> Option<f64>;
    /// Cash of the account, in the quote currency.
    fn cash(&self) -> Option<f64>;
    /// Number of this brain's live orders on the event's symbol.
    fn open_order_count(&self) -> usize;
    /// Calls `visit` with each of this brain's live orders on the event's symbol, oldest first.
    fn for_each_open_order(&self, visit: &mut dyn FnMut(&Order));
    /// Market events of the event's symbol (bars, on a candle feed) the engine has seen since it
    /// started (a bot restored from
    /// a snapshot counts again from its restart), this one included.
    fn bars(&self) -> u64;
}

/// The view of a driver that knows no account: no equity or cash, no orders, no bars.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAccount;

impl AccountView for NoAccount {
    fn equity(&self) -> Option<f64> {
        None
    }
    fn cash(&self) -> Option<f64> {
        None
    }
    fn open_order_count(&self) -> usize {
        0
    }
    fn for_each_open_order(&self, _visit: &mut dyn FnMut(&Order)) {}
    fn bars(&self) -> u64 {
        0
    }
}

/// What a brain reads while deciding on one event: its position in the event's symbol and its
/// account (see the module doc).
///
/// ```
/// use rustrade_core::{BrainContext, Position};
/// let position = Position::new(2.0, 100.0);
/// let ctx = BrainContext::detached(&position);
/// assert_eq!(ctx.position().quantity, 2.0);
/// assert_eq!((ctx.equity(), ctx.cash(), ctx.open_order_count(), ctx.bars()), (None, None, 0, 0));
/// ```
#[derive(Clone, Copy)]
pub struct BrainContext<'a> {
    position: &'a Position,
    account: &'a dyn AccountView,
}

impl<'a> BrainContext<'a> {
    /// A context of `position` and the driver's `account`.
    #[inline]
    pub fn new(position: &'a Position, account: &'a dyn AccountView) -> Self {
        Self { position, account }
    }

    /// A context with only a position ([`NoAccount`]): for tests and for calling a brain's
    /// `on_event_in` from its `on_event`.
    #[inline]
    pub fn detached(position: &'a Position) -> Self {
        Self {
            position,
            account: &NoAccount,
        }
    }

    /// The brain's position in the event's symbol, with unrealised PnL at the last mark.
    #[inline]
    pub fn position(&self) -> &'a Position {
        self.position
    }

    /// The account's equity (see [`AccountView::equity`]).
    #[inline]
    pub fn equity(&self) -> Option<f64> {
        self.account.equity()
    }

    /// The account's cash (see [`AccountView::cash`]).
    #[inline]
    pub fn cash(&self) -> Option<f64> {
        self.account.cash()
    }

    /// How many of the brain's orders on this symbol are live.
    #[inline]
    pub fn open_order_count(&self) -> usize {
        self.account.open_order_count()
    }

    /// Visits the brain's live orders on this symbol, oldest first.
    #[inline]
    pub fn for_each_open_order(&self, mut visit: impl FnMut(&Order)) {
        self.account.for_each_open_order(&mut visit);
    }

    /// Bars (market events) of this symbol seen so far, the current one included.
    #[inline]
    pub fn bars(&self) -> u64 {
        self.account.bars()
    }
}

impl std::fmt::Debug for BrainContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrainContext")
            .field("position", self.position)
            .field("equity", &self.equity())
            .field("cash", &self.cash())
            .field("open_orders", &self.open_order_count())
            .field("bars", &self.bars())
            .finish()
    }
}
