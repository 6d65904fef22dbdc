//! [`PrintSlab`]: values kept in a slab and found by their id's fingerprint through a
//! [`PrintIndex`], for the lookup-only id maps of the engine and the simulated venue.
//!
//! # Invariants
//!
//! - Every handle the index stores names a slot holding a value; a freed slot keeps its stale
//!   value until reused, and no index word names it.
//! - A lookup confirms each fingerprint hit with the caller's predicate on the value, so two ids
//!   that share a fingerprint are never confused.
//! - Memory is the most values stored at once, whatever the number of inserts and removals.

use crate::PrintIndex;

/// Values of `T` found by fingerprint and a predicate; see the module documentation.
///
/// ```
/// use rustrade_core::{ClientOrderId, PrintSlab};
///
/// let id = ClientOrderId::new("a-0-1")?;
/// let mut slab = PrintSlab::default();
/// assert!(slab.insert(id.fingerprint(), (id, 7u64)));
/// assert_eq!(slab.find(id.fingerprint(), |(c, _)| *c == id), Some(&(id, 7)));
/// assert_eq!(slab.take(id.fingerprint(), |&(_, n)| n == 7), Some((id, 7)));
/// assert!(slab.is_empty());
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PrintSlab<T> {
    prints: PrintIndex,
    /// Values by handle; a handle on `free` holds a stale value no index word names.
    values: Vec<T>,
    free: Vec<usize>,
}

impl<T: Copy> PrintSlab<T> {
    /// The value stored under `print` for which `is` holds.
    #[inline]
    pub fn find(&self, print: u64, is: impl Fn(&T) -> bool) -> Option<&T> {
        let h = self.prints.find(print, |h| is(&self.values[h]))?;
        Some(&self.values[h])
    }

    /// [`Self::find`], mutably.
    #[inline]
    pub fn find_mut(&mut self, print: u64, is: impl Fn(&T) -> bool) -> Option<&mut T> {
        let h = self.prints.find(print, |h| is(&self.values[h]))?;
        Some(&mut self.values[h])
    }

    /// Stores `value` under `print`; the caller makes sure no equal value is stored already.
    /// Returns false, storing nothing, when [`PrintIndex::MAX_HANDLE`] values are stored (more
    /// than fit in memory for any id type).
    #[inline]
    pub fn insert(&mut self, print: u64, value: T) -> bool {
        let h = match self.free.pop() {
            Some(h) => {
                self.values[h] = value;
                h
            }
            None if self.values.len() <= PrintIndex::MAX_HANDLE => {
                self.values.push(value);
                self.values.len() - 1
            }
            None => return false,
        };
        self.prints.insert(print, h);
        true
    }

    /// Removes and returns the value stored under `print` for which `is` holds.
    #[inline]
    pub fn take(&mut self, print: u64, is: impl Fn(&T) -> bool) -> Option<T> {
        let h = self.prints.take(print, |h| is(&self.values[h]))?;
        self.free.push(h);
        Some(self.values[h])
    }

    /// Number of values stored.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.prints.len()
    }

    /// Whether no value is stored.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.prints.is_empty()
    }

    /// The stored values, in table order (arbitrary: for comparisons, never for output).
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.prints.handles().map(|h| &self.values[h])
    }
}

impl<T> Default for PrintSlab<T> {
    fn default() -> Self {
        Self {
            prints: PrintIndex::default(),
            values: Vec::new(),
            free: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn agrees_with_a_map_under_shared_fingerprints_and_reused_slots() {
        // Three fingerprints for 48 keys: every lookup has to be confirmed by the predicate.
        let print = |k: u64| [7u64, 1 << 40, u64::MAX][(k % 3) as usize];
        let mut slab = PrintSlab::default();
        let mut model = BTreeMap::new();
        let mut state = 11u64;
        for step in 0..3_000u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let k = (state >> 33) % 48;
            if let Some(v) = model.remove(&k) {
                assert_eq!(slab.take(print(k), |&(key, _)| key == k), Some((k, v)));
            } else {
                assert!(slab.insert(print(k), (k, step)));
                model.insert(k, step);
            }
            assert_eq!(slab.len(), model.len());
            for probe in 0..48u64 {
                let found = slab.find(print(probe), |&(key, _)| key == probe);
                assert_eq!(found.map(|&(_, v)| v), model.get(&probe).copied());
            }
        }
        let mut listed: Vec<_> = slab.values().copied().collect();
        listed.sort_unstable();
        assert!(listed.into_iter().eq(model.into_iter()));
        if let Some(v) = slab.find_mut(print(0), |_| true) {
            v.1 = 99;
        }
        assert!(slab.values().any(|&(_, v)| v == 99) || slab.is_empty());
    }
}
