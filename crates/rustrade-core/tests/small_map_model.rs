//! [`SmallMap`] against `std`'s `HashMap` as the model: after any sequence of inserts, removals
//! and lookups, on either side of the spill to the tree and back below it, every answer is the
//! model's, the length is the model's and iteration yields the model's entries in key order.

use std::collections::HashMap;

use proptest::prelude::*;
use rustrade_core::{ClientOrderId, SmallMap};

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, u32),
    Remove(u16),
    Get(u16),
    Bump(u16),
}

/// Keys from a range about three times the small capacity, so runs cross the spill threshold
/// and hit existing keys often.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let key = 0u16..96;
    let op = prop_oneof![
        4 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => key.clone().prop_map(Op::Remove),
        1 => key.clone().prop_map(Op::Get),
        1 => key.prop_map(Op::Bump),
    ];
    prop::collection::vec(op, 0..400)
}

fn check<K: Ord + Copy + std::hash::Hash + std::fmt::Debug>(
    ops: &[Op],
    key: impl Fn(u16) -> K,
) -> Result<(), TestCaseError> {
    let mut map = SmallMap::new();
    let mut model: HashMap<K, u32> = HashMap::new();
    let mut spilled = false;
    for op in ops {
        match *op {
            Op::Insert(k, v) => prop_assert_eq!(map.insert(key(k), v), model.insert(key(k), v)),
            Op::Remove(k) => prop_assert_eq!(map.remove(&key(k)), model.remove(&key(k))),
            Op::Get(k) => {
                prop_assert_eq!(map.get(&key(k)), model.get(&key(k)));
                prop_assert_eq!(map.contains_key(&key(k)), model.contains_key(&key(k)));
            }
            Op::Bump(k) => {
                if let Some(v) = map.get_mut(&key(k)) {
                    *v = v.wrapping_add(1);
                }
                if let Some(v) = model.get_mut(&key(k)) {
                    *v = v.wrapping_add(1);
                }
            }
        }
        prop_assert_eq!(map.len(), model.len());
        prop_assert_eq!(map.is_empty(), model.is_empty());
        // Inline until the first time it would exceed the capacity, never again after.
        spilled |= model.len() > SmallMap::<K, u32>::SMALL_CAPACITY;
        prop_assert_eq!(map.is_inline(), !spilled);
        let mut expected: Vec<(K, u32)> = model.iter().map(|(k, v)| (*k, *v)).collect();
        expected.sort_unstable_by_key(|e| e.0);
        let got: Vec<(K, u32)> = map.iter().map(|(k, v)| (*k, *v)).collect();
        prop_assert_eq!(got, expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn integer_keys_behave_as_the_model(ops in ops()) {
        check(&ops, |k| k)?;
    }

    #[test]
    fn client_id_keys_behave_as_the_model(ops in ops()) {
        // The engine's keys: text ids, whose byte order is not their numeric order.
        check(&ops, |k| ClientOrderId::new(&format!("b-0-{k:x}")).unwrap())?;
    }
}
