//! The ordered index of live orders: client order id → slot in the order book's slab.
//!
//! # Invariants
//!
//! - Keys are unique and iterate in client-id order in both representations.
//! - A book holds few live orders most of the time (a bot's entries, exits and bracket legs in
//!   flight), so the index starts as a sorted `Vec` (a binary search, and inserts and removals
//!   that shift a handful of 40-byte entries: cheaper than B-tree node handling). Past
//!   [`SMALL_CAPACITY`] entries it moves once to a `BTreeMap` and stays there, so a book with
//!   many orders in flight keeps logarithmic inserts and removals.

use std::collections::BTreeMap;
use std::collections::btree_map;

use rustrade_core::ClientOrderId;

/// Most entries kept in the sorted `Vec` before the index becomes a `BTreeMap`.
pub(crate) const SMALL_CAPACITY: usize = 32;

/// Client id → slab slot of each live order, in client-id order.
#[derive(Debug, Clone)]
pub(crate) enum LiveIndex {
    /// Sorted by client id, at most [`SMALL_CAPACITY`] entries.
    Small(Vec<(ClientOrderId, usize)>),
    /// Any number of entries.
    Large(BTreeMap<ClientOrderId, usize>),
}

impl Default for LiveIndex {
    fn default() -> Self {
        Self::Small(Vec::new())
    }
}

impl LiveIndex {
    /// The slot of `id`.
    #[inline]
    pub(crate) fn get(&self, id: &ClientOrderId) -> Option<usize> {
        match self {
            Self::Small(v) => v.binary_search_by(|(k, _)| k.cmp(id)).ok().map(|i| v[i].1),
            Self::Large(m) => m.get(id).copied(),
        }
    }

    /// Sets the slot of `id`; returns the slot it replaced.
    pub(crate) fn insert(&mut self, id: ClientOrderId, slot: usize) -> Option<usize> {
        match self {
            Self::Small(v) => match v.binary_search_by(|(k, _)| k.cmp(&id)) {
                Ok(i) => Some(std::mem::replace(&mut v[i].1, slot)),
                Err(i) if v.len() < SMALL_CAPACITY => {
                    // Client ids mostly increase: appending skips `insert`'s `memmove` call.
                    if i == v.len() {
                        v.push((id, slot));
                    } else {
                        v.insert(i, (id, slot));
                    }
                    None
                }
                Err(_) => {
                    let mut m: BTreeMap<_, _> = v.drain(..).collect();
                    m.insert(id, slot);
                    *self = Self::Large(m);
                    None
                }
            },
            Self::Large(m) => m.insert(id, slot),
        }
    }

    /// Removes `id`; returns its slot.
    #[inline]
    pub(crate) fn remove(&mut self, id: &ClientOrderId) -> Option<usize> {
        match self {
            Self::Small(v) => {
                let i = v.binary_search_by(|(k, _)| k.cmp(id)).ok()?;
                // The last entry (often the only one) leaves without a `memmove` call.
                if i + 1 == v.len() {
                    v.pop().map(|(_, slot)| slot)
                } else {
                    Some(v.remove(i).1)
                }
            }
            Self::Large(m) => m.remove(id),
        }
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Small(v) => v.len(),
            Self::Large(m) => m.len(),
        }
    }

    /// The slots in client-id order.
    pub(crate) fn slots(&self) -> Slots<'_> {
        match self {
            Self::Small(v) => Slots::Small(v.iter()),
            Self::Large(m) => Slots::Large(m.values()),
        }
    }
}

/// Iterator over a [`LiveIndex`]'s slots in client-id order.
pub(crate) enum Slots<'a> {
    Small(std::slice::Iter<'a, (ClientOrderId, usize)>),
    Large(btree_map::Values<'a, ClientOrderId, usize>),
}

impl Iterator for Slots<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            Self::Small(it) => it.next().map(|&(_, s)| s),
            Self::Large(it) => it.next().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(n: usize) -> ClientOrderId {
        ClientOrderId::new(&format!("b-0-{n:x}")).unwrap()
    }

    #[test]
    fn both_representations_keep_client_id_order_and_exact_lookups() {
        let mut index = LiveIndex::default();
        let mut reference = BTreeMap::new();
        // A scrambled insertion order, past the small capacity.
        for k in 0..3 * SMALL_CAPACITY {
            let n = (k * 37) % (3 * SMALL_CAPACITY);
            assert_eq!(index.insert(cid(n), k), reference.insert(cid(n), k));
            assert_eq!(index.len(), reference.len());
            assert!(index.slots().eq(reference.values().copied()));
            if k + 1 == SMALL_CAPACITY {
                assert!(matches!(index, LiveIndex::Small(_)));
            }
        }
        assert!(matches!(index, LiveIndex::Large(_)));
        assert_eq!(index.insert(cid(5), 999), reference.insert(cid(5), 999));
        for n in (0..3 * SMALL_CAPACITY).step_by(2) {
            assert_eq!(index.remove(&cid(n)), reference.remove(&cid(n)));
        }
        for n in 0..3 * SMALL_CAPACITY + 2 {
            assert_eq!(index.get(&cid(n)), reference.get(&cid(n)).copied());
        }
        assert!(index.slots().eq(reference.values().copied()));

        let mut small = LiveIndex::default();
        for n in [5, 1, 9, 3] {
            small.insert(cid(n), n);
        }
        assert_eq!(small.insert(cid(9), 90), Some(9));
        assert_eq!(small.remove(&cid(1)), Some(1));
        assert_eq!(small.remove(&cid(1)), None);
        assert_eq!(small.get(&cid(3)), Some(3));
        assert_eq!(small.slots().collect::<Vec<_>>(), [3, 5, 90]);
    }
}
