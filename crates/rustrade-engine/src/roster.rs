//! [`BrainRoster`]: the brains a driver runs, validated by one rule set for the backtest, paper
//! and live drivers, and the routing of market events to them.
//!
//! # Rules
//!
//! - At least one brain. Names are unique, not blank, and free of control characters (they
//!   appear in logs, metrics and the engine's brain registry).
//! - A brain may claim symbols ([`Brain::owned_symbols`]): each claimed symbol must be one the
//!   driver trades, and no symbol is claimed by two brains.
//! - A brain that claims symbols is given market events of those symbols only; one that claims
//!   none is given every traded symbol's events; no brain is given an untraded symbol's.

use rustrade_core::{Brain, Symbol};

/// Why a set of brains cannot run together. Every variant names the brain and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// No brain was given.
    #[error("brains: at least one brain is needed")]
    Empty,
    /// A brain's name cannot be used in logs, metrics and order attribution.
    #[error("brains: invalid brain name {name:?}: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two brains share a name.
    #[error("brains: duplicate brain name {name:?}")]
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// A brain claims a symbol the driver does not trade.
    #[error("brains: brain {brain:?} owns {symbol}, which is not a traded symbol")]
    Unconfigured {
        /// The brain.
        brain: String,
        /// The symbol.
        symbol: Symbol,
    },
    /// Two brains claim the same symbol.
    #[error("brains: {symbol} is owned by both {first:?} and {second:?}")]
    Overlap {
        /// The symbol.
        symbol: Symbol,
        /// The brain that claimed it first.
        first: String,
        /// The brain that claimed it again.
        second: String,
    },
}

/// A validated set of brains and the symbols each one is given (see the module rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrainRoster {
    names: Vec<String>,
    /// Per brain, its claimed symbols sorted, or `None` for every traded symbol.
    owned: Vec<Option<Vec<Symbol>>>,
    /// The traded symbols, sorted.
    traded: Vec<Symbol>,
}

impl BrainRoster {
    /// Validates `brains`, in order, against the `traded` symbols.
    pub fn new<'a>(
        brains: impl IntoIterator<Item = &'a dyn Brain>,
        traded: &[Symbol],
    ) -> Result<Self, RosterError> {
        let mut names: Vec<String> = Vec::new();
        let mut owned: Vec<Option<Vec<Symbol>>> = Vec::new();
        for brain in brains {
            let name = brain.name();
            let invalid = |reason| RosterError::InvalidName {
                name: name.to_owned(),
                reason,
            };
            if name.trim().is_empty() {
                return Err(invalid("must not be blank"));
            }
            if name.chars().any(char::is_control) {
                return Err(invalid("must not hold control characters"));
            }
            if names.iter().any(|n| n == name) {
                return Err(RosterError::Duplicate {
                    name: name.to_owned(),
                });
            }
            let claim = brain.owned_symbols().map(|mut v| {
                v.sort();
                v.dedup();
                v
            });
            for symbol in claim.iter().flatten() {
                if !traded.contains(symbol) {
                    return Err(RosterError::Unconfigured {
                        brain: name.to_owned(),
                        symbol: *symbol,
                    });
                }
                let earlier = owned
                    .iter()
                    .position(|o| o.as_ref().is_some_and(|o| o.binary_search(symbol).is_ok()));
                if let Some(i) = earlier {
                    return Err(RosterError::Overlap {
                        symbol: *symbol,
                        first: names[i].clone(),
                        second: name.to_owned(),
                    });
                }
            }
            names.push(name.to_owned());
            owned.push(claim);
        }
        if names.is_empty() {
            return Err(RosterError::Empty);
        }
        let mut traded = traded.to_vec();
        traded.sort();
        traded.dedup();
        Ok(Self {
            names,
            owned,
            traded,
        })
    }

    /// The brains' names, in the order given (a brain's index is its engine
    /// [`BrainId`](crate::BrainId) when the engine config lists them in this order).
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// How many brains.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the roster is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether brain `index` is given market events of `symbol`.
    #[inline]
    pub fn routes(&self, index: usize, symbol: &Symbol) -> bool {
        match self.owned.get(index) {
            Some(Some(own)) => own.binary_search(symbol).is_ok(),
            Some(None) => self.traded.binary_search(symbol).is_ok(),
            None => false,
        }
    }

    /// The symbols brain `index` claims, sorted; `None` when it takes every traded symbol.
    pub fn owned(&self, index: usize) -> Option<&[Symbol]> {
        self.owned.get(index).and_then(|o| o.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use rustrade_core::{BrainError, Decision, MarketEvent, Position};

    use super::*;

    struct Named(&'static str, Option<Vec<&'static str>>);

    #[async_trait::async_trait]
    impl Brain for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn owned_symbols(&self) -> Option<Vec<Symbol>> {
            self.1
                .as_ref()
                .map(|v| v.iter().map(|s| Symbol::new(s).unwrap()).collect())
        }
        fn on_event(&self, _: &MarketEvent, _: &Position) -> Result<Decision, BrainError> {
            Ok(Decision::hold())
        }
    }

    fn traded() -> Vec<Symbol> {
        ["BTCUSDT", "ETHUSDT"]
            .iter()
            .map(|s| Symbol::new(s).unwrap())
            .collect()
    }

    fn roster(brains: &[Named]) -> Result<BrainRoster, RosterError> {
        BrainRoster::new(brains.iter().map(|b| b as &dyn Brain), &traded())
    }

    #[test]
    fn every_rule_names_the_brain_and_value() {
        let cases: [(&[Named], &str); 6] = [
            (&[], "at least one brain"),
            (
                &[Named(" ", None)],
                "invalid brain name \" \": must not be blank",
            ),
            (&[Named("a\n", None)], "must not hold control characters"),
            (
                &[Named("a", None), Named("a", None)],
                "duplicate brain name \"a\"",
            ),
            (
                &[Named("a", Some(vec!["SOLUSDT"]))],
                "brain \"a\" owns SOLUSDT, which is not a traded symbol",
            ),
            (
                &[
                    Named("a", Some(vec!["BTCUSDT"])),
                    Named("b", Some(vec!["ETHUSDT", "BTCUSDT"])),
                ],
                "BTCUSDT is owned by both \"a\" and \"b\"",
            ),
        ];
        for (brains, expected) in cases {
            let err = roster(brains).unwrap_err().to_string();
            assert!(err.contains(expected), "{err} lacks {expected}");
        }
    }

    #[test]
    fn an_owner_gets_its_symbols_and_the_others_get_everything() {
        let r = roster(&[Named("btc", Some(vec!["BTCUSDT"])), Named("all", None)]).unwrap();
        let [btc, eth] = [traded()[0], traded()[1]];
        assert!(r.routes(0, &btc) && !r.routes(0, &eth));
        assert!(r.routes(1, &btc) && r.routes(1, &eth));
        assert!(!r.routes(2, &btc), "no such brain");
        assert!(!r.routes(1, &Symbol::new("SOLUSDT").unwrap()), "not traded");
        assert_eq!(r.names().collect::<Vec<_>>(), ["btc", "all"]);
        assert_eq!(r.owned(0), Some(&[btc][..]));
        assert_eq!(r.owned(1), None);
    }
}
