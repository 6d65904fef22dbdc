//! Market progress: per brain, the time of the newest market event of each symbol the brain was
//! handed, kept in the state store so that a restarted bot asks its sources for what came after
//! ([`MarketSource::resume_after`](rustrade_core::MarketSource::resume_after)) and no brain is
//! handed an event it already decided on.
//!
//! # Layout
//!
//! `market/consumed/<brain name>`: `{"format":1,"through":[["BTCUSDT",<ns>],…]}`, one key per
//! brain (a brain name may hold any printable character, so the symbols live in the value).
//!
//! # When it is written
//!
//! - An event a brain decided on (a non-hold decision) moves the brain's progress in the same
//!   store batch as the decision's journal records: a durable decision is never made again, and
//!   a decision the store never held is made again on the event delivered again.
//! - An event a brain held on (or failed on) moves its progress in memory only; that rides
//!   along with the next batch the store writes, is written on its own every [`FLUSH_EVERY`]
//!   such events, and at shutdown; a failed batch keeps it for the next one. A crash can therefore hand a brain again some events it held on, never
//!   one it acted on.
//!
//! # At start-up
//!
//! Each symbol resumes after the oldest progress of the brains it is routed to (a symbol with a
//! routed brain that has none does not resume); each brain passes over what it already saw, and
//! the engine is not marked again with events it was marked with before.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use rustrade_core::{StateStore, StoreError, StoreOp, Symbol, Timestamp};

use crate::driver::lock;

/// Store key prefix of the brains' progress.
pub(crate) const PREFIX: &str = "market/consumed/";
/// Events held on (per bot) after which the progress in memory is written on its own.
pub(crate) const FLUSH_EVERY: usize = 64;

/// One brain's progress: per symbol, the time of the newest event it was handed.
pub(crate) type Through = BTreeMap<Symbol, Timestamp>;

/// The progress of every brain of one bot, and which of it the store does not hold yet.
#[derive(Default)]
pub(crate) struct Progress {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    brains: BTreeMap<Arc<str>, Through>,
    /// Brains whose progress in memory is ahead of the store and not queued with a decision.
    dirty: BTreeSet<Arc<str>>,
    /// Events held on since the last write of dirty progress.
    held_since_write: usize,
}

/// A brain's progress as it is to be written.
pub(crate) type Entry = (Arc<str>, Through);

impl Progress {
    /// Installs what start-up read from the store.
    pub(crate) fn seed(&self, loaded: BTreeMap<Arc<str>, Through>) {
        let mut s = lock(&self.state);
        s.brains = loaded;
        s.dirty.clear();
        s.held_since_write = 0;
    }
    /// Records that `brain` held on (or failed on) the event of `symbol` at `time`; `true` when
    /// enough such progress has gathered to be written on its own.
    pub(crate) fn held(&self, brain: &Arc<str>, symbol: Symbol, time: Timestamp) -> bool {
        let mut s = lock(&self.state);
        advance(&mut s.brains, brain, symbol, time);
        s.dirty.insert(Arc::clone(brain));
        s.held_since_write += 1;
        s.held_since_write >= FLUSH_EVERY
    }
    /// Records that `brain` decided on the event of `symbol` at `time`, and returns its whole
    /// progress to be written with the decision's records. The brain is no longer dirty: the
    /// entry returned covers it.
    pub(crate) fn decided(&self, brain: &Arc<str>, symbol: Symbol, time: Timestamp) -> Entry {
        let mut s = lock(&self.state);
        advance(&mut s.brains, brain, symbol, time);
        s.dirty.remove(brain);
        (Arc::clone(brain), s.brains[brain].clone())
    }
    /// Marks `brain` dirty again: the entry of a decision that journalled nothing.
    pub(crate) fn mark_dirty(&self, brain: Arc<str>) {
        lock(&self.state).dirty.insert(brain);
    }
    /// Takes the dirty progress to be written in the next batch.
    pub(crate) fn take_dirty(&self) -> Vec<Entry> {
        let mut s = lock(&self.state);
        s.held_since_write = 0;
        let dirty = std::mem::take(&mut s.dirty);
        dirty
            .into_iter()
            .filter_map(|b| s.brains.get(&b).map(|t| (b, t.clone())))
            .collect()
    }
}

/// The store key of `brain`'s progress.
pub(crate) fn key(brain: &str) -> String {
    format!("{PREFIX}{brain}")
}

/// The store operations writing `entries`, the last entry of a brain winning.
pub(crate) fn ops<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
) -> Result<Vec<StoreOp>, StoreError> {
    let mut newest: BTreeMap<&str, &Through> = BTreeMap::new();
    for (brain, through) in entries {
        newest.insert(brain, through);
    }
    newest
        .into_iter()
        .map(|(brain, through)| {
            let value = serde_json::to_vec(&Stored {
                format: FORMAT,
                through: through.iter().map(|(s, t)| (*s, *t)).collect(),
            })
            .map_err(|e| {
                StoreError::Backend(format!("progress of brain {brain:?} not encodable: {e}"))
            })?;
            Ok(StoreOp::Put {
                key: key(brain),
                value,
            })
        })
        .collect()
}

/// Reads every brain's progress; an unreadable value fails with [`StoreError::Corrupt`] naming
/// its key (a bot never guesses where to resume).
pub(crate) async fn load(
    store: &dyn StateStore,
) -> Result<BTreeMap<Arc<str>, Through>, StoreError> {
    let mut loaded = BTreeMap::new();
    for key in store.list(PREFIX).await? {
        let Some(brain) = key.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(bytes) = store.load(&key).await? else {
            continue;
        };
        loaded.insert(Arc::from(brain), decode(&key, &bytes)?);
    }
    Ok(loaded)
}

/// Where each symbol resumes: after the oldest progress among the brains routed to it, listed
/// only when every one of them has progress for it.
pub(crate) fn resume_points(
    symbols: &[Symbol],
    brains: &[(Arc<str>, Vec<Symbol>)],
    loaded: &BTreeMap<Arc<str>, Through>,
) -> Vec<(Symbol, Timestamp)> {
    let mut points = Vec::new();
    for symbol in symbols {
        let mut oldest: Option<Timestamp> = None;
        let mut complete = true;
        let mut routed = false;
        for (name, routes) in brains {
            if !routes.contains(symbol) {
                continue;
            }
            routed = true;
            match loaded.get(name).and_then(|t| t.get(symbol)) {
                Some(&t) => oldest = Some(oldest.map_or(t, |o| o.min(t))),
                None => complete = false,
            }
        }
        if let (true, true, Some(t)) = (routed, complete, oldest) {
            points.push((*symbol, t));
        }
    }
    points
}

/// Per symbol, the newest progress of any brain: the engine was marked with everything up to it.
pub(crate) fn marked_through(loaded: &BTreeMap<Arc<str>, Through>) -> Through {
    let mut marked = Through::new();
    for through in loaded.values() {
        for (symbol, &t) in through {
            let m = marked.entry(*symbol).or_insert(t);
            *m = (*m).max(t);
        }
    }
    marked
}

const FORMAT: u32 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    format: u32,
    through: Vec<(Symbol, Timestamp)>,
}

fn advance(
    brains: &mut BTreeMap<Arc<str>, Through>,
    brain: &Arc<str>,
    symbol: Symbol,
    time: Timestamp,
) {
    let through = brains.entry(Arc::clone(brain)).or_default();
    let t = through.entry(symbol).or_insert(time);
    *t = (*t).max(time);
}

fn decode(key: &str, bytes: &[u8]) -> Result<Through, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: key.to_owned(),
        reason,
    };
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| {
        corrupt(format!(
            "market progress does not decode ({e}): {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
        ))
    })?;
    if stored.format != FORMAT {
        return Err(corrupt(format!(
            "market progress format {} is not {FORMAT}",
            stored.format
        )));
    }
    Ok(stored.through.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use rustrade_core::MemoryStore;

    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }
    fn t(ns: i64) -> Timestamp {
        Timestamp::from_nanos(ns)
    }

    #[tokio::test]
    async fn progress_round_trips_through_the_store() {
        let store = MemoryStore::new();
        let p = Progress::default();
        let a: Arc<str> = Arc::from("a/b brain");
        assert!(!p.held(&a, sym("BTC"), t(5)));
        let entry = p.decided(&a, sym("ETH"), t(7));
        assert!(
            p.take_dirty().is_empty(),
            "the decision's entry covers the brain"
        );
        store.apply(&ops([&entry]).unwrap()).await.unwrap();
        let loaded = load(&store).await.unwrap();
        assert_eq!(
            loaded[&a],
            Through::from([(sym("BTC"), t(5)), (sym("ETH"), t(7))])
        );
    }

    #[test]
    fn progress_never_moves_back_and_flushes_after_enough_holds() {
        let p = Progress::default();
        let a: Arc<str> = Arc::from("a");
        p.held(&a, sym("BTC"), t(9));
        let (_, through) = p.decided(&a, sym("BTC"), t(3));
        assert_eq!(through[&sym("BTC")], t(9));
        assert!(
            p.take_dirty().is_empty(),
            "written with the decision's batch"
        );
        let due: Vec<bool> = (0..FLUSH_EVERY as i64)
            .map(|i| p.held(&a, sym("BTC"), t(10 + i)))
            .collect();
        assert_eq!(due.iter().filter(|d| **d).count(), 1);
        assert!(due[FLUSH_EVERY - 1]);
        let dirty = p.take_dirty();
        assert_eq!(dirty[0].1[&sym("BTC")], t(9 + FLUSH_EVERY as i64));
        assert!(
            !p.held(&a, sym("BTC"), t(100)),
            "the count starts again after a write"
        );
    }

    #[tokio::test]
    async fn corrupt_progress_fails_naming_the_key_and_the_value() {
        let store = MemoryStore::new();
        store
            .apply(&[StoreOp::Put {
                key: key("sma"),
                value: b"{\"format\":1,\"through\":[[\"BTC\",\"x\"]]}".to_vec(),
            }])
            .await
            .unwrap();
        let err = load(&store).await.unwrap_err();
        let StoreError::Corrupt { key, reason } = err else {
            panic!("{err:?}")
        };
        assert_eq!(key, "market/consumed/sma");
        assert!(reason.contains("\"x\""), "{reason}");
    }

    #[test]
    fn a_symbol_resumes_after_its_oldest_brain_and_only_when_all_have_progress() {
        let (btc, eth) = (sym("BTC"), sym("ETH"));
        let brains = vec![
            (Arc::<str>::from("fast"), vec![btc, eth]),
            (Arc::<str>::from("slow"), vec![btc]),
        ];
        let loaded = BTreeMap::from([
            (
                Arc::<str>::from("fast"),
                Through::from([(btc, t(20)), (eth, t(30))]),
            ),
            (Arc::<str>::from("slow"), Through::from([(btc, t(10))])),
        ]);
        assert_eq!(
            resume_points(&[btc, eth], &brains, &loaded),
            vec![(btc, t(10)), (eth, t(30))]
        );
        let partial = BTreeMap::from([(Arc::<str>::from("fast"), Through::from([(btc, t(20))]))]);
        assert_eq!(resume_points(&[btc, eth], &brains, &partial), vec![]);
        assert_eq!(marked_through(&loaded)[&btc], t(20));
    }
}
