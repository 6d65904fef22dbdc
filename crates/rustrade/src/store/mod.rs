//! Durable [`StateStore`] backends.
//!
//! - [`SqliteStore`]: the default. One SQLite file in WAL mode; [`apply`] runs a batch in one
//!   transaction, so an engine step's journal records land together or not at all.
//! - [`JsonFileStore`]: one human-readable JSON file, rewritten atomically on every change (write
//!   a temporary file, fsync it, rename it over the old one, fsync the directory).
//! - [`MemoryStore`]: nothing survives the process; for tests and throw-away paper runs.
//!
//! # Invariants
//!
//! - Data that exists but cannot be read back — a file that is not a database, a truncated or
//!   malformed JSON document — is reported as [`StoreError::Corrupt`], never replaced by an empty
//!   store. A missing file is an empty store.
//! - A batch given to [`apply`] is all-or-nothing, including its key validation.
//! - Blocking file and database calls run on tokio's blocking pool, never on a runtime worker.
//! - One writer per file: [`SqliteStore`] and [`JsonFileStore`] lock a sidecar `<file>.lock`
//!   when opened and hold it until the store and all its clones are dropped. A second open of
//!   the same file, from this process or another, fails with [`StoreError::Locked`] naming the
//!   file and the holder. The OS releases the lock with its process, so a lock file left by a
//!   killed bot does not block the next one. A [`MemoryStore`] is private to its owner and has
//!   no lock.
//! - Every store carries an epoch under [`epoch::EPOCH_KEY`] from which a fresh engine's client
//!   order ids start, so ids of a new or reset state never repeat an earlier state's ([`epoch`]
//!   states the rule and the id budget). The file stores write it when they
//!   create their file; any other store, [`MemoryStore`] included, gets it at the bot's first
//!   start without a snapshot.
//!
//! - Every store holds the durable record of applied fills ([`applied_fills`]) and the layout
//!   version of the state; a state of an older layout is migrated at start-up.
//!
//! [`apply`]: rustrade_core::StateStore::apply
//! [`StoreError::Corrupt`]: rustrade_core::StoreError::Corrupt
//! [`StoreError::Locked`]: rustrade_core::StoreError::Locked

pub mod applied_fills;
pub mod epoch;
mod json_file;
mod lock;
mod sqlite;

pub(crate) use epoch::fresh_first_sequence;
pub use json_file::JsonFileStore;
pub use rustrade_core::{MemoryStore, StateStore, StoreError, StoreOp};
pub use sqlite::SqliteStore;

/// Runs blocking store work on tokio's blocking pool and maps a lost task to a backend error.
async fn blocking<R, F>(f: F) -> Result<R, StoreError>
where
    F: FnOnce() -> Result<R, StoreError> + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
}
