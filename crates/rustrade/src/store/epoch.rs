//! The store's epoch: where a fresh engine's client-order-id sequence starts.
//!
//! Client order ids are `"{bot}-{brain}-{seq}"` (see `rustrade_engine::ClientIdSequence`). A
//! restored engine continues the sequence its snapshot holds; an engine started without a
//! snapshot (a new state file, a deleted one, a store whose snapshot was removed) must not start
//! where an earlier state did, or the venue would see ids it has already seen. So each store
//! keeps an epoch — milliseconds since the Unix epoch, read from the wall clock here in the
//! facade — under [`EPOCH_KEY`], and a fresh engine's first sequence is
//! `epoch * IDS_PER_MILLISECOND`.
//!
//! # Invariants
//!
//! - A store created by [`SqliteStore`](super::SqliteStore) or
//!   [`JsonFileStore`](super::JsonFileStore) holds an epoch from its creation, written in the
//!   same transaction or file write that creates it. Any store without one (a
//!   [`MemoryStore`](super::MemoryStore), another backend, an older file) gets one at its first
//!   fresh start.
//! - Every fresh start claims a new epoch, strictly greater than the stored one, than every epoch
//!   this process took before, and at least the wall clock, and makes it durable before the
//!   engine issues an id. A second fresh start on the same store therefore never repeats the
//!   first one's ids.
//! - A state from an earlier epoch `e` reuses no id of a fresh state at epoch `f > e` unless it
//!   issued `(f - e) * IDS_PER_MILLISECOND` ids: a million per millisecond between the two
//!   starts. When the store itself is lost, this relies on the wall clock: a clock stepped back
//!   by more than the time between the two starts could repeat ids.
//!
//! # Id budget
//!
//! An epoch in 2025 is about `1.7e12` ms, so a first sequence is about `1.7e18`: 12 base-36
//! digits (13 from the year 2120 until the sequence space ends, in the year 2554). A bot name is
//! at most 14 bytes ([`MAX_NAME_LEN`](crate::MAX_NAME_LEN)) and a brain index below 36 is one
//! digit, so a typical id is at most `14 + 1 + 1 + 1 + 12 = 29` characters; the longest any
//! `u64` sequence and `u32` brain can make is 36, the venues' common limit (Binance
//! `[A-Za-z0-9_-]{1,36}`). Backtests and bots without a store do not use an epoch and keep
//! starting at 1.

use std::sync::atomic::{AtomicU64, Ordering};

use rustrade_core::{StateStore, StoreError, StoreOp};

use crate::clock::{Clock, SystemClock};

/// The key holding a store's epoch: milliseconds since the Unix epoch, as ASCII decimal digits.
pub const EPOCH_KEY: &str = "meta/epoch";

/// How many sequence numbers one millisecond of epoch spans.
pub const IDS_PER_MILLISECOND: u64 = 1_000_000;

/// The largest epoch whose first sequence fits a `u64`.
const MAX_EPOCH: u64 = u64::MAX / IDS_PER_MILLISECOND - 1;

/// The largest epoch this process has handed out.
static LAST_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Claims a new epoch on `store` for an engine that starts without a snapshot, makes it durable,
/// and returns the first client-order-id sequence number that engine should issue.
///
/// A stored epoch that is not a millisecond count in range is [`StoreError::Corrupt`] naming
/// [`EPOCH_KEY`] and the value, never silently replaced.
pub(crate) async fn fresh_first_sequence(store: &dyn StateStore) -> Result<u64, StoreError> {
    let stored = match store.load(EPOCH_KEY).await? {
        Some(bytes) => decode(&bytes)?,
        None => 0,
    };
    let epoch = next_epoch(stored)?;
    store
        .apply(&[StoreOp::Put {
            key: EPOCH_KEY.to_owned(),
            value: encode(epoch),
        }])
        .await?;
    store.flush().await?;
    tracing::info!(
        epoch,
        "fresh engine state: client order ids start at a new epoch"
    );
    Ok(epoch * IDS_PER_MILLISECOND)
}

/// A new epoch: at least the wall clock, above `after` and above every epoch this process took.
pub(crate) fn next_epoch(after: u64) -> Result<u64, StoreError> {
    let now = u64::try_from(SystemClock.now().as_nanos() / 1_000_000).unwrap_or(0);
    let mut taken = LAST_EPOCH.load(Ordering::Relaxed);
    loop {
        let epoch = now
            .max(after.saturating_add(1))
            .max(taken.saturating_add(1));
        if epoch > MAX_EPOCH {
            return Err(out_of_range(epoch));
        }
        match LAST_EPOCH.compare_exchange_weak(taken, epoch, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Ok(epoch),
            Err(current) => taken = current,
        }
    }
}

/// The stored form of `epoch`.
pub(crate) fn encode(epoch: u64) -> Vec<u8> {
    epoch.to_string().into_bytes()
}

fn decode(bytes: &[u8]) -> Result<u64, StoreError> {
    let text = String::from_utf8_lossy(bytes);
    let epoch: u64 = text.parse().map_err(|_| StoreError::Corrupt {
        key: EPOCH_KEY.to_owned(),
        reason: format!("not a millisecond count: {text:?}"),
    })?;
    if epoch > MAX_EPOCH {
        return Err(out_of_range(epoch));
    }
    Ok(epoch)
}

fn out_of_range(epoch: u64) -> StoreError {
    StoreError::Corrupt {
        key: EPOCH_KEY.to_owned(),
        reason: format!("epoch {epoch} ms is past the last usable epoch {MAX_EPOCH} ms"),
    }
}

#[cfg(test)]
mod tests {
    use rustrade_core::{ClientOrderId, MemoryStore};

    use super::*;

    #[tokio::test]
    async fn each_fresh_start_claims_a_later_epoch_and_persists_it() {
        let store = MemoryStore::new();
        let first = fresh_first_sequence(&store).await.unwrap();
        let stored = decode(&store.load(EPOCH_KEY).await.unwrap().unwrap()).unwrap();
        assert_eq!(first, stored * IDS_PER_MILLISECOND);
        assert!(stored > 1_577_836_800_000, "after 2020: {stored}");
        let second = fresh_first_sequence(&store).await.unwrap();
        assert!(
            second >= first + IDS_PER_MILLISECOND,
            "{first} then {second}"
        );
    }

    #[tokio::test]
    async fn a_stored_epoch_ahead_of_the_clock_is_exceeded() {
        let store = MemoryStore::new();
        let ahead = 4_000_000_000_000u64; // The year 2096.
        store.save(EPOCH_KEY, &encode(ahead)).await.unwrap();
        let first = fresh_first_sequence(&store).await.unwrap();
        assert!(first > ahead * IDS_PER_MILLISECOND);
    }

    #[tokio::test]
    async fn a_bad_stored_epoch_is_corrupt_naming_key_and_value() {
        let store = MemoryStore::new();
        store.save(EPOCH_KEY, b"soon").await.unwrap();
        let err = fresh_first_sequence(&store).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"corrupt state at key "meta/epoch": not a millisecond count: "soon""#
        );
        store.save(EPOCH_KEY, &encode(MAX_EPOCH + 1)).await.unwrap();
        let err = fresh_first_sequence(&store).await.unwrap_err();
        assert!(
            err.to_string().contains("past the last usable epoch"),
            "{err}"
        );
    }

    #[test]
    fn epochs_increase_within_a_process_and_ids_fit_the_budget() {
        let a = next_epoch(0).unwrap();
        let b = next_epoch(0).unwrap();
        assert!(b > a);
        let id = ClientOrderId::compose("fourteen-bytes", 0, b * IDS_PER_MILLISECOND).unwrap();
        assert!(id.as_str().len() <= 29, "{id}");
        let last = ClientOrderId::compose("fourteen-bytes", 35, MAX_EPOCH * IDS_PER_MILLISECOND);
        assert!(last.unwrap().as_str().len() <= 30);
    }
}
