//! A small ordered map from symbol to per-symbol state.
//!
//! The engine trades a handful of symbols and looks one up on every market event, decision and
//! fill. A sorted vector searched with `==` (a fixed-size byte comparison) while it is short,
//! and by binary search beyond, is several times cheaper per lookup than an ordered tree map,
//! whose search walks nodes and calls the text ordering even when it holds a single key.

use rustrade_core::Symbol;

/// Entries up to which a lookup scans with `==` instead of a binary search.
const SCAN_UP_TO: usize = 8;

/// Per-symbol values in symbol order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SymbolMap<V> {
    entries: Vec<(Symbol, V)>,
}

impl<V> SymbolMap<V> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Number of symbols.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The value of `symbol`.
    #[inline]
    pub(crate) fn get(&self, symbol: &Symbol) -> Option<&V> {
        self.position(symbol).map(|i| &self.entries[i].1)
    }

    /// The value of `symbol`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, symbol: &Symbol) -> Option<&mut V> {
        self.position(symbol).map(|i| &mut self.entries[i].1)
    }

    /// Where `symbol` sits in the map (stable until the next insert of a new symbol).
    #[inline]
    pub(crate) fn index_of(&self, symbol: &Symbol) -> Option<usize> {
        self.position(symbol)
    }

    /// The value at `index` (from [`Self::index_of`]).
    #[inline]
    pub(crate) fn at(&self, index: usize) -> Option<&V> {
        self.entries.get(index).map(|(_, v)| v)
    }

    /// Whether `symbol` has a value.
    pub(crate) fn contains_key(&self, symbol: &Symbol) -> bool {
        self.position(symbol).is_some()
    }

    /// Sets the value of `symbol`, returning the one it replaces.
    pub(crate) fn insert(&mut self, symbol: Symbol, value: V) -> Option<V> {
        match self.entries.binary_search_by(|(s, _)| s.cmp(&symbol)) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (symbol, value));
                None
            }
        }
    }

    /// The symbols, in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Symbol> + '_ {
        self.entries.iter().map(|(s, _)| s)
    }

    /// The values, in symbol order, mutably.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> + '_ {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Symbol and value pairs, in symbol order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Symbol, &V)> + '_ {
        self.entries.iter().map(|(s, v)| (s, v))
    }

    /// The first symbol after `after` (the first of all for `None`).
    pub(crate) fn next_after(&self, after: Option<&Symbol>) -> Option<Symbol> {
        let start = match after {
            None => 0,
            Some(a) => self.entries.partition_point(|(s, _)| s <= a),
        };
        self.entries.get(start).map(|(s, _)| *s)
    }

    #[inline]
    fn position(&self, symbol: &Symbol) -> Option<usize> {
        if let [(only, _)] = self.entries.as_slice() {
            return (only == symbol).then_some(0);
        }
        if self.entries.len() <= SCAN_UP_TO {
            self.entries.iter().position(|(s, _)| s == symbol)
        } else {
            self.entries.binary_search_by(|(s, _)| s.cmp(symbol)).ok()
        }
    }
}

impl<V> Default for SymbolMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, V> IntoIterator for &'a SymbolMap<V> {
    type Item = (&'a Symbol, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Symbol, V)>,
        fn(&'a (Symbol, V)) -> (&'a Symbol, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(s, v)| (s, v))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    #[test]
    fn finds_only_the_asked_symbol_with_one_few_or_many_entries() {
        let mut m = SymbolMap::new();
        assert_eq!(m.get(&sym("AAA")), None);
        assert_eq!(m.insert(sym("AAA"), 1), None);
        assert_eq!(m.get(&sym("AAA")), Some(&1));
        assert_eq!(m.get(&sym("AAB")), None);
        assert_eq!(m.insert(sym("AAA"), 2), Some(1));
        assert_eq!(m.len(), 1);
        for i in 0..20 {
            m.insert(sym(&format!("S{i:02}")), 100 + i);
        }
        assert_eq!(m.get(&sym("S07")), Some(&107));
        let i = m.index_of(&sym("S07")).unwrap();
        assert_eq!(m.at(i), Some(&107));
        assert_eq!(m.at(m.len()), None);
        *m.get_mut(&sym("S19")).unwrap() += 1;
        assert_eq!(m.get(&sym("S19")), Some(&120));
        assert!(!m.contains_key(&sym("S20")));
        assert_eq!(m.next_after(None), Some(sym("AAA")));
        assert_eq!(m.next_after(Some(&sym("AAA"))), Some(sym("S00")));
        assert_eq!(m.next_after(Some(&sym("S19"))), None);
    }

    proptest! {
        /// Every operation agrees with an ordered tree map.
        #[test]
        fn behaves_like_an_ordered_map(ops in prop::collection::vec((0u8..24, any::<i32>()), 0..60)) {
            let mut ours = SymbolMap::new();
            let mut model = BTreeMap::new();
            for (k, v) in ops {
                let s = sym(&format!("K{k}"));
                prop_assert_eq!(ours.insert(s, v), model.insert(s, v));
                prop_assert_eq!(ours.len(), model.len());
                for probe in 0..24u8 {
                    let p = sym(&format!("K{probe}"));
                    prop_assert_eq!(ours.get(&p), model.get(&p));
                    let next = model.range((std::ops::Bound::Excluded(p), std::ops::Bound::Unbounded)).next().map(|(s, _)| *s);
                    prop_assert_eq!(ours.next_after(Some(&p)), next);
                }
                prop_assert!(ours.iter().eq(model.iter()));
            }
        }
    }
}
