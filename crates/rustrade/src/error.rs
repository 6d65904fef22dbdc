//! [`BotError`]: why a bot could not be built, started or run.

use rustrade_core::{ExchangeError, StoreError, Symbol};
use rustrade_engine::EngineError;
use rustrade_supervisor::SupervisorError;

/// A failure of [`Bot::new`](crate::Bot::new) or [`Bot::run_until_shutdown`](crate::Bot::run_until_shutdown).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BotError {
    /// `Bot::new` was given no brain.
    #[error("brains: at least one brain is required (got [])")]
    NoBrains,
    /// Two brains share a name.
    #[error("brains: duplicate brain name {name:?}")]
    DuplicateBrain {
        /// The repeated name.
        name: String,
    },
    /// A brain has a name that cannot be used in logs, metrics and order ids.
    #[error("brains: invalid brain name {name:?}: {reason}")]
    InvalidBrainName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two brains claim the same symbol exclusively.
    #[error("brains: symbol {symbol} is owned by both {first:?} and {second:?}")]
    OverlappingSymbols {
        /// The symbol.
        symbol: Symbol,
        /// The brain that claimed it first.
        first: String,
        /// The brain that claimed it again.
        second: String,
    },
    /// A brain owns a symbol the bot is not configured to trade.
    #[error("brains: {brain:?} owns {symbol}, which is not in the configured symbols")]
    UnconfiguredSymbol {
        /// The brain.
        brain: String,
        /// The symbol.
        symbol: Symbol,
    },
    /// The exchange failed during start-up (instrument rules, reconciliation).
    #[error("exchange during {during}: {source}")]
    Exchange {
        /// What the bot was doing.
        during: &'static str,
        /// The adapter's error.
        #[source]
        source: ExchangeError,
    },
    /// The state store failed or holds corrupt data; the bot does not start from an empty state.
    #[error("state store: {0}")]
    Store(#[from] StoreError),
    /// The engine refused its configuration or the stored snapshot.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// The supervisor refused its configuration or a service.
    #[error("supervisor: {0}")]
    Supervisor(#[from] SupervisorError),
}

impl From<rustrade_engine::RosterError> for BotError {
    fn from(e: rustrade_engine::RosterError) -> Self {
        use rustrade_engine::RosterError as R;
        match e {
            R::Empty => Self::NoBrains,
            R::InvalidName { name, reason } => Self::InvalidBrainName { name, reason },
            R::Duplicate { name } => Self::DuplicateBrain { name },
            R::Unconfigured { brain, symbol } => Self::UnconfiguredSymbol { brain, symbol },
            R::Overlap {
                symbol,
                first,
                second,
            } => Self::OverlappingSymbols {
                symbol,
                first,
                second,
            },
            other => Self::Engine(EngineError::Config {
                field: "brains",
                value: String::new(),
                reason: other.to_string(),
            }),
        }
    }
}
