//! The account a brain sees while deciding in a running bot: a copy of the engine's view
//! taken under the engine lock with the brain's position, so the brain decides outside the
//! lock on the same numbers a backtest lends it (equity, cash, its open orders on the symbol,
//! the candles seen). Copying allocates only when the brain has open orders.

use rustrade_core::{AccountView, Order, Symbol};
use rustrade_engine::{BrainId, Engine};

/// An owned copy of [`rustrade_engine::BrainAccount`].
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountCopy {
    equity: Option<f64>,
    cash: Option<f64>,
    bars: u64,
    orders: Vec<Order>,
}

impl AccountCopy {
    /// `brain`'s view of the account while deciding on `symbol`.
    pub(crate) fn of(engine: &Engine, brain: BrainId, symbol: &Symbol) -> Self {
        let Some(slot) = engine.symbol_slot(symbol) else {
            return Self::default();
        };
        let view = engine.account_view(slot, brain);
        let mut orders = Vec::new();
        view.for_each_open_order(&mut |o| orders.push(*o));
        Self {
            equity: view.equity(),
            cash: view.cash(),
            bars: view.bars(),
            orders,
        }
    }
}

impl AccountView for AccountCopy {
    fn equity(&self) -> Option<f64> {
        self.equity
    }

    fn cash(&self) -> Option<f64> {
        self.cash
    }

    fn open_order_count(&self) -> usize {
        self.orders.len()
    }

    fn for_each_open_order(&self, visit: &mut dyn FnMut(&Order)) {
        for o in &self.orders {
            visit(o);
        }
    }

    fn bars(&self) -> u64 {
        self.bars
    }
}
