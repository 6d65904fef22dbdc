//! [`PrintIndex`]: an open-addressing table from 64-bit id fingerprints to small handles, for the
//! lookup-only id maps of the engine (recent fill ids, venue order ids) and the simulated venue
//! (received client order ids). The fingerprint is the identifier's own `fingerprint()`
//! ([`IdHasher`](crate::IdHasher) over its text), so every table hashes an id the same way.
//!
//! # Invariants
//!
//! - Each table word is `0` (empty) or `tag << 32 | (handle + 1)`, where `tag` is the high half of
//!   the fingerprint and the word's home bucket is `tag & mask`. Linear probing; a removal shifts
//!   the following words of its cluster back, so there are no tombstones and every word is
//!   reachable from its home without crossing an empty bucket.
//! - At most a quarter of the buckets are used (the table doubles before that), so probes and
//!   clusters stay short.
//! - The index stores no ids: a tag hit is confirmed by the caller against its own storage, so a
//!   fingerprint collision never merges two ids. The table is never iterated into output.
//!
//! `std`'s `HashMap` costs several times more per insert and removal for these keys (SIMD group
//! probing, a second hash of the key, moving the whole key and value), and the engine and the
//! venue do one of each per order and per fill.

/// Fingerprint → handle multimap with caller-confirmed lookups: the caller keeps its ids in its
/// own storage (a ring, a slab) and the index maps each id's fingerprint to where it sits.
///
/// ```
/// use rustrade_core::{ClientOrderId, PrintIndex};
///
/// let ids = [ClientOrderId::new("a-0-1")?, ClientOrderId::new("a-0-2")?];
/// let mut index = PrintIndex::default();
/// for (handle, id) in ids.iter().enumerate() {
///     index.insert(id.fingerprint(), handle);
/// }
/// let wanted = ids[1];
/// assert_eq!(index.find(wanted.fingerprint(), |h| ids[h] == wanted), Some(1));
/// assert_eq!(index.take(wanted.fingerprint(), |h| ids[h] == wanted), Some(1));
/// assert_eq!(index.len(), 1);
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PrintIndex {
    /// Power-of-two number of words, or empty before the first insert.
    table: Vec<u64>,
    len: usize,
}

impl PrintIndex {
    /// Handles must be below this (a word stores `handle + 1` in 32 bits).
    pub const MAX_HANDLE: usize = u32::MAX as usize - 1;

    /// Number of handles stored.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// The first handle stored under `print` for which `is` holds.
    #[inline]
    pub fn find(&self, print: u64, mut is: impl FnMut(usize) -> bool) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.table.len() - 1;
        let tag = print >> 32;
        let mut i = tag as usize & mask;
        loop {
            let word = self.table[i];
            if word == 0 {
                return None;
            }
            if word >> 32 == tag {
                let handle = handle_of(word);
                if is(handle) {
                    return Some(handle);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Stores `handle` (at most [`Self::MAX_HANDLE`]) under `print`; the caller makes sure the
    /// pair is not stored already.
    #[inline]
    pub fn insert(&mut self, print: u64, handle: usize) {
        debug_assert!(handle <= Self::MAX_HANDLE);
        if (self.len + 1) * 4 > self.table.len() {
            self.grow();
        }
        let word = (print >> 32) << 32 | (handle as u64 + 1);
        place(&mut self.table, word);
        self.len += 1;
    }

    /// Removes `handle` stored under `print`; returns whether it was there.
    #[inline]
    pub fn remove(&mut self, print: u64, handle: usize) -> bool {
        self.take(print, |h| h == handle).is_some()
    }

    /// Removes and returns the first handle stored under `print` for which `is` holds.
    #[inline]
    pub fn take(&mut self, print: u64, mut is: impl FnMut(usize) -> bool) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.table.len() - 1;
        let tag = print >> 32;
        let mut hole = tag as usize & mask;
        let handle = loop {
            let w = self.table[hole];
            if w == 0 {
                return None;
            }
            if w >> 32 == tag && is(handle_of(w)) {
                break handle_of(w);
            }
            hole = (hole + 1) & mask;
        };
        // Backward shift: a later word of the cluster moves into the hole unless its home lies
        // cyclically after the hole (then it would become unreachable).
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let w = self.table[j];
            if w == 0 {
                break;
            }
            let home = (w >> 32) as usize & mask;
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.table[hole] = w;
                hole = j;
            }
        }
        self.table[hole] = 0;
        self.len -= 1;
        Some(handle)
    }

    /// The stored handles, in table order (arbitrary: for comparisons, never for output).
    pub fn handles(&self) -> impl Iterator<Item = usize> + '_ {
        self.table
            .iter()
            .filter(|&&w| w != 0)
            .map(|&w| handle_of(w))
    }

    /// Whether no handle is stored.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn grow(&mut self) {
        let size = (self.table.len() * 2).max(16);
        let old = std::mem::replace(&mut self.table, vec![0; size]);
        for w in old.into_iter().filter(|&w| w != 0) {
            place(&mut self.table, w);
        }
    }
}

#[inline]
fn handle_of(word: u64) -> usize {
    (word & 0xffff_ffff) as usize - 1
}

/// Puts `word` in the first empty bucket from its home; the table has one.
#[inline]
fn place(table: &mut [u64], word: u64) {
    let mask = table.len() - 1;
    let mut i = (word >> 32) as usize & mask;
    while table[i] != 0 {
        i = (i + 1) & mask;
    }
    table[i] = word;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn matches_a_set_of_pairs_under_collisions_and_removals() {
        // Few distinct tags force long clusters that wrap around the table's end.
        const TAGS: [u64; 5] = [0xffff_ffff, 0xffff_fffe, 0, 1, 0x1234_5677];
        let print = |n: u64| TAGS[(n % 5) as usize] << 32 | n;
        let mut index = PrintIndex::default();
        let mut model = BTreeSet::new();
        let mut state = 7u64;
        for step in 0..4_000u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let n = (state >> 33) % 64;
            if model.contains(&n) {
                assert!(index.remove(print(n), n as usize), "{step}");
                model.remove(&n);
            } else {
                index.insert(print(n), n as usize);
                model.insert(n);
            }
            assert_eq!(index.len(), model.len());
            for k in 0..64u64 {
                let found = index.find(print(k), |h| h == k as usize);
                assert_eq!(found.is_some(), model.contains(&k), "{step} {k}");
            }
            let handles: BTreeSet<_> = index.handles().map(|h| h as u64).collect();
            assert_eq!(handles, model);
        }
        assert!(!index.remove(print(1_000), 1_000));
        assert!(!PrintIndex::default().remove(1, 1));
        assert_eq!(PrintIndex::default().find(1, |_| true), None);
    }
}
