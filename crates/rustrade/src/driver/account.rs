//! The account a brain sees while deciding in a running bot: the engine's own view
//! ([`rustrade_engine::BrainAccount`]: equity, cash, the brain's open orders on the symbol, the
//! candles seen), read under the engine lock only when the brain asks, so a brain that does not
//! look costs nothing and one that does reads the same numbers a backtest lends it.

use rustrade_core::{AccountView, Order, Symbol};
use rustrade_engine::{BrainAccount, BrainId};

use super::Driver;

/// `brain`'s view of the account while deciding on `symbol`, read through `driver`. The brain
/// is called outside the engine lock; each read takes it briefly.
pub(crate) struct LiveAccount<'a> {
    pub(crate) driver: &'a Driver,
    pub(crate) brain: BrainId,
    pub(crate) symbol: Symbol,
}

impl LiveAccount<'_> {
    fn with<R: Default>(&self, f: impl FnOnce(BrainAccount<'_>) -> R) -> R {
        self.driver
            .read(|e| {
                e.symbol_slot(&self.symbol)
                    .map(|slot| f(e.account_view(slot, self.brain)))
            })
            .flatten()
            .unwrap_or_default()
    }
}

impl AccountView for LiveAccount<'_> {
    fn equity(&self) -> Option<f64> {
        self.with(|a| a.equity())
    }

    fn cash(&self) -> Option<f64> {
        self.with(|a| a.cash())
    }

    fn open_order_count(&self) -> usize {
        self.with(|a| a.open_order_count())
    }

    fn for_each_open_order(&self, visit: &mut dyn FnMut(&Order)) {
        self.with(|a| a.for_each_open_order(visit));
    }

    fn bars(&self) -> u64 {
        self.with(|a| a.bars())
    }
}
