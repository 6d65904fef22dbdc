//! [`SmallMap`]: an ordered map for the id-keyed tables of the engine that hold a handful of
//! entries most of the time (the live orders of a book, the reservations of entries in flight)
//! and must still cope with many.
//!
//! # Invariants
//!
//! - Keys are unique and iterate in ascending order in both representations, so iteration is
//!   deterministic and may reach output.
//! - Up to [`SmallMap::SMALL_CAPACITY`] entries live in a `Vec` sorted by key: a lookup in a
//!   short one is a scan with `==` (for the engine's ids a fixed-size byte comparison, cheaper
//!   than their ordering), a longer one a binary search; inserting at the end (ids mostly
//!   increase) and removing the last entry shift nothing.
//! - Past that, the entries move once to a `BTreeMap` and stay there, even if the map shrinks
//!   again, so a map with many entries keeps logarithmic inserts and removals and never moves
//!   back and forth around the threshold.
//! - Which representation is in use is invisible to every operation except
//!   [`SmallMap::is_inline`]: equality compares the entries, and serde writes a sequence of
//!   `(key, value)` pairs in key order (the form of a sorted `Vec<(K, V)>`), reading one back
//!   with the last value of a repeated key.

use std::collections::BTreeMap;
use std::collections::btree_map;

/// Key → value, in key order; see the module documentation.
///
/// ```
/// use rustrade_core::SmallMap;
///
/// let mut map = SmallMap::new();
/// assert_eq!(map.insert(3, "c"), None);
/// assert_eq!(map.insert(1, "a"), None);
/// assert_eq!(map.insert(3, "C"), Some("c"));
/// assert_eq!(map.get(&3), Some(&"C"));
/// assert_eq!(map.iter().collect::<Vec<_>>(), [(&1, &"a"), (&3, &"C")]);
/// assert_eq!(map.remove(&1), Some("a"));
/// assert_eq!(map.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct SmallMap<K, V> {
    repr: Repr<K, V>,
}

#[derive(Debug, Clone)]
enum Repr<K, V> {
    /// Sorted by key, keys unique, at most [`SmallMap::SMALL_CAPACITY`] entries.
    Small(Vec<(K, V)>),
    /// Any number of entries.
    Large(BTreeMap<K, V>),
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> SmallMap<K, V> {
    /// Most entries kept in the sorted `Vec` before the map becomes a `BTreeMap`.
    pub const SMALL_CAPACITY: usize = 32;

    /// Entries up to which a lookup scans with `==` rather than a binary search.
    const SCAN_UP_TO: usize = 8;

    /// An empty map (allocates nothing).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            repr: Repr::Small(Vec::new()),
        }
    }

    /// Number of entries.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => v.len(),
            Repr::Large(m) => m.len(),
        }
    }

    /// Whether the map holds no entry.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the entries are still in the sorted `Vec` (they have never exceeded
    /// [`Self::SMALL_CAPACITY`]).
    #[must_use]
    pub fn is_inline(&self) -> bool {
        matches!(self.repr, Repr::Small(_))
    }

    /// The entries in ascending key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter(match &self.repr {
            Repr::Small(v) => IterRepr::Small(v.iter()),
            Repr::Large(m) => IterRepr::Large(m.iter()),
        })
    }

    /// The keys in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The values in ascending key order.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    /// The value of `key`.
    #[inline]
    #[must_use]
    pub fn get(&self, key: &K) -> Option<&V> {
        match &self.repr {
            Repr::Small(v) => find(v, key).ok().map(|i| &v[i].1),
            Repr::Large(m) => m.get(key),
        }
    }

    /// The value of `key`, mutably.
    #[inline]
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match &mut self.repr {
            Repr::Small(v) => find(v, key).ok().map(|i| &mut v[i].1),
            Repr::Large(m) => m.get_mut(key),
        }
    }

    /// Whether `key` has a value.
    #[inline]
    #[must_use]
    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Sets the value of `key`; returns the value it replaced.
    #[inline]
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        // Keys mostly arrive in increasing order: appending needs one comparison (none when
        // empty) and shifts nothing. The rest is out of line, to keep callers small.
        if let Repr::Small(v) = &mut self.repr
            && v.len() < Self::SMALL_CAPACITY
            && v.last().is_none_or(|(last, _)| *last < key)
        {
            v.push((key, value));
            return None;
        }
        self.insert_anywhere(key, value)
    }

    /// [`Self::insert`] past its appending fast path.
    #[inline(never)]
    fn insert_anywhere(&mut self, key: K, value: V) -> Option<V> {
        match &mut self.repr {
            Repr::Small(v) => match v.binary_search_by(|(k, _)| k.cmp(&key)) {
                Ok(i) => Some(std::mem::replace(&mut v[i].1, value)),
                Err(i) if v.len() < Self::SMALL_CAPACITY => {
                    v.insert(i, (key, value));
                    None
                }
                Err(_) => {
                    self.spill().insert(key, value);
                    None
                }
            },
            Repr::Large(m) => m.insert(key, value),
        }
    }

    /// Removes `key`; returns its value.
    #[inline]
    pub fn remove(&mut self, key: &K) -> Option<V> {
        // The last entry (often the only one) leaves without shifting the others.
        if let Repr::Small(v) = &mut self.repr
            && v.last().is_some_and(|(last, _)| last == key)
        {
            return v.pop().map(|(_, value)| value);
        }
        self.remove_anywhere(key)
    }

    /// [`Self::remove`] past its last-entry fast path.
    #[inline(never)]
    fn remove_anywhere(&mut self, key: &K) -> Option<V> {
        match &mut self.repr {
            Repr::Small(v) => {
                let i = find(v, key).ok()?;
                Some(v.remove(i).1)
            }
            Repr::Large(m) => m.remove(key),
        }
    }

    /// Moves the entries to the `BTreeMap` representation; returns it.
    #[cold]
    #[inline(never)]
    fn spill(&mut self) -> &mut BTreeMap<K, V> {
        if let Repr::Small(v) = &mut self.repr {
            let m: BTreeMap<K, V> = v.drain(..).collect();
            self.repr = Repr::Large(m);
        }
        match &mut self.repr {
            Repr::Large(m) => m,
            Repr::Small(_) => unreachable!("just spilled"),
        }
    }
}

/// Where `key` is in the sorted `v` (`Err`: where it would go, for a binary search; any value
/// for a scan, which only callers that need `Ok` use).
#[inline]
fn find<K: Ord, V>(v: &[(K, V)], key: &K) -> Result<usize, usize> {
    if v.len() <= SmallMap::<K, V>::SCAN_UP_TO {
        v.iter().position(|(k, _)| k == key).ok_or(v.len())
    } else {
        v.binary_search_by(|(k, _)| k.cmp(key))
    }
}

/// Iterator over a [`SmallMap`]'s entries in ascending key order.
#[derive(Debug, Clone)]
pub struct Iter<'a, K, V>(IterRepr<'a, K, V>);

#[derive(Debug, Clone)]
enum IterRepr<'a, K, V> {
    Small(std::slice::Iter<'a, (K, V)>),
    Large(btree_map::Iter<'a, K, V>),
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(it) => it.next().map(|(k, v)| (k, v)),
            IterRepr::Large(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Small(it) => it.size_hint(),
            IterRepr::Large(it) => it.size_hint(),
        }
    }
}

impl<'a, K, V> IntoIterator for &'a SmallMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SmallMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for SmallMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Eq, V: Eq> Eq for SmallMap<K, V> {}

impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for SmallMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, K, V> serde::Deserialize<'de> for SmallMap<K, V>
where
    K: serde::Deserialize<'de> + Ord,
    V: serde::Deserialize<'de>,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_once_past_the_capacity_and_stays() {
        let cap = SmallMap::<u32, u32>::SMALL_CAPACITY as u32;
        let mut map = SmallMap::new();
        for k in 0..cap {
            map.insert(k, k);
        }
        assert!(map.is_inline());
        map.insert(cap, cap);
        assert!(!map.is_inline());
        for k in 0..=cap {
            assert_eq!(map.remove(&k), Some(k));
        }
        assert!(map.is_empty() && !map.is_inline());
    }

    #[test]
    fn out_of_order_inserts_keep_key_order_in_the_vec() {
        let mut map: SmallMap<u32, ()> = [5, 1, 9, 3, 7].into_iter().map(|k| (k, ())).collect();
        assert!(map.is_inline());
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [1, 3, 5, 7, 9]);
        assert_eq!(map.remove(&5), Some(()));
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [1, 3, 7, 9]);
    }

    #[test]
    fn serialises_as_a_sorted_list_of_pairs_in_either_representation() {
        let small: SmallMap<u32, u32> = [(2, 20), (1, 10)].into_iter().collect();
        let text = serde_json::to_string(&small).unwrap();
        assert_eq!(text, "[[1,10],[2,20]]");
        assert_eq!(
            serde_json::from_str::<SmallMap<u32, u32>>(&text).unwrap(),
            small
        );
        let cap = SmallMap::<u32, u32>::SMALL_CAPACITY as u32;
        let large: SmallMap<u32, u32> = (0..=cap).rev().map(|k| (k, k)).collect();
        assert!(!large.is_inline());
        let back: SmallMap<u32, u32> =
            serde_json::from_str(&serde_json::to_string(&large).unwrap()).unwrap();
        assert_eq!(back, large);
        let pairs: Vec<(u32, u32)> = (0..=cap).map(|k| (k, k)).collect();
        assert_eq!(
            serde_json::to_string(&large).unwrap(),
            serde_json::to_string(&pairs).unwrap()
        );
    }
}
