//! The risk reservation of each entry in flight, by the entry's client id.
//!
//! # Invariants
//!
//! - At most one reservation per client id; entries are inserted, looked up by key and removed,
//!   and listed only for the engine's invariant check, so their order never reaches output.
//! - A bot usually has a handful of entries in flight, so the map starts as an unordered `Vec`
//!   searched with `==` (a fixed-size byte comparison, no hashing). Past [`SMALL_CAPACITY`]
//!   entries it moves once to a hash map and stays there, so many entries in flight keep
//!   constant-time inserts and removals.

use std::collections::HashMap;

use rustrade_core::{ClientOrderId, IdBuildHasher};
use rustrade_risk::ReservationId;

/// Most entries kept in the `Vec` before the map becomes a hash map.
pub(crate) const SMALL_CAPACITY: usize = 16;

/// Client id → reservation of each entry in flight.
#[derive(Debug, Clone)]
pub(crate) enum Reservations {
    /// Unordered, at most [`SMALL_CAPACITY`] entries, keys unique.
    Small(Vec<(ClientOrderId, ReservationId)>),
    /// Any number of entries.
    Large(HashMap<ClientOrderId, ReservationId, IdBuildHasher>),
}

impl Default for Reservations {
    fn default() -> Self {
        Self::Small(Vec::new())
    }
}

impl Reservations {
    /// Sets the reservation of `id`, replacing any earlier one.
    pub(crate) fn insert(&mut self, id: ClientOrderId, r: ReservationId) {
        match self {
            Self::Small(v) => {
                if let Some(e) = v.iter_mut().find(|(k, _)| *k == id) {
                    e.1 = r;
                } else if v.len() < SMALL_CAPACITY {
                    v.push((id, r));
                } else {
                    let mut m: HashMap<_, _, _> = v.drain(..).collect();
                    m.insert(id, r);
                    *self = Self::Large(m);
                }
            }
            Self::Large(m) => {
                m.insert(id, r);
            }
        }
    }

    /// Removes the reservation of `id` and returns it.
    pub(crate) fn remove(&mut self, id: &ClientOrderId) -> Option<ReservationId> {
        match self {
            Self::Small(v) => {
                let i = v.iter().position(|(k, _)| k == id)?;
                Some(v.swap_remove(i).1)
            }
            Self::Large(m) => m.remove(id),
        }
    }

    /// The client ids holding a reservation, in no particular order (for the invariant check,
    /// which only tests membership).
    pub(crate) fn ids(&self) -> Vec<ClientOrderId> {
        match self {
            Self::Small(v) => v.iter().map(|(k, _)| *k).collect(),
            Self::Large(m) => m.keys().copied().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rustrade_core::{Price, Quantity, Side, Symbol, Timestamp};
    use rustrade_risk::{EntryRequest, PortfolioConfig, PortfolioRisk};

    use super::*;

    fn cid(n: usize) -> ClientOrderId {
        ClientOrderId::new(&format!("b-0-{n:x}")).unwrap()
    }

    #[test]
    fn both_representations_behave_as_a_map() {
        // Real reservation ids come from the portfolio.
        let mut portfolio =
            PortfolioRisk::new(PortfolioConfig::default(), Timestamp::EPOCH).unwrap();
        let entry = EntryRequest {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side: Side::Buy,
            quantity: Quantity::new(1.0).unwrap(),
            price: Price::new(1.0).unwrap(),
            contract_value: 1.0,
        };
        let ids: Vec<ReservationId> = (0..4 * SMALL_CAPACITY)
            .map(|_| portfolio.reserve(&entry, &[], Timestamp::EPOCH).unwrap())
            .collect();
        let mut map = Reservations::default();
        let mut reference = BTreeMap::new();
        for (n, &id) in ids.iter().enumerate().take(3 * SMALL_CAPACITY) {
            map.insert(cid(n), id);
            reference.insert(cid(n), id);
            if n + 1 == SMALL_CAPACITY {
                assert!(matches!(map, Reservations::Small(_)));
            }
        }
        assert!(matches!(map, Reservations::Large(_)));
        map.insert(cid(2), ids[3 * SMALL_CAPACITY]);
        reference.insert(cid(2), ids[3 * SMALL_CAPACITY]);
        for n in (0..3 * SMALL_CAPACITY + 3).rev() {
            assert_eq!(map.remove(&cid(n)), reference.remove(&cid(n)));
            assert_eq!(map.remove(&cid(n)), None);
        }

        let mut small = Reservations::default();
        small.insert(cid(1), ids[1]);
        small.insert(cid(2), ids[2]);
        small.insert(cid(1), ids[5]);
        assert_eq!(small.remove(&cid(1)), Some(ids[5]));
        assert_eq!(small.remove(&cid(1)), None);
        assert_eq!(small.remove(&cid(2)), Some(ids[2]));
    }
}
