//! The venue's memory of received client order ids, so a retried submission never duplicates an
//! order.
//!
//! # Retention
//!
//! - The client id of a working order (received, not yet ended) is always remembered: submitting
//!   it again returns the first order's venue id and changes nothing.
//! - Once the order ends (filled, cancelled, expired, refused on arrival) its id stays remembered
//!   for the next [`ENDED_ID_RETENTION`] orders to end, then is forgotten; a submission with a
//!   forgotten id is judged as a new order. Forgetting follows the order in which orders ended,
//!   so it is deterministic.
//! - Memory is bounded by the working orders plus [`ENDED_ID_RETENTION`] entries, whatever the
//!   length of the run.

use rustrade_core::ClientOrderId;

/// How many ended orders keep their client id remembered (see the module documentation).
pub const ENDED_ID_RETENTION: usize = 4096;

/// Client id → venue order number (the `n` of `sim-<n>`) of every working order and of the
/// most recently ended ones.
///
/// An open-addressing table with linear probing that keeps each entry's hash, so the venue
/// hashes a client id once per order (at submit) and forgets an ended order by its hash and
/// number alone: venue order numbers are unique, so matching the number finds exactly the entry
/// that order created, with no key comparison.
#[derive(Debug, Clone)]
pub(crate) struct ClientIds {
    /// Power-of-two many slots, at most half of them used.
    slots: Vec<Slot>,
    used: usize,
    /// Ended orders still remembered, `(hash, order number)`: a ring of at most
    /// [`ENDED_ID_RETENTION`] entries whose oldest is at `oldest` once it is full.
    ended: Vec<(u64, u64)>,
    oldest: usize,
}

/// Where [`ClientIds::insert`] puts a client id [`ClientIds::lookup`] did not find.
#[derive(Debug)]
pub(crate) struct Vacancy {
    hash: u64,
    slot: usize,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    order_no: u64,
    client_id: Option<ClientOrderId>,
}

const EMPTY: Slot = Slot {
    hash: 0,
    order_no: 0,
    client_id: None,
};

impl Default for ClientIds {
    fn default() -> Self {
        Self {
            slots: vec![EMPTY; 64],
            used: 0,
            ended: Vec::new(),
            oldest: 0,
        }
    }
}

impl ClientIds {
    /// The hash every other method takes with the client id: a multiply-xor over its 8-byte
    /// words (the last word overlapping the one before when the length is not a multiple of 8)
    /// and the length, with the MurmurHash3 finaliser so sequential ids spread over the low bits.
    #[inline]
    pub(crate) fn hash(client_id: &ClientOrderId) -> u64 {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let bytes = client_id.as_str().as_bytes();
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let mut h = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
        let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(PRIME).rotate_left(29);
        if bytes.len() >= 8 {
            let mut at = 0;
            while at + 8 < bytes.len() {
                h = mix(h, word(at));
                at += 8;
            }
            h = mix(h, word(bytes.len() - 8));
        } else {
            let short = bytes.iter().fold(0u64, |w, &b| (w << 8) | u64::from(b));
            h = mix(h, short);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    /// The venue order number the order with `client_id` received, while it is remembered.
    #[cfg(test)]
    pub(crate) fn get(&self, client_id: &ClientOrderId) -> Option<u64> {
        self.lookup(Self::hash(client_id), client_id).ok()
    }

    /// [`ClientIds::get`] with the client id's [`ClientIds::hash`]; when the id is not
    /// remembered, the place [`ClientIds::insert`] puts it.
    #[inline]
    pub(crate) fn lookup(&self, hash: u64, client_id: &ClientOrderId) -> Result<u64, Vacancy> {
        let mask = self.slots.len() - 1;
        let mut i = index(hash, mask);
        loop {
            let s = &self.slots[i];
            match &s.client_id {
                None => return Err(Vacancy { hash, slot: i }),
                Some(c) if s.hash == hash && c == client_id => return Ok(s.order_no),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Remembers a newly received order under the client id `lookup` did not find; nothing may
    /// change the table between the two calls.
    pub(crate) fn insert(&mut self, at: Vacancy, client_id: ClientOrderId, order_no: u64) {
        let Vacancy { hash, mut slot } = at;
        if (self.used + 1) * 2 > self.slots.len() {
            self.grow();
            let mask = self.slots.len() - 1;
            slot = index(hash, mask);
            while self.slots[slot].client_id.is_some() {
                slot = (slot + 1) & mask;
            }
        }
        debug_assert!(self.slots[slot].client_id.is_none());
        self.slots[slot] = Slot {
            hash,
            order_no,
            client_id: Some(client_id),
        };
        self.used += 1;
    }

    /// Forgets `client_id` (hashed to `hash`) at once: its order was refused the moment it was
    /// submitted.
    pub(crate) fn forget(&mut self, hash: u64, client_id: &ClientOrderId) {
        if let Some(i) = self.find(hash, |s| s.client_id.as_ref() == Some(client_id)) {
            self.remove_at(i);
        }
    }

    /// Records that the order numbered `order_no`, whose client id hashes to `hash`, ended; the
    /// oldest ended id beyond the retention window is forgotten, unless its client id has since
    /// been given to a newer order.
    #[inline]
    pub(crate) fn ended(&mut self, hash: u64, order_no: u64) {
        if self.ended.len() < ENDED_ID_RETENTION {
            self.ended.push((hash, order_no));
            return;
        }
        let (old_hash, old_order) =
            std::mem::replace(&mut self.ended[self.oldest], (hash, order_no));
        self.oldest = (self.oldest + 1) % ENDED_ID_RETENTION;
        // No match: the client id was forgotten early and possibly reused; the newer order keeps
        // it.
        if let Some(i) = self.find(old_hash, |s| s.order_no == old_order) {
            self.remove_at(i);
        }
    }

    /// Number of remembered client ids.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.used
    }

    /// The slot of the entry with `hash` that satisfies `is`.
    #[inline]
    fn find(&self, hash: u64, is: impl Fn(&Slot) -> bool) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut i = index(hash, mask);
        loop {
            let s = &self.slots[i];
            s.client_id?;
            if s.hash == hash && is(s) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Empties slot `i`, shifting later entries of its probe run back so every entry stays
    /// reachable from its home slot.
    #[inline]
    fn remove_at(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let s = &self.slots[j];
            if s.client_id.is_none() {
                break;
            }
            // `s` may fill the hole when the hole lies on its probe path: between its home slot
            // and `j`, going round the table.
            let home = index(s.hash, mask);
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots[hole] = *s;
                hole = j;
            }
        }
        self.slots[hole].client_id = None;
        self.used -= 1;
    }

    fn grow(&mut self) {
        let doubled = vec![EMPTY; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.client_id.is_some()) {
            let mut i = index(s.hash, mask);
            while self.slots[i].client_id.is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

/// The home slot of `hash` in a table of `mask + 1` slots.
#[inline]
fn index(hash: u64, mask: usize) -> usize {
    // The low bits of the finalised hash are well mixed; truncation keeps them.
    #[allow(clippy::cast_possible_truncation)]
    let low = hash as usize;
    low & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(n: usize) -> ClientOrderId {
        ClientOrderId::new(&format!("c-{n}")).unwrap()
    }

    fn oid(n: usize) -> u64 {
        u64::try_from(n).unwrap()
    }

    fn insert(ids: &mut ClientIds, client: usize, order: usize) {
        let at = ids
            .lookup(ClientIds::hash(&cid(client)), &cid(client))
            .unwrap_err();
        ids.insert(at, cid(client), oid(order));
    }

    #[test]
    fn ended_ids_are_remembered_for_the_window_then_forgotten_oldest_first() {
        let mut ids = ClientIds::default();
        for n in 0..ENDED_ID_RETENTION + 10 {
            insert(&mut ids, n, n);
            ids.ended(ClientIds::hash(&cid(n)), oid(n));
        }
        assert_eq!(ids.len(), ENDED_ID_RETENTION);
        // Ended 0..=9 fell out of the window; the newest ones are kept.
        assert_eq!(ids.get(&cid(9)), None);
        assert_eq!(ids.get(&cid(10)), Some(oid(10)));
        assert_eq!(
            ids.get(&cid(ENDED_ID_RETENTION + 9)),
            Some(oid(ENDED_ID_RETENTION + 9))
        );
    }

    #[test]
    fn live_ids_are_never_forgotten() {
        let mut ids = ClientIds::default();
        insert(&mut ids, 0, 0);
        for n in 1..=ENDED_ID_RETENTION * 2 {
            insert(&mut ids, n, n);
            ids.ended(ClientIds::hash(&cid(n)), oid(n));
        }
        assert_eq!(ids.get(&cid(0)), Some(oid(0)));
        assert_eq!(ids.len(), ENDED_ID_RETENTION + 1);
    }

    #[test]
    fn forgetting_an_old_entry_spares_a_reused_client_id() {
        let mut ids = ClientIds::default();
        insert(&mut ids, 0, 0);
        ids.ended(ClientIds::hash(&cid(0)), oid(0));
        ids.forget(ClientIds::hash(&cid(0)), &cid(0));
        // The client id now names a newer, working order.
        insert(&mut ids, 0, 1);
        for n in 2..ENDED_ID_RETENTION + 2 {
            insert(&mut ids, n, n);
            ids.ended(ClientIds::hash(&cid(n)), oid(n));
        }
        assert_eq!(ids.get(&cid(0)), Some(oid(1)));
    }

    use std::collections::VecDeque;

    /// The map-and-queue rules of the module documentation, written plainly.
    #[derive(Default)]
    struct Model {
        map: std::collections::HashMap<ClientOrderId, u64>,
        ended: VecDeque<(ClientOrderId, u64)>,
    }

    impl Model {
        fn ended(&mut self, client_id: ClientOrderId, order_no: u64) {
            if self.ended.len() >= ENDED_ID_RETENTION
                && let Some((old_client, old_order)) = self.ended.pop_front()
                && self.map.get(&old_client) == Some(&old_order)
            {
                self.map.remove(&old_client);
            }
            self.ended.push_back((client_id, order_no));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

        #[test]
        fn the_table_agrees_with_a_plain_map(
            ops in proptest::collection::vec((0u8..4, 0usize..6000), 1..30_000)
        ) {
            let mut ids = ClientIds::default();
            let mut model = Model::default();
            let mut working: Vec<(ClientOrderId, u64)> = Vec::new();
            let mut next_no = 1u64;
            for (op, n) in ops {
                let c = cid(n);
                let h = ClientIds::hash(&c);
                let found = ids.lookup(h, &c);
                proptest::prop_assert_eq!(found.as_ref().ok().copied(), model.map.get(&c).copied());
                match (op, found) {
                    // Submit: a remembered id changes nothing.
                    (0 | 1, Err(at)) => {
                        ids.insert(at, c, next_no);
                        model.map.insert(c, next_no);
                        working.push((c, next_no));
                        next_no += 1;
                    }
                    // End the working order at `n`, forgetting it at once on op 3.
                    (2 | 3, _) if !working.is_empty() => {
                        let (c, no) = working.swap_remove(n % working.len());
                        let h = ClientIds::hash(&c);
                        ids.ended(h, no);
                        model.ended(c, no);
                        if op == 3 {
                            ids.forget(h, &c);
                            model.map.remove(&c);
                        }
                    }
                    _ => {}
                }
                proptest::prop_assert_eq!(ids.len(), model.map.len());
            }
            for (c, no) in &model.map {
                proptest::prop_assert_eq!(ids.get(c), Some(*no));
            }
        }
    }
}
