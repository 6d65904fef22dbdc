//! [`JournalRecord`]: one numbered journal event in its versioned stored form, and the two
//! strict ways back from the journal: [`Engine::resume`] (snapshot + the records after it) and
//! [`Engine::replay_records`] (every record from the first).
//!
//! # Rules
//!
//! - Records are numbered by [`Engine::journal_seq`]: 1 for the first event an engine ever
//!   handed out. A restart replays exactly the records after the snapshot's
//!   [`journal_seq`](crate::EngineSnapshot::journal_seq), and they must follow on without a gap.
//! - Replay goes through the same `handle_*` code as the first time (see `replay.rs`). A record
//!   the state cannot take — an order placed twice, a report or fill for an order the state does
//!   not hold, a fill applied twice — means the snapshot and the journal disagree: restart stops
//!   with [`EngineError::Journal`] naming the record, rather than trade from a guess.
//! - The stored form is `{"format":1,"seq":N,"event":{...}}`; [`JournalRecord::decode`] refuses
//!   any other format with an error naming the value.

use rustrade_core::Timestamp;

use crate::{Engine, EngineConfig, EngineError, EngineEvent, EngineSnapshot, Malformed};

/// Format of the stored journal record written by [`JournalRecord::encode`].
pub const JOURNAL_FORMAT: u32 = 1;

/// One journal event with its sequence number.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JournalRecord {
    /// The event's journal sequence number (1 for an engine's first event).
    pub seq: u64,
    /// The event.
    pub event: EngineEvent,
}

#[derive(serde::Serialize)]
struct StoredRef<'a> {
    format: u32,
    seq: u64,
    event: &'a EngineEvent,
}

#[derive(serde::Deserialize)]
struct Stored {
    format: u32,
    seq: u64,
    event: serde_json::Value,
}

impl JournalRecord {
    /// The stored bytes of event `seq`.
    pub fn encode(seq: u64, event: &EngineEvent) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&StoredRef {
            format: JOURNAL_FORMAT,
            seq,
            event,
        })
    }

    /// Reads stored bytes back; the error says what is wrong (not JSON, an unknown format, an
    /// undecodable event), with the record number when it could be read.
    pub fn decode(bytes: &[u8]) -> Result<Self, EngineError> {
        let stored: Stored = serde_json::from_slice(bytes).map_err(|e| EngineError::Journal {
            record: None,
            reason: format!("not a journal record: {e}"),
        })?;
        if stored.format != JOURNAL_FORMAT {
            return Err(EngineError::Journal {
                record: Some(stored.seq),
                reason: format!(
                    "format {} is not readable by this build (expected {JOURNAL_FORMAT})",
                    stored.format
                ),
            });
        }
        let event = serde_json::from_value(stored.event).map_err(|e| EngineError::Journal {
            record: Some(stored.seq),
            reason: format!("undecodable event: {e}"),
        })?;
        Ok(Self {
            seq: stored.seq,
            event,
        })
    }
}

impl Engine {
    /// Restores `snapshot` under `config`, then replays the journal records after it, so the
    /// state is the one the journal's last record left. `tail` may start anywhere at or before
    /// the snapshot's position (records it covers are skipped) but must hold every record after
    /// it, in order. The result has no pending outputs beyond those the snapshot kept.
    pub fn resume<'a>(
        config: EngineConfig,
        snapshot: &EngineSnapshot,
        tail: impl IntoIterator<Item = &'a JournalRecord>,
        now: Timestamp,
    ) -> Result<Self, EngineError> {
        let mut engine = Self::restore(config, snapshot, now)?;
        engine.replay_strict(tail, now)?;
        Ok(engine)
    }

    /// Rebuilds an engine from every journal record since its first (`started` as given to
    /// the engine that wrote them): the fallback when no snapshot can be read. Unlike
    /// [`Engine::replay`], the records must start at 1, follow on without a gap and agree with
    /// the state they rebuild.
    pub fn replay_records<'a>(
        config: EngineConfig,
        started: Timestamp,
        records: impl IntoIterator<Item = &'a JournalRecord>,
        now: Timestamp,
    ) -> Result<Self, EngineError> {
        let mut engine = Self::new(config, started)?;
        engine.replay_strict(records, now)?;
        engine.out.clear();
        Ok(engine)
    }

    fn replay_strict<'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a JournalRecord>,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        self.replaying = true;
        let outcome = self.replay_records_inner(records);
        self.replaying = false;
        outcome?;
        self.risk.tick(now);
        self.retake_reservations(now);
        Ok(())
    }

    fn replay_records_inner<'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a JournalRecord>,
    ) -> Result<(), EngineError> {
        for record in records {
            let seq = self.out.journal_seq();
            if record.seq <= seq {
                continue;
            }
            if record.seq != seq + 1 {
                return Err(EngineError::Journal {
                    record: Some(record.seq),
                    reason: format!("records {} to {} are missing", seq + 1, record.seq - 1),
                });
            }
            if let EngineEvent::OrderPlaced { order, .. } = &record.event
                && self.orders.get(&order.client_id).is_some()
            {
                return Err(EngineError::Journal {
                    record: Some(record.seq),
                    reason: format!("order {} is placed twice", order.client_id),
                });
            }
            // Outputs the state held before (a snapshot's unpolled ones) stay; replay adds none.
            let before = self.out.mark();
            self.replay_one(&record.event);
            let disagreement = self.out.events_since(before).find_map(|e| match e {
                EngineEvent::MalformedInput { problem, .. } => disagrees(problem),
                _ => None,
            });
            self.out.rewind(before);
            if let Some(reason) = disagreement {
                return Err(EngineError::Journal {
                    record: Some(record.seq),
                    reason,
                });
            }
            self.out.replayed(record.seq);
        }
        Ok(())
    }
}

/// Whether a malformed input raised while replaying shows the state and the journal disagree
/// (an overfill is journalled with the fill the first time too, so it does not).
fn disagrees(problem: &Malformed) -> Option<String> {
    match problem {
        Malformed::UnknownOrder {
            client_id,
            order_id,
        } => Some(format!(
            "it refers to order {client_id:?} / venue id {order_id:?}, which the state does not hold"
        )),
        Malformed::DuplicateFill { fill } => Some(format!(
            "fill {} is already applied in the state",
            fill.fill_id
        )),
        Malformed::FillMismatch { fill, field } => Some(format!(
            "fill {} disagrees with its order on {field:?}",
            fill.fill_id
        )),
        Malformed::InvalidFill { fill, problem } => {
            Some(format!("fill {} is invalid: {problem}", fill.fill_id))
        }
        Malformed::UnknownSymbol { symbol } => Some(format!("symbol {symbol} is not traded")),
        Malformed::UnknownBrain { brain } => Some(format!("{brain} is not registered")),
        Malformed::Overfill { .. } | Malformed::NonFinitePosition { .. } => None,
    }
}
