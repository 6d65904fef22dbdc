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

use rustrade_core::{ClientOrderId, PrintSlab};

/// How many ended orders keep their client id remembered (see the module documentation).
pub const ENDED_ID_RETENTION: usize = 4096;

/// Client id → venue order number (the `n` of `sim-<n>`) of every working order and of the
/// most recently ended ones.
///
/// A [`PrintSlab`] keyed by the client id's [`fingerprint`](ClientOrderId::fingerprint): the
/// venue takes the fingerprint once per order (at submit) and forgets an ended order by its
/// fingerprint and number alone: venue order numbers are unique, so matching the number finds
/// exactly the entry that order created, with no key comparison.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientIds {
    entries: PrintSlab<(ClientOrderId, u64)>,
    /// Ended orders still remembered, `(fingerprint, order number)`: a ring of at most
    /// [`ENDED_ID_RETENTION`] entries whose oldest is at `oldest` once it is full.
    ended: Vec<(u64, u64)>,
    oldest: usize,
}

/// Where [`ClientIds::insert`] puts a client id [`ClientIds::lookup`] did not find.
#[derive(Debug)]
pub(crate) struct Vacancy {
    print: u64,
}

impl ClientIds {
    /// The venue order number the order with `client_id` received, while it is remembered.
    #[cfg(test)]
    pub(crate) fn get(&self, client_id: &ClientOrderId) -> Option<u64> {
        self.lookup(client_id.fingerprint(), client_id).ok()
    }

    /// [`ClientIds::get`] with the client id's fingerprint; when the id is not remembered, what
    /// [`ClientIds::insert`] needs to put it.
    #[inline]
    pub(crate) fn lookup(&self, print: u64, client_id: &ClientOrderId) -> Result<u64, Vacancy> {
        match self.entries.find(print, |(c, _)| c == client_id) {
            Some(&(_, order_no)) => Ok(order_no),
            None => Err(Vacancy { print }),
        }
    }

    /// Remembers a newly received order under the client id `lookup` did not find; nothing may
    /// change the table between the two calls.
    #[inline]
    pub(crate) fn insert(&mut self, at: Vacancy, client_id: ClientOrderId, order_no: u64) {
        // At most the working orders plus the retention window are stored: far below the
        // slab's four billion.
        let _ = self.entries.insert(at.print, (client_id, order_no));
    }

    /// Forgets `client_id` (fingerprint `print`) at once: its order was refused the moment it
    /// was submitted.
    pub(crate) fn forget(&mut self, print: u64, client_id: &ClientOrderId) {
        let _ = self.entries.take(print, |(c, _)| c == client_id);
    }

    /// Records that the order numbered `order_no`, whose client id has fingerprint `print`,
    /// ended; the oldest ended id beyond the retention window is forgotten, unless its client id
    /// has since been given to a newer order.
    #[inline]
    pub(crate) fn ended(&mut self, print: u64, order_no: u64) {
        if self.ended.len() < ENDED_ID_RETENTION {
            self.ended.push((print, order_no));
            return;
        }
        let (old_print, old_order) =
            std::mem::replace(&mut self.ended[self.oldest], (print, order_no));
        self.oldest = (self.oldest + 1) % ENDED_ID_RETENTION;
        // No match: the client id was forgotten early and possibly reused; the newer order keeps
        // it.
        let _ = self.entries.take(old_print, |&(_, n)| n == old_order);
    }

    /// Number of remembered client ids.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
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
            .lookup(cid(client).fingerprint(), &cid(client))
            .unwrap_err();
        ids.insert(at, cid(client), oid(order));
    }

    #[test]
    fn ended_ids_are_remembered_for_the_window_then_forgotten_oldest_first() {
        let mut ids = ClientIds::default();
        for n in 0..ENDED_ID_RETENTION + 10 {
            insert(&mut ids, n, n);
            ids.ended(cid(n).fingerprint(), oid(n));
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
            ids.ended(cid(n).fingerprint(), oid(n));
        }
        assert_eq!(ids.get(&cid(0)), Some(oid(0)));
        assert_eq!(ids.len(), ENDED_ID_RETENTION + 1);
    }

    #[test]
    fn forgetting_an_old_entry_spares_a_reused_client_id() {
        let mut ids = ClientIds::default();
        insert(&mut ids, 0, 0);
        ids.ended(cid(0).fingerprint(), oid(0));
        ids.forget(cid(0).fingerprint(), &cid(0));
        // The client id now names a newer, working order.
        insert(&mut ids, 0, 1);
        for n in 2..ENDED_ID_RETENTION + 2 {
            insert(&mut ids, n, n);
            ids.ended(cid(n).fingerprint(), oid(n));
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
                let h = c.fingerprint();
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
                        let h = c.fingerprint();
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
