//! The registered handle of every metric key emitted so far, so that emitting a known series
//! costs a hash of its name and labels and a lock, not a new `Key` (a label vector and a copy
//! of every label) and a registry lookup.
//!
//! # Invariants
//!
//! - One entry per distinct (name, labels) series, in emission order within a hash bucket; a
//!   hash collision only lengthens the bucket, lookups compare the name and every label.
//! - The cache only grows. Its size is the number of distinct series, which the bot bounds:
//!   labels are brains, symbols and fixed reason strings.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use metrics::{Key, Label as MetricLabel};
use rustrade_core::Label;

/// Handles of one metric kind (counters, gauges or histograms), by series.
pub(super) struct Handles<H> {
    by_hash: Mutex<ByHash<H>>,
}

/// The series' handles by the hash of their name and labels.
type ByHash<H> = HashMap<u64, Vec<(Key, H)>, BuildHasherDefault<IdentityHasher>>;

impl<H: Clone> Handles<H> {
    /// The handle of the series `name` with `labels`, registered by `register` the first
    /// time it is asked for.
    pub(super) fn get(
        &self,
        name: &'static str,
        labels: &[Label<'_>],
        register: impl FnOnce(&Key) -> H,
    ) -> H {
        let hash = series_hash(name, labels);
        let mut map = self
            .by_hash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = map.entry(hash).or_default();
        if let Some((_, h)) = bucket.iter().find(|(k, _)| same_series(k, name, labels)) {
            return h.clone();
        }
        let key = key(name, labels);
        let handle = register(&key);
        bucket.push((key, handle.clone()));
        handle
    }
}

impl<H> Default for Handles<H> {
    fn default() -> Self {
        Self {
            by_hash: Mutex::new(HashMap::default()),
        }
    }
}

/// The `metrics` key of a series.
pub(super) fn key(name: &'static str, labels: &[Label<'_>]) -> Key {
    let labels: Vec<MetricLabel> = labels
        .iter()
        .map(|(k, v)| MetricLabel::new(*k, (*v).to_owned()))
        .collect();
    Key::from_parts(name, labels)
}

fn series_hash(name: &str, labels: &[Label<'_>]) -> u64 {
    let mut h = BuildHasherDefault::<DefaultHasher>::default().build_hasher();
    name.hash(&mut h);
    for (k, v) in labels {
        k.hash(&mut h);
        v.hash(&mut h);
    }
    h.finish()
}

fn same_series(key: &Key, name: &str, labels: &[Label<'_>]) -> bool {
    key.name() == name
        && key.labels().len() == labels.len()
        && key
            .labels()
            .zip(labels)
            .all(|(l, (k, v))| l.key() == *k && l.value() == *v)
}

/// The map's keys are already hashes.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_registered_once_and_series_are_told_apart_by_every_label() {
        let handles = Handles::<u32>::default();
        let mut registered = 0;
        let mut get = |name, labels: &[Label<'_>]| {
            handles.get(name, labels, |_| {
                registered += 1;
                registered
            })
        };
        let a = get("m", &[("symbol", "X")]);
        assert_eq!(get("m", &[("symbol", "X")]), a);
        let b = get("m", &[("symbol", "Y")]);
        let c = get("m", &[("symbol", "X"), ("brain", "b")]);
        let d = get("n", &[("symbol", "X")]);
        let e = get("m", &[]);
        assert_eq!(
            [a, b, c, d, e],
            [1, 2, 3, 4, 5],
            "five distinct series, each registered once"
        );
        assert_eq!(get("m", &[("symbol", "Y")]), b);
        assert_eq!(get("m", &[]), e);
    }

    #[test]
    fn colliding_hashes_still_compare_the_series() {
        let handles = Handles::<&'static str>::default();
        let key_x = key("m", &[("symbol", "X")]);
        // Plant another series under the hash of m{symbol="X"}.
        handles.by_hash.lock().unwrap().insert(
            series_hash("m", &[("symbol", "X")]),
            vec![(key("other", &[]), "other")],
        );
        let got = handles.get("m", &[("symbol", "X")], |k| {
            assert_eq!(k, &key_x);
            "x"
        });
        assert_eq!(got, "x");
        assert_eq!(handles.get("m", &[("symbol", "X")], |_| "again"), "x");
    }
}
