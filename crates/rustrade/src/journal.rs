//! The engine's journal and snapshots in a [`StateStore`]: how they are laid out, written in
//! order, and read back at start-up.
//!
//! # Layout
//!
//! - `journal/<seq, 20 digits>-<time ns, 20 digits>`: one [`JournalRecord`] per engine event,
//!   keyed by its journal sequence number (so keys sort in the order the engine emitted them)
//!   and the time it was written (so retention can prune without decoding).
//! - `engine/snapshot`: the newest [`EngineSnapshot`]; `engine/snapshot.prev`: the one before,
//!   kept so a damaged newest snapshot still has a readable fallback.
//! - `engine/genesis`: when the engine's history began (`started`), written before the first
//!   step, so the journal alone can rebuild the state.
//! - `fills/<fill id>` and `meta/layout`: the durable record of applied fills, written in the
//!   batch of the step that applied them, and the state's layout version
//!   ([`applied_fills`](crate::store::applied_fills)).
//!
//! Stores written by older releases hold `journal/<time>-<step>-<index>` keys of bare events
//! and a version-1 snapshot that covers all of them; they restore from that snapshot, and their
//! old records are only pruned.
//!
//! # Writing
//!
//! A step's records are queued under the engine lock, in the order the engine numbered them;
//! whoever writes next writes everything queued, in order, in one [`StateStore::apply`] batch
//! (with the newest snapshot due), so the store always holds a gap-free prefix of the journal.
//! A failed batch goes back to the front of the queue and is retried by the next write; the
//! caller learns its records are not durable and sends none of its orders.
//!
//! # Reading back
//!
//! Newest readable snapshot plus the records after it ([`Engine::resume`]); if neither snapshot
//! can be read, every record from the first ([`Engine::replay_records`]); if that history is
//! incomplete too, start-up fails naming what is unreadable — never a fresh start over state
//! that exists.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustrade_core::{StateStore, StoreError, StoreOp, Timestamp};
use rustrade_engine::{
    Engine, EngineConfig, EngineError, EngineEvent, EngineSnapshot, JournalRecord,
};

use crate::BotError;
use crate::driver::lock;
use crate::progress::{self, Progress};
use crate::store::applied_fills;

/// Store key of the newest engine snapshot.
pub(crate) const SNAPSHOT_KEY: &str = "engine/snapshot";
/// Store key of the snapshot before the newest.
pub(crate) const PREVIOUS_SNAPSHOT_KEY: &str = "engine/snapshot.prev";
/// Store key of the start of the engine's history.
pub(crate) const GENESIS_KEY: &str = "engine/genesis";
/// Store key prefix of journal records.
pub(crate) const JOURNAL_PREFIX: &str = "journal/";

/// The key of journal record `seq`, written at `time`.
pub(crate) fn record_key(seq: u64, time: Timestamp) -> String {
    format!("{JOURNAL_PREFIX}{seq:020}-{:020}", time.as_nanos().max(0))
}

/// A journal key's parts: `Current(seq, time ns)`, or `Legacy(time ns)` for the layout of
/// older releases; `None` for anything else under the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKey {
    Current { seq: u64, time: i64 },
    Legacy { time: i64 },
}

pub(crate) fn parse_record_key(key: &str) -> Option<RecordKey> {
    let rest = key.strip_prefix(JOURNAL_PREFIX)?;
    let parts: Vec<&str> = rest.split('-').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [seq, time] if digits(seq, 20) && digits(time, 20) => Some(RecordKey::Current {
            seq: seq.parse().ok()?,
            time: time.parse().ok()?,
        }),
        [time, step, index] if digits(time, 20) && digits(step, 20) && digits(index, 4) => {
            Some(RecordKey::Legacy {
                time: time.parse().ok()?,
            })
        }
        _ => None,
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Genesis {
    format: u32,
    started: Timestamp,
}

/// One step's records (and snapshot, when one is due), waiting to be written.
struct Pending {
    /// Sequence number of the first event in `events`.
    first_seq: u64,
    events: Arc<Vec<EngineEvent>>,
    snapshot: Option<Box<EngineSnapshot>>,
    time: Timestamp,
    /// Brains' market progress written with these records ([`progress`](crate::progress)).
    progress: Vec<progress::Entry>,
}

impl Pending {
    /// Nothing but brains' progress, written with the next batch.
    fn progress_only(progress: Vec<progress::Entry>) -> Self {
        Self {
            first_seq: 0,
            events: Arc::default(),
            snapshot: None,
            time: Timestamp::default(),
            progress,
        }
    }
    fn last_seq(&self) -> u64 {
        let n = self.events.len() as u64;
        let last_event = (self.first_seq + n).saturating_sub(1);
        let covered = self.snapshot.as_ref().map_or(0, |s| s.journal_seq);
        if n == 0 {
            covered
        } else {
            last_event.max(covered)
        }
    }
}

/// What the writer knows of the store.
struct Written {
    /// Every record up to this sequence number is in the store.
    through: u64,
    /// The newest snapshot in the store (bytes, its journal position): it becomes the previous
    /// one when the next is written.
    snapshot: Option<(Vec<u8>, u64)>,
}

/// The ordered journal writer of one bot.
pub(crate) struct Journal {
    queue: Mutex<VecDeque<Pending>>,
    written: tokio::sync::Mutex<Written>,
    /// Journal position of the newest snapshot queued.
    snapshot_queued: AtomicU64,
    snapshot_every: u64,
    /// The brains' market progress, written with the batches.
    pub(crate) progress: Progress,
}

impl Journal {
    /// A writer that snapshots once at least `snapshot_every` records were journalled since the
    /// last snapshot (1: every step that journals anything).
    pub(crate) fn new(snapshot_every: u64) -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            written: tokio::sync::Mutex::new(Written {
                through: 0,
                snapshot: None,
            }),
            snapshot_queued: AtomicU64::new(0),
            snapshot_every: snapshot_every.max(1),
            progress: Progress::default(),
        }
    }

    /// Seeds the writer with what start-up found in the store.
    pub(crate) async fn seed(&self, through: u64, snapshot: Option<(Vec<u8>, u64)>) {
        let mut w = self.written.lock().await;
        w.through = through;
        self.snapshot_queued
            .store(snapshot.as_ref().map_or(0, |s| s.1), Ordering::Relaxed);
        w.snapshot = snapshot;
    }

    /// Whether a snapshot is due once the engine's journal reaches `seq`.
    pub(crate) fn snapshot_due(&self, seq: u64) -> bool {
        seq.saturating_sub(self.snapshot_queued.load(Ordering::Relaxed)) >= self.snapshot_every
    }

    /// Queues a step's records (numbered from `first_seq`), snapshot and the market progress
    /// of the brain whose decision it took; call under the engine lock so steps queue in the
    /// order the engine numbered them. Returns the sequence number the step is durable at.
    pub(crate) fn enqueue(
        &self,
        first_seq: u64,
        events: Arc<Vec<EngineEvent>>,
        snapshot: Option<Box<EngineSnapshot>>,
        time: Timestamp,
        progress: Option<progress::Entry>,
    ) -> u64 {
        if let Some(s) = &snapshot {
            self.snapshot_queued.store(s.journal_seq, Ordering::Relaxed);
        }
        let pending = Pending {
            first_seq,
            events,
            snapshot,
            time,
            progress: progress.into_iter().collect(),
        };
        let last = pending.last_seq();
        lock(&self.queue).push_back(pending);
        last
    }

    /// Writes everything queued, in order, in one batch; `Ok(())` once the store holds the
    /// journal through `seq` (at once when an earlier call wrote it and nothing is queued).
    pub(crate) async fn write_through(
        &self,
        store: &dyn StateStore,
        seq: u64,
    ) -> Result<(), StoreError> {
        let mut w = self.written.lock().await;
        let mut batch: Vec<Pending> = lock(&self.queue).drain(..).collect();
        let dirty = self.progress.take_dirty();
        if !dirty.is_empty() {
            // Progress through events held on rides along, after every queued step's.
            batch.push(Pending::progress_only(dirty));
        }
        if batch.is_empty() {
            // Written by an earlier call, or never queued (a caller's bug, reported).
            return if w.through >= seq {
                Ok(())
            } else {
                Err(StoreError::Backend(format!(
                    "journal record {seq} was never queued"
                )))
            };
        }
        let (ops, newest) = match encode(&batch, w.snapshot.as_ref()) {
            Ok(encoded) => encoded,
            Err(e) => {
                requeue(&self.queue, batch);
                return Err(e);
            }
        };
        match store.apply(&ops).await {
            Ok(()) => {
                w.through = batch
                    .iter()
                    .map(Pending::last_seq)
                    .fold(w.through, u64::max);
                if newest.is_some() {
                    w.snapshot = newest;
                }
                if w.through >= seq {
                    Ok(())
                } else {
                    Err(StoreError::Backend(format!(
                        "journal record {seq} was not queued when written"
                    )))
                }
            }
            Err(e) => {
                requeue(&self.queue, batch);
                Err(e)
            }
        }
    }

    /// Deletes journal records written before `cutoff` that the previous snapshot covers (so
    /// both snapshots can still be resumed), and records of the older layout written before it.
    pub(crate) async fn prune(
        &self,
        store: &dyn StateStore,
        cutoff: Timestamp,
    ) -> Result<usize, StoreError> {
        let previous = match store.load(PREVIOUS_SNAPSHOT_KEY).await? {
            Some(bytes) => serde_json::from_slice::<EngineSnapshot>(&bytes)
                .map(|s| s.journal_seq)
                .unwrap_or(0),
            None => 0,
        };
        let cutoff = cutoff.as_nanos();
        let old: Vec<StoreOp> = store
            .list(JOURNAL_PREFIX)
            .await?
            .into_iter()
            .filter(|key| match parse_record_key(key) {
                Some(RecordKey::Current { seq, time }) => seq <= previous && time < cutoff,
                Some(RecordKey::Legacy { time }) => time < cutoff,
                None => false,
            })
            .map(|key| StoreOp::Delete { key })
            .collect();
        store.apply(&old).await?;
        Ok(old.len())
    }
}

fn requeue(queue: &Mutex<VecDeque<Pending>>, batch: Vec<Pending>) {
    let mut q = lock(queue);
    for pending in batch.into_iter().rev() {
        q.push_front(pending);
    }
}

type Encoded = (Vec<StoreOp>, Option<(Vec<u8>, u64)>);

/// The store operations of `batch`: every record, then the newest snapshot in it (the store's
/// current one moving to the previous slot).
fn encode(batch: &[Pending], current: Option<&(Vec<u8>, u64)>) -> Result<Encoded, StoreError> {
    let mut ops = Vec::with_capacity(batch.iter().map(|p| p.events.len()).sum::<usize>() + 2);
    for pending in batch {
        for (event, seq) in pending.events.iter().zip(pending.first_seq..) {
            let value = JournalRecord::encode(seq, event).map_err(|e| {
                StoreError::Backend(format!("journal record {seq} not encodable: {e}"))
            })?;
            ops.push(StoreOp::Put {
                key: record_key(seq, pending.time),
                value,
            });
        }
        // The fills the step applied are recorded in the same batch as its records.
        ops.extend(applied_fills::record_ops(pending.events.iter()));
    }
    ops.extend(progress::ops(batch.iter().flat_map(|p| &p.progress))?);
    let newest = batch.iter().rev().find_map(|p| p.snapshot.as_deref());
    let mut written = None;
    if let Some(snapshot) = newest {
        let value = serde_json::to_vec(snapshot)
            .map_err(|e| StoreError::Backend(format!("engine snapshot not encodable: {e}")))?;
        // The previous slot keeps an earlier journal position: a snapshot taken again at the
        // same position (at shutdown) replaces the newest only.
        if let Some((bytes, _)) = current.filter(|c| c.1 < snapshot.journal_seq) {
            ops.push(StoreOp::Put {
                key: PREVIOUS_SNAPSHOT_KEY.to_owned(),
                value: bytes.clone(),
            });
        }
        ops.push(StoreOp::Put {
            key: SNAPSHOT_KEY.to_owned(),
            value: value.clone(),
        });
        written = Some((value, snapshot.journal_seq));
    }
    Ok((ops, written))
}

/// What start-up rebuilt from the store.
pub(crate) struct Restored {
    pub(crate) engine: Engine,
    /// Where it came from, for the log.
    pub(crate) source: &'static str,
    /// Journal records replayed on top of it.
    pub(crate) replayed: usize,
    /// The newest snapshot in the store (bytes, journal position), to seed the writer.
    pub(crate) snapshot: Option<(Vec<u8>, u64)>,
}

/// Rebuilds the engine from `store` (see the module doc), or builds a fresh one — recording its
/// genesis — when the store holds no state at all; then brings a state of an older layout to
/// this build's ([`applied_fills::migrate`]).
pub(crate) async fn restore(
    store: &dyn StateStore,
    config: EngineConfig,
    now: Timestamp,
) -> Result<Restored, BotError> {
    let restored = rebuild(store, config, now).await?;
    if applied_fills::layout(store).await? != applied_fills::LAYOUT_VERSION {
        let mut records: Vec<(u64, String)> = store
            .list(JOURNAL_PREFIX)
            .await?
            .into_iter()
            .filter_map(|key| match parse_record_key(&key) {
                Some(RecordKey::Current { seq, .. }) => Some((seq, key)),
                _ => None,
            })
            .collect();
        records.sort_unstable();
        let journal = load_records(store, &records, 0).await?;
        let recorded = applied_fills::migrate(
            store,
            journal.iter().map(|r| &r.event),
            &restored.engine,
            now,
        )
        .await?;
        tracing::info!(
            recorded,
            layout = applied_fills::LAYOUT_VERSION,
            "state migrated: applied fills recorded"
        );
    }
    Ok(restored)
}

async fn rebuild(
    store: &dyn StateStore,
    config: EngineConfig,
    now: Timestamp,
) -> Result<Restored, BotError> {
    let mut records: Vec<(u64, String)> = Vec::new();
    let mut legacy = 0usize;
    for key in store.list(JOURNAL_PREFIX).await? {
        match parse_record_key(&key) {
            Some(RecordKey::Current { seq, .. }) => records.push((seq, key)),
            Some(RecordKey::Legacy { .. }) => legacy += 1,
            None => tracing::warn!(key, "unrecognised key under journal/ ignored"),
        }
    }
    records.sort_unstable();
    let mut failures: Vec<String> = Vec::new();
    for key in [SNAPSHOT_KEY, PREVIOUS_SNAPSHOT_KEY] {
        let Some(bytes) = store.load(key).await? else {
            continue;
        };
        let snapshot: EngineSnapshot = match serde_json::from_slice(&bytes) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(key, error = %e, "snapshot unreadable; trying the next fallback");
                failures.push(format!("{key}: {e}"));
                continue;
            }
        };
        let tail = load_records(store, &records, snapshot.journal_seq).await?;
        match Engine::resume(config.clone(), &snapshot, &tail, now) {
            Ok(engine) => {
                let newest = if key == SNAPSHOT_KEY {
                    Some((bytes, snapshot.journal_seq))
                } else {
                    None
                };
                return Ok(Restored {
                    engine,
                    source: key,
                    replayed: tail.len(),
                    snapshot: newest,
                });
            }
            Err(
                e @ EngineError::Snapshot {
                    field: "version", ..
                },
            ) => {
                tracing::error!(key, error = %e, "snapshot of another version; trying the next fallback");
                failures.push(format!("{key}: {e}"));
            }
            Err(e @ EngineError::Journal { .. }) => {
                tracing::error!(key, error = %e, "journal does not follow this snapshot; trying the next fallback");
                failures.push(format!("{key}: {e}"));
            }
            // The config no longer matches the state (other brains, symbols, bot id): no
            // fallback can fix that.
            Err(e) => return Err(e.into()),
        }
    }
    let genesis =
        match store.load(GENESIS_KEY).await? {
            Some(bytes) => Some(serde_json::from_slice::<Genesis>(&bytes).map_err(|e| {
                StoreError::Corrupt {
                    key: GENESIS_KEY.to_owned(),
                    reason: e.to_string(),
                }
            })?),
            None => None,
        };
    if failures.is_empty() && records.is_empty() && legacy == 0 && genesis.is_none() {
        let genesis = Genesis {
            format: 1,
            started: now,
        };
        let bytes = serde_json::to_vec(&genesis)
            .map_err(|e| StoreError::Backend(format!("genesis not encodable: {e}")))?;
        store.save(GENESIS_KEY, &bytes).await?;
        let first = crate::store::fresh_first_sequence(store).await?;
        return Ok(Restored {
            engine: Engine::new(config.with_first_sequence(first), now)?,
            source: "a fresh state",
            replayed: 0,
            snapshot: None,
        });
    }
    let complete = records.first().is_none_or(|(seq, _)| *seq == 1);
    if let Some(genesis) = genesis
        && complete
    {
        let all = load_records(store, &records, 0).await?;
        // The ids the journal holds are observed by the replay; the epoch keeps ids past those
        // of any state this store held before them too.
        let first = crate::store::fresh_first_sequence(store).await?;
        let engine = Engine::replay_records(
            config.with_first_sequence(first),
            genesis.started,
            &all,
            now,
        )?;
        return Ok(Restored {
            engine,
            source: "the whole journal",
            replayed: all.len(),
            snapshot: None,
        });
    }
    let reason = if failures.is_empty() {
        "no snapshot, and the journal does not reach back to its first record".to_owned()
    } else {
        format!(
            "{}; and the journal cannot rebuild the state alone ({})",
            failures.join("; "),
            if complete {
                "no genesis record"
            } else {
                "its first records were pruned"
            }
        )
    };
    Err(StoreError::Corrupt {
        key: SNAPSHOT_KEY.to_owned(),
        reason,
    }
    .into())
}

/// Loads and decodes the records after `after`; an unreadable one is corrupt state naming its
/// key.
async fn load_records(
    store: &dyn StateStore,
    records: &[(u64, String)],
    after: u64,
) -> Result<Vec<JournalRecord>, BotError> {
    let mut out = Vec::new();
    for (seq, key) in records.iter().filter(|(seq, _)| *seq > after) {
        let Some(bytes) = store.load(key).await? else {
            continue;
        };
        let record = JournalRecord::decode(&bytes).map_err(|e| StoreError::Corrupt {
            key: key.clone(),
            reason: e.to_string(),
        })?;
        if record.seq != *seq {
            return Err(StoreError::Corrupt {
                key: key.clone(),
                reason: format!("holds record {}, key says {seq}", record.seq),
            }
            .into());
        }
        out.push(record);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_sequence_and_parse_back() {
        let a = record_key(9, Timestamp::from_nanos(500));
        let b = record_key(10, Timestamp::from_nanos(1));
        assert!(a < b, "sequence first, whatever the time");
        assert_eq!(
            parse_record_key(&a),
            Some(RecordKey::Current { seq: 9, time: 500 })
        );
        let legacy = "journal/00000000000000000007-00000000000000000001-0003";
        assert_eq!(
            parse_record_key(legacy),
            Some(RecordKey::Legacy { time: 7 })
        );
        assert_eq!(parse_record_key("journal/x"), None);
        assert_eq!(parse_record_key("engine/snapshot"), None);
    }
}
