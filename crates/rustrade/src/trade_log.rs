//! [`TradeLog`]: the newest round trips the engine closed, as [`BotHandle::closed_trades`]
//! reports them.
//!
//! The log holds what the engine's ledgers reported in their `TradeClosed` events — it computes
//! nothing. It is bounded ([`TRADE_LOG_CAPACITY`]): the oldest record goes when a new one
//! arrives at capacity, so a bot running for months keeps constant memory. It covers the trades
//! closed since the bot started in this process; the journal keeps the full history. It also
//! counts every trade it was given, including those it no longer keeps.
//!
//! [`BotHandle::closed_trades`]: crate::BotHandle::closed_trades

use std::collections::VecDeque;
use std::sync::Mutex;

use rustrade_core::{ClosedTrade, Symbol};

/// How many closed trades [`BotHandle::closed_trades`](crate::BotHandle::closed_trades) keeps,
/// newest last.
pub const TRADE_LOG_CAPACITY: usize = 1024;

/// One round trip closed by the engine: who held it, on what, and the ledger's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClosedTradeRecord {
    /// The brain whose position returned to flat.
    pub brain: String,
    /// The instrument.
    pub symbol: Symbol,
    /// The ledger's outcome: side, peak quantity, entry and exit prices and times, fees of both
    /// legs, gross and net PnL.
    pub trade: ClosedTrade,
}

/// The bounded, shared log of closed trades. It keeps the brain's index, not its name, so the
/// trading path copies a few plain values per trade and allocates nothing once the log is full.
#[derive(Debug, Default)]
pub(crate) struct TradeLog(Mutex<Kept>);

/// The newest trades and the count of all of them.
#[derive(Debug, Default)]
struct Kept {
    newest: VecDeque<(usize, Symbol, ClosedTrade)>,
    total: u64,
}

impl TradeLog {
    /// Appends the trade `brain` (its index) closed on `symbol`, dropping the oldest at
    /// capacity.
    pub(crate) fn push(&self, brain: usize, symbol: Symbol, trade: ClosedTrade) {
        let mut log = crate::driver::lock(&self.0);
        if log.newest.len() == TRADE_LOG_CAPACITY {
            log.newest.pop_front();
        }
        log.newest.push_back((brain, symbol, trade));
        log.total += 1;
    }

    /// Every trade pushed, including those dropped at capacity.
    pub(crate) fn total(&self) -> u64 {
        crate::driver::lock(&self.0).total
    }

    /// The records, oldest first, the brains named by `name`.
    pub(crate) fn snapshot<'a>(&self, name: impl Fn(usize) -> &'a str) -> Vec<ClosedTradeRecord> {
        crate::driver::lock(&self.0)
            .newest
            .iter()
            .map(|(brain, symbol, trade)| ClosedTradeRecord {
                brain: name(*brain).to_owned(),
                symbol: *symbol,
                trade: *trade,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use rustrade_core::{Side, Timestamp};

    use super::*;

    fn trade(n: usize) -> ClosedTrade {
        ClosedTrade {
            side: Side::Buy,
            quantity: 1.0,
            entry_price: 100.0,
            exit_price: 100.0 + n as f64,
            gross_pnl: n as f64,
            fees: 0.0,
            entry_fees: 0.0,
            exit_fees: 0.0,
            net_pnl: n as f64,
            opened_at: Timestamp::from_nanos(0),
            closed_at: Timestamp::from_nanos(1),
        }
    }

    #[test]
    fn keeps_the_newest_trades_up_to_capacity_oldest_first_with_brain_names() {
        let log = TradeLog::default();
        let btc = Symbol::new("BTCUSDT").expect("symbol");
        for n in 0..TRADE_LOG_CAPACITY + 3 {
            log.push(n % 2, btc, trade(n));
        }
        let kept = log.snapshot(|i| ["even", "odd"][i]);
        assert_eq!(kept.len(), TRADE_LOG_CAPACITY);
        assert_eq!(
            log.total(),
            TRADE_LOG_CAPACITY as u64 + 3,
            "dropped trades still count"
        );
        let record = |brain: &str, n| ClosedTradeRecord {
            brain: brain.to_owned(),
            symbol: btc,
            trade: trade(n),
        };
        assert_eq!(kept[0], record("odd", 3));
        assert_eq!(
            kept[TRADE_LOG_CAPACITY - 1],
            record("even", TRADE_LOG_CAPACITY + 2)
        );
    }
}
