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

use std::collections::{HashMap, VecDeque};

use rustrade_core::{ClientOrderId, IdBuildHasher};

/// How many ended orders keep their client id remembered (see the module documentation).
pub const ENDED_ID_RETENTION: usize = 4096;

/// Client id → venue order number (the `n` of `sim-<n>`) of every working order and of the
/// most recently ended ones. Numbers rather than the id text keep entries small: inserting,
/// forgetting and comparing them moves 8 bytes instead of a 65-byte inline id.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientIds {
    map: HashMap<ClientOrderId, u64, IdBuildHasher>,
    /// Ended orders still remembered, oldest first.
    ended: VecDeque<(ClientOrderId, u64)>,
}

impl ClientIds {
    /// The venue order number the order with `client_id` received, while it is remembered.
    pub(crate) fn get(&self, client_id: &ClientOrderId) -> Option<u64> {
        self.map.get(client_id).copied()
    }

    /// Remembers a newly received order.
    pub(crate) fn insert(&mut self, client_id: ClientOrderId, order_no: u64) {
        self.map.insert(client_id, order_no);
    }

    /// Forgets `client_id` at once: its order was refused the moment it was submitted.
    pub(crate) fn forget(&mut self, client_id: &ClientOrderId) {
        self.map.remove(client_id);
    }

    /// Records that the order numbered `order_no` ended; the oldest ended id beyond the
    /// retention window is forgotten, unless its client id has since been given to a newer
    /// order.
    pub(crate) fn ended(&mut self, client_id: ClientOrderId, order_no: u64) {
        if self.ended.len() >= ENDED_ID_RETENTION
            && let Some((old_client, old_order)) = self.ended.pop_front()
            && let Some(current) = self.map.remove(&old_client)
            && current != old_order
        {
            // Rare: the client id was forgotten early and reused; keep the newer order.
            self.map.insert(old_client, current);
        }
        self.ended.push_back((client_id, order_no));
    }

    /// Number of remembered client ids.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
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

    #[test]
    fn ended_ids_are_remembered_for_the_window_then_forgotten_oldest_first() {
        let mut ids = ClientIds::default();
        for n in 0..ENDED_ID_RETENTION + 10 {
            ids.insert(cid(n), oid(n));
            ids.ended(cid(n), oid(n));
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
        ids.insert(cid(0), oid(0));
        for n in 1..=ENDED_ID_RETENTION * 2 {
            ids.insert(cid(n), oid(n));
            ids.ended(cid(n), oid(n));
        }
        assert_eq!(ids.get(&cid(0)), Some(oid(0)));
        assert_eq!(ids.len(), ENDED_ID_RETENTION + 1);
    }

    #[test]
    fn forgetting_an_old_entry_spares_a_reused_client_id() {
        let mut ids = ClientIds::default();
        ids.insert(cid(0), oid(0));
        ids.ended(cid(0), oid(0));
        ids.forget(&cid(0));
        // The client id now names a newer, working order.
        ids.insert(cid(0), oid(1));
        for n in 2..ENDED_ID_RETENTION + 2 {
            ids.insert(cid(n), oid(n));
            ids.ended(cid(n), oid(n));
        }
        assert_eq!(ids.get(&cid(0)), Some(oid(1)));
    }
}
