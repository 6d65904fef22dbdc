//! [`FillMemory`]: the window of recent fill ids that makes each fill apply once.

use std::collections::VecDeque;

use rustrade_core::{FillId, PrintIndex};

/// The most recent fill ids, to apply each fill once.
///
/// The ids sit in a ring with their 64-bit fingerprints beside them; a [`PrintIndex`] maps each
/// fingerprint to the ring position holding it, and a fingerprint hit is confirmed against the id
/// there, so a collision never drops a real fill. Once the ring is full, a new id overwrites the
/// oldest in place, and forgetting the oldest costs one probe and no rehash of its text. The
/// index is never iterated; the serialised form is the ids in arrival order.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "RawFillMemory", into = "RawFillMemory")]
pub(crate) struct FillMemory {
    prints: PrintIndex,
    /// The remembered ids, at most `capacity` (and at most [`PrintIndex::MAX_HANDLE`] + 1, far
    /// beyond any memory); once full, `ring[next]` is the oldest.
    ring: Vec<(u64, FillId)>,
    /// Where the next id goes once the ring is full.
    next: usize,
    capacity: usize,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct RawFillMemory {
    order: VecDeque<FillId>,
    capacity: usize,
}

impl From<RawFillMemory> for FillMemory {
    fn from(raw: RawFillMemory) -> Self {
        let mut m = Self {
            capacity: raw.capacity,
            ..Self::default()
        };
        for id in raw.order {
            m.insert(id);
        }
        m
    }
}

impl From<FillMemory> for RawFillMemory {
    fn from(m: FillMemory) -> Self {
        Self {
            order: m.ids().copied().collect(),
            capacity: m.capacity,
        }
    }
}

impl PartialEq for FillMemory {
    /// Memories are equal when they remember the same ids in the same order with the same
    /// capacity, wherever the ring starts.
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity
            && self.ring.len() == other.ring.len()
            && self.ids().eq(other.ids())
    }
}

impl FillMemory {
    /// An empty memory of at most `capacity` ids.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ..Self::default()
        }
    }

    /// Remembers `id`; returns `false` if it was already known.
    pub(crate) fn insert(&mut self, id: FillId) -> bool {
        let print = id.fingerprint();
        let ring = &self.ring;
        if self.prints.find(print, |h| ring[h].1 == id).is_some() {
            return false;
        }
        if self.ring.len() < self.capacity.min(PrintIndex::MAX_HANDLE + 1) {
            self.prints.insert(print, self.ring.len());
            self.ring.push((print, id));
            return true;
        }
        let slot = self.next;
        let Some(oldest) = self.ring.get_mut(slot) else {
            // A zero capacity remembers nothing (the config refuses it).
            return true;
        };
        let old_print = oldest.0;
        *oldest = (print, id);
        self.next = (slot + 1) % self.ring.len();
        self.prints.remove(old_print, slot);
        self.prints.insert(print, slot);
        true
    }

    /// Whether `id` is remembered.
    #[inline]
    pub(crate) fn contains(&self, id: &FillId) -> bool {
        let ring = &self.ring;
        self.prints
            .find(id.fingerprint(), |h| ring[h].1 == *id)
            .is_some()
    }

    /// The remembered ids, oldest first.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &FillId> {
        let (newer, older) = self.ring.split_at(self.next.min(self.ring.len()));
        older.iter().chain(newer).map(|(_, id)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::IdHasher;
    use std::collections::BTreeSet;
    use std::hash::Hasher;

    fn id(s: &str) -> FillId {
        FillId::new(s).unwrap()
    }

    #[test]
    fn fill_memory_forgets_the_oldest_and_survives_serde() {
        let mut m = FillMemory {
            capacity: 2,
            ..FillMemory::default()
        };
        assert!(m.insert(id("a")) && m.insert(id("b")));
        assert!(!m.insert(id("a")), "duplicate");
        assert!(m.insert(id("c")), "evicts a");
        assert!(m.insert(id("a")), "a was forgotten");
        assert!(!m.insert(id("c")));
        assert_eq!(m.ids().map(FillId::as_str).collect::<Vec<_>>(), ["c", "a"]);
        let back: FillMemory = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        // Equality and the serialised form ignore where the ring starts.
        let mut rotated = FillMemory {
            capacity: 2,
            ..FillMemory::default()
        };
        assert!(rotated.insert(id("b")) && rotated.insert(id("c")) && rotated.insert(id("a")));
        assert_ne!(rotated.next, back.next);
        assert_eq!(rotated, back);
        assert_eq!(
            serde_json::to_string(&rotated).unwrap(),
            serde_json::to_string(&m).unwrap()
        );
        let mut none = FillMemory::default();
        assert!(none.insert(id("a")) && none.insert(id("a")));
        assert_eq!(none.prints.len(), 0);
    }

    #[test]
    fn id_hashes_spread_ids_differing_in_their_last_characters() {
        let mut low_bits = BTreeSet::new();
        for n in 0..1024u32 {
            let mut h = IdHasher::default();
            h.write(format!("sim-o-{n:08}").as_bytes());
            low_bits.insert(h.finish() & 1023);
        }
        // 1024 random 10-bit values hit ~647 distinct buckets on average.
        assert!(low_bits.len() > 550, "{}", low_bits.len());
        let text = |t: &str| {
            let mut h = IdHasher::default();
            h.write(t.as_bytes());
            h.finish()
        };
        assert_ne!(text("a"), text("a\0"));
        assert_ne!(text("abcdefgh"), text("abcdefgh\0"));
    }

    #[test]
    fn a_fingerprint_collision_never_drops_a_new_fill() {
        let mut m = FillMemory {
            capacity: 8,
            ..FillMemory::default()
        };
        // Force two different ids under one fingerprint.
        m.prints.insert(id("x").fingerprint(), 0);
        m.ring.push((id("x").fingerprint(), id("y")));
        assert!(
            m.insert(id("x")),
            "a fingerprint hit is confirmed against the ids"
        );
        assert!(!m.insert(id("x")));
        assert_eq!(m.prints.len(), 2);
        let print = id("x").fingerprint();
        assert_eq!(m.prints.find(print, |h| m.ring[h].1 == id("x")), Some(1));
    }
}
